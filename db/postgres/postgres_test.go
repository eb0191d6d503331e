package postgres_test

import (
	"context"
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

// BenchmarkRepositories measures the hot repository operations.
func BenchmarkRepositories(b *testing.B) {
	dbtest.Bench(b, engine)
}
