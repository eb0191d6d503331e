package sqlite_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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

// The batched last-use write reads its uses once, joining them to the keys
// by primary key (UPDATE ... FROM): it once ran two correlated json_each
// scans for every row of api_keys.
func TestLastUsedBatchPlan(t *testing.T) {
	s := open(t, testdb.SQLiteURL(t)).(*sqlite.Store)
	rows, err := s.DB().QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+sqlite.UpdateLastUsedBatchSQL, `[["k",1]]`)
	require.NoError(t, err)
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
		plan = append(plan, detail)
	}
	require.NoError(t, rows.Err())
	text := strings.Join(plan, "\n")
	assert.NotContains(t, text, "CORRELATED", text)
	assert.Equal(t, 1, strings.Count(text, "json_each"), text)
	assert.Contains(t, text, "SEARCH api_keys USING INDEX sqlite_autoindex_api_keys_1 (id=?)", text, "each use finds its key by id")
}
