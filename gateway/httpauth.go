package gateway

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/mcpstore/mcpstore/db"
)

// HTTPAuth is what the SDK adapters share to authenticate an MCP server's
// HTTP requests by the API key each carries as its bearer token: the
// client's address (behind trusted proxies), the limit on failed
// verifications per address, the verification itself, and the audit row
// of a refused key. Its fields are set once, before use; a nil Keys turns
// authentication off, a nil Limiter the limit.
type HTTPAuth struct {
	Keys           *Keys
	Auditor        *Auditor
	Limiter        *AuthFailureLimiter
	TrustedProxies []netip.Prefix
	Logger         *slog.Logger // nil: discarded
}

// BearerToken returns the bearer token of an Authorization header value
// ("Bearer <token>", the scheme in any case), and whether there is one.
func BearerToken(authorization string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || strings.ContainsAny(token, " \t") {
		return "", false
	}
	return token, true
}

// ClientIP is the address of the client behind r: the TCP peer, or,
// behind trusted proxies, what they say in X-Forwarded-For (see ClientIP).
func (a *HTTPAuth) ClientIP(r *http.Request) string {
	if r == nil {
		return ""
	}
	return ClientIP(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), a.TrustedProxies)
}

// reservedKey marks a request for which Admit took a failure's token, under
// the client address it took it for.
type reservedKey struct{}

// Admit lets a request on to key verification within its address's
// failure limit. A request whose key is not already verified in this
// process's memory takes one of its address's tokens now, before its key is
// looked up (Verify gives it back when the key verifies), so that requests
// arriving together cannot overrun the limit. An address out of tokens
// gets 429 with Retry-After, written here, and Admit returns false: its
// key is not looked at. The request returned carries the reservation.
func (a *HTTPAuth) Admit(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	if a.Limiter == nil || a.Keys == nil {
		return r, true
	}
	token, _ := BearerToken(r.Header.Get("Authorization"))
	if a.Keys.Cached(token) {
		return r, true
	}
	ip := a.ClientIP(r)
	if wait, ok := a.Limiter.Reserve(ip); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		http.Error(w, "too many failed API key verifications", http.StatusTooManyRequests)
		return r, false
	}
	return r.WithContext(context.WithValue(r.Context(), reservedKey{}, ip)), true
}

// Verify verifies token, the bearer key of r. A refused key (unknown,
// revoked, expired, malformed) is an error matching ErrInvalidKey, its
// reason recorded in the audit log and never told to the client; any other
// error means the key could not be checked (the database is unavailable:
// answer 500, not 401). A key that does not fail gives back the token
// Admit took for it.
func (a *HTTPAuth) Verify(ctx context.Context, r *http.Request, token string) (Principal, error) {
	p, err := a.Keys.Verify(ctx, token)
	if !errors.Is(err, ErrInvalidKey) {
		if reserved, _ := r.Context().Value(reservedKey{}).(string); reserved != "" {
			a.Limiter.Refund(reserved)
		}
	}
	switch {
	case errors.Is(err, ErrInvalidKey):
		a.auditRefusal(ctx, r, err)
	case err != nil:
		a.logger().ErrorContext(ctx, "API key verification failed", "err", err)
	}
	return p, err
}

func (a *HTTPAuth) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Logger
}

// auditRefusal records a refused key with its reason.
func (a *HTTPAuth) auditRefusal(ctx context.Context, r *http.Request, err error) {
	ev := db.AuditLogCreate{
		RequestID:       NewRequestID(),
		ClientRequestID: r.Header.Get("X-Request-Id"),
		TraceID:         TraceID(r.Header, nil),
		ClientIP:        a.ClientIP(r),
		Action:          ActionAuth,
		ResourceType:    ResourceTypeAPIKey,
		Status:          StatusUnauthorized,
		ErrorMessage:    "invalid API key",
		CreatedAt:       time.Now(),
	}
	var ke *KeyError
	if errors.As(err, &ke) {
		ev.APIKeyID = ke.KeyID
		ev.ErrorMessage = "invalid API key: " + string(ke.Reason)
	}
	a.Record(ctx, ev)
}

// Record hands an event to the Auditor, which never waits for the
// database; an event it cannot take is logged. A client that goes away
// does not cancel the recording of its request (ctx's end is ignored).
func (a *HTTPAuth) Record(ctx context.Context, ev db.AuditLogCreate) {
	if a.Auditor == nil {
		return
	}
	if err := a.Auditor.Record(context.WithoutCancel(ctx), ev); err != nil {
		a.logger().WarnContext(ctx, "audit event not recorded", "action", ev.Action, "err", err)
	}
}
