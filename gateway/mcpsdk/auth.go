package mcpsdk

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
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
	ExtraKeyID     = "mcpstore.key_id"
	ExtraKeyName   = "mcpstore.key_name"
	ExtraOwner     = "mcpstore.owner"
	ExtraRoles     = "mcpstore.roles"
	ExtraClientIP  = "mcpstore.client_ip"
	ExtraPrincipal = "mcpstore.principal" // a *gateway.Principal
)

// TokenVerifier returns an auth.TokenVerifier backed by Keys.Verify, for
// auth.RequireBearerToken. The TokenInfo carries the key's id as UserID, so
// that go-sdk binds each session to the key that opened it (a request with
// another key on that session is refused with 403, even a key of the same
// owner); its permissions as Scopes; its expiry as Expiration; and its id,
// name, owner, roles, principal and the client's address in Extra.
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
		if !errors.Is(err, gateway.ErrInvalidKey) {
			// Not a failure: give back what Handler reserved for one.
			if reserved, _ := req.Context().Value(reservedKey{}).(string); reserved != "" {
				g.limiter.Refund(reserved)
			}
		}
		if err != nil {
			if errors.Is(err, gateway.ErrInvalidKey) {
				g.auditRefusal(ctx, req, ip, err)
				return nil, fmt.Errorf("%w: invalid API key", auth.ErrInvalidToken)
			}
			g.log.ErrorContext(ctx, "API key verification failed", "err", err)
			return nil, errors.New("API key verification is unavailable")
		}
		return &auth.TokenInfo{
			UserID:     p.KeyID,
			Scopes:     p.Permissions,
			Expiration: p.ExpiresAt,
			Extra: map[string]any{
				ExtraKeyID:     p.KeyID,
				ExtraKeyName:   p.KeyName,
				ExtraOwner:     p.Owner,
				ExtraRoles:     p.Roles,
				ExtraClientIP:  ip,
				ExtraPrincipal: &p,
			},
		}, nil
	}
}

// reservedKey marks a request for which Handler took a failure's token
// from the limiter, under the client address it took it for.
type reservedKey struct{}

// Handler serves server over streamable HTTP behind API-key
// authentication: a request without a valid key gets 401 and reaches
// nothing. Keys without an expiry are accepted (AllowMissingExpiration).
//
// Failed verifications are limited per client address
// (Options.AuthFailureLimit): a request whose key is not already verified
// in memory takes a failure's token before its key is looked up, and gets
// it back when the key verifies, so that requests verified at the same
// moment cannot overrun the limit together. An address out of tokens gets
// 429 with Retry-After, and its key is not looked at.
func (g *Gateway) Handler(server *mcp.Server, opts *mcp.StreamableHTTPOptions) http.Handler {
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, opts)
	protected := auth.RequireBearerToken(g.TokenVerifier(), &auth.RequireBearerTokenOptions{AllowMissingExpiration: true})(h)
	if g.limiter == nil || g.opts.Keys == nil {
		return protected
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.opts.Keys.Cached(bearer(r)) {
			ip := g.clientIP(r)
			if wait, ok := g.limiter.Reserve(ip); !ok {
				w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
				http.Error(w, "too many failed API key verifications", http.StatusTooManyRequests)
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), reservedKey{}, ip))
		}
		protected.ServeHTTP(w, r)
	})
}

// bearer returns the request's bearer token, or "".
func bearer(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// clientIP is the address of the client behind req: the TCP peer, or,
// behind trusted proxies, what they say in X-Forwarded-For.
func (g *Gateway) clientIP(req *http.Request) string {
	if req == nil {
		return ""
	}
	return gateway.ClientIP(req.RemoteAddr, req.Header.Values("X-Forwarded-For"), g.opts.TrustedProxies)
}

// auditRefusal records a refused key with its reason, which the client is
// never told.
func (g *Gateway) auditRefusal(ctx context.Context, req *http.Request, ip string, err error) {
	if g.opts.Auditor == nil {
		return
	}
	ev := db.AuditLogCreate{
		RequestID:       newRequestID(),
		ClientRequestID: clientRequestID(req.Header),
		TraceID:         traceID(req.Header, nil),
		ClientIP:        ip,
		Action:          gateway.ActionAuth,
		ResourceType:    gateway.ResourceTypeAPIKey,
		Status:          gateway.StatusUnauthorized,
		ErrorMessage:    "invalid API key",
		CreatedAt:       time.Now(),
	}
	var ke *gateway.KeyError
	if errors.As(err, &ke) {
		ev.APIKeyID = ke.KeyID
		ev.ErrorMessage = "invalid API key: " + string(ke.Reason)
	}
	g.record(ctx, ev)
}

// newRequestID names a request in the audit log. The server names it, so
// that no client can file events under another request's id; the client's
// own X-Request-Id is kept beside it (clientRequestID).
func newRequestID() string { return uuid.Must(uuid.NewV7()).String() }

// clientRequestID is the request id the client sent, as it sent it: the
// Auditor repairs and cuts it like any text a client controls.
func clientRequestID(h http.Header) string { return h.Get("X-Request-Id") }
