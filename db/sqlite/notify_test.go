package sqlite_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/db/sqlite"
	"github.com/mcpstore/mcpstore/internal/testdb"
)

// The change log keeps the last 1,000 changes; a reader that finds changes
// dropped before it read them is told to drop what it cached (onListen),
// then goes on with what is left.
func TestKeyChangeLogGap(t *testing.T) {
	ctx := t.Context()
	url := testdb.SQLiteURL(t)
	s := open(t, url).(*sqlite.Store)
	k, err := s.APIKeys().Create(ctx, db.APIKeyCreate{Name: "k", Prefix: "mcp_test", KeyHash: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"})
	require.NoError(t, err)

	var listens atomic.Int32
	heard := make(chan string, 2000)
	lctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- s.ListenKeyChanges(lctx, func() { listens.Add(1) }, func(id string) { heard <- id })
	}()
	t.Cleanup(func() { stop(); <-done })
	require.Eventually(t, func() bool { return listens.Load() == 1 }, 10*time.Second, time.Millisecond)

	// 1,500 changes in one transaction: the reader sees none of them until
	// they commit, and then only the last 1,000 are left.
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

	deadline := time.After(10 * time.Second)
	for got := 0; got < 1000; got++ {
		select {
		case id := <-heard:
			require.Equal(t, k.ID, id)
		case <-deadline:
			t.Fatalf("heard %d of the 1,000 changes left", got)
		}
	}
	assert.EqualValues(t, 2, listens.Load(), "told once more to drop its cache, for the 500 dropped")
	select {
	case id := <-heard:
		t.Fatalf("heard more than the log held: %s", id)
	case <-time.After(3 * sqlite.KeyPollInterval):
	}
}

// INSERT OR REPLACE, which deletes the row it replaces without firing
// delete triggers, is logged too; an insert that fails logs nothing; and a
// log that starts over (the migration undone and redone) makes the reader
// drop its cache.
func TestKeyChangeLogReplaceAndRestart(t *testing.T) {
	ctx := t.Context()
	s := open(t, testdb.SQLiteURL(t)).(*sqlite.Store)
	hash := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	k, err := s.APIKeys().Create(ctx, db.APIKeyCreate{Name: "k", Prefix: "mcp_test", KeyHash: hash})
	require.NoError(t, err)

	var listens atomic.Int32
	heard := make(chan string, 16)
	lctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- s.ListenKeyChanges(lctx, func() { listens.Add(1) }, func(id string) { heard <- id })
	}()
	t.Cleanup(func() { stop(); <-done })
	require.Eventually(t, func() bool { return listens.Load() == 1 }, 10*time.Second, time.Millisecond)
	next := func() string {
		t.Helper()
		select {
		case id := <-heard:
			return id
		case <-time.After(5 * time.Second):
			t.Fatal("nothing heard within 5s")
			return ""
		}
	}

	// The same hash under another id: the old key is replaced.
	_, err = s.DB().ExecContext(ctx, `INSERT OR REPLACE INTO api_keys (id, name, prefix, key_hash) VALUES ('other', 'k2', 'mcp_test', ?)`, hash)
	require.NoError(t, err)
	assert.Equal(t, k.ID, next())

	// A Create that conflicts is refused and logs nothing: the next change
	// heard is the marker's.
	_, err = s.APIKeys().Create(ctx, db.APIKeyCreate{Name: "dup", Prefix: "mcp_test", KeyHash: hash})
	require.ErrorIs(t, err, db.ErrConflict)
	require.NoError(t, s.APIKeys().Deactivate(ctx, "other"))
	assert.Equal(t, "other", next())

	require.NoError(t, s.MigrateDown(ctx))
	require.NoError(t, s.MigrateUp(ctx))
	require.Eventually(t, func() bool { return listens.Load() == 2 }, 10*time.Second, time.Millisecond,
		"a log started over below what was read means changes may have been missed")
	_, err = s.APIKeys().Update(ctx, "other", db.APIKeyUpdate{IsActive: db.Set(true)})
	require.NoError(t, err)
	assert.Equal(t, "other", next(), "and reading goes on in the new log")
}
