// Package exampleserver is a small MCP server with mcpstore embedded: API
// keys on every request, each key's permissions per tool, every tool call
// in the audit log, and the tool registry kept in sync. The runnable
// program is its parent folder; `mcpstore demo` starts it too.
package exampleserver

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gateway"
	"github.com/mcpstore/mcpstore/gateway/mcpsdk"
)

// ServerID names this server in the registry and the audit log.
const ServerID = "example"

// Server is the running example: its HTTP handler and what it holds.
type Server struct {
	Handler http.Handler
	Keys    *gateway.Keys
	Auditor *gateway.Auditor
	sync    *mcpsdk.ToolSync
}

type textArgs struct {
	Text string `json:"text" jsonschema:"the text"`
}

type textOut struct {
	Text string `json:"text"`
}

// New builds the example server on store, which must be migrated.
func New(ctx context.Context, store db.Store) (*Server, error) {
	keys, err := gateway.NewKeys(ctx, store, gateway.KeysOptions{})
	if err != nil {
		return nil, err
	}
	auditor := gateway.NewAuditor(store, gateway.AuditorOptions{})
	g := mcpsdk.New(mcpsdk.Options{
		ServerID: ServerID,
		Keys:     keys,
		Auditor:  auditor,
		Registry: gateway.NewRegistry(store, gateway.RegistryOptions{}),
	})

	server := mcp.NewServer(&mcp.Implementation{Name: ServerID, Version: "1.0.0"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "echo", Description: "Returns its text."},
		func(_ context.Context, _ *mcp.CallToolRequest, in textArgs) (*mcp.CallToolResult, textOut, error) {
			return nil, textOut{in.Text}, nil
		})
	mcp.AddTool(server, &mcp.Tool{Name: "upper", Description: "Returns its text in capitals."},
		func(_ context.Context, _ *mcp.CallToolRequest, in textArgs) (*mcp.CallToolResult, textOut, error) {
			return nil, textOut{strings.ToUpper(in.Text)}, nil
		})
	mcp.AddTool(server, &mcp.Tool{Name: "delete_everything", Description: "Needs a permission few keys have."},
		func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, textOut, error) {
			return nil, textOut{"everything deleted"}, nil
		})
	server.AddReceivingMiddleware(g.Middleware())

	ts, err := g.SyncTools(ctx, server)
	if err != nil {
		return nil, errors.Join(err, auditor.Close(ctx), keys.Close(ctx))
	}
	return &Server{Handler: g.Handler(server, nil), Keys: keys, Auditor: auditor, sync: ts}, nil
}

// Close stops syncing, flushes the audit log and the keys' last-use times.
func (s *Server) Close(ctx context.Context) error {
	return errors.Join(s.sync.Close(), s.Auditor.Close(ctx), s.Keys.Close(ctx))
}
