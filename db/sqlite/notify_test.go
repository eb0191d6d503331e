package sqlite_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/db/dbtest"
	"github.com/mcpstore/mcpstore/db/sqlite"
	"github.com/mcpstore/mcpstore/internal/testdb"
)

// The change log keeps the last 1,000 changes; a reader that finds changes
// dropped before it read them is told to drop what it cached (onListen),
// then goes on with what is left.
func TestKeyChangeLogGap(t *testing.T) {
	ctx := t.Context()
	s := open(t, testdb.SQLiteURL(t)).(*sqlite.Store)
	k, err := s.APIKeys().Create(ctx, dbtest.NewKey(1))
	require.NoError(t, err)
	marker, err := s.APIKeys().Create(ctx, dbtest.NewKey(2))
	require.NoError(t, err)
	l := dbtest.Listen(t, s, 2000)
	require.EqualValues(t, 1, l.Listens())

	// 1,500 changes in one transaction: once they commit, only the last
	// 1,000 are left.
	require.NoError(t, s.InTx(ctx, func(tx db.Repositories) error {
		for i := range 1500 {
			if _, err := tx.APIKeys().Update(ctx, k.ID, db.APIKeyUpdate{IsActive: db.Set(i%2 == 1)}); err != nil {
				return err
			}
		}
		return nil
	}))
	var n int64
	require.NoError(t, s.DB().QueryRow("SELECT count(*) FROM api_key_changes").Scan(&n))
	assert.EqualValues(t, 1000, n, "the log keeps the last 1,000 changes")

	for got := range 1000 {
		require.Equal(t, k.ID, l.Next(t), "change %d of the 1,000 left", got)
	}
	assert.EqualValues(t, 2, l.Listens(), "told once more to drop its cache, for the 500 dropped")
	// Nothing more than the log held: the next change heard is the marker's.
	require.NoError(t, s.APIKeys().Deactivate(ctx, marker.ID))
	assert.Equal(t, marker.ID, l.Next(t))
}

// INSERT OR REPLACE, which deletes the row it replaces without firing
// delete triggers, is logged too; an insert that fails logs nothing; and a
// log that starts over (the migration undone and redone) makes the reader
// drop its cache.
func TestKeyChangeLogReplaceAndRestart(t *testing.T) {
	ctx := t.Context()
	s := open(t, testdb.SQLiteURL(t)).(*sqlite.Store)
	k, err := s.APIKeys().Create(ctx, dbtest.NewKey(1))
	require.NoError(t, err)
	marker, err := s.APIKeys().Create(ctx, dbtest.NewKey(2))
	require.NoError(t, err)
	l := dbtest.Listen(t, s, 16)
	changes := func() (n int64) {
		require.NoError(t, s.DB().QueryRow("SELECT count(*) FROM api_key_changes").Scan(&n))
		return n
	}

	// The same hash under another id: the old key is replaced.
	_, err = s.DB().ExecContext(ctx, `INSERT OR REPLACE INTO api_keys (id, name, prefix, key_hash) VALUES ('other', 'k2', 'mcp_test', ?)`, k.KeyHash)
	require.NoError(t, err)
	assert.Equal(t, k.ID, l.Next(t))

	// A Create that conflicts is refused and logs nothing: the log does not
	// grow, and the next change heard is the marker's.
	before := changes()
	_, err = s.APIKeys().Create(ctx, db.APIKeyCreate{Name: "dup", Prefix: "mcp_test", KeyHash: k.KeyHash})
	require.ErrorIs(t, err, db.ErrConflict)
	assert.Equal(t, before, changes())
	require.NoError(t, s.APIKeys().Deactivate(ctx, marker.ID))
	assert.Equal(t, marker.ID, l.Next(t))

	undoKeyChangeLog(t, s)
	require.NoError(t, s.MigrateUp(ctx))
	require.Eventually(t, func() bool { return l.Listens() == 2 }, 10*time.Second, time.Millisecond,
		"a log started over below what was read means changes may have been missed")
	_, err = s.APIKeys().Update(ctx, marker.ID, db.APIKeyUpdate{IsActive: db.Set(true)})
	require.NoError(t, err)
	assert.Equal(t, marker.ID, l.Next(t), "and reading goes on in the new log")
}

// undoKeyChangeLog migrates down until the key change log's migration
// (00003) is undone, whatever migrations came after it.
func undoKeyChangeLog(t *testing.T, s db.Store) {
	t.Helper()
	for {
		st, err := s.MigrationStatus(t.Context())
		require.NoError(t, err)
		applied := false
		for _, m := range st {
			applied = applied || m.Version == 3 && m.Applied
		}
		if !applied {
			return
		}
		require.NoError(t, s.MigrateDown(t.Context()))
	}
}
