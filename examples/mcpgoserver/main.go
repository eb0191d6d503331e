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
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"

	"github.com/mcpstore/mcpstore/db/dbopen"
)

func main() {
	dbURL := flag.String("db", "sqlite:mcpstore.db", "database URL")
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	store, err := dbopen.Open(ctx, *dbURL, dbopen.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	if err := store.MigrateUp(ctx); err != nil {
		log.Fatal(err)
	}
	srv, err := New(ctx, store)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close(context.Background())

	hs := &http.Server{Addr: *addr, Handler: srv.Handler}
	go func() { <-ctx.Done(); hs.Close() }()
	log.Printf("MCP server (mcp-go) on http://%s", *addr)
	if err := hs.ListenAndServe(); err != http.ErrServerClosed {
		log.Print(err)
	}
}
