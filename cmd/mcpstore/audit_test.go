package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
)

// seedAudit stores 12 events: r0..r9 over the last ten hours (r0 newest
// by time, but stored first), alternating alice and bob, r0..r4 tool_call
// and r5..r9 tools_list, with durations 0..9 ms; and two of carol's three
// days old. It returns the store, still open.
func seedAudit(t *testing.T, c cli) db.Store {
	t.Helper()
	c.ok("migrate", "up")
	s := openStore(t, c.dbURL)
	now := time.Now()
	for i := range 10 {
		d := float64(i)
		ev := db.AuditLogCreate{
			RequestID: fmt.Sprintf("r%d", i), UserID: []string{"alice", "bob"}[i%2], APIKeyID: "k1",
			Action: "tool_call", ResourceType: "tool", ResourceID: "example__upper", Status: "success",
			DurationMS: &d, CreatedAt: now.Add(-time.Duration(i)*time.Hour - time.Minute),
			RequestData: json.RawMessage(`{"arguments":{"text":"a,\"b\"\nc"}}`),
		}
		if i >= 5 {
			ev.Action = "tools_list"
		}
		if i == 3 {
			ev.Status, ev.ErrorMessage = "denied", "permission denied"
		}
		_, err := s.AuditLogs().Insert(t.Context(), ev)
		require.NoError(t, err)
	}
	for i := range 2 {
		_, err := s.AuditLogs().Insert(t.Context(), db.AuditLogCreate{
			RequestID: fmt.Sprintf("old%d", i), UserID: "carol", Action: "tool_call", ResourceType: "tool",
			Status: "success", CreatedAt: now.Add(-72 * time.Hour),
		})
		require.NoError(t, err)
	}
	return s
}

// requestIDs returns the request ids of JSON events, in order.
func requestIDs(t *testing.T, js string) []string {
	t.Helper()
	var evs []eventJSON
	require.NoError(t, json.Unmarshal([]byte(js), &evs), js)
	out := []string{}
	for _, ev := range evs {
		out = append(out, ev.RequestID)
	}
	return out
}

// jsonLines parses one JSON event per line.
func jsonLines(t *testing.T, out string) []string {
	t.Helper()
	ids := []string{}
	for l := range strings.Lines(out) {
		var ev eventJSON
		require.NoError(t, json.Unmarshal([]byte(l), &ev), l)
		ids = append(ids, ev.RequestID)
	}
	return ids
}

func TestAuditTail(t *testing.T) {
	eachDB(t, func(t *testing.T, c cli) {
		seedAudit(t, c)
		out := c.ok("audit", "tail", "-n", "3")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		require.Len(t, lines, 3, out)
		// Stored last: r9, old0, old1; printed oldest first.
		assert.Contains(t, lines[0], "request=r9")
		assert.Contains(t, lines[1], "request=old0")
		assert.Contains(t, lines[2], "request=old1")
		assert.Contains(t, lines[0], "user=bob")
		assert.Contains(t, lines[0], "9ms")
		assert.Equal(t, []string{"r8", "r9", "old0", "old1"}, jsonLines(t, c.ok("audit", "tail", "-n", "4", "--json")))
		assert.Len(t, strings.Split(strings.TrimSpace(c.ok("audit", "tail")), "\n"), 10, "10 by default")
		assert.Empty(t, c.ok("audit", "tail", "-n", "0"))
	})
}

