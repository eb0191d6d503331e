// Command mcpserver is an MCP server over streamable HTTP with mcpstore
// embedded (see exampleserver). Issue a key with `mcpstore keys create`
// on the same database, then connect with it as a bearer token.
//
//	go run ./examples/mcpserver --db sqlite:mcpstore.db --addr 127.0.0.1:8080
package main

import (
	"context"
	"net/http"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/examples/mcpserver/exampleserver"
	"github.com/mcpstore/mcpstore/internal/examplemain"
)

func main() {
	examplemain.Run("MCP server", func(ctx context.Context, store db.Store) (http.Handler, func(context.Context) error, error) {
		srv, err := exampleserver.New(ctx, store)
		if err != nil {
			return nil, nil, err
		}
		return srv.Handler, srv.Close, nil
	})
}
