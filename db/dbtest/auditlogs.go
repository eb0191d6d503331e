package dbtest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
)

func newEvent(req string, at time.Time) db.AuditLogCreate {
	return db.AuditLogCreate{
		RequestID: req, Action: "tool_call", ResourceType: "tool", Status: "success", CreatedAt: at,
	}
}

func ms(v float64) *float64 { return &v }

func exerciseAuditLogs(t *testing.T, e Engine) {
	base := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

	t.Run("LogGet", func(t *testing.T) {
		ctx, s := setup(t, e)
		in := db.AuditLogCreate{
			EventID: uuid.New(), RequestID: "req-1", ClientRequestID: "client-7", TraceID: "4bf92f3577b34da6a3ce929d0e0e4736",
			UserID: "alice", APIKeyID: "key-1", ClientIP: "192.0.2.7",
			Action: "tool_call", ResourceType: "tool", ResourceID: "search",
			RequestData:  json.RawMessage(`{"arguments":{"q":"x"}}`),
			ResponseData: json.RawMessage(`{"result":{"ok":true}}`),
			Status:       "error", ErrorMessage: "boom", DurationMS: ms(12.5), CreatedAt: base,
		}
		got, err := s.AuditLogs().Insert(ctx, in)
		require.NoError(t, err)
		assert.NotZero(t, got.ID)
		want := db.AuditLog{
			ID: got.ID, EventID: in.EventID, RequestID: "req-1", ClientRequestID: "client-7", TraceID: in.TraceID, UserID: "alice",
			APIKeyID: "key-1", ClientIP: "192.0.2.7", Action: "tool_call", ResourceType: "tool",
			ResourceID: "search", RequestData: in.RequestData, ResponseData: in.ResponseData,
			Status: "error", ErrorMessage: "boom", DurationMS: ms(12.5), CreatedAt: base,
		}
		assert.Equal(t, want, got)
		again, err := s.AuditLogs().Get(ctx, got.ID)
		require.NoError(t, err)
		assert.Equal(t, want, again)

		_, err = s.AuditLogs().Insert(ctx, in)
		assert.ErrorIs(t, err, db.ErrConflict, "an event id is stored once")
		_, err = s.AuditLogs().Get(ctx, got.ID+1000)
		assert.ErrorIs(t, err, db.ErrNotFound)
	})

	t.Run("LogDefaults", func(t *testing.T) {
		ctx, s := setup(t, e)
		got, err := s.AuditLogs().Insert(ctx, db.AuditLogCreate{RequestID: "r", Action: "a", ResourceType: "t", Status: "s"})
		require.NoError(t, err)
		assert.NotEqual(t, uuid.UUID{}, got.EventID, "an event id is generated")
		assert.WithinDuration(t, time.Now(), got.CreatedAt, time.Minute, "created_at from the database clock")
		assert.Nil(t, got.DurationMS)
		assert.EqualValues(t, 1, count(t, e, s, "audit_logs",
			"client_request_id IS NULL AND trace_id IS NULL AND user_id IS NULL AND api_key_id IS NULL AND client_ip IS NULL AND resource_id IS NULL"+
				" AND request_data IS NULL AND response_data IS NULL AND error_message IS NULL AND duration_ms IS NULL"))
	})

	t.Run("InsertBatch", func(t *testing.T) {
		ctx, s := setup(t, e)
		batch := make([]db.AuditLogCreate, 500)
		for i := range batch {
			batch[i] = newEvent(fmt.Sprintf("req-%d", i), base.Add(time.Duration(i)*time.Second))
			batch[i].EventID = uuid.Must(uuid.NewV7())
			batch[i].RequestData = json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))
		}
		n, err := s.AuditLogs().InsertBatch(ctx, batch)
		require.NoError(t, err)
		assert.EqualValues(t, 500, n)
		assert.EqualValues(t, 500, count(t, e, s, "audit_logs", ""))
		got, err := s.AuditLogs().ListByRequestID(ctx, "req-42")
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, batch[42].EventID, got[0].EventID)
		assert.Equal(t, `{"i":42}`, string(got[0].RequestData))
		assert.True(t, base.Add(42*time.Second).Equal(got[0].CreatedAt))

		n, err = s.AuditLogs().InsertBatch(ctx, nil)
		require.NoError(t, err)
		assert.Zero(t, n)
	})

	// A batch retried after an ambiguous failure (it may or may not have
	// been stored) must not store its events twice.
	t.Run("InsertBatchRetryStoresOnce", func(t *testing.T) {
		ctx, s := setup(t, e)
		batch := make([]db.AuditLogCreate, 100)
		for i := range batch {
			batch[i] = newEvent(fmt.Sprintf("req-%d", i), base)
			batch[i].EventID = uuid.Must(uuid.NewV7())
		}
		n, err := s.AuditLogs().InsertBatch(ctx, batch[:60])
		require.NoError(t, err)
		assert.EqualValues(t, 60, n)
		n, err = s.AuditLogs().InsertBatch(ctx, batch) // 60 stored, 40 new
		require.NoError(t, err)
		assert.EqualValues(t, 40, n)
		n, err = s.AuditLogs().InsertBatch(ctx, batch)
		require.NoError(t, err)
		assert.EqualValues(t, 0, n)
		assert.EqualValues(t, 100, count(t, e, s, "audit_logs", ""))
	})

	t.Run("InsertBatchAllOrNothing", func(t *testing.T) {
		ctx, s := setup(t, e)
		batch := []db.AuditLogCreate{newEvent("ok-1", base), newEvent("", base), newEvent("ok-2", base)}
		_, err := s.AuditLogs().InsertBatch(ctx, batch)
		assert.ErrorIs(t, err, db.ErrInvalid)
		var dbErr *db.Error
		require.ErrorAs(t, err, &dbErr)
		assert.Equal(t, "request_id", dbErr.Field)
		assert.EqualValues(t, 0, count(t, e, s, "audit_logs", ""))
	})

	// Events checked once (as the Auditor does) and changed afterwards are
	// checked again: a checked event's mark covers only the documents it
	// checked, never a document or a field put there later.
	t.Run("InsertBatchCheckedThenChanged", func(t *testing.T) {
		ctx, s := setup(t, e)
		checked := func(req string) db.AuditLogCreate {
			ev := newEvent(req, base)
			ev.RequestData = json.RawMessage(`{"b":1,"a":2}`)
			ev, err := ev.Checked()
			require.NoError(t, err)
			return ev
		}
		badJSON := checked("bad-json")
		badJSON.RequestData = json.RawMessage(`{"a":`)
		emptyReq := checked("x")
		emptyReq.RequestID = ""
		notObject := checked("not-object")
		notObject.ResponseData = json.RawMessage(`[1]`)
		for _, c := range []struct {
			ev    db.AuditLogCreate
			field string
		}{{badJSON, "request_data"}, {emptyReq, "request_id"}, {notObject, "response_data"}} {
			_, err := s.AuditLogs().InsertBatch(ctx, []db.AuditLogCreate{checked("ok"), c.ev})
			var dbErr *db.Error
			require.ErrorAs(t, err, &dbErr)
			assert.ErrorIs(t, err, db.ErrInvalid)
			assert.Equal(t, c.field, dbErr.Field)
		}
		assert.EqualValues(t, 0, count(t, e, s, "audit_logs", ""))

		unsorted := checked("unsorted")
		unsorted.RequestData = json.RawMessage(`{"d":1,"c":2}`)
		n, err := s.AuditLogs().InsertBatch(ctx, []db.AuditLogCreate{checked("ok"), unsorted})
		require.NoError(t, err)
		assert.EqualValues(t, 2, n)
		got, err := s.AuditLogs().ListByRequestID(ctx, "unsorted")
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, `{"c":2,"d":1}`, string(got[0].RequestData), "a document put in after Checked is canonicalized")
	})

	// InsertBatch stores every field as Insert does, NULLs included.
	t.Run("InsertBatchSameAsInsert", func(t *testing.T) {
		ctx, s := setup(t, e)
		full := db.AuditLogCreate{
			RequestID: "full", ClientRequestID: "client-full", TraceID: "trace-1", UserID: "alice", APIKeyID: "key-1", ClientIP: "192.0.2.1",
			Action: "tool_call", ResourceType: "tool", ResourceID: "search",
			RequestData: json.RawMessage(`{"q":"x","a":[1.50,true,null]}`), ResponseData: json.RawMessage(`{"ok":"\tyes"}`),
			Status: "error", ErrorMessage: "boom", DurationMS: ms(12.25), CreatedAt: base.Add(time.Nanosecond * 1500),
		}
		bare := newEvent("bare", base)
		for _, ev := range []db.AuditLogCreate{full, bare} {
			one, err := s.AuditLogs().Insert(ctx, ev)
			require.NoError(t, err)
			ev.EventID = uuid.Must(uuid.NewV7())
			n, err := s.AuditLogs().InsertBatch(ctx, []db.AuditLogCreate{ev})
			require.NoError(t, err)
			require.EqualValues(t, 1, n)
			got, err := s.AuditLogs().ListByRequestID(ctx, ev.RequestID)
			require.NoError(t, err)
			require.Len(t, got, 2)
			batched := got[0]
			if batched.ID == one.ID {
				batched = got[1]
			}
			assert.Equal(t, ev.EventID, batched.EventID)
			batched.ID, batched.EventID = one.ID, one.EventID
			assert.Equal(t, one, batched, ev.RequestID)
		}
		assert.EqualValues(t, 2, count(t, e, s, "audit_logs",
			"request_id = 'bare' AND client_request_id IS NULL AND trace_id IS NULL AND user_id IS NULL AND api_key_id IS NULL AND client_ip IS NULL"+
				" AND resource_id IS NULL AND request_data IS NULL AND response_data IS NULL AND error_message IS NULL AND duration_ms IS NULL"))
	})

	t.Run("FindByRequestID", func(t *testing.T) {
		ctx, s := setup(t, e)
		for i, req := range []string{"r1", "r2", "r1", "r1"} {
			ev := newEvent(req, base.Add(time.Duration(3-i)*time.Minute)) // inserted newest first
			ev.Action = fmt.Sprintf("step-%d", i)
			_, err := s.AuditLogs().Insert(ctx, ev)
			require.NoError(t, err)
		}
		got, err := s.AuditLogs().ListByRequestID(ctx, "r1")
		require.NoError(t, err)
		require.Len(t, got, 3)
		assert.Equal(t, []string{"step-3", "step-2", "step-0"}, []string{got[0].Action, got[1].Action, got[2].Action}, "oldest first")
	})

	// A client's own request id is kept beside the server's and found by
	// ListByClientRequestID alone: ListByRequestID never matches it, so a
	// client naming another request's id cannot join that request.
	t.Run("FindByClientRequestID", func(t *testing.T) {
		ctx, s := setup(t, e)
		for i, ev := range []struct{ server, client string }{
			{"srv-1", "mine"}, {"srv-2", "srv-1"}, {"srv-3", "mine"}, {"srv-4", ""},
		} {
			in := newEvent(ev.server, base.Add(time.Duration(3-i)*time.Minute)) // inserted newest first
			in.ClientRequestID = ev.client
			if i%2 == 0 {
				_, err := s.AuditLogs().Insert(ctx, in)
				require.NoError(t, err)
			} else {
				_, err := s.AuditLogs().InsertBatch(ctx, []db.AuditLogCreate{in})
				require.NoError(t, err)
			}
		}
		got, err := s.AuditLogs().ListByClientRequestID(ctx, "mine")
		require.NoError(t, err)
		assert.Equal(t, []string{"srv-3", "srv-1"}, reqIDs(got), "oldest first")
		assert.Equal(t, "mine", got[0].ClientRequestID)

		got, err = s.AuditLogs().ListByRequestID(ctx, "srv-1")
		require.NoError(t, err)
		assert.Equal(t, []string{"srv-1"}, reqIDs(got), "the server's id only: the client's \"srv-1\" is not a match")
		got, err = s.AuditLogs().ListByClientRequestID(ctx, "srv-1")
		require.NoError(t, err)
		assert.Equal(t, []string{"srv-2"}, reqIDs(got))
		got, err = s.AuditLogs().ListByClientRequestID(ctx, "none")
		require.NoError(t, err)
		assert.Empty(t, got)
		assert.EqualValues(t, 1, count(t, e, s, "audit_logs", "request_id = 'srv-4' AND client_request_id IS NULL"), "none sent: NULL")
	})

	t.Run("FindByUserNewestFirstPaged", func(t *testing.T) {
		ctx, s := setup(t, e)
		for i := range 6 {
			ev := newEvent(fmt.Sprintf("r%d", i), base.Add(time.Duration(i)*time.Minute))
			ev.UserID = "alice"
			if i%3 == 0 {
				ev.UserID = "bob"
			}
			_, err := s.AuditLogs().Insert(ctx, ev)
			require.NoError(t, err)
		}
		all, err := s.AuditLogs().ListByUser(ctx, "alice", db.Page{})
		require.NoError(t, err)
		require.Len(t, all, 4)
		assert.Equal(t, []string{"r5", "r4", "r2", "r1"}, reqIDs(all))
		page, err := s.AuditLogs().ListByUser(ctx, "alice", db.Page{Limit: 2, Offset: 1})
		require.NoError(t, err)
		assert.Equal(t, []string{"r4", "r2"}, reqIDs(page))
	})

	t.Run("FindByDateRange", func(t *testing.T) {
		ctx, s := setup(t, e)
		for i := range 10 {
			ev := newEvent(fmt.Sprintf("r%d", i), base.Add(time.Duration(i)*time.Hour))
			if i%2 == 1 {
				ev.Action = "tools_list"
			}
			_, err := s.AuditLogs().Insert(ctx, ev)
			require.NoError(t, err)
		}
		from, to := base.Add(2*time.Hour), base.Add(6*time.Hour)
		got, err := s.AuditLogs().ListByDateRange(ctx, from, to, "", db.Page{})
		require.NoError(t, err)
		assert.Equal(t, []string{"r2", "r3", "r4", "r5"}, reqIDs(got), "[from, to): from included, to excluded")
		got, err = s.AuditLogs().ListByDateRange(ctx, from, to, "tools_list", db.Page{})
		require.NoError(t, err)
		assert.Equal(t, []string{"r3", "r5"}, reqIDs(got))
		got, err = s.AuditLogs().ListByDateRange(ctx, from, to, "", db.Page{Limit: 2, Offset: 1})
		require.NoError(t, err)
		assert.Equal(t, []string{"r3", "r4"}, reqIDs(got))
	})

	t.Run("FindByDateRangeAfter", func(t *testing.T) {
		ctx, s := setup(t, e)
		// Three events share one time and two another, so that pages end
		// inside a timestamp; one event is before the window, one at its end.
		at := []time.Duration{-time.Hour, 0, time.Hour, time.Hour, time.Hour, 2 * time.Hour, 2 * time.Hour, 3 * time.Hour, 4 * time.Hour}
		for i, d := range at {
			ev := newEvent(fmt.Sprintf("r%d", i), base.Add(d))
			if i%2 == 1 {
				ev.Action = "tools_list"
			}
			_, err := s.AuditLogs().Insert(ctx, ev)
			require.NoError(t, err)
		}
		from, to := base, base.Add(4*time.Hour)
		pages := func(action string, limit int) (ids []string, n int) {
			var after db.AuditCursor
			for {
				page, err := s.AuditLogs().ListByDateRangeAfter(ctx, from, to, action, after, limit)
				require.NoError(t, err)
				require.LessOrEqual(t, len(page), limit)
				ids, n = append(ids, reqIDs(page)...), n+1
				require.LessOrEqual(t, len(ids), 20, "the pages repeat events")
				if len(page) < limit {
					return ids, n
				}
				after = page[len(page)-1].Cursor()
			}
		}
		all, err := s.AuditLogs().ListByDateRange(ctx, from, to, "", db.Page{})
		require.NoError(t, err)
		require.Equal(t, []string{"r1", "r2", "r3", "r4", "r5", "r6", "r7"}, reqIDs(all))
		for _, limit := range []int{1, 2, 3, 7, 100} {
			got, n := pages("", limit)
			assert.Equal(t, reqIDs(all), got, "limit %d", limit)
			assert.Equal(t, len(all)/limit+1, n, "limit %d: pages", limit)
		}
		for _, limit := range []int{1, 2} {
			got, _ := pages("tools_list", limit)
			assert.Equal(t, []string{"r1", "r3", "r5", "r7"}, got, "limit %d", limit)
		}
		first, err := s.AuditLogs().ListByDateRangeAfter(ctx, from, to, "", db.AuditCursor{}, 3)
		require.NoError(t, err)
		assert.Equal(t, []string{"r1", "r2", "r3"}, reqIDs(first), "the zero cursor starts at from")

		// A cursor between two stored times (finer than a microsecond) is
		// after every event of the time below it.
		between := all[1].Cursor()
		between.CreatedAt = between.CreatedAt.Add(500 * time.Nanosecond)
		between.ID = 1 << 40
		rest, err := s.AuditLogs().ListByDateRangeAfter(ctx, from, to, "", between, 100)
		require.NoError(t, err)
		assert.Equal(t, []string{"r5", "r6", "r7"}, reqIDs(rest))
		between.ID = -1
		rest, err = s.AuditLogs().ListByDateRangeAfter(ctx, from, to, "", between, 100)
		require.NoError(t, err)
		assert.Equal(t, []string{"r5", "r6", "r7"}, reqIDs(rest))

		// Continuing from the middle of a timestamp: the rest of that
		// timestamp, then later ones.
		mid := all[2].Cursor()
		rest, err = s.AuditLogs().ListByDateRangeAfter(ctx, from, to, "", mid, 100)
		require.NoError(t, err)
		assert.Equal(t, []string{"r4", "r5", "r6", "r7"}, reqIDs(rest))

		// An event stored meanwhile that sorts before the cursor is not
		// returned and shifts nothing; one after it (the same time, a higher
		// id) is returned in its place.
		_, err = s.AuditLogs().Insert(ctx, newEvent("late", base.Add(time.Hour)))
		require.NoError(t, err)
		rest, err = s.AuditLogs().ListByDateRangeAfter(ctx, from, to, "", all[4].Cursor(), 100)
		require.NoError(t, err)
		assert.Equal(t, []string{"r6", "r7"}, reqIDs(rest))
		rest, err = s.AuditLogs().ListByDateRangeAfter(ctx, from, to, "", all[1].Cursor(), 100)
		require.NoError(t, err)
		assert.Equal(t, []string{"r3", "r4", "late", "r5", "r6", "r7"}, reqIDs(rest))

		past, err := s.AuditLogs().ListByDateRangeAfter(ctx, from, to, "", db.AuditCursor{CreatedAt: to, ID: 0}, 100)
		require.NoError(t, err)
		assert.Empty(t, past, "a cursor at the window's end")
		early, err := s.AuditLogs().ListByDateRangeAfter(ctx, from, to, "", db.AuditCursor{CreatedAt: base.Add(-2 * time.Hour), ID: 1 << 40}, 100)
		require.NoError(t, err)
		assert.Equal(t, []string{"r1", "r2", "r3", "r4", "late", "r5", "r6", "r7"}, reqIDs(early), "a cursor before the window starts at from")

		// A zero limit is DefaultLimit.
		many := make([]db.AuditLogCreate, db.DefaultLimit+1)
		for i := range many {
			many[i] = newEvent(fmt.Sprintf("m%d", i), base.Add(10*time.Hour))
		}
		_, err = s.AuditLogs().InsertBatch(ctx, many)
		require.NoError(t, err)
		page, err := s.AuditLogs().ListByDateRangeAfter(ctx, base.Add(10*time.Hour), base.Add(11*time.Hour), "", db.AuditCursor{}, 0)
		require.NoError(t, err)
		assert.Len(t, page, db.DefaultLimit)
	})

	t.Run("Statistics", func(t *testing.T) {
		ctx, s := setup(t, e)
		// In the window: 6 tool_call (4 success, 2 error), 3 tools_list
		// (2 success, 1 denied). Outside it: 2 more.
		rows := []struct {
			action, status string
			at             time.Duration
		}{
			{"tool_call", "success", 0}, {"tool_call", "success", time.Minute}, {"tool_call", "success", 2 * time.Minute},
			{"tool_call", "success", 3 * time.Minute}, {"tool_call", "error", 4 * time.Minute}, {"tool_call", "error", 5 * time.Minute},
			{"tools_list", "success", 6 * time.Minute}, {"tools_list", "success", 7 * time.Minute}, {"tools_list", "denied", 8 * time.Minute},
			{"tool_call", "success", -time.Second}, {"tool_call", "error", time.Hour},
		}
		// Durations in the window, inserted out of order, one event not
		// measured: sorted, 10, 20, ..., 80 (n=8). percentile_cont's rank
		// is p*(n-1): p50 = 40 + 0.5*(50-40) = 45, p95 = 70 + 0.65*10 =
		// 76.5, p99 = 70 + 0.93*10 = 79.3. The events outside the window
		// are far slower, so including them would show.
		durations := []*float64{ms(80), ms(10), ms(70), nil, ms(20), ms(60), ms(30), ms(50), ms(40), ms(5000), ms(9000)}
		batch := make([]db.AuditLogCreate, len(rows))
		for i, r := range rows {
			batch[i] = newEvent(fmt.Sprint(i), base.Add(r.at))
			batch[i].Action, batch[i].Status = r.action, r.status
			batch[i].DurationMS = durations[i]
		}
		_, err := s.AuditLogs().InsertBatch(ctx, batch)
		require.NoError(t, err)
		st, err := s.AuditLogs().Statistics(ctx, base, base.Add(time.Hour))
		require.NoError(t, err)
		assert.Equal(t, int64(9), st.Total)
		assert.Equal(t, map[string]int64{"success": 6, "error": 2, "denied": 1}, st.ByStatus)
		assert.Equal(t, map[string]int64{"tool_call": 6, "tools_list": 3}, st.ByAction)
		for _, p := range []struct {
			name string
			got  *float64
			want float64
		}{{"p50", st.DurationP50MS, 45}, {"p95", st.DurationP95MS, 76.5}, {"p99", st.DurationP99MS, 79.3}} {
			if assert.NotNil(t, p.got, p.name) {
				assert.InDelta(t, p.want, *p.got, 1e-9, p.name)
			}
		}

		// One measured event: every percentile is its duration.
		one, err := s.AuditLogs().Statistics(ctx, base.Add(time.Hour), base.Add(2*time.Hour))
		require.NoError(t, err)
		assert.Equal(t, int64(1), one.Total)
		if assert.NotNil(t, one.DurationP99MS) {
			assert.Equal(t, 9000.0, *one.DurationP50MS)
			assert.Equal(t, 9000.0, *one.DurationP99MS)
		}

		empty, err := s.AuditLogs().Statistics(ctx, base.Add(-48*time.Hour), base.Add(-24*time.Hour))
		require.NoError(t, err)
		assert.Equal(t, db.NewAuditStatistics(), empty, "no events: zero counts, nil percentiles")
	})

	t.Run("StatisticsWithoutDurations", func(t *testing.T) {
		ctx, s := setup(t, e)
		_, err := s.AuditLogs().InsertBatch(ctx, []db.AuditLogCreate{newEvent("a", base), newEvent("b", base)})
		require.NoError(t, err)
		st, err := s.AuditLogs().Statistics(ctx, base, base.Add(time.Hour))
		require.NoError(t, err)
		assert.Equal(t, int64(2), st.Total)
		assert.Nil(t, st.DurationP50MS, "no measured event: no percentiles")
		assert.Nil(t, st.DurationP95MS)
		assert.Nil(t, st.DurationP99MS)
	})

	// Prune deletes exactly the events created before the cut, in batches
	// smaller than their number, and leaves the rest alone.
	t.Run("Prune", func(t *testing.T) {
		ctx, s := setup(t, e)
		batch := make([]db.AuditLogCreate, 250)
		for i := range batch {
			batch[i] = newEvent(fmt.Sprint(i), base.Add(time.Duration(i)*time.Second))
		}
		_, err := s.AuditLogs().InsertBatch(ctx, batch)
		require.NoError(t, err)
		cut := base.Add(173 * time.Second) // events 0..172 are older
		n, err := s.AuditLogs().Prune(ctx, cut, 50)
		require.NoError(t, err)
		assert.EqualValues(t, 173, n)
		assert.EqualValues(t, 77, count(t, e, s, "audit_logs", ""))
		left, err := s.AuditLogs().List(ctx, db.Page{Limit: 1})
		require.NoError(t, err)
		require.Len(t, left, 1)
		assert.Equal(t, "173", left[0].RequestID, "the event at the cut itself stays")

		n, err = s.AuditLogs().Prune(ctx, cut, 50)
		require.NoError(t, err)
		assert.Zero(t, n, "nothing older is left")
		n, err = s.AuditLogs().Prune(ctx, base.Add(time.Hour), 77) // exactly one full batch, then an empty one
		require.NoError(t, err)
		assert.EqualValues(t, 77, n)
		assert.EqualValues(t, 0, count(t, e, s, "audit_logs", ""))

		_, err = s.AuditLogs().Prune(ctx, cut, 0)
		assert.ErrorIs(t, err, db.ErrInvalid)
		_, err = s.AuditLogs().Prune(ctx, time.Time{}, 10)
		assert.ErrorIs(t, err, db.ErrInvalid)
	})

	t.Run("PruneInTxRollsBack", func(t *testing.T) {
		ctx, s := setup(t, e)
		_, err := s.AuditLogs().InsertBatch(ctx, []db.AuditLogCreate{newEvent("a", base), newEvent("b", base)})
		require.NoError(t, err)
		boom := fmt.Errorf("boom")
		err = s.InTx(ctx, func(tx db.Repositories) error {
			n, err := tx.AuditLogs().Prune(ctx, base.Add(time.Second), 1)
			require.NoError(t, err)
			assert.EqualValues(t, 2, n)
			return boom
		})
		assert.ErrorIs(t, err, boom)
		assert.EqualValues(t, 2, count(t, e, s, "audit_logs", ""))
	})

	t.Run("CompleteUpdate", func(t *testing.T) {
		ctx, s := setup(t, e)
		ev, err := s.AuditLogs().Insert(ctx, newEvent("r", base))
		require.NoError(t, err)
		done, err := s.AuditLogs().Complete(ctx, ev.ID, db.AuditLogComplete{
			Status: "error", ResponseData: json.RawMessage(`{"code":-32000}`), ErrorMessage: "failed", DurationMS: ms(3),
		})
		require.NoError(t, err)
		assert.Equal(t, "error", done.Status)
		assert.Equal(t, `{"code":-32000}`, string(done.ResponseData))
		assert.Equal(t, "failed", done.ErrorMessage)
		assert.Equal(t, ms(3), done.DurationMS)
		assert.Equal(t, ev.RequestID, done.RequestID)
		assert.Equal(t, ev.CreatedAt, done.CreatedAt)
		_, err = s.AuditLogs().Complete(ctx, ev.ID+1000, db.AuditLogComplete{Status: "x"})
		assert.ErrorIs(t, err, db.ErrNotFound)
	})

	t.Run("ListAndDelete", func(t *testing.T) {
		ctx, s := setup(t, e)
		var ids []int64
		for i := range 3 {
			ev, err := s.AuditLogs().Insert(ctx, newEvent(fmt.Sprint(i), base.Add(time.Duration(i)*time.Second)))
			require.NoError(t, err)
			ids = append(ids, ev.ID)
		}
		require.NoError(t, s.AuditLogs().Delete(ctx, ids[1]))
		assert.ErrorIs(t, s.AuditLogs().Delete(ctx, ids[1]), db.ErrNotFound)
		all, err := s.AuditLogs().List(ctx, db.Page{})
		require.NoError(t, err)
		assert.Equal(t, []string{"0", "2"}, reqIDs(all))
		page, err := s.AuditLogs().List(ctx, db.Page{Limit: 1, Offset: 1})
		require.NoError(t, err)
		assert.Equal(t, []string{"2"}, reqIDs(page))
	})

	exerciseAuditLogsByID(t, e, base)
}

