package gateway_test

import (
	"context"
	"testing"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/db/dbopen"
	"github.com/mcpstore/mcpstore/internal/testdb"
)

// engines lists the engines every gateway test runs on.
var engines = []string{"postgres", "sqlite"}

// eachEngine runs fn once per engine, each with a fresh, migrated Store.
func eachEngine(t *testing.T, fn func(t *testing.T, s db.Store)) {
	for _, e := range engines {
		t.Run(e, func(t *testing.T) { fn(t, newStore(t, e)) })
	}
}

// newStore returns a fresh, migrated Store of the engine, closed when the
// test ends.
func newStore(t testing.TB, engine string) db.Store {
	t.Helper()
	return openURL(t, newURL(t, engine))
}

// newURL returns the URL of a fresh, migrated database of the engine, for
// tests that open it more than once (several Stores sharing one database).
func newURL(t testing.TB, engine string) string {
	t.Helper()
	if engine == "postgres" {
		return testdb.PostgresURL(t)
	}
	return testdb.SQLiteURL(t)
}

// openURL opens another Store on url, closed when the test ends.
func openURL(t testing.TB, url string) db.Store {
	t.Helper()
	s, err := dbopen.Open(context.Background(), url, dbopen.Options{})
	if err != nil {
		t.Fatalf("open %s store: %v", url[:8], err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
