package mcpsdk_test

import (
	"context"
	"testing"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/db/dbopen"
	"github.com/mcpstore/mcpstore/internal/testdb"
)

// eachEngine runs fn once per engine, each with a fresh, migrated Store.
func eachEngine(t *testing.T, fn func(t *testing.T, s db.Store)) {
	for _, e := range []string{"postgres", "sqlite"} {
		t.Run(e, func(t *testing.T) {
			url := testdb.SQLiteURL(t)
			if e == "postgres" {
				url = testdb.PostgresURL(t)
			}
			s, err := dbopen.Open(context.Background(), url, dbopen.Options{})
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			t.Cleanup(func() { s.Close() })
			fn(t, s)
		})
	}
}
