// Package dbopen opens a db.Store by URL on either engine, for programs that
// let the user choose: "postgres://..." (or "postgresql://...") and
// "sqlite:PATH". It compiles both engines in; a program that only wants one
// imports db/postgres or db/sqlite directly.
package dbopen

import (
	"context"
	"strings"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/db/postgres"
	"github.com/mcpstore/mcpstore/db/sqlite"
)

// Options holds each engine's options; the one matching the URL is used.
type Options struct {
	Postgres postgres.Options
	SQLite   sqlite.Options
}

// Open opens the Store that url names. It does not migrate: call MigrateUp.
func Open(ctx context.Context, url string, opts Options) (db.Store, error) {
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		s, err := postgres.Open(ctx, url, opts.Postgres)
		if err != nil {
			return nil, err // not a typed nil inside the interface
		}
		return s, nil
	case strings.HasPrefix(url, "sqlite:"):
		s, err := sqlite.Open(ctx, url, opts.SQLite)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	return nil, &db.Error{Op: "Open", Kind: db.ErrInvalid, Field: "url", Msg: "want postgres://... or sqlite:PATH"}
}
