package mcpsdk

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

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
		p, err := g.auth.Verify(ctx, req, token)
		if errors.Is(err, gateway.ErrInvalidKey) {
			return nil, fmt.Errorf("%w: invalid API key", auth.ErrInvalidToken)
		}
		if err != nil {
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
				ExtraClientIP:  g.auth.ClientIP(req),
				ExtraPrincipal: &p,
			},
		}, nil
	}
}

// Handler serves server over streamable HTTP behind API-key
// authentication: a request without a valid key gets 401 and reaches
// nothing. Keys without an expiry are accepted (AllowMissingExpiration).
//
// Failed verifications are limited per client address
// (Options.AuthFailureLimit, see gateway.HTTPAuth.Admit): an address out
// of tokens gets 429 with Retry-After, and its key is not looked at.
func (g *Gateway) Handler(server *mcp.Server, opts *mcp.StreamableHTTPOptions) http.Handler {
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, opts)
	protected := auth.RequireBearerToken(g.TokenVerifier(), &auth.RequireBearerTokenOptions{AllowMissingExpiration: true})(h)
	if g.opts.Keys == nil {
		return protected
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r, ok := g.auth.Admit(w, r); ok {
			protected.ServeHTTP(w, r)
		}
	})
}
