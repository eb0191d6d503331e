package gateway_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/db/postgres"
	"github.com/mcpstore/mcpstore/db/sqlite"
	"github.com/mcpstore/mcpstore/gateway"
)

var benchBase = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// benchAuditEvent is a typical tool call: a few ids, small JSON arguments
// and result, a duration.
func benchAuditEvent(i int) db.AuditLogCreate {
	d := float64(i%500) / 10
	return db.AuditLogCreate{
		EventID:      uuid.Must(uuid.NewV7()),
		RequestID:    "req-" + strconv.Itoa(i),
		UserID:       "user-" + strconv.Itoa(i%50),
		APIKeyID:     "key-" + strconv.Itoa(i%20),
		ClientIP:     "192.0.2.7",
		Action:       []string{"tool_call", "tools_list", "resource_read"}[i%3],
		ResourceType: "tool",
		ResourceID:   "search",
		RequestData:  json.RawMessage(`{"arguments":{"query":"weather in Paris","limit":10}}`),
		ResponseData: json.RawMessage(`{"content":[{"type":"text","text":"sunny"}],"isError":false}`),
		Status:       []string{"success", "success", "error", "denied"}[i%4],
		DurationMS:   &d,
		CreatedAt:    benchBase.Add(time.Duration(i) * time.Millisecond),
	}
}

// BenchmarkAuditRecord measures what a call pays to record an event: each
// Record is timed, and the 99th percentile reported (target: under 5 µs).
// The buffer (262,144 events) does not fill at -benchtime up to that many
// calls (e.g. -benchtime=200000x), while the writers store
// events on PostgreSQL in the background, as in production.
func BenchmarkAuditRecord(b *testing.B) {
	s := newStore(b, "postgres")
	a := gateway.NewAuditor(s, gateway.AuditorOptions{BufferSize: 1 << 18})
	ctx := context.Background()
	ev := benchAuditEvent(0)
	lat := make([]time.Duration, 0, 1<<20)
	b.ReportAllocs()
	for b.Loop() {
		ev.EventID = uuid.UUID{} // Record assigns one, as for a caller's event
		start := time.Now()
		if err := a.Record(ctx, ev); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*50/100].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
	b.ReportMetric(float64(lat[len(lat)-1].Nanoseconds()), "max-ns")
	if err := a.Close(ctx); err != nil {
		b.Fatal(err)
	}
}

