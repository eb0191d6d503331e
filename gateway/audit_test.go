package gateway_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/db/postgres"
	"github.com/mcpstore/mcpstore/db/sqlite"
	"github.com/mcpstore/mcpstore/gateway"
)

// queryInt runs a query returning one integer, below the Store's API.
func queryInt(t testing.TB, s db.Store, q string, args ...any) int64 {
	t.Helper()
	var n int64
	var err error
	switch s := s.(type) {
	case *postgres.Store:
		err = s.Pool().QueryRow(context.Background(), q, args...).Scan(&n)
	case *sqlite.Store:
		err = s.DB().QueryRow(q, args...).Scan(&n)
	default:
		t.Fatalf("unknown engine %T", s)
	}
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// stored returns the number of stored events and of distinct event ids.
func stored(t testing.TB, s db.Store) (rows, distinct int64) {
	t.Helper()
	return queryInt(t, s, "SELECT count(*) FROM audit_logs"), queryInt(t, s, "SELECT count(DISTINCT event_id) FROM audit_logs")
}

// storedOnce checks that n events are stored, each once.
func storedOnce(t testing.TB, s db.Store, n int64, msg ...any) {
	t.Helper()
	rows, distinct := stored(t, s)
	assert.Equal(t, n, rows, msg...)
	assert.Equal(t, n, distinct, msg...)
}

// eventually polls cond until it holds, failing the test after a generous
// deadline.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func closeAuditor(t testing.TB, a *gateway.Auditor) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	require.NoError(t, a.Close(ctx))
}

func auditEvent(i int) db.AuditLogCreate {
	return db.AuditLogCreate{
		RequestID:    fmt.Sprintf("req-%d", i),
		UserID:       "alice",
		Action:       "tool_call",
		ResourceType: "tool",
		ResourceID:   "search",
		RequestData:  json.RawMessage(fmt.Sprintf(`{"arguments":{"q":"x","i":%d}}`, i)),
		Status:       "success",
	}
}

