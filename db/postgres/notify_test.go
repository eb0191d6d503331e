package postgres_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/db/dbtest"
	"github.com/mcpstore/mcpstore/db/postgres"
	"github.com/mcpstore/mcpstore/internal/testdb"
)

// Revoke notifies by itself on a database whose migrations stop before the
// trigger's (a new binary on a database not migrated yet); the conformance
// suite's KeyChanges tests cover everything else the trigger sends.
func TestRevokeNotifiesWithoutTrigger(t *testing.T) {
	ctx := t.Context()
	s := open(t, testdb.PostgresURL(t)).(*postgres.Store)
	k, err := s.APIKeys().Create(ctx, db.APIKeyCreate{Name: "k", Prefix: "mcp_test", KeyHash: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"})
	require.NoError(t, err)
	migrateDownTo(ctx, t, s, 2)
	heard := dbtest.Listen(t, s)
	_, err = s.APIKeys().Revoke(ctx, k.ID, time.Now(), "test")
	require.NoError(t, err)
	select {
	case h := <-heard:
		assert.Equal(t, k.ID, h)
	case <-time.After(5 * time.Second):
		t.Fatal("revocation not heard within 5s")
	}
}
