package sqlite_test

import (
	"context"
	"testing"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/db/dbtest"
	"github.com/mcpstore/mcpstore/db/sqlite"
	"github.com/mcpstore/mcpstore/internal/testdb"
)

func open(t testing.TB, url string) db.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), url, sqlite.Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var engine = dbtest.Engine{
	Name:          "sqlite",
	NewStore:      func(t testing.TB) db.Store { return open(t, testdb.SQLiteURL(t)) },
	NewEmptyStore: func(t testing.TB) db.Store { return open(t, testdb.SQLiteEmptyURL(t)) },
	QueryInt: func(t *testing.T, s db.Store, query string) int64 {
		t.Helper()
		var n int64
		if err := s.(*sqlite.Store).DB().QueryRow(query).Scan(&n); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return n
	},
}

// TestConformance runs the whole engine suite on a real SQLite file.
func TestConformance(t *testing.T) {
	dbtest.Exercise(t, engine)
}

// BenchmarkRepositories measures the hot repository operations.
func BenchmarkRepositories(b *testing.B) {
	dbtest.Bench(b, engine)
}
