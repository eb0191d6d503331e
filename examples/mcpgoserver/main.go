// Command mcpgoserver is an MCP server built on mark3labs/mcp-go, over
// streamable HTTP, with mcpstore embedded (gateway/mcpgo): the tools,
// resources and prompts of examples/mcpserver under the same permissions.
// Issue a key with `mcpstore keys create` on the same database, then
// connect with it as a bearer token.
//
//	cd examples/mcpgoserver && go run . --db sqlite:mcpstore.db --addr 127.0.0.1:8080
package main

import (
	"context"
	"net/http"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/internal/examplemain"
)

func main() {
	examplemain.Run("MCP server (mcp-go)", func(ctx context.Context, store db.Store) (http.Handler, func(context.Context) error, error) {
		srv, err := New(ctx, store)
		if err != nil {
			return nil, nil, err
		}
		return srv.Handler, srv.Close, nil
	})
}
