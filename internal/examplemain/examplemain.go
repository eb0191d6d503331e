// Package examplemain is the program around each example server (the
// go-sdk one and the mcp-go one): flags, the database opened and migrated,
// the server built on it and served over HTTP until interrupted.
package examplemain

import (
	"context"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/db/dbopen"
)

// Build makes an example server on a migrated store: its HTTP handler and
// what closes it.
type Build func(ctx context.Context, store db.Store) (http.Handler, func(context.Context) error, error)

// Run parses the flags --db and --addr, opens and migrates the database,
// and serves what build makes until the process is interrupted.
func Run(name string, build Build) {
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
	h, closeFn, err := build(ctx, store)
	if err != nil {
		log.Fatal(err)
	}
	defer func() {
		// Its own deadline: ctx is cancelled by now, and the audit events
		// still buffered must be stored.
		closeCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := closeFn(closeCtx); err != nil {
			log.Print(err)
		}
	}()

	hs := &http.Server{Addr: *addr, Handler: h}
	go func() { <-ctx.Done(); hs.Close() }()
	log.Printf("%s on http://%s", name, *addr)
	if err := hs.ListenAndServe(); err != http.ErrServerClosed {
		log.Print(err)
	}
}
