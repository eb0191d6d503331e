package postgres_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/db/dbtest"
	"github.com/mcpstore/mcpstore/db/postgres"
	"github.com/mcpstore/mcpstore/internal/testdb"
)

func open(t testing.TB, url string) db.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), url, postgres.Options{MaxConns: 8})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var engine = dbtest.Engine{
	Name:          "postgres",
	NewStore:      func(t testing.TB) db.Store { return open(t, testdb.PostgresURL(t)) },
	NewEmptyStore: func(t testing.TB) db.Store { return open(t, testdb.PostgresEmptyURL(t)) },
	QueryInt: func(t *testing.T, s db.Store, query string) int64 {
		t.Helper()
		var n int64
		if err := s.(*postgres.Store).Pool().QueryRow(context.Background(), query).Scan(&n); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return n
	},
}

// TestConformance runs the whole engine suite on a real PostgreSQL.
func TestConformance(t *testing.T) {
	dbtest.Exercise(t, engine)
}

// TestConformanceQueryModes runs the suite again in pgx's query modes that
// do not prepare statements, where pgx picks each parameter's type from its
// Go type instead of asking the server (as behind a pooler that cannot
// keep prepared statements): every value must still be sent as its column
// expects. simple_protocol also inlines the values as literals and reads
// every result as text.
func TestConformanceQueryModes(t *testing.T) {
	modes := []string{"exec", "simple_protocol"}
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			e := engine
			e.NewStore = func(t testing.TB) db.Store { return open(t, withMode(t, testdb.PostgresURL(t), mode)) }
			e.NewEmptyStore = func(t testing.TB) db.Store { return open(t, withMode(t, testdb.PostgresEmptyURL(t), mode)) }
			dbtest.Exercise(t, e)
		})
	}
}

// withMode sets pgx's default_query_exec_mode in a connection URL.
func withMode(t testing.TB, raw, mode string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("default_query_exec_mode", mode)
	u.RawQuery = q.Encode()
	return u.String()
}

// BenchmarkRepositories measures the hot repository operations.
func BenchmarkRepositories(b *testing.B) {
	dbtest.Bench(b, engine)
}
