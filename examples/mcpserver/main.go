// Command mcpserver is an MCP server over streamable HTTP with mcpstore
// embedded (see exampleserver). Issue a key with `mcpstore keys create`
// on the same database, then connect with it as a bearer token.
//
//	go run ./examples/mcpserver --db sqlite:mcpstore.db --addr 127.0.0.1:8080
package main

import (
	"context"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/mcpstore/mcpstore/db/dbopen"
	"github.com/mcpstore/mcpstore/examples/mcpserver/exampleserver"
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
	srv, err := exampleserver.New(ctx, store)
	if err != nil {
		log.Fatal(err)
	}
	defer func() {
		// Its own deadline: ctx is cancelled by now, and the audit events
		// still buffered must be stored.
		closeCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Close(closeCtx); err != nil {
			log.Print(err)
		}
	}()

	hs := &http.Server{Addr: *addr, Handler: srv.Handler}
	go func() { <-ctx.Done(); hs.Close() }()
	log.Printf("MCP server on http://%s", *addr)
	if err := hs.ListenAndServe(); err != http.ErrServerClosed {
		log.Print(err)
	}
}