func reqIDs(l []db.AuditLog) []string {
	out := make([]string, len(l))
	for i, a := range l {
		out[i] = a.RequestID
	}
	return out
}

// exerciseAuditLogsByID tests the lists in id order that audit tail uses.
func exerciseAuditLogsByID(t *testing.T, e Engine, base time.Time) {
	t.Run("ListNewest", func(t *testing.T) {
		ctx, s := setup(t, e)
		none, err := s.AuditLogs().ListNewest(ctx, db.Page{})
		require.NoError(t, err)
		assert.Empty(t, none)
		// Stored in this order, with times out of order: newest means
		// stored last, not created last.
		for i, h := range []int{3, 1, 4, 0, 2} {
			_, err := s.AuditLogs().Insert(ctx, newEvent(fmt.Sprint(i), base.Add(time.Duration(h)*time.Hour)))
			require.NoError(t, err)
		}
		all, err := s.AuditLogs().ListNewest(ctx, db.Page{})
		require.NoError(t, err)
		assert.Equal(t, []string{"4", "3", "2", "1", "0"}, reqIDs(all))
		page, err := s.AuditLogs().ListNewest(ctx, db.Page{Limit: 2, Offset: 1})
		require.NoError(t, err)
		assert.Equal(t, []string{"3", "2"}, reqIDs(page))
		_, err = s.AuditLogs().ListNewest(ctx, db.Page{Limit: -1})
		assert.ErrorIs(t, err, db.ErrInvalid)
	})

	t.Run("ListAfterID", func(t *testing.T) {
		ctx, s := setup(t, e)
		var ids []int64
		for i := range 5 {
			ev, err := s.AuditLogs().Insert(ctx, newEvent(fmt.Sprint(i), base.Add(time.Duration(5-i)*time.Hour)))
			require.NoError(t, err)
			ids = append(ids, ev.ID)
		}
		all, err := s.AuditLogs().ListAfterID(ctx, 0, db.Page{})
		require.NoError(t, err)
		assert.Equal(t, []string{"0", "1", "2", "3", "4"}, reqIDs(all), "id order, whatever the times")
		after, err := s.AuditLogs().ListAfterID(ctx, ids[1], db.Page{})
		require.NoError(t, err)
		assert.Equal(t, []string{"2", "3", "4"}, reqIDs(after), "the event afterID itself is left out")
		page, err := s.AuditLogs().ListAfterID(ctx, ids[0], db.Page{Limit: 2})
		require.NoError(t, err)
		assert.Equal(t, []string{"1", "2"}, reqIDs(page))
		none, err := s.AuditLogs().ListAfterID(ctx, ids[4], db.Page{})
		require.NoError(t, err)
		assert.Empty(t, none)
		// A batch stored later follows, in the order of the batch.
		batch := []db.AuditLogCreate{newEvent("5", base), newEvent("6", base.Add(-time.Hour))}
		_, err = s.AuditLogs().InsertBatch(ctx, batch)
		require.NoError(t, err)
		more, err := s.AuditLogs().ListAfterID(ctx, ids[4], db.Page{})
		require.NoError(t, err)
		assert.Equal(t, []string{"5", "6"}, reqIDs(more))
		_, err = s.AuditLogs().ListAfterID(ctx, 0, db.Page{Limit: db.MaxLimit + 1})
		assert.ErrorIs(t, err, db.ErrInvalid)
	})
}
