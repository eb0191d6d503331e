// Package mcpsdk embeds mcpstore in MCP servers built on the official Go
// SDK (github.com/modelcontextprotocol/go-sdk): API-key authentication for
// auth.RequireBearerToken, a receiving middleware that applies
// gateway.Policy to every MCP method (deny by default) and audits what the
// policy says to audit, sessions bound to the key that opened them, and
// registry sync from the server's own tools. It lives apart from package
// gateway so that programs using gateway alone do not compile the SDK.
package mcpsdk

import (
	"log/slog"
	"net/netip"
	"sync"

	"github.com/mcpstore/mcpstore/gateway"
)

// Options wires a Gateway to mcpstore. Each part is optional; a nil part
// turns its feature off.
type Options struct {
	// ServerID names this server in the tool registry and the audit log.
	ServerID string
	// Keys verifies API keys (TokenVerifier); with it set, the middleware
	// applies each key's permissions to every request, and a session
	// belongs to the key that opened it. Without it nothing is enforced
	// (every request runs), and calls are still audited.
	Keys *gateway.Keys
	// Auditor records every request the policy audits and every refused
	// key.
	Auditor *gateway.Auditor
	// Registry receives the server's tools (SyncTools).
	Registry *gateway.Registry
	// TrustedProxies are the proxies in front of the server whose
	// X-Forwarded-For entries are believed (see gateway.ClientIP). Empty:
	// the client address is the TCP peer's, whatever the header says.
	TrustedProxies []netip.Prefix
	// AuthFailureLimit bounds failed key verifications per client address
	// (Handler answers 429 with Retry-After beyond it). Zero: the
	// defaults of gateway.AuthFailureLimit.
	AuthFailureLimit gateway.AuthFailureLimit
	// AuditLists audits allowed list calls (tools/list and the like) too.
	AuditLists bool
	// Logger receives what the Gateway does; nil discards it.
	Logger *slog.Logger
}

// Gateway joins one go-sdk server to mcpstore. Close it when done.
type Gateway struct {
	opts     Options
	log      *slog.Logger
	policy   gateway.Policy
	auth     *gateway.HTTPAuth
	sessions *gateway.KeySessions // nil without Keys
	// trusted holds the in-memory sessions the Gateway itself opened to
	// read the server's tools: the middleware lets them through.
	trusted sync.Map // *mcp.ServerSession -> bool
	// tracked holds the sessions added to sessions, by session.
	tracked sync.Map // *mcp.ServerSession -> key id
}

// New returns a Gateway.
func New(opts Options) *Gateway {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
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
		g.sessions = gateway.NewKeySessions(opts.Keys, log)
	}
	return g
}

// Close stops ending the sessions of keys that stop working. Sessions
// stay open; close the server's to end them.
func (g *Gateway) Close() error {
	if g.sessions != nil {
		g.sessions.Close()
	}
	return nil
}
