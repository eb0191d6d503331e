package dbtest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
)

// sliceError is an error of an uncomparable type: == on two of them
// panics.
type sliceError []string

func (e sliceError) Error() string { return strings.Join(e, "; ") }

// exerciseFaults holds the faults reviews and hostile tests found, each
// shown fixed on this engine.
func exerciseFaults(t *testing.T, e Engine) {
	// InTx compared fn's error with ==, which panics for an uncomparable
	// one.
	t.Run("InTxUncomparableError", func(t *testing.T) {
		ctx, s := setup(t, e)
		want := sliceError{"first", "second"}
		var err error
		require.NotPanics(t, func() {
			err = s.InTx(ctx, func(tx db.Repositories) error {
				if _, err := tx.APIKeys().Create(ctx, NewKey(1)); err != nil {
					return err
				}
				return want
			})
		})
		assert.Equal(t, error(want), err, "fn's error, as it returned it")
		assert.EqualValues(t, 0, count(t, e, s, "api_keys", ""), "rolled back")
	})

	// PostgreSQL cut offsets to 32 bits (1<<32 read the first page again)
	// where SQLite returned nothing: now both take offsets up to
	// db.MaxOffset and refuse deeper ones.
	t.Run("OffsetsBounded", func(t *testing.T) {
		ctx, s := setup(t, e)
		_, err := s.APIKeys().Create(ctx, NewKey(1))
		require.NoError(t, err)
		_, err = s.Tools().Create(ctx, newTool("srv", "t"))
		require.NoError(t, err)
		_, err = s.AuditLogs().Insert(ctx, newEvent("r", baseTime))
		require.NoError(t, err)

		keys, err := s.APIKeys().List(ctx, db.KeyQuery{Offset: db.MaxOffset})
		require.NoError(t, err)
		assert.Empty(t, keys)
		tools, err := s.Tools().List(ctx, db.ToolQuery{Offset: db.MaxOffset})
		require.NoError(t, err)
		assert.Empty(t, tools)
		events, err := s.AuditLogs().List(ctx, db.AuditQuery{Offset: db.MaxOffset})
		require.NoError(t, err)
		assert.Empty(t, events)

		for _, off := range []int{db.MaxOffset + 1, 1 << 32, 1<<32 + 1} {
			_, err = s.APIKeys().List(ctx, db.KeyQuery{Offset: off})
			assert.ErrorIs(t, err, db.ErrInvalid, "offset %d", off)
			_, err = s.AuditLogs().ListNewest(ctx, db.Page{Offset: off})
			assert.ErrorIs(t, err, db.ErrInvalid, "offset %d", off)
		}
	})

	// A time SQLite's INTEGER microseconds cannot hold wrapped silently: a
	// key expiring in year 300000 was stored as year -284555, expired at
	// once, and statistics to a far end counted nothing. Times outside
	// the years 1 to 9999 are refused on both engines; the far end of what
	// they take counts every event.
	t.Run("TimesInRange", func(t *testing.T) {
		ctx, s := setup(t, e)
		k := NewKey(1)
		k.ExpiresAt = time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC)
		_, err := s.APIKeys().Create(ctx, k)
		assert.ErrorIs(t, err, db.ErrInvalid)
		k.ExpiresAt = db.MaxTime
		stored, err := s.APIKeys().Create(ctx, k)
		require.NoError(t, err)
		assert.True(t, db.MaxTime.Equal(stored.ExpiresAt), "the last time both engines store: %v", stored.ExpiresAt)

		for i := range 3 {
			_, err := s.AuditLogs().Insert(ctx, newEvent(fmt.Sprint(i), baseTime.Add(time.Duration(i)*time.Hour)))
			require.NoError(t, err)
		}
		late, err := s.AuditLogs().Insert(ctx, newEvent("late", db.MaxTime))
		require.NoError(t, err)
		assert.True(t, db.MaxTime.Equal(late.CreatedAt))
		for _, to := range []time.Time{db.MaxTime, time.Date(9000, 1, 1, 0, 0, 0, 0, time.UTC)} {
			st, err := s.AuditLogs().Statistics(ctx, baseTime, to)
			require.NoError(t, err)
			assert.EqualValues(t, 3, st.Total, "to %v", to)
		}
		st, err := s.AuditLogs().Statistics(ctx, db.MinTime.Add(time.Microsecond), db.MaxTime.Add(-time.Hour))
		require.NoError(t, err)
		assert.EqualValues(t, 3, st.Total, "the widest window")
		_, err = s.AuditLogs().Statistics(ctx, baseTime, time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC))
		assert.ErrorIs(t, err, db.ErrInvalid)
		all, err := s.AuditLogs().List(ctx, db.AuditQuery{From: baseTime})
		require.NoError(t, err)
		assert.Equal(t, []string{"0", "1", "2", "late"}, reqIDs(all), "an open end runs to the last event")
	})

	// A transaction's repositories kept past InTx fail as a programming
	// error, never as ErrUnavailable (which callers retry).
	t.Run("MisusedTx", func(t *testing.T) {
		ctx, s := setup(t, e)
		var kept db.Repositories
		require.NoError(t, s.InTx(ctx, func(tx db.Repositories) error {
			kept = tx
			return nil
		}))
		_, err := kept.APIKeys().Create(ctx, NewKey(1))
		require.ErrorIs(t, err, db.ErrDatabase)
		assert.NotErrorIs(t, err, db.ErrUnavailable)
		var de *db.Error
		require.ErrorAs(t, err, &de)
		assert.Equal(t, "APIKeys.Create", de.Op)
		assert.Contains(t, de.Msg, "InTx")
		_, err = kept.AuditLogs().List(ctx, db.AuditQuery{})
		assert.ErrorIs(t, err, db.ErrDatabase)
	})

	// A conflict names the rule it broke, with the same name on both
	// engines, and never the value.
	t.Run("ConstraintNames", func(t *testing.T) {
		ctx, s := setup(t, e)
		k, err := s.APIKeys().Create(ctx, NewKey(1))
		require.NoError(t, err)
		dupHash := NewKey(2)
		dupHash.KeyHash = k.KeyHash
		dupID := NewKey(3)
		dupID.ID = k.ID
		_, err = s.Tools().Create(ctx, newTool("srv", "t"))
		require.NoError(t, err)
		ev, err := s.AuditLogs().Insert(ctx, newEvent("r", baseTime))
		require.NoError(t, err)
		again := newEvent("r", baseTime)
		again.EventID = ev.EventID
		for _, c := range []struct {
			constraint string
			run        func() error
		}{
			{"api_keys_key_hash_key", func() error { _, err := s.APIKeys().Create(ctx, dupHash); return err }},
			{"api_keys_pkey", func() error { _, err := s.APIKeys().Create(ctx, dupID); return err }},
			{"tool_registrations_server_id_name_key", func() error { _, err := s.Tools().Create(ctx, newTool("srv", "t")); return err }},
			{"audit_logs_event_id_key", func() error { _, err := s.AuditLogs().Insert(ctx, again); return err }},
		} {
			err := c.run()
			require.ErrorIs(t, err, db.ErrConflict, c.constraint)
			var de *db.Error
			require.ErrorAs(t, err, &de)
			assert.Equal(t, c.constraint, de.Constraint)
			assert.NotContains(t, err.Error(), k.KeyHash)
			assert.NotContains(t, err.Error(), k.ID)
			assert.NotContains(t, err.Error(), ev.EventID.String())
		}
	})

	// The seed's find_by_date_range returned every event of the range; a
	// list returns one page (at most DefaultLimit for a zero Page), and All
	// returns them all, each once, in order, however many pages it takes.
	t.Run("AllOfAWindow", func(t *testing.T) {
		ctx, s := setup(t, e)
		batch := make([]db.AuditLogCreate, 2*db.DefaultLimit+50)
		for i := range batch {
			// Pairs of events share a time, so that pages end inside one.
			batch[i] = newEvent(fmt.Sprint(i), baseTime.Add(time.Duration(i/2)*time.Millisecond))
		}
		_, err := s.AuditLogs().InsertBatch(ctx, batch)
		require.NoError(t, err)
		_, err = s.AuditLogs().Insert(ctx, newEvent("outside", baseTime.Add(time.Hour)))
		require.NoError(t, err)
		page, err := s.AuditLogs().ListByDateRange(ctx, baseTime, baseTime.Add(time.Minute), "", db.Page{})
		require.NoError(t, err)
		assert.Len(t, page, db.DefaultLimit, "one page")

		for _, limit := range []int{0, 7, 1000} {
			got, err := collectErr(s.AuditLogs().All(ctx, db.AuditQuery{From: baseTime, To: baseTime.Add(time.Minute), Limit: limit}))
			require.NoError(t, err)
			require.Len(t, got, len(batch), "limit %d", limit)
			for i, ev := range got {
				require.Equal(t, fmt.Sprint(i), ev.RequestID, "limit %d: event %d", limit, i)
			}
			newest, err := collectErr(s.AuditLogs().All(ctx, db.AuditQuery{From: baseTime, To: baseTime.Add(time.Minute), Newest: true, Limit: limit}))
			require.NoError(t, err)
			require.Len(t, newest, len(batch))
			for i, ev := range newest {
				require.Equal(t, got[len(got)-1-i].ID, ev.ID, "limit %d: newest first, event %d", limit, i)
			}
		}
		// Ranging again starts again; stopping early stops reading.
		seq := s.AuditLogs().All(ctx, db.AuditQuery{From: baseTime, To: baseTime.Add(time.Minute), Limit: 100})
		for range 2 {
			got, err := collectErr(seq)
			require.NoError(t, err)
			assert.Len(t, got, len(batch))
		}
		n := 0
		for _, err := range s.AuditLogs().All(ctx, db.AuditQuery{Limit: 10}) {
			require.NoError(t, err)
			if n++; n == 15 {
				break
			}
		}
		assert.Equal(t, 15, n)
	})

	// The zero CreatedAt of a batch's events is now by this process's
	// clock, one reading for the whole batch (the docs said the
	// database's).
	t.Run("BatchTimeOfZero", func(t *testing.T) {
		ctx, s := setup(t, e)
		before := time.Now().Truncate(time.Microsecond)
		_, err := s.AuditLogs().InsertBatch(ctx, []db.AuditLogCreate{newEvent("a", time.Time{}), newEvent("b", time.Time{})})
		require.NoError(t, err)
		after := time.Now()
		got, err := s.AuditLogs().List(ctx, db.AuditQuery{})
		require.NoError(t, err)
		require.Len(t, got, 2)
		assert.Equal(t, got[0].CreatedAt, got[1].CreatedAt, "one time for the batch")
		assert.False(t, got[0].CreatedAt.Before(before) || got[0].CreatedAt.After(after), "%v not in [%v, %v]", got[0].CreatedAt, before, after)
	})

	// LockServer outside a transaction waits for the transaction holding
	// the lock (the docs said it returned at once), on both engines.
	t.Run("LockServerOutsideTxWaits", func(t *testing.T) {
		ctx, s := setup(t, e)
		held := make(chan struct{})
		release := make(chan struct{})
		done := make(chan error, 1)
		go func() {
			done <- s.InTx(ctx, func(tx db.Repositories) error {
				if err := tx.Tools().LockServer(ctx, "srv"); err != nil {
					return err
				}
				close(held)
				<-release
				return nil
			})
		}()
		<-held
		short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		err := s.Tools().LockServer(short, "srv")
		assert.ErrorIs(t, err, context.DeadlineExceeded, "returned while another transaction held the lock")
		close(release)
		require.NoError(t, <-done)
		assert.NoError(t, s.Tools().LockServer(ctx, "srv"), "free once the transaction ended")
	})
}
