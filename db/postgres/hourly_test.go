package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/db/postgres"
	"github.com/mcpstore/mcpstore/internal/testdb"
)

// hourlyDrift returns the rows where audit_log_hourly (migration 00004)
// differs from a count of the events themselves, and its rows left at 0.
func hourlyDrift(t *testing.T, s *postgres.Store) []string {
	t.Helper()
	rows, err := s.Pool().Query(t.Context(), `
		WITH want AS (
			SELECT date_trunc('hour', created_at, 'UTC') AS hour, status, action, count(*) AS n
			FROM audit_logs GROUP BY 1, 2, 3
		)
		SELECT format('%s %s %s: kept %s, counted %s', COALESCE(h.hour, w.hour), COALESCE(h.status, w.status),
		              COALESCE(h.action, w.action), COALESCE(h.n, 0), COALESCE(w.n, 0))
		FROM audit_log_hourly AS h FULL JOIN want AS w USING (hour, status, action)
		WHERE h.n IS DISTINCT FROM w.n
		ORDER BY 1`)
	require.NoError(t, err)
	defer rows.Close()
	var drift []string
	for rows.Next() {
		var d string
		require.NoError(t, rows.Scan(&d))
		drift = append(drift, d)
	}
	require.NoError(t, rows.Err())
	return drift
}

func hourlyEvents(prefix string, n int, from time.Time, step time.Duration) []db.AuditLogCreate {
	evs := make([]db.AuditLogCreate, n)
	for i := range evs {
		evs[i] = db.AuditLogCreate{
			RequestID: fmt.Sprint(prefix, i), ResourceType: "tool",
			Action:    []string{"tool_call", "tools_list"}[i%2],
			Status:    []string{"success", "error", "denied"}[i%3],
			CreatedAt: from.Add(time.Duration(i) * step),
		}
	}
	return evs
}

// The hourly counts follow the log through concurrent writers of every
// kind, plain SQL and TRUNCATE, and a migration applied to a log that
// holds events already counts them.
func TestAuditHourlyFollowsTheLog(t *testing.T) {
	ctx := t.Context()
	s := open(t, testdb.PostgresURL(t)).(*postgres.Store)
	base := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

	// 8 writers at once, into the same few hours: batches (COPY), single
	// events, completions and deletes of their own events.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			errs <- func() error {
				evs := hourlyEvents(fmt.Sprint("w", w, "-"), 200, base.Add(time.Duration(w)*time.Minute), 97*time.Second)
				if _, err := s.AuditLogs().InsertBatch(ctx, evs[:150]); err != nil {
					return err
				}
				for _, ev := range evs[150:] {
					stored, err := s.AuditLogs().Insert(ctx, ev)
					if err != nil {
						return err
					}
					switch stored.ID % 3 {
					case 0:
						_, err = s.AuditLogs().Complete(ctx, stored.ID, db.AuditLogComplete{Status: "timeout"})
					case 1:
						err = s.AuditLogs().Delete(ctx, stored.ID)
					}
					if err != nil {
						return err
					}
				}
				return nil
			}()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.Empty(t, hourlyDrift(t, s), "after concurrent writers")

	// A retried batch: COPY meets stored events, and the batch goes again
	// one event per statement, skipping them.
	retry := hourlyEvents("retry", 120, base.Add(-30*time.Minute), 61*time.Second)
	for i := range retry {
		retry[i].EventID = uuid.New()
	}
	_, err := s.AuditLogs().InsertBatch(ctx, retry[:50])
	require.NoError(t, err)
	n, err := s.AuditLogs().InsertBatch(ctx, retry)
	require.NoError(t, err)
	require.EqualValues(t, 70, n, "the stored events skipped")
	assert.Empty(t, hourlyDrift(t, s), "after a retried batch")

	// An operator's own SQL: moving events across hours, relabelling them,
	// deleting some, pruning.
	for _, q := range []string{
		`UPDATE audit_logs SET created_at = created_at + interval '90 minutes' WHERE id % 5 = 0`,
		`UPDATE audit_logs SET status = 'success', action = 'resource_read' WHERE id % 7 = 0`,
		`UPDATE audit_logs SET error_message = 'noted' WHERE id % 2 = 0`,
		`DELETE FROM audit_logs WHERE id % 11 = 0`,
	} {
		_, err = s.Pool().Exec(ctx, q)
		require.NoError(t, err, q)
		assert.Empty(t, hourlyDrift(t, s), q)
	}
	_, err = s.AuditLogs().Prune(ctx, base.Add(3*time.Hour), 100)
	require.NoError(t, err)
	assert.Empty(t, hourlyDrift(t, s), "after Prune")
	var before int64
	require.NoError(t, s.Pool().QueryRow(ctx, `SELECT count(*) FROM audit_log_hourly WHERE hour < $1`, base.Add(3*time.Hour)).Scan(&before))
	assert.Zero(t, before, "hours pruned empty leave no rows")

	// Events stored before the migration are counted by it. They are
	// written in plain SQL: the repositories write the columns of the
	// newest schema, which version 3 lacks.
	migrateDownTo(ctx, t, s, 3)
	_, err = s.Pool().Exec(ctx, `INSERT INTO audit_logs (event_id, request_id, resource_type, action, status, created_at)
		SELECT gen_random_uuid(), 'late' || i, 'tool', (ARRAY['tool_call', 'tools_list'])[i % 2 + 1],
		       (ARRAY['success', 'error', 'denied'])[i % 3 + 1], $1::timestamptz + i * interval '30 seconds'
		FROM generate_series(0, 99) AS i`, base.Add(time.Hour))
	require.NoError(t, err)
	require.NoError(t, s.MigrateUp(ctx))
	assert.Empty(t, hourlyDrift(t, s), "after the migration, on a log with events")

	_, err = s.Pool().Exec(ctx, `TRUNCATE audit_logs`)
	require.NoError(t, err)
	var left int64
	require.NoError(t, s.Pool().QueryRow(ctx, `SELECT count(*) FROM audit_log_hourly`).Scan(&left))
	assert.Zero(t, left, "TRUNCATE empties the counts too")
}

