package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gateway"
)

// The events a gateway records for the calls with which a client once
// kept itself out of the audit log, as gateway/mcpsdk builds them: the
// request id is the server's, the client's X-Request-Id goes to
// ClientRequestID, the tool name to ResourceID, X-Forwarded-For to
// ClientIP.
func evasions() []struct {
	name  string
	ev    db.AuditLogCreate
	check func(t *testing.T, got db.AuditLog)
} {
	call := func(req string) db.AuditLogCreate {
		return db.AuditLogCreate{RequestID: req, Action: "tools/call", ResourceType: "tool", ResourceID: "files.read_file",
			Status: "success", UserID: "alice", ClientIP: "192.0.2.7"}
	}
	refusal := func(req string) db.AuditLogCreate {
		return db.AuditLogCreate{RequestID: req, Action: gateway.ActionAuth, ResourceType: "api_key",
			Status: "unauthorized", ErrorMessage: "invalid API key: unknown", ClientIP: "192.0.2.9"}
	}
	longTool := "files." + strings.Repeat("t", 300)
	longIP := strings.Repeat("203.0.113.1, ", 20)
	type evasion = struct {
		name  string
		ev    db.AuditLogCreate
		check func(t *testing.T, got db.AuditLog)
	}
	out := []evasion{
		{"a NUL in the arguments", call("e1"), func(t *testing.T, got db.AuditLog) {
			assert.Equal(t, `{"arguments":{"path":"ab"}}`, string(got.RequestData))
		}},
		{"an invalid UTF-8 byte in the arguments", call("e2"), func(t *testing.T, got db.AuditLog) {
			assert.Equal(t, `{"arguments":{"path":"a`+"\uFFFD"+`b"}}`, string(got.RequestData))
		}},
		{"an argument 1e401", call("e3"), func(t *testing.T, got db.AuditLog) {
			assert.Equal(t, `{"_size":25,"_invalid":"number out of range"}`, string(got.RequestData))
		}},
		{"an X-Request-Id with a byte \\xff", call("e4"), func(t *testing.T, got db.AuditLog) {
			assert.Equal(t, "e4", got.RequestID, "the server's id")
			assert.Equal(t, "req-\uFFFD", got.ClientRequestID)
		}},
		{"a denied call to a 300-character tool name", call("e5"), func(t *testing.T, got db.AuditLog) {
			assert.Equal(t, 200, utf8.RuneCountInString(got.ResourceID))
			assert.True(t, strings.HasPrefix(got.ResourceID, "files.ttt"))
			assert.True(t, strings.HasSuffix(got.ResourceID, "…[cut: 306 chars]"), got.ResourceID)
			assert.Equal(t, "denied", got.Status)
			assert.True(t, strings.HasSuffix(got.ErrorMessage, "ttt"), "an error message has room for it")
		}},
		{"a bad key with X-Request-Id: \\xff", refusal("e6"), func(t *testing.T, got db.AuditLog) {
			assert.Equal(t, gateway.ActionAuth, got.Action)
			assert.Equal(t, "\uFFFD", got.ClientRequestID)
		}},
		{"an X-Forwarded-For over 200 characters", call("e7"), func(t *testing.T, got db.AuditLog) {
			assert.Equal(t, 200, utf8.RuneCountInString(got.ClientIP))
			assert.True(t, strings.HasPrefix(got.ClientIP, "203.0.113.1, 203.0.113.1,"))
		}},
	}
	out[0].ev.RequestData = json.RawMessage(`{"arguments":{"path":"a\u0000b"}}`)
	out[1].ev.RequestData = json.RawMessage("{\"arguments\":{\"path\":\"a\xffb\"}}")
	out[2].ev.RequestData = json.RawMessage(`{"arguments":{"n":1e401}}`)
	out[3].ev.ClientRequestID = "req-\xff"
	out[4].ev.ResourceID, out[4].ev.Status, out[4].ev.ErrorMessage = longTool, "denied", "permission denied: tools:call:"+longTool
	out[5].ev.ClientRequestID = "\xff"
	out[6].ev.ClientIP = longIP
	return out
}

