// Package mcpgobench is the mcp-go adapter's benchmark fixture, shared by
// its Go benchmark and the benchmark report (bench/cmd/report): the same
// mcp-go server served plain and behind mcpgo's Handler, as an
// mcpbench.Pair.
package mcpgobench

import (
	"context"
	"net/http"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gateway"
	"github.com/mcpstore/mcpstore/gateway/mcpgo"
	"github.com/mcpstore/mcpstore/internal/mcpbench"
)

// NewPair starts an mcp-go server with one tool, echo, over loopback HTTP
// twice (alone, and behind mcpstore, whose key may call echo) and connects
// a client to each.
func NewPair(ctx context.Context, store db.Store) (*mcpbench.Pair, error) {
	return mcpbench.NewPairOf(ctx, store, func(keys *gateway.Keys, auditor *gateway.Auditor) (http.Handler, http.Handler, func() error, error) {
		g := mcpgo.New(mcpgo.Options{ServerID: "bench", Keys: keys, Auditor: auditor})
		return server.NewStreamableHTTPServer(newServer()), g.Handler(newServer()), g.Close, nil
	})
}

func newServer() *server.MCPServer {
	s := server.NewMCPServer("bench", "1")
	s.AddTool(mcp.NewTool("echo", mcp.WithString("text")), func(_ context.Context, r mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return mcp.NewToolResultText(r.GetString("text", "")), nil
	})
	return s
}