// blockableStore opens a Store whose writes blockWrites can hold up: on
// SQLite with a short busy timeout, so that a held write lock makes writes
// fail with ErrUnavailable rather than wait.
func blockableStore(t *testing.T, engine string) (db.Store, string) {
	t.Helper()
	url := newURL(t, engine)
	if engine == "postgres" {
		return openURL(t, url), url
	}
	s, err := sqlite.Open(context.Background(), url, sqlite.Options{BusyTimeout: 20 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s, url
}

// blockWrites holds the audit table's write lock from another connection
// until release is called: on SQLite a BEGIN IMMEDIATE transaction (writers
// get SQLITE_BUSY), on PostgreSQL LOCK TABLE (writers wait).
func blockWrites(t *testing.T, engine, url string) (release func()) {
	t.Helper()
	ctx := context.Background()
	if engine == "postgres" {
		conn, err := pgx.Connect(ctx, url)
		require.NoError(t, err)
		tx, err := conn.Begin(ctx)
		require.NoError(t, err)
		_, err = tx.Exec(ctx, "LOCK TABLE audit_logs IN ACCESS EXCLUSIVE MODE")
		require.NoError(t, err)
		var once sync.Once
		release = func() {
			once.Do(func() {
				require.NoError(t, tx.Rollback(ctx))
				conn.Close(ctx)
			})
		}
		t.Cleanup(release)
		return release
	}
	path := strings.TrimPrefix(url, "sqlite:")
	h, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	conn, err := h.Conn(ctx)
	require.NoError(t, err)
	_, err = conn.ExecContext(ctx, "BEGIN IMMEDIATE")
	require.NoError(t, err)
	var once sync.Once
	release = func() {
		once.Do(func() {
			_, err := conn.ExecContext(ctx, "ROLLBACK")
			require.NoError(t, err)
			conn.Close()
			h.Close()
		})
	}
	t.Cleanup(release)
	return release
}

// terminateLockWaiters waits until a PostgreSQL backend of url's database
// waits on a lock, then terminates it: the write it was doing fails the way
// a lost connection does.
func terminateLockWaiters(t *testing.T, url string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var killed int
	eventually(t, "a writer waiting on the lock", func() bool {
		err := conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'`).Scan(&killed)
		require.NoError(t, err)
		return killed > 0
	})
}

// recordAllOnce records each events from each of goroutines through a,
// closes it, and checks that every event was stored exactly once.
func recordAllOnce(t *testing.T, s db.Store, a *gateway.Auditor, goroutines, each int) {
	t.Helper()
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				if err := a.Record(t.Context(), auditEvent(g*each+i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	closeAuditor(t, a)
	n := goroutines * each
	storedOnce(t, s, int64(n))
	assert.EqualValues(t, n, queryInt(t, s, "SELECT count(DISTINCT request_id) FROM audit_logs"), "every event, not one event many times")
	assert.Equal(t, gateway.AuditStats{Recorded: uint64(n), Stored: uint64(n)}, a.Stats())
}

// 100,000 events from 8 goroutines are all stored, each exactly once.
func TestAuditorStoresEveryEventOnce(t *testing.T) {
	eachEngine(t, func(t *testing.T, s db.Store) {
		recordAllOnce(t, s, gateway.NewAuditor(s, gateway.AuditorOptions{}), 8, 12_500)
	})
}

// In drop mode, a full buffer drops (and counts) events at once: Record
// never waits, even while the database takes nothing.
func TestAuditorDropModeNeverBlocks(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			s, url := blockableStore(t, engine)
			release := blockWrites(t, engine, url)
			a := gateway.NewAuditor(s, gateway.AuditorOptions{
				BufferSize: 16, BatchSize: 8, DropWhenFull: true, FlushInterval: 10 * time.Millisecond,
				RetryMinDelay: 5 * time.Millisecond, RetryMaxDelay: 20 * time.Millisecond,
			})
			const n = 2000
			full := 0
			done := make(chan struct{})
			go func() {
				defer close(done)
				for i := range n {
					err := a.Record(context.Background(), auditEvent(i))
					if errors.Is(err, gateway.ErrAuditBufferFull) {
						full++
					} else if err != nil {
						t.Error(err)
					}
				}
			}()
			select {
			case <-done: // every call returned while the writes were blocked
			case <-time.After(60 * time.Second):
				t.Fatal("Record blocked in drop mode")
			}
			st := a.Stats()
			assert.Positive(t, st.Dropped)
			assert.EqualValues(t, full, st.Dropped, "every drop is counted")
			assert.EqualValues(t, n, st.Recorded+st.Dropped)
			assert.LessOrEqual(t, st.Recorded, uint64(16+(2+gateway.DefaultAuditWriters)*8), "the buffer and the batches in hand, no more")
			assert.Zero(t, st.Stored)

			release()
			closeAuditor(t, a)
			storedOnce(t, s, int64(st.Recorded), "everything recorded is stored")
			assert.EqualValues(t, st.Recorded, a.Stats().Stored)
		})
	}
}

// In the default wait mode, a full buffer makes Record wait until the
// writer catches up, and nothing is lost.
func TestAuditorWaitModeBlocksAndLosesNothing(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			s, url := blockableStore(t, engine)
			release := blockWrites(t, engine, url)
			a := gateway.NewAuditor(s, gateway.AuditorOptions{
				BufferSize: 16, BatchSize: 8, FlushInterval: 10 * time.Millisecond,
				RetryMinDelay: 5 * time.Millisecond, RetryMaxDelay: 20 * time.Millisecond,
			})
			const n = 500
			done := make(chan struct{})
			go func() {
				defer close(done)
				for i := range n {
					if err := a.Record(context.Background(), auditEvent(i)); err != nil {
						t.Error(err)
					}
				}
			}()
			// The buffer fills: the buffer itself and at most 2+Writers batches
			// (collecting, handed over, one per writer) hold events.
			eventually(t, "the buffer to fill", func() bool { return a.Stats().Recorded >= 16 })
			select {
			case <-done:
				t.Fatal("Record returned every event while the database took none")
			case <-time.After(300 * time.Millisecond):
			}
			st := a.Stats()
			assert.LessOrEqual(t, st.Recorded, uint64(16+(2+gateway.DefaultAuditWriters)*8))
			assert.Zero(t, st.Dropped)

			// A caller that gives up while waiting gets its context's
			// error, and the event is counted as dropped.
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			err := a.Record(ctx, auditEvent(-1))
			cancel()
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.EqualValues(t, 1, a.Stats().Dropped)

			release()
			<-done
			closeAuditor(t, a)
			storedOnce(t, s, int64(n))
			st = a.Stats()
			assert.EqualValues(t, n, st.Recorded)
			assert.EqualValues(t, n, st.Stored)
		})
	}
}