// Statistics reads a window's whole hours from audit_log_hourly and its
// partial hours from the events: a count changed behind its back shows in
// the windows that hold its hour whole, and only in those.
func TestStatisticsReadHourlyCounts(t *testing.T) {
	ctx := t.Context()
	s := open(t, testdb.PostgresURL(t)).(*postgres.Store)
	base := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	_, err := s.AuditLogs().InsertBatch(ctx, hourlyEvents("e", 300, base, 60*time.Second)) // 10:00 to 14:59
	require.NoError(t, err)
	_, err = s.Pool().Exec(ctx, `UPDATE audit_log_hourly SET n = n + 1000 WHERE hour = $1 AND status = 'success' AND action = 'tool_call'`, base.Add(2*time.Hour))
	require.NoError(t, err)
	for _, w := range []struct {
		from, to time.Time
		whole    bool // the window holds 12:00-13:00 whole
	}{
		{base, base.Add(5 * time.Hour), true},
		{base.Add(90 * time.Minute), base.Add(3*time.Hour + time.Minute), true},
		{base.Add(2 * time.Hour), base.Add(3 * time.Hour), true},
		{base.Add(2*time.Hour + time.Minute), base.Add(4 * time.Hour), false},
		{base.Add(time.Hour), base.Add(3*time.Hour - time.Microsecond), false},
		{base.Add(2*time.Hour + 10*time.Minute), base.Add(2*time.Hour + 50*time.Minute), false},
	} {
		st, err := s.AuditLogs().Statistics(ctx, w.from, w.to)
		require.NoError(t, err)
		events := int64(w.to.Sub(w.from).Minutes())
		if w.to.Sub(w.from)%time.Minute != 0 {
			events++ // an event on each whole minute from the start
		}
		want := events
		if w.whole {
			want += 1000
		}
		assert.Equal(t, want, st.Total, "[%s, %s)", w.from.Format(time.TimeOnly), w.to.Format(time.TimeOnly+".000000"))
	}
}

// migrateDownTo rolls s back until version is the newest migration applied.
func migrateDownTo(ctx context.Context, t *testing.T, s db.Store, version int64) {
	t.Helper()
	for {
		st, err := s.MigrationStatus(ctx)
		require.NoError(t, err)
		var top int64
		for _, m := range st {
			if m.Applied {
				top = max(top, m.Version)
			}
		}
		if top <= version {
			require.Equal(t, version, top, "migrations stop below %d", version)
			return
		}
		require.NoError(t, s.MigrateDown(ctx))
	}
}
