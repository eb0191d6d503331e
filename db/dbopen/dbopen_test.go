package dbopen_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
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

// A database that cannot be reached during a migration is ErrUnavailable,
// as for any other method, in the engine's words: it was ErrDatabase with
// the driver's text (the address, the path).
func TestMigrateUnreachable(t *testing.T) {
	t.Run("postgres", func(t *testing.T) {
		cfg, err := pgxpool.ParseConfig("postgres://user:hunter2@127.0.0.1:1/x?connect_timeout=2")
		require.NoError(t, err)
		pool, err := pgxpool.NewWithConfig(t.Context(), cfg) // connects when first used
		require.NoError(t, err)
		defer pool.Close()
		err = postgres.New(pool, postgres.Options{}).MigrateUp(t.Context())
		assert.ErrorIs(t, err, db.ErrUnavailable)
		var de *db.Error
		require.ErrorAs(t, err, &de)
		assert.Equal(t, "MigrateUp", de.Op)
		for _, text := range []string{"hunter2", "127.0.0.1", "dial", "refused"} {
			assert.NotContains(t, err.Error(), text)
		}
	})
	t.Run("sqlite", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "gone")
		require.NoError(t, os.Mkdir(dir, 0o755))
		s, err := sqlite.Open(t.Context(), "sqlite:"+filepath.Join(dir, "mcpstore.db"), sqlite.Options{})
		require.NoError(t, err)
		defer s.Close()
		require.NoError(t, os.RemoveAll(dir)) // the migration opens the file anew
		err = s.MigrateUp(t.Context())
		assert.ErrorIs(t, err, db.ErrUnavailable)
		var de *db.Error
		require.ErrorAs(t, err, &de)
		assert.Equal(t, "MigrateUp", de.Op)
		assert.NotContains(t, err.Error(), dir)
	})
}

// TestSchemasMatch holds the two engines' schemas equal: the same tables,
// columns and nullability (but SQLite's api_key_changes, its stand-in for
// PostgreSQL's NOTIFY, and PostgreSQL's audit_log_hourly, the hourly counts
// its statistics read). A table or column added to one engine alone fails
// it.
func TestSchemasMatch(t *testing.T) {
	ctx := t.Context()
	pg := open(t, testdb.PostgresURL(t)).(*postgres.Store)
	lite := open(t, testdb.SQLiteURL(t)).(*sqlite.Store)

	var pgCols []string
	rows, err := pg.Pool().Query(ctx, `
		SELECT table_name, column_name, is_nullable = 'YES'
		FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name <> $1
		  AND table_name <> 'audit_log_hourly' -- counts kept for AuditLogStatistics`, db.MigrationTable)
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
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> ?
		  AND m.name <> 'api_key_changes' -- SQLite's stand-in for NOTIFY`, db.MigrationTable)
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

// Both engines compute the same statistics from the same events, latency
// percentiles included, to the last bit: PostgreSQL with percentile_cont,
// SQLite in Go after its own aggregate hands the durations over.
func TestStatisticsSameOnBothEngines(t *testing.T) {
	ctx := t.Context()
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(1, 2))
	batch := make([]db.AuditLogCreate, 2000)
	for i := range batch {
		batch[i] = db.AuditLogCreate{
			RequestID: fmt.Sprint("r", i), Action: []string{"tool_call", "tools_list"}[i%2], ResourceType: "tool",
			Status: []string{"success", "error", "denied"}[i%3], CreatedAt: base.Add(time.Duration(i) * time.Second),
		}
		if i%7 != 0 { // some events not measured
			d := rng.ExpFloat64() * 37.3 // not round numbers: every bit counts
			batch[i].DurationMS = &d
		}
	}
	var stats []db.AuditStatistics
	for _, url := range []string{testdb.PostgresURL(t), testdb.SQLiteURL(t)} {
		s := open(t, url)
		_, err := s.AuditLogs().InsertBatch(ctx, batch)
		require.NoError(t, err)
		st, err := s.AuditLogs().Statistics(ctx, base.Add(100*time.Second), base.Add(1900*time.Second))
		require.NoError(t, err)
		stats = append(stats, st)
	}
	pg, lite := stats[0], stats[1]
	assert.Equal(t, int64(1800), pg.Total)
	assert.Equal(t, pg.ByStatus, lite.ByStatus)
	assert.Equal(t, pg.ByAction, lite.ByAction)
	for _, p := range []struct {
		name   string
		pg, sq *float64
	}{{"p50", pg.DurationP50MS, lite.DurationP50MS}, {"p95", pg.DurationP95MS, lite.DurationP95MS}, {"p99", pg.DurationP99MS, lite.DurationP99MS}} {
		require.NotNil(t, p.pg, p.name)
		require.NotNil(t, p.sq, p.name)
		assert.Equal(t, math.Float64bits(*p.pg), math.Float64bits(*p.sq), "%s: %v on PostgreSQL, %v on SQLite", p.name, *p.pg, *p.sq)
	}
}