// A real transient failure (SQLite: the write lock held elsewhere, so
// writes fail with SQLITE_BUSY; PostgreSQL: the writer's connection is
// terminated) is retried with the same batch: nothing lost, nothing doubled.
func TestAuditorRetriesTransientFailures(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			s, url := blockableStore(t, engine)
			release := blockWrites(t, engine, url)
			a := gateway.NewAuditor(s, gateway.AuditorOptions{
				BatchSize: 50, FlushInterval: 10 * time.Millisecond,
				RetryMinDelay: 5 * time.Millisecond, RetryMaxDelay: 50 * time.Millisecond,
			})
			const n = 300
			for i := range n {
				require.NoError(t, a.Record(t.Context(), auditEvent(i)))
			}
			if engine == "postgres" {
				terminateLockWaiters(t, url)
			}
			eventually(t, "a retry", func() bool { return a.Stats().Retries >= 1 })
			release()
			closeAuditor(t, a)

			storedOnce(t, s, int64(n))
			st := a.Stats()
			assert.EqualValues(t, n, st.Stored)
			assert.Zero(t, st.Failed)
			assert.Zero(t, st.Duplicates)
			t.Logf("retries: %d", st.Retries)
		})
	}
}

// An event recorded twice with the same event id is stored once.
func TestAuditorStoresAnEventIDOnce(t *testing.T) {
	eachEngine(t, func(t *testing.T, s db.Store) {
		a := gateway.NewAuditor(s, gateway.AuditorOptions{BatchSize: 2})
		ev := auditEvent(1)
		ev.EventID = uuid.Must(uuid.NewV7())
		for range 3 {
			require.NoError(t, a.Record(t.Context(), ev))
		}
		require.NoError(t, a.Record(t.Context(), auditEvent(2)))
		closeAuditor(t, a)
		rows, _ := stored(t, s)
		assert.EqualValues(t, 2, rows)
		st := a.Stats()
		assert.EqualValues(t, 2, st.Stored)
		assert.EqualValues(t, 2, st.Duplicates)
		got, err := a.ListByRequestID(t.Context(), "req-1")
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, ev.EventID, got[0].EventID, "the given id is kept")
	})
}

// Secrets are redacted and large documents truncated in what is stored.
func TestAuditorRedactsAndTruncates(t *testing.T) {
	eachEngine(t, func(t *testing.T, s db.Store) {
		a := gateway.NewAuditor(s, gateway.AuditorOptions{MaxDataBytes: 512})
		ev := auditEvent(1)
		ev.RequestData = json.RawMessage(`{"arguments":{"Password":"hunter2","files":[{"name":"a","api-key":"sk-live-123"}]},` +
			`"headers":{"Authorization":"Bearer abc.def","Accept":"*/*"}}`)
		ev.ResponseData = json.RawMessage(`{"content":"` + strings.Repeat("lorem ipsum ", 200) + `","token":"tok-999"}`)
		require.NoError(t, a.Record(t.Context(), ev))
		closeAuditor(t, a)

		got, err := a.ListByRequestID(t.Context(), "req-1")
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.JSONEq(t, `{"arguments":{"Password":"[REDACTED]","files":[{"name":"a","api-key":"[REDACTED]"}]},`+
			`"headers":{"Authorization":"[REDACTED]","Accept":"*/*"}}`, string(got[0].RequestData))
		for _, secret := range []string{"hunter2", "sk-live-123", "abc.def", "tok-999"} {
			assert.NotContains(t, string(got[0].RequestData)+string(got[0].ResponseData), secret)
		}
		var resp map[string]any
		require.NoError(t, json.Unmarshal(got[0].ResponseData, &resp), "a JSON object")
		assert.Equal(t, true, resp["_truncated"])
		assert.EqualValues(t, len(`{"token":"[REDACTED]","content":"`+strings.Repeat("lorem ipsum ", 200)+`"}`), resp["_size"])
		assert.True(t, strings.HasPrefix(resp["_preview"].(string), `{"token":"[REDACTED]","content":"lorem ipsum`),
			"the preview starts the redacted document: %q", resp["_preview"])
		assert.LessOrEqual(t, len(got[0].ResponseData), 512)
	})
}

