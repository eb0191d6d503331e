package dbtest

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
)

func exerciseTx(t *testing.T, e Engine) {
	// Writes to all three tables, then fails: nothing may remain.
	writeAll := func(t *testing.T, r db.Repositories) {
		ctx := t.Context()
		k, err := r.APIKeys().Create(ctx, NewKey(1))
		require.NoError(t, err)
		_, err = r.Tools().Upsert(ctx, newTool("srv", "t"))
		require.NoError(t, err)
		_, err = r.AuditLogs().InsertBatch(ctx, []db.AuditLogCreate{newEvent("r1", baseTime), newEvent("r2", baseTime)})
		require.NoError(t, err)
		_, err = r.AuditLogs().Insert(ctx, newEvent("r3", baseTime))
		require.NoError(t, err)
		got, err := r.APIKeys().Get(ctx, k.ID)
		require.NoError(t, err, "a transaction reads its own writes")
		assert.Equal(t, k, got)
	}
	empty := func(t *testing.T, s db.Store) {
		for _, table := range []string{"api_keys", "tool_registrations", "audit_logs"} {
			assert.EqualValues(t, 0, count(t, e, s, table, ""), table)
		}
	}

	t.Run("RollbackOnError", func(t *testing.T) {
		ctx, s := setup(t, e)
		boom := errors.New("boom")
		err := s.InTx(ctx, func(r db.Repositories) error {
			writeAll(t, r)
			return boom
		})
		assert.Same(t, boom, err, "InTx returns fn's error as it is")
		empty(t, s)
	})

	t.Run("RollbackOnPanic", func(t *testing.T) {
		ctx, s := setup(t, e)
		assert.PanicsWithValue(t, "boom", func() {
			_ = s.InTx(ctx, func(r db.Repositories) error {
				writeAll(t, r)
				panic("boom")
			})
		})
		empty(t, s)
	})

	t.Run("RollbackOnStoreError", func(t *testing.T) {
		ctx, s := setup(t, e)
		err := s.InTx(ctx, func(r db.Repositories) error {
			writeAll(t, r)
			_, err := r.APIKeys().Create(ctx, NewKey(1)) // same hash: conflict
			return err
		})
		assert.ErrorIs(t, err, db.ErrConflict)
		empty(t, s)
	})

	t.Run("Commit", func(t *testing.T) {
		ctx, s := setup(t, e)
		require.NoError(t, s.InTx(ctx, func(r db.Repositories) error {
			writeAll(t, r)
			return nil
		}))
		assert.EqualValues(t, 1, count(t, e, s, "api_keys", ""))
		assert.EqualValues(t, 1, count(t, e, s, "tool_registrations", ""))
		assert.EqualValues(t, 3, count(t, e, s, "audit_logs", ""))
	})
}