// TestAuditorStoresTheEvasions: each call with which a client used to keep
// itself out of the log is stored, exactly one row, with the repaired
// field, on both engines, with or without a spool.
func TestAuditorStoresTheEvasions(t *testing.T) {
	eachEngine(t, func(t *testing.T, s db.Store) {
		for _, spool := range []bool{false, true} {
			opts := gateway.AuditorOptions{}
			if spool {
				opts.SpoolDir = t.TempDir()
			}
			a, err := gateway.OpenAuditor(s, opts)
			require.NoError(t, err)
			cases := evasions()
			for _, c := range cases {
				ev := c.ev
				if spool {
					ev.RequestID += "-spool"
				}
				require.NoError(t, a.Record(t.Context(), ev), c.name)
			}
			closeAuditor(t, a)
			st := a.Stats()
			assert.EqualValues(t, len(cases), st.Recorded)
			assert.EqualValues(t, len(cases), st.Repaired)
			assert.EqualValues(t, len(cases), st.Stored)
			assert.Zero(t, st.Invalid+st.Failed+st.Dropped)
			for _, c := range cases {
				req := c.ev.RequestID
				if spool {
					req += "-spool"
				}
				got, err := a.ListByRequestID(t.Context(), req)
				require.NoError(t, err)
				require.Len(t, got, 1, "%s: exactly one row", c.name)
				t.Run(fmt.Sprintf("%s/spool=%v", c.name, spool), func(t *testing.T) {
					got[0].RequestID = strings.TrimSuffix(got[0].RequestID, "-spool")
					c.check(t, got[0])
				})
			}
		}
	})
}

// TestAuditorRecordRefusesProgramErrors: an event the embedding program
// got wrong is refused by Record at once, with the field named, counted,
// and nothing is stored.
func TestAuditorRecordRefusesProgramErrors(t *testing.T) {
	eachEngine(t, func(t *testing.T, s db.Store) {
		a := gateway.NewAuditor(s, gateway.AuditorOptions{})
		ev := auditEvent(1)
		ev.Action = ""
		err := a.Record(t.Context(), ev)
		require.ErrorIs(t, err, db.ErrInvalid)
		var dbErr *db.Error
		require.ErrorAs(t, err, &dbErr)
		assert.Equal(t, "action", dbErr.Field)
		require.NoError(t, a.Record(t.Context(), auditEvent(2)))
		closeAuditor(t, a)
		assert.Equal(t, gateway.AuditStats{Recorded: 1, Stored: 1, Invalid: 1}, a.Stats())
		rows, _ := stored(t, s)
		assert.EqualValues(t, 1, rows)
	})
}

// TestAuditorMemoryBoundedInBytes: with the database stalled, 6,000
// events of 256 KiB each grow the heap by no more than the byte bound (the
// default, 64 MiB) plus 10%: Record caps each document before it queues
// it, and waits once the bound is reached. Once the database is back,
// every event is stored. With -short: 400 events, a bound of 16 MiB.
func TestAuditorMemoryBoundedInBytes(t *testing.T) {
	n, bound := 6000, int64(gateway.DefaultAuditMaxPendingBytes)
	if testing.Short() {
		n, bound = 400, 16<<20
	}
	const docSize = 256 << 10
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			s, url := blockableStore(t, engine)
			release := blockWrites(t, engine, url)
			a := gateway.NewAuditor(s, gateway.AuditorOptions{
				MaxPendingBytes: bound,
				FlushInterval:   10 * time.Millisecond, RetryMinDelay: 5 * time.Millisecond, RetryMaxDelay: 50 * time.Millisecond,
			})
			// The live heap: two collections, the second after the first has
			// freed what was allocated while it ran (which a concurrent
			// collection keeps until the next).
			heap := func() uint64 {
				runtime.GC()
				runtime.GC()
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				return m.HeapAlloc
			}
			base := heap()
			done := make(chan struct{})
			go func() {
				defer close(done)
				filler := strings.Repeat("x", docSize-40)
				for i := range n {
					ev := auditEvent(i)
					// A new document each time, as a server decodes each request.
					ev.RequestData = json.RawMessage(fmt.Sprintf(`{"arguments":{"i":%d,"data":"%s"}}`, i, filler))
					if err := a.Record(context.Background(), ev); err != nil {
						t.Error(err)
						return
					}
				}
			}()
			// Record until it waits for room, then measure what is held.
			last, still := uint64(0), 0
			for still < 5 {
				time.Sleep(100 * time.Millisecond)
				if r := a.Stats().Recorded; r == last {
					still++
				} else {
					last, still = r, 0
				}
			}
			st := a.Stats()
			grown := int64(heap()) - int64(base)
			t.Logf("with the database stalled: %d of %d events recorded, heap grown by %.1f MiB (bound %d MiB)",
				st.Recorded, n, float64(grown)/(1<<20), bound>>20)
			require.Less(t, st.Recorded, uint64(n), "Record waits once the bound is reached")
			assert.Zero(t, st.Stored)
			assert.LessOrEqual(t, grown, bound+bound/10, "the heap grew past the byte bound plus 10%")

			release()
			<-done
			closeAuditor(t, a)
			storedOnce(t, s, int64(n))
		})
	}
}