// ingestAuditor records n events through a fresh Auditor on s and returns
// how long it took until Close had stored them all.
func ingestAuditor(b *testing.B, s db.Store, events []db.AuditLogCreate) time.Duration {
	b.Helper()
	ctx := context.Background()
	a := gateway.NewAuditor(s, gateway.AuditorOptions{})
	start := time.Now()
	for _, ev := range events {
		if err := a.Record(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
	if err := a.Close(ctx); err != nil {
		b.Fatal(err)
	}
	took := time.Since(start)
	if st := a.Stats(); st.Stored != uint64(len(events)) {
		b.Fatalf("stored %d of %d events: %+v", st.Stored, len(events), st)
	}
	return took
}

func benchEvents(from, n int) []db.AuditLogCreate {
	out := make([]db.AuditLogCreate, n)
	for i := range out {
		out[i] = benchAuditEvent(from + i)
	}
	return out
}

func rate(rows int, d time.Duration) float64 { return float64(rows) / d.Seconds() }

// BenchmarkAuditIngest measures audit ingestion on PostgreSQL through the
// Auditor beside, in the same run, the seed's way (one INSERT and commit per
// event, target: the Auditor at least 100x faster) and psql's \copy of the
// same rows from a CSV file (target: the Auditor at least 80% of it).
func BenchmarkAuditIngest(b *testing.B) {
	const auditorRows = 50_000

	b.Run("VsInsertPerEvent", func(b *testing.B) {
		const seedRows = 500
		s := newStore(b, "postgres")
		ctx := context.Background()
		var seedTime, auditorTime time.Duration
		i := 0
		for b.Loop() {
			events := benchEvents(i, seedRows)
			i += seedRows
			start := time.Now()
			for _, ev := range events {
				if _, err := s.AuditLogs().Insert(ctx, ev); err != nil {
					b.Fatal(err)
				}
			}
			seedTime += time.Since(start)
			events = benchEvents(i, auditorRows)
			i += auditorRows
			auditorTime += ingestAuditor(b, s, events)
		}
		seed, aud := rate(b.N*seedRows, seedTime), rate(b.N*auditorRows, auditorTime)
		b.ReportMetric(seed, "insert-rows/s")
		b.ReportMetric(aud, "auditor-rows/s")
		b.ReportMetric(aud/seed, "x-insert")
	})

	b.Run("VsPsqlCopy", func(b *testing.B) {
		if _, err := exec.LookPath("psql"); err != nil {
			b.Skip("psql is not on PATH")
		}
		url := newURL(b, "postgres")
		s := openURL(b, url)
		var psqlTime, auditorTime time.Duration
		i := 0
		for b.Loop() {
			file := writeCSV(b, benchEvents(i, auditorRows))
			i += auditorRows
			psqlTime += psqlCopy(b, url, file)
			events := benchEvents(i, auditorRows)
			i += auditorRows
			auditorTime += ingestAuditor(b, s, events)
		}
		cp, aud := rate(b.N*auditorRows, psqlTime), rate(b.N*auditorRows, auditorTime)
		b.ReportMetric(cp, "psql-copy-rows/s")
		b.ReportMetric(aud, "auditor-rows/s")
		b.ReportMetric(100*aud/cp, "%-of-psql")
	})
}

const csvColumns = "event_id,request_id,user_id,api_key_id,client_ip,action,resource_type,resource_id," +
	"request_data,response_data,status,duration_ms,created_at"

// writeCSV writes events as psql's \copy reads them, in csvColumns' order.
func writeCSV(b *testing.B, events []db.AuditLogCreate) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "audit.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := csv.NewWriter(f)
	for _, e := range events {
		w.Write([]string{
			e.EventID.String(), e.RequestID, e.UserID, e.APIKeyID, e.ClientIP, e.Action, e.ResourceType, e.ResourceID,
			string(e.RequestData), string(e.ResponseData), e.Status,
			strconv.FormatFloat(*e.DurationMS, 'f', -1, 64), e.CreatedAt.Format(time.RFC3339Nano),
		})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// psqlCopy loads file with psql's \copy and returns how long psql ran.
func psqlCopy(b *testing.B, url, file string) time.Duration {
	b.Helper()
	cmd := exec.Command("psql", url, "-v", "ON_ERROR_STOP=1", "-q", "-c",
		fmt.Sprintf(`\copy audit_logs(%s) FROM '%s' CSV`, csvColumns, file))
	start := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(start)
	if err != nil {
		b.Fatalf("psql \\copy: %v: %s", err, out)
	}
	return took
}

// BenchmarkAuditStatistics measures Statistics (counts and latency
// percentiles in one query) over a window of 100,000 events, beside the
// seed's three separate queries (count, group by status, group by action,
// no percentiles) as raw SQL, in the same run.
func BenchmarkAuditStatistics(b *testing.B) {
	const rows = 100_000
	for _, engine := range engines {
		b.Run(engine, func(b *testing.B) {
			s := newStore(b, engine)
			ctx := context.Background()
			for i := 0; i < rows; i += 10_000 {
				if _, err := s.AuditLogs().InsertBatch(ctx, benchEvents(i, 10_000)); err != nil {
					b.Fatal(err)
				}
			}
			from, to := benchBase, benchBase.Add(rows*time.Millisecond)
			seed := seedStatistics(b, s)
			var oneTime, seedTime time.Duration
			for b.Loop() {
				start := time.Now()
				st, err := s.AuditLogs().Statistics(ctx, from, to)
				if err != nil {
					b.Fatal(err)
				}
				oneTime += time.Since(start)
				if st.Total != rows || st.DurationP99MS == nil {
					b.Fatalf("statistics: %+v", st)
				}
				start = time.Now()
				if total := seed(ctx, from, to); total != rows {
					b.Fatalf("seed count: %d", total)
				}
				seedTime += time.Since(start)
			}
			b.ReportMetric(float64(oneTime.Nanoseconds())/float64(b.N), "one-query-ns")
			b.ReportMetric(float64(seedTime.Nanoseconds())/float64(b.N), "seed-3-queries-ns")
			b.ReportMetric(float64(seedTime)/float64(oneTime), "x-seed")
		})
	}
}

// seedStatistics returns the seed's get_statistics: three queries.
func seedStatistics(b *testing.B, s db.Store) func(ctx context.Context, from, to time.Time) int64 {
	const (
		qCount  = "SELECT count(*) FROM audit_logs WHERE created_at >= $1 AND created_at < $2"
		qStatus = "SELECT status, count(*) FROM audit_logs WHERE created_at >= $1 AND created_at < $2 GROUP BY status"
		qAction = "SELECT action, count(*) FROM audit_logs WHERE created_at >= $1 AND created_at < $2 GROUP BY action"
	)
	groups := func(scan func(q string, into map[string]int64) error, into map[string]int64) {
		for _, q := range []string{qStatus, qAction} {
			if err := scan(q, into); err != nil {
				b.Fatal(err)
			}
		}
	}
	switch s := s.(type) {
	case *postgres.Store:
		pool := s.Pool()
		return func(ctx context.Context, from, to time.Time) int64 {
			var n int64
			if err := pool.QueryRow(ctx, qCount, from, to).Scan(&n); err != nil {
				b.Fatal(err)
			}
			groups(func(q string, into map[string]int64) error {
				rows, err := pool.Query(ctx, q, from, to)
				if err != nil {
					return err
				}
				defer rows.Close()
				for rows.Next() {
					var k string
					var c int64
					if err := rows.Scan(&k, &c); err != nil {
						return err
					}
					into[k] = c
				}
				return rows.Err()
			}, map[string]int64{})
			return n
		}
	case *sqlite.Store:
		conn := s.DB()
		return func(ctx context.Context, from, to time.Time) int64 {
			f, t := from.UnixMicro(), to.UnixMicro()
			var n int64
			if err := conn.QueryRowContext(ctx, qCount, f, t).Scan(&n); err != nil {
				b.Fatal(err)
			}
			groups(func(q string, into map[string]int64) error {
				rows, err := conn.QueryContext(ctx, q, f, t)
				if err != nil {
					return err
				}
				defer rows.Close()
				for rows.Next() {
					var k string
					var c int64
					if err := rows.Scan(&k, &c); err != nil {
						return err
					}
					into[k] = c
				}
				return rows.Err()
			}, map[string]int64{})
			return n
		}
	}
	b.Fatalf("unknown engine %T", s)
	return nil
}