// syncBuffer is a bytes.Buffer that a running command writes while the
// test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestAuditTailFollow(t *testing.T) {
	eachDB(t, func(t *testing.T, c cli) {
		s := seedAudit(t, c)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		var out, errOut syncBuffer
		done := make(chan int, 1)
		go func() {
			done <- run(ctx, []string{"--db", c.dbURL, "audit", "tail", "-n", "1", "-f", "--json"}, strings.NewReader(""), &out, &errOut)
		}()
		waitFor := func(what string, cond func(ids []string) bool) {
			t.Helper()
			deadline := time.Now().Add(30 * time.Second)
			for {
				if ids := jsonLines(t, out.String()); cond(ids) {
					return
				}
				require.True(t, time.Now().Before(deadline), "waiting for %s; got %q", what, out.String())
				time.Sleep(20 * time.Millisecond)
			}
		}
		waitFor("the newest event", func(ids []string) bool { return len(ids) == 1 })
		for i := range 3 {
			_, err := s.AuditLogs().Insert(t.Context(), db.AuditLogCreate{
				RequestID: fmt.Sprintf("new%d", i), Action: "tool_call", ResourceType: "tool", Status: "success",
			})
			require.NoError(t, err)
		}
		waitFor("the new events", func(ids []string) bool { return len(ids) >= 4 })
		_, err := s.AuditLogs().InsertBatch(t.Context(), []db.AuditLogCreate{
			{RequestID: "new3", Action: "tool_call", ResourceType: "tool", Status: "success"},
		})
		require.NoError(t, err)
		waitFor("a batch", func(ids []string) bool { return len(ids) >= 5 })
		cancel()
		select {
		case code := <-done:
			assert.Equal(t, exitOK, code, "interrupting -f is its normal end")
		case <-time.After(30 * time.Second):
			t.Fatal("tail -f did not stop when interrupted")
		}
		assert.Equal(t, []string{"old1", "new0", "new1", "new2", "new3"}, jsonLines(t, out.String()), "each event once, in order")
		assert.Empty(t, errOut.String())
	})
}

func TestAuditQuery(t *testing.T) {
	eachDB(t, func(t *testing.T, c cli) {
		seedAudit(t, c)
		out := c.ok("audit", "query", "--request", "r3")
		assert.Contains(t, out, "REQUEST")
		assert.Contains(t, out, "permission denied")
		assert.Equal(t, 2, strings.Count(out, "\n"), "a header and one row: %s", out)
		assert.Equal(t, []string{"r3"}, requestIDs(t, c.ok("audit", "query", "--request", "r3", "--json")))

		assert.Equal(t, []string{"r0", "r2", "r4", "r6", "r8"}, requestIDs(t, c.ok("audit", "query", "--user", "alice", "--json")), "newest first")
		assert.Equal(t, []string{"r4", "r6"}, requestIDs(t, c.ok("audit", "query", "--user", "alice", "--limit", "2", "--offset", "2", "--json")))

		assert.Equal(t, []string{"r4", "r3", "r2", "r1", "r0"}, requestIDs(t, c.ok("audit", "query", "--since", "5h", "--json")), "oldest first")
		assert.Equal(t, []string{"r9", "r8", "r7", "r6", "r5"},
			requestIDs(t, c.ok("audit", "query", "--since", "1d", "--action", "tools_list", "--json")))
		from := time.Now().Add(-100 * time.Hour).UTC().Format(time.RFC3339)
		to := time.Now().Add(-24 * time.Hour).UTC().Format(time.RFC3339)
		assert.Equal(t, []string{"old0", "old1"}, requestIDs(t, c.ok("audit", "query", "--from", from, "--to", to, "--json")))
		assert.Equal(t, []string{}, requestIDs(t, c.ok("audit", "query", "--user", "nobody", "--json")))
		assert.Equal(t, []string{"r6", "r8"}, requestIDs(t, c.ok("audit", "query", "--user", "alice", "--action", "tools_list", "--json")),
			"an action narrows any selection")
		assert.Equal(t, []string{"r0", "r2"}, requestIDs(t, c.ok("audit", "query", "--user", "alice", "--since", "3h", "--json")),
			"a user's events in a window")
	})
}

func TestAuditStats(t *testing.T) {
	eachDB(t, func(t *testing.T, c cli) {
		seedAudit(t, c)
		var st statsJSON
		js := c.ok("audit", "stats", "--json")
		require.NoError(t, json.Unmarshal([]byte(js), &st), js)
		assert.EqualValues(t, 10, st.Total, "the last 24h by default")
		assert.Equal(t, map[string]int64{"success": 9, "denied": 1}, st.ByStatus)
		assert.Equal(t, map[string]int64{"tool_call": 5, "tools_list": 5}, st.ByAction)
		require.NotNil(t, st.DurationP50MS)
		assert.InDelta(t, 4.5, *st.DurationP50MS, 1e-9)
		assert.WithinDuration(t, st.To.Add(-24*time.Hour), st.From, time.Second)

		out := c.ok("audit", "stats", "--since", "7d")
		assert.Contains(t, out, ": 12\n")
		assert.Contains(t, out, "By status:")
		assert.Regexp(t, `success\s+11`, out)
		assert.Regexp(t, `tool_call\s+7`, out)
		assert.Contains(t, out, "p50 4.5ms")

		out = c.ok("audit", "stats", "--since", "1m")
		assert.Contains(t, out, ": 0\n")
		assert.Contains(t, out, "no event has a duration")
	})
}

