package dbtest

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
)

// statEvent is what Statistics counts of one stored event.
type statEvent struct {
	at             time.Time
	status, action string
	dur            *float64
}

// exerciseStatistics holds Statistics to a count made here, over windows
// that start and end inside hours, on hour boundaries and on events, after
// every kind of write: an engine may keep summaries (PostgreSQL keeps
// hourly counts), and none of them may drift from the events.
func exerciseStatistics(t *testing.T, e Engine) {
	base := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

	t.Run("AfterEveryWrite", func(t *testing.T) {
		ctx, s := setup(t, e)
		model := map[int64]statEvent{}
		statuses := []string{"success", "success", "error", "denied"}
		actions := []string{"tool_call", "tools_list", "resource_read"}

		batch := make([]db.AuditLogCreate, 300)
		for i := range batch {
			// 300 events over six hours, 73 s apart, a few microseconds off
			// the second so that no two share a time.
			ev := newEvent(fmt.Sprint("b", i), base.Add(time.Duration(i)*73*time.Second+time.Duration(i)*time.Microsecond))
			ev.Status, ev.Action = statuses[i%4], actions[i%3]
			if i%7 != 0 {
				ev.DurationMS = ms(float64(i%17) + 0.25)
			}
			batch[i] = ev
		}
		_, err := s.AuditLogs().InsertBatch(ctx, batch)
		require.NoError(t, err)
		// Single events on and next to hour boundaries.
		for i, at := range []time.Time{
			base.Add(2 * time.Hour), base.Add(2*time.Hour - time.Microsecond), base.Add(3 * time.Hour),
			base.Add(5*time.Hour + 59*time.Minute), base.Add(-time.Microsecond),
		} {
			ev := newEvent(fmt.Sprint("s", i), at)
			ev.Status, ev.DurationMS = "denied", ms(100+float64(i))
			_, err := s.AuditLogs().Insert(ctx, ev)
			require.NoError(t, err)
		}
		all, err := s.AuditLogs().ListByDateRange(ctx, base.Add(-time.Hour), base.Add(10*time.Hour), "", db.Page{Limit: 1000})
		require.NoError(t, err)
		require.Len(t, all, 305)
		for _, ev := range all {
			model[ev.ID] = statEvent{at: ev.CreatedAt, status: ev.Status, action: ev.Action, dur: ev.DurationMS}
		}

		check := func(stage string) {
			t.Helper()
			for _, w := range [][2]time.Time{
				{base, base.Add(6 * time.Hour)},
				{base.Add(-time.Hour), base.Add(10 * time.Hour)},
				{base.Add(17 * time.Minute), base.Add(3*time.Hour + 5*time.Minute)},
				{base.Add(time.Hour), base.Add(2 * time.Hour)},
				{base.Add(2 * time.Hour), base.Add(2 * time.Hour)},
				{base.Add(2*time.Hour - time.Microsecond), base.Add(2*time.Hour + time.Microsecond)},
				{base.Add(2*time.Hour + 30*time.Minute), base.Add(3*time.Hour + 30*time.Minute)},
				{base.Add(3*time.Hour + 10*time.Minute), base.Add(3*time.Hour + 50*time.Minute)},
				{base.Add(-time.Microsecond), base.Add(4 * time.Hour)},
			} {
				got, err := s.AuditLogs().Statistics(ctx, w[0], w[1])
				require.NoError(t, err)
				want := modelStatistics(model, w[0], w[1])
				name := fmt.Sprintf("%s: [%s, %s)", stage, w[0].Format(time.TimeOnly+".000000"), w[1].Format(time.TimeOnly+".000000"))
				assert.Equal(t, want.Total, got.Total, name)
				assert.Equal(t, want.ByStatus, got.ByStatus, name)
				assert.Equal(t, want.ByAction, got.ByAction, name)
				for _, p := range []struct {
					name      string
					got, want *float64
				}{{"p50", got.DurationP50MS, want.DurationP50MS}, {"p95", got.DurationP95MS, want.DurationP95MS}, {"p99", got.DurationP99MS, want.DurationP99MS}} {
					if p.want == nil {
						assert.Nil(t, p.got, name+" "+p.name)
					} else if assert.NotNil(t, p.got, name+" "+p.name) {
						assert.InDelta(t, *p.want, *p.got, 1e-9, name+" "+p.name)
					}
				}
			}
		}
		check("inserted")

		// Complete moves events to another status, some into one no event
		// had in their hour.
		ids := slices.Sorted(func(yield func(int64) bool) {
			for id := range model {
				if !yield(id) {
					return
				}
			}
		})
		for i, id := range ids[10:40] {
			status := []string{"error", "timeout"}[i%2]
			done, err := s.AuditLogs().Complete(ctx, id, db.AuditLogComplete{Status: status, DurationMS: ms(float64(i))})
			require.NoError(t, err)
			model[id] = statEvent{at: done.CreatedAt, status: done.Status, action: done.Action, dur: done.DurationMS}
		}
		check("completed")

		for _, id := range ids[50:60] {
			require.NoError(t, s.AuditLogs().Delete(ctx, id))
			delete(model, id)
		}
		check("deleted")

		// Prune empties the first hour and half of the second.
		cut := base.Add(90 * time.Minute)
		_, err = s.AuditLogs().Prune(ctx, cut, 25)
		require.NoError(t, err)
		for id, ev := range model {
			if ev.at.Before(cut) {
				delete(model, id)
			}
		}
		check("pruned")

		// A write rolled back leaves no trace in the counts.
		boom := fmt.Errorf("roll back")
		err = s.InTx(ctx, func(tx db.Repositories) error {
			if _, err := tx.AuditLogs().InsertBatch(ctx, batch[200:210:210]); err != nil {
				return err
			}
			if err := tx.AuditLogs().Delete(ctx, ids[100]); err != nil {
				return err
			}
			return boom
		})
		require.ErrorIs(t, err, boom)
		check("rolled back")
	})
}

// modelStatistics is what Statistics must return for the events of model
// in [from, to), percentiles interpolated as PostgreSQL's percentile_cont.
func modelStatistics(model map[int64]statEvent, from, to time.Time) db.AuditStatistics {
	st := db.NewAuditStatistics()
	var durs []float64
	for _, ev := range model {
		if ev.at.Before(from) || !ev.at.Before(to) {
			continue
		}
		st.Add(ev.status, ev.action, 1)
		if ev.dur != nil {
			durs = append(durs, *ev.dur)
		}
	}
	if len(durs) > 0 {
		slices.Sort(durs)
		pc := func(p float64) float64 {
			rank := p * float64(len(durs)-1)
			lo := math.Floor(rank)
			if lo == rank {
				return durs[int(lo)]
			}
			return durs[int(lo)] + (rank-lo)*(durs[int(lo)+1]-durs[int(lo)])
		}
		st.SetPercentiles(int64(len(durs)), pc(0.5), pc(0.95), pc(0.99))
	}
	return st
}
