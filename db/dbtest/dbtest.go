// Package dbtest is the conformance suite every mcpstore engine runs, the
// way River's riverdrivertest exercises each of its drivers: one set of
// tests, run against a real PostgreSQL and a real SQLite, so that both
// engines behave the same. An engine's test calls Exercise with a way to get
// a fresh, migrated Store.
package dbtest

import (
	"context"
	"testing"

	"github.com/mcpstore/mcpstore/db"
)

// Engine is what the suite needs from an engine's test.
type Engine struct {
	// Name appears in failures: "postgres" or "sqlite".
	Name string
	// NewStore returns a migrated, empty Store with a database of its own,
	// closed when the test ends.
	NewStore func(t testing.TB) db.Store
	// NewEmptyStore returns a Store on a database with no tables, for the
	// migration tests.
	NewEmptyStore func(t testing.TB) db.Store
	// QueryInt runs a query that returns one integer, for checks below the
	// Store's API (is a column really NULL? how many rows exist?). The SQL
	// is written to run on both engines.
	QueryInt func(t *testing.T, s db.Store, query string) int64
}

// Exercise runs the whole suite against e.
func Exercise(t *testing.T, e Engine) {
	t.Run("APIKeys", func(t *testing.T) { exerciseAPIKeys(t, e) })
	t.Run("Tools", func(t *testing.T) { exerciseTools(t, e) })
	t.Run("AuditLogs", func(t *testing.T) { exerciseAuditLogs(t, e) })
	t.Run("Statistics", func(t *testing.T) { exerciseStatistics(t, e) })
	t.Run("JSON", func(t *testing.T) { exerciseJSON(t, e) })
	t.Run("JSONRule", func(t *testing.T) { exerciseJSONRule(t, e) })
	t.Run("Times", func(t *testing.T) { exerciseTimes(t, e) })
	t.Run("Tx", func(t *testing.T) { exerciseTx(t, e) })
	t.Run("BadInput", func(t *testing.T) { exerciseBadInput(t, e) })
	t.Run("Migrations", func(t *testing.T) { exerciseMigrations(t, e) })
	t.Run("KeyChanges", func(t *testing.T) { exerciseKeyChanges(t, e) })
}

// setup returns a fresh store and a context for one subtest.
func setup(t *testing.T, e Engine) (context.Context, db.Store) {
	t.Helper()
	t.Parallel()
	return t.Context(), e.NewStore(t)
}

// count returns the rows of table matching where ("" for all).
func count(t *testing.T, e Engine, s db.Store, table, where string) int64 {
	t.Helper()
	q := "SELECT count(*) FROM " + table
	if where != "" {
		q += " WHERE " + where
	}
	return e.QueryInt(t, s, q)
}
