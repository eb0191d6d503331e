package mcpsdk

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gateway"
)

// Keys of auth.TokenInfo.Extra set by TokenVerifier.
const (
	ExtraKeyID    = "mcpstore.key_id"
	ExtraKeyName  = "mcpstore.key_name"
	ExtraRoles    = "mcpstore.roles"
	ExtraClientIP = "mcpstore.client_ip"
)

// TokenVerifier returns an auth.TokenVerifier backed by Keys.Verify, for
// auth.RequireBearerToken. The TokenInfo carries the key's owner as UserID,
// its permissions as Scopes, its expiry as Expiration, and its id, name,
// roles and the client's address in Extra.
//
// Keys without an expiry have a zero Expiration, which RequireBearerToken
// refuses unless its options set AllowMissingExpiration: true (Handler
// does). A refused key (unknown, revoked, expired, malformed) is an
// auth.ErrInvalidToken, so the client gets 401 and the same words whatever
// the reason; the reason goes to the audit log. A database failure is not
// a refusal: the client gets 500 and can retry.
func (g *Gateway) TokenVerifier() auth.TokenVerifier {
	return func(ctx context.Context, token string, req *http.Request) (*auth.TokenInfo, error) {
		if g.opts.Keys == nil {
			return nil, errors.New("mcpsdk: TokenVerifier needs Options.Keys")
		}
		ip := g.clientIP(req)
		p, err := g.opts.Keys.Verify(ctx, token)
		if err != nil {
			if errors.Is(err, gateway.ErrInvalidKey) {
				g.auditRefusal(ctx, req, ip, err)
				return nil, fmt.Errorf("%w: invalid API key", auth.ErrInvalidToken)
			}
			g.log.ErrorContext(ctx, "API key verification failed", "err", err)
			return nil, errors.New("API key verification is unavailable")
		}
		return &auth.TokenInfo{
			UserID:     p.Owner,
			Scopes:     p.Permissions,
			Expiration: p.ExpiresAt,
			Extra: map[string]any{
				ExtraKeyID:    p.KeyID,
				ExtraKeyName:  p.KeyName,
				ExtraRoles:    p.Roles,
				ExtraClientIP: ip,
			},
		}, nil
	}
}

// Handler serves server over streamable HTTP behind API-key
// authentication: a request without a valid key gets 401 and reaches
// nothing. Keys without an expiry are accepted (AllowMissingExpiration).
func (g *Gateway) Handler(server *mcp.Server, opts *mcp.StreamableHTTPOptions) http.Handler {
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, opts)
	return auth.RequireBearerToken(g.TokenVerifier(), &auth.RequireBearerTokenOptions{AllowMissingExpiration: true})(h)
}

// clientIP is the peer address of req, or the first X-Forwarded-For hop
// when Options.TrustForwardedFor says a proxy in front sets it.
func (g *Gateway) clientIP(req *http.Request) string {
	if req == nil {
		return ""
	}
	if g.opts.TrustForwardedFor {
		if fwd := req.Header.Get("X-Forwarded-For"); fwd != "" {
			first, _, _ := strings.Cut(fwd, ",")
			return strings.TrimSpace(first)
		}
	}
	host, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		return req.RemoteAddr
	}
	return host
}

// auditRefusal records a refused key with its reason, which the client is
// never told.
func (g *Gateway) auditRefusal(ctx context.Context, req *http.Request, ip string, err error) {
	if g.opts.Auditor == nil {
		return
	}
	ev := db.AuditLogCreate{
		RequestID:    requestID(req.Header),
		TraceID:      traceID(req.Header, nil),
		ClientIP:     ip,
		Action:       ActionAuth,
		ResourceType: "api_key",
		Status:       StatusUnauthorized,
		ErrorMessage: "invalid API key",
		CreatedAt:    time.Now(),
	}
	var ke *gateway.KeyError
	if errors.As(err, &ke) {
		ev.APIKeyID = ke.KeyID
		ev.ErrorMessage = "invalid API key: " + string(ke.Reason)
	}
	g.record(ctx, ev)
}

// requestID takes the caller's X-Request-Id when it sends one, else makes
// one.
func requestID(h http.Header) string {
	if id := h.Get("X-Request-Id"); id != "" && len(id) <= 200 {
		return id
	}
	return uuid.Must(uuid.NewV7()).String()
}
