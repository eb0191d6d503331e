package testdb

import (
	"context"
	"testing"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/db/dbopen"
)

// Engines lists the engines every test that needs a Store runs on.
var Engines = []string{"postgres", "sqlite"}

// URL returns the URL of a fresh, migrated database of the engine
// ("postgres" or "sqlite"), for tests that open it more than once.
func URL(t testing.TB, engine string) string {
	t.Helper()
	if engine == "postgres" {
		return PostgresURL(t)
	}
	return SQLiteURL(t)
}

// Open opens a Store on url, closed when the test ends.
func Open(t testing.TB, url string) db.Store {
	t.Helper()
	s, err := dbopen.Open(context.Background(), url, dbopen.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// EachEngine runs fn once per engine, each with a fresh, migrated Store.
func EachEngine(t *testing.T, fn func(t *testing.T, s db.Store)) {
	for _, e := range Engines {
		t.Run(e, func(t *testing.T) { fn(t, Open(t, URL(t, e))) })
	}
}
