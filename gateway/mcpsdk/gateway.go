// Package mcpsdk embeds mcpstore in MCP servers built on the official Go
// SDK (github.com/modelcontextprotocol/go-sdk): API-key authentication for
// auth.RequireBearerToken, a receiving middleware that enforces each key's
// permissions and audits every tool call, and registry sync from the
// server's own tools. It lives apart from package gateway so that programs
// using gateway alone do not compile the SDK.
package mcpsdk

import (
	"io"
	"log/slog"
	"sync"

	"github.com/mcpstore/mcpstore/gateway"
)

// Options wires a Gateway to mcpstore. Each part is optional; a nil part
// turns its feature off.
type Options struct {
	// ServerID names this server in the tool registry and the audit log.
	ServerID string
	// Keys verifies API keys (TokenVerifier); with it set, the middleware
	// enforces each key's permissions.
	Keys *gateway.Keys
	// Auditor records every tool call and every refused key.
	Auditor *gateway.Auditor
	// Registry receives the server's tools (SyncTools).
	Registry *gateway.Registry
	// TrustForwardedFor takes the client address from X-Forwarded-For:
	// set it only behind a proxy that sets that header.
	TrustForwardedFor bool
	// Logger receives what the Gateway does; nil discards it.
	Logger *slog.Logger
}

// Gateway joins one go-sdk server to mcpstore.
type Gateway struct {
	opts Options
	log  *slog.Logger
	// trusted holds the in-memory sessions the Gateway itself opened to
	// read the server's tools: the middleware lets them through.
	trusted sync.Map // *mcp.ServerSession -> bool
}

// New returns a Gateway.
func New(opts Options) *Gateway {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Gateway{opts: opts, log: log}
}