// Close gives up when its context ends while the database takes nothing,
// counts what it abandons, and the Auditor refuses events after.
func TestAuditorCloseGivesUp(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			s, url := blockableStore(t, engine)
			release := blockWrites(t, engine, url)
			defer release()
			a := gateway.NewAuditor(s, gateway.AuditorOptions{
				BatchSize: 8, FlushInterval: 10 * time.Millisecond,
				RetryMinDelay: 5 * time.Millisecond, RetryMaxDelay: 20 * time.Millisecond,
			})
			for i := range 20 {
				require.NoError(t, a.Record(t.Context(), auditEvent(i)))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			err := a.Close(ctx)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			st := a.Stats()
			assert.EqualValues(t, 20, st.Failed, "every abandoned event is counted")
			assert.Zero(t, st.Stored)

			assert.ErrorIs(t, a.Record(t.Context(), auditEvent(99)), gateway.ErrAuditorClosed)
			assert.EqualValues(t, 1, a.Stats().Dropped)
			assert.NoError(t, a.Close(context.Background()), "a second Close waits for the same end")
		})
	}
}

// Events wait no longer than FlushInterval when few arrive.
func TestAuditorFlushesByInterval(t *testing.T) {
	eachEngine(t, func(t *testing.T, s db.Store) {
		a := gateway.NewAuditor(s, gateway.AuditorOptions{FlushInterval: 20 * time.Millisecond})
		defer closeAuditor(t, a)
		require.NoError(t, a.Record(t.Context(), auditEvent(1)))
		eventually(t, "the event to be stored before Close", func() bool { return a.Stats().Stored == 1 })
	})
}

func TestAuditorQueries(t *testing.T) {
	eachEngine(t, func(t *testing.T, s db.Store) {
		base := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		a := gateway.NewAuditor(s, gateway.AuditorOptions{})
		for i := range 100 {
			ev := auditEvent(i)
			ev.CreatedAt = base.Add(time.Duration(i) * time.Minute)
			d := float64(i + 1) // 1..100 ms
			ev.DurationMS = &d
			if i%4 == 0 {
				ev.Action, ev.Status, ev.UserID = "tools_list", "error", "bob"
			}
			require.NoError(t, a.Record(t.Context(), ev))
		}
		closeAuditor(t, a)
		ctx := t.Context()

		got, err := a.ListByRequestID(ctx, "req-7")
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.True(t, base.Add(7*time.Minute).Equal(got[0].CreatedAt))

		bob, err := a.ListByUser(ctx, "bob", db.Page{Limit: 2})
		require.NoError(t, err)
		assert.Equal(t, []string{"req-96", "req-92"}, []string{bob[0].RequestID, bob[1].RequestID}, "newest first")

		lists, err := a.ListByTimeRange(ctx, base, base.Add(10*time.Minute), "tools_list", db.Page{})
		require.NoError(t, err)
		assert.Len(t, lists, 3) // 0, 4, 8

		st, err := a.Statistics(ctx, base, base.Add(100*time.Minute))
		require.NoError(t, err)
		assert.EqualValues(t, 100, st.Total)
		assert.Equal(t, map[string]int64{"success": 75, "error": 25}, st.ByStatus)
		assert.Equal(t, map[string]int64{"tool_call": 75, "tools_list": 25}, st.ByAction)
		// 1..100: rank p*99, so p50 = 50.5, p95 = 95.05, p99 = 99.01.
		require.NotNil(t, st.DurationP50MS)
		assert.InDelta(t, 50.5, *st.DurationP50MS, 1e-9)
		assert.InDelta(t, 95.05, *st.DurationP95MS, 1e-9)
		assert.InDelta(t, 99.01, *st.DurationP99MS, 1e-9)
	})
}

// Prune deletes exactly the events older than the cut, in batches.
func TestAuditorPrune(t *testing.T) {
	eachEngine(t, func(t *testing.T, s db.Store) {
		base := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		a := gateway.NewAuditor(s, gateway.AuditorOptions{PruneBatchSize: 100})
		for i := range 1000 {
			ev := auditEvent(i)
			ev.CreatedAt = base.Add(time.Duration(i) * time.Second)
			require.NoError(t, a.Record(t.Context(), ev))
		}
		closeAuditor(t, a)
		cut := base.Add(640 * time.Second)
		n, err := a.Prune(t.Context(), cut)
		require.NoError(t, err)
		assert.EqualValues(t, 640, n)
		rows, _ := stored(t, s)
		assert.EqualValues(t, 360, rows)
		old, err := a.ListByTimeRange(t.Context(), base.Add(-time.Hour), cut, "", db.Page{})
		require.NoError(t, err)
		assert.Empty(t, old, "nothing older than the cut is left")
		kept, err := a.ListByTimeRange(t.Context(), cut, base.Add(time.Hour), "", db.Page{Limit: 1000})
		require.NoError(t, err)
		assert.Len(t, kept, 360, "everything from the cut on is kept")
	})
}