// TestAuditorAggregatesRefusedKeysUnderPressure: with the database
// stalled and the queue half full, a flood of refused keys is counted per
// client address and interval instead of queued: Record does not wait for
// them, they take no room from the other events, and each address's
// refusals are stored as aggregate rows whose counts add up.
func TestAuditorAggregatesRefusedKeysUnderPressure(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			s, url := blockableStore(t, engine)
			release := blockWrites(t, engine, url)
			a := gateway.NewAuditor(s, gateway.AuditorOptions{
				BufferSize: 100, BatchSize: 10, FlushInterval: 10 * time.Millisecond, AggregateInterval: 50 * time.Millisecond,
				RetryMinDelay: 5 * time.Millisecond, RetryMaxDelay: 20 * time.Millisecond,
			})
			// Real events until the queue is past half full.
			var wg sync.WaitGroup
			const real = 120
			wg.Go(func() {
				for i := range real {
					if err := a.Record(context.Background(), auditEvent(i)); err != nil {
						t.Error(err)
					}
				}
			})
			eventually(t, "the queue to fill", func() bool { return a.Stats().Recorded >= 90 })

			const perIP = 1000
			ips := []string{"198.51.100.1", "198.51.100.2", "2001:db8::3"}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			for i := range perIP * len(ips) {
				ev := db.AuditLogCreate{RequestID: fmt.Sprintf("auth-%d", i), Action: gateway.ActionAuth, ResourceType: "api_key",
					Status: "unauthorized", ClientIP: ips[i%len(ips)], ErrorMessage: []string{"invalid API key: unknown", "invalid API key: malformed"}[i%2]}
				require.NoError(t, a.Record(ctx, ev), "a refused key never waits under pressure")
			}
			assert.EqualValues(t, perIP*len(ips), a.Stats().Aggregated, "every refusal counted, none queued")

			release()
			wg.Wait()
			closeAuditor(t, a)
			st := a.Stats()
			assert.EqualValues(t, real+perIP*len(ips), st.Recorded)
			assert.EqualValues(t, st.Recorded-st.Aggregated+st.AggregateRows, st.Stored)
			assert.Zero(t, st.Failed+st.Dropped+st.Invalid)

			rows, err := a.ListByTimeRange(t.Context(), time.Now().Add(-time.Hour), time.Now().Add(time.Hour), gateway.ActionAuth, db.Page{Limit: db.MaxLimit})
			require.NoError(t, err)
			assert.EqualValues(t, st.AggregateRows, len(rows))
			counted := map[string]int64{}
			errs := map[string]int64{}
			for _, r := range rows {
				var agg struct {
					A struct {
						Count       int64            `json:"count"`
						First, Last time.Time        `json:"-"`
						Errors      map[string]int64 `json:"errors"`
					} `json:"_aggregated"`
				}
				require.NoError(t, json.Unmarshal(r.ResponseData, &agg), string(r.ResponseData))
				require.Positive(t, agg.A.Count)
				counted[r.ClientIP] += agg.A.Count
				for m, k := range agg.A.Errors {
					errs[m] += k
				}
				assert.Equal(t, "unauthorized", r.Status)
				assert.Contains(t, r.ErrorMessage, fmt.Sprintf("%d refusals", agg.A.Count))
			}
			assert.Equal(t, map[string]int64{ips[0]: perIP, ips[1]: perIP, ips[2]: perIP}, counted, "one count per address")
			assert.Equal(t, map[string]int64{"invalid API key: unknown": 1500, "invalid API key: malformed": 1500}, errs)
			n := queryInt(t, s, "SELECT count(*) FROM audit_logs WHERE request_id LIKE 'req-%'")
			assert.EqualValues(t, real, n, "every other event stored on its own")
		})
	}
}

// TestAuditorCloseAtShutdown: a Close given the context that shutdown has
// cancelled stores nothing; one given a context of its own, as the README
// shows, stores every event.
func TestAuditorCloseAtShutdown(t *testing.T) {
	eachEngine(t, func(t *testing.T, s db.Store) {
		for _, own := range []bool{false, true} {
			ctx, shutdown := context.WithCancel(context.Background())
			// Batches wait longer than the test for their interval: only
			// Close stores them.
			a := gateway.NewAuditor(s, gateway.AuditorOptions{FlushInterval: time.Hour, BatchSize: db.MaxLimit})
			const n = 5000
			for i := range n {
				ev := auditEvent(i)
				ev.RequestID = fmt.Sprintf("own-%v-%d", own, i)
				require.NoError(t, a.Record(ctx, ev))
			}
			shutdown()
			closeCtx := ctx
			if own {
				var cancel context.CancelFunc
				closeCtx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
				defer cancel()
			}
			err := a.Close(closeCtx)
			stored := queryInt(t, s, fmt.Sprintf("SELECT count(*) FROM audit_logs WHERE request_id LIKE 'own-%v-%%'", own))
			if own {
				require.NoError(t, err)
				assert.EqualValues(t, n, stored)
			} else {
				assert.ErrorIs(t, err, context.Canceled)
				assert.Less(t, stored, int64(n), "a cancelled context leaves events behind")
			}
		}
	})
}