func TestAuditPrune(t *testing.T) {
	eachDB(t, func(t *testing.T, c cli) {
		s := seedAudit(t, c)
		assert.Equal(t, "Deleted 2 audit events", strings.SplitN(c.ok("audit", "prune", "--older-than", "2d"), " created", 2)[0])
		var res pruneJSON
		js := c.ok("audit", "prune", "--older-than", "5h", "--json")
		require.NoError(t, json.Unmarshal([]byte(js), &res), js)
		assert.EqualValues(t, 5, res.Deleted, "r5..r9")
		left, err := s.AuditLogs().List(t.Context(), db.AuditQuery{})
		require.NoError(t, err)
		assert.Len(t, left, 5)
		for _, ev := range left {
			assert.Contains(t, []string{"r0", "r1", "r2", "r3", "r4"}, ev.RequestID)
		}
		js = c.ok("audit", "prune", "--older-than", "5h", "--json")
		require.NoError(t, json.Unmarshal([]byte(js), &res), js)
		assert.EqualValues(t, 0, res.Deleted)
	})
}

func TestAuditExport(t *testing.T) {
	eachDB(t, func(t *testing.T, c cli) {
		s := seedAudit(t, c)
		// More than two pages, so that export pages through the
		// repository; most of them at one time, so that pages start in
		// the middle of events sharing a timestamp, and one page holds
		// nothing else.
		batch := make([]db.AuditLogCreate, 2*exportPage+5)
		at := time.Now().Add(-30 * time.Minute)
		for i := range batch {
			batch[i] = db.AuditLogCreate{RequestID: fmt.Sprintf("b%d", i), Action: "tool_call", ResourceType: "tool",
				Status: "success", CreatedAt: at}
			if i%100 == 0 {
				batch[i].CreatedAt = at.Add(-time.Duration(i) * time.Microsecond)
			}
		}
		_, err := s.AuditLogs().InsertBatch(t.Context(), batch)
		require.NoError(t, err)
		total := 12 + len(batch)

		ids := jsonLines(t, c.ok("audit", "export"))
		assert.Len(t, ids, total, "every event, jsonl by default")
		assert.Equal(t, []string{"old0", "old1", "r9"}, ids[:3], "oldest first")
		seen := map[string]bool{}
		for _, id := range ids {
			assert.False(t, seen[id], "%s exported twice", id)
			seen[id] = true
		}

		out := c.ok("audit", "export", "--format", "csv")
		recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		require.NoError(t, err)
		require.Len(t, recs, total+1, "a header and every event")
		assert.Equal(t, exportColumns, recs[0])
		var r3 []string
		for _, r := range recs[1:] {
			if r[3] == "r3" {
				r3 = r
			}
		}
		require.NotNil(t, r3)
		assert.Equal(t, "denied", r3[11])
		assert.Equal(t, "3", r3[12])
		assert.JSONEq(t, `{"arguments":{"text":"a,\"b\"\nc"}}`, r3[14], "JSON with commas, quotes and newlines survives CSV")

		recent := jsonLines(t, c.ok("audit", "export", "--since", "2h"))
		require.Len(t, recent, 2+len(batch), "r1, the batch, r0")
		assert.Equal(t, "r1", recent[0])
		assert.Equal(t, "r0", recent[len(recent)-1])
		assert.Len(t, jsonLines(t, c.ok("audit", "export", "--since", "1d", "--action", "tools_list")), 5)
		// The selections of audit query: the same events, every one.
		assert.Equal(t, []string{"r0", "r2", "r4", "r6", "r8"}, jsonLines(t, c.ok("audit", "export", "--user", "alice")), "newest first")
		assert.Equal(t, []string{"r3"}, jsonLines(t, c.ok("audit", "export", "--request", "r3")))
		assert.Empty(t, c.ok("audit", "export", "--since", "1s", "--format", "csv", "--action", "none")[len(strings.Join(exportColumns, ","))+1:])
	})
}
