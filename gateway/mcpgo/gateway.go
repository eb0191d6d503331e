// Package mcpgo embeds mcpstore in MCP servers built on mark3labs/mcp-go
// (github.com/mark3labs/mcp-go): API-key authentication on the streamable
// HTTP transport, gateway.Policy applied to every MCP message (deny by
// default), lists filtered and paged per key, the audit of what the policy
// audits, sessions bound to the key that opened them, and the tool
// registry kept in sync with the server. It gives mcp-go servers what
// gateway/mcpsdk gives go-sdk servers, from the same decisions in package
// gateway, and is a module of its own so that programs that do not import
// it never compile mcp-go.
//
// # How every method passes the policy
//
// mcp-go's hooks cannot refuse a request with an error code of their own,
// and notifications and the client's answers reach no hook at all, so the
// decision is taken in front of mcp-go, by Handler: it reads each POSTed
// JSON-RPC message (bounded), parses it with mcp-go's own request types,
// asks gateway.Policy, and answers a refusal itself (JSON-RPC error
// gateway.CodePermissionDenied; HTTP 403 for a notification). What it lets
// through is checked again inside the server, which Handler equips with:
//
//   - an OnRequestInitialization hook that refuses any request Handler did
//     not decide (another transport, or a message other than the one
//     decided), unless Options.Keys is nil;
//   - after-hooks on tools/list, resources/list, resources/templates/list
//     and prompts/list that filter the list for the key and page it again
//     (see gateway.ListPage), and mark list and read results private;
//   - a tool filter and a prompt filter (server.WithToolFilter and
//     server.WithPromptFilter semantics: mcp-go applies them to calls
//     too), so that a tool or prompt the key may not use is unknown to it
//     even past Handler;
//   - OnSuccess and OnError hooks that note how a request ended, for its
//     audit row, and tool, resource and prompt middlewares that turn a
//     handler's panic into an error;
//   - session hooks that bind each session to the key that opened it.
package mcpgo

import (
	"log/slog"
	"net/netip"
	"sync"

	"github.com/mcpstore/mcpstore/gateway"
)

// DefaultMaxRequestBodyBytes bounds a request's body when
// Options.MaxRequestBodyBytes is zero (go-sdk's default too).
const DefaultMaxRequestBodyBytes = 4 << 20

// Options wires a Gateway to mcpstore. Each part is optional; a nil part
// turns its feature off.
type Options struct {
	// ServerID names this server in the tool registry and the audit log.
	ServerID string
	// Keys verifies API keys; with it set, every request needs a valid key
	// (401 otherwise), its permissions apply to every message, and a
	// session belongs to the key that opened it. Without it nothing is
	// enforced (every request runs), and calls are still audited.
	Keys *gateway.Keys
	// Auditor records every request the policy audits and every refused
	// key.
	Auditor *gateway.Auditor
	// Registry receives the server's tools (SyncTools).
	Registry *gateway.Registry
	// TrustedProxies are the proxies in front of the server whose
	// X-Forwarded-For entries are believed (see gateway.ClientIP).
	TrustedProxies []netip.Prefix
	// AuthFailureLimit bounds failed key verifications per client address
	// (429 with Retry-After beyond it). Zero: gateway's defaults.
	AuthFailureLimit gateway.AuthFailureLimit
	// AuditLists audits allowed list calls (tools/list and the like) too.
	AuditLists bool
	// MaxRequestBodyBytes bounds the body of an HTTP request, which
	// Handler reads whole to decide it: a larger one gets 413. Zero:
	// DefaultMaxRequestBodyBytes; negative: no bound (not for servers
	// exposed to untrusted clients).
	MaxRequestBodyBytes int64
	// Logger receives what the Gateway does; nil discards it.
	Logger *slog.Logger
}

// Gateway joins mcp-go servers to mcpstore. Close it when done.
type Gateway struct {
	opts     Options
	log      *slog.Logger
	policy   gateway.Policy
	auth     *gateway.HTTPAuth
	keyTrack *gateway.KeySessions // nil without Keys

	installed sync.Map // *server.MCPServer -> struct{}
	sessions  sync.Map // session id -> *session
}

// New returns a Gateway.
func New(opts Options) *Gateway {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.MaxRequestBodyBytes == 0 {
		opts.MaxRequestBodyBytes = DefaultMaxRequestBodyBytes
	}
	g := &Gateway{
		opts:   opts,
		log:    log,
		policy: gateway.Policy{ServerID: opts.ServerID, AuditLists: opts.AuditLists},
		auth: &gateway.HTTPAuth{
			Keys: opts.Keys, Auditor: opts.Auditor, Limiter: gateway.NewAuthFailureLimiter(opts.AuthFailureLimit),
			TrustedProxies: opts.TrustedProxies, Logger: log,
		},
	}
	if opts.Keys != nil {
		g.keyTrack = gateway.NewKeySessions(opts.Keys, log)
	}
	return g
}

// Close stops ending the sessions of keys that stop working. Sessions
// stay open.
func (g *Gateway) Close() error {
	if g.keyTrack != nil {
		g.keyTrack.Close()
	}
	return nil
}

// allGrants stands for "no authentication configured": every request
// runs.
var allGrants = gateway.NewGrants([]string{"*"})
