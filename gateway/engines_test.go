package gateway_test

import (
	"testing"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/internal/testdb"
)

// Short names for internal/testdb's helpers, used throughout these tests.
var (
	engines    = testdb.Engines
	eachEngine = testdb.EachEngine
	newURL     = testdb.URL
	openURL    = testdb.Open
)

// newStore returns a fresh, migrated Store of the engine, closed when the
// test ends.
func newStore(t testing.TB, engine string) db.Store {
	t.Helper()
	return testdb.Open(t, testdb.URL(t, engine))
}
