package dbopen_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/db/dbopen"
	"github.com/mcpstore/mcpstore/db/postgres"
	"github.com/mcpstore/mcpstore/db/sqlite"
	"github.com/mcpstore/mcpstore/internal/testdb"
)

func open(t *testing.T, url string) db.Store {
	t.Helper()
	s, err := dbopen.Open(t.Context(), url, dbopen.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func TestOpenByURL(t *testing.T) {
	assert.Equal(t, "sqlite", open(t, testdb.SQLiteURL(t)).Engine())
	assert.Equal(t, "postgres", open(t, testdb.PostgresURL(t)).Engine())
	for _, bad := range []string{"", "mysql://x", "sqlite:", "file.db", "postgres:/"} {
		s, err := dbopen.Open(t.Context(), bad, dbopen.Options{})
		assert.ErrorIs(t, err, db.ErrInvalid, bad)
		assert.Nil(t, s, "no typed nil Store: %q", bad)
	}
}

func TestOpenUnreachablePostgres(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	// Port 1 on loopback: nothing listens there.
	s, err := postgres.Open(ctx, "postgres://user:hunter2@127.0.0.1:1/x?connect_timeout=2", postgres.Options{})
	require.Error(t, err)
	assert.Nil(t, s)
	assert.ErrorIs(t, err, db.ErrUnavailable)
	assert.NotContains(t, err.Error(), "hunter2", "the password never appears in an error")
}

// TestSchemasMatch holds the two engines' schemas equal: the same tables,
// columns and nullability. A migration added to one engine alone fails it.
func TestSchemasMatch(t *testing.T) {
	ctx := t.Context()
	pg := open(t, testdb.PostgresURL(t)).(*postgres.Store)
	lite := open(t, testdb.SQLiteURL(t)).(*sqlite.Store)

	var pgCols []string
	rows, err := pg.Pool().Query(ctx, `
		SELECT table_name, column_name, is_nullable = 'YES'
		FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name <> $1`, db.MigrationTable)
	require.NoError(t, err)
	for rows.Next() {
		var table, col string
		var null bool
		require.NoError(t, rows.Scan(&table, &col, &null))
		pgCols = append(pgCols, fmt.Sprintf("%s.%s null=%v", table, col, null))
	}
	require.NoError(t, rows.Err())

	var liteCols []string
	lrows, err := lite.DB().QueryContext(ctx, `
		SELECT m.name, p.name, p."notnull" = 0
		FROM sqlite_master m JOIN pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> ?`, db.MigrationTable)
	require.NoError(t, err)
	defer lrows.Close()
	for lrows.Next() {
		var table, col string
		var null bool
		require.NoError(t, lrows.Scan(&table, &col, &null))
		liteCols = append(liteCols, fmt.Sprintf("%s.%s null=%v", table, col, null))
	}
	require.NoError(t, lrows.Err())

	slices.Sort(pgCols)
	slices.Sort(liteCols)
	require.NotEmpty(t, pgCols)
	assert.Equal(t, pgCols, liteCols)
	assert.Contains(t, pgCols, "api_keys.user_id null=true")
	assert.Contains(t, pgCols, "audit_logs.event_id null=false")
}
