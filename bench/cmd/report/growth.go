package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/db/postgres"
	"github.com/mcpstore/mcpstore/gateway"
	"github.com/mcpstore/mcpstore/internal/baseline"
)

const span = 30 * 24 * time.Hour

// fillAudit grows audit_logs from have to want rows, spread evenly over 30
// days from benchBase as if want rows were the whole month.
func fillAudit(ctx context.Context, s db.Store, have, want, total int) error {
	const batch = 10_000
	step := span / time.Duration(total)
	for i := have; i < want; i += batch {
		evs := make([]db.AuditLogCreate, min(batch, want-i))
		for j := range evs {
			evs[j] = auditEvent(i+j, time.Duration(i+j)*step)
		}
		if _, err := s.AuditLogs().InsertBatch(ctx, evs); err != nil {
			return err
		}
	}
	return nil
}

// fillKeys grows api_keys from have to want rows with COPY (the keys are
// never verified: they make the table and its hash index the given size).
func fillKeys(ctx context.Context, s *postgres.Store, have, want int) error {
	rows := make([][]any, 0, want-have)
	for i := have; i < want; i++ {
		id := "fill-" + strconv.Itoa(i)
		rows = append(rows, []any{id, "fill", "mcp_fill", hashOf(id)})
	}
	_, err := s.Pool().CopyFrom(ctx, pgx.Identifier{"api_keys"}, []string{"id", "name", "prefix", "key_hash"}, pgx.CopyFromRows(rows))
	return err
}

// seedStatistics is the seed's get_statistics: three queries.
func seedStatistics(ctx context.Context, s *postgres.Store, from, to time.Time) (int64, error) {
	var n int64
	if err := s.Pool().QueryRow(ctx, baseline.SeedCount, from, to).Scan(&n); err != nil {
		return 0, err
	}
	for _, q := range []string{baseline.SeedByStatus, baseline.SeedByAction} {
		rows, err := s.Pool().Query(ctx, q, from, to)
		if err != nil {
			return 0, err
		}
		m := map[string]int64{}
		for rows.Next() {
			var k string
			var c int64
			if err := rows.Scan(&k, &c); err != nil {
				rows.Close()
				return 0, err
			}
			m[k] = c
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// vacuum runs VACUUM ANALYZE and returns the share of audit_logs' pages
// it left all-visible. An autovacuum started during the fill holds a
// snapshot from before its last rows, and the pages of those cannot be
// marked until it ends: VACUUM runs again (up to 10 times) until 99% are.
func vacuum(ctx context.Context, s *postgres.Store) (float64, error) {
	var visible float64
	for range 10 {
		if _, err := s.Pool().Exec(ctx, "VACUUM ANALYZE api_keys, audit_logs, audit_log_hourly"); err != nil {
			return 0, err
		}
		err := s.Pool().QueryRow(ctx, "SELECT relallvisible::float8 / greatest(relpages, 1) FROM pg_class WHERE oid = 'audit_logs'::regclass").Scan(&visible)
		if err != nil || visible >= 0.99 {
			return visible, err
		}
		time.Sleep(500 * time.Millisecond)
	}
	return visible, nil
}

// growthPostgres measures verification and ingestion with 10k, 100k and
// 1M rows already stored, then statistics over the largest table.
func growthPostgres(ctx context.Context, r *report) error {
	_, s, done, err := freshStore(ctx, r, "mcpstore_bench_growth", 4)
	if err != nil {
		return err
	}
	defer done()
	ku, err := gateway.NewKeys(ctx, s, gateway.KeysOptions{CacheSize: -1})
	if err != nil {
		return err
	}
	defer ku.Close(ctx)
	raw, _, err := ku.Issue(ctx, gateway.IssueOptions{Name: "bench"})
	if err != nil {
		return err
	}
	total := r.cfg.growth[len(r.cfg.growth)-1]
	ingestN := min(r.cfg.ingestRows, 50_000)
	have := 0
	var visible float64
	for _, size := range r.cfg.growth {
		if err := fillAudit(ctx, s, have, size, total); err != nil {
			return fmt.Errorf("fill audit: %w", err)
		}
		if err := fillKeys(ctx, s, have, size); err != nil {
			return fmt.Errorf("fill keys: %w", err)
		}
		have = size
		if visible, err = vacuum(ctx, s); err != nil {
			return err
		}
		v, err := throughput(ctx, 1, r.cfg.dur, func(ctx context.Context, _ int) error { _, err := ku.Verify(ctx, raw); return err })
		if err != nil {
			return err
		}
		// Events of their own time, after the month: they leave the
		// statistics window alone.
		evs := events(ingestN)
		for i := range evs {
			evs[i].CreatedAt = evs[i].CreatedAt.Add(2 * span)
		}
		in, err := ingestAuditor(ctx, s, evs)
		if err != nil {
			return err
		}
		r.growth = append(r.growth, growthPoint{rows: size, verifyPerSec: v, ingestPerSec: in})
	}
	t := table{head: []string{"rows already stored (audit_logs and api_keys)", "uncached Verify (verifies/s, 1 client)", "Auditor ingestion (rows/s, " + num(float64(ingestN)) + " events)", "Verify ÷ at smallest", "ingestion ÷ at smallest"}}
	for _, p := range r.growth {
		g0 := r.growth[0]
		t.rows = append(t.rows, []string{num(float64(p.rows)), num(p.verifyPerSec), num(p.ingestPerSec), ratio(p.verifyPerSec / g0.verifyPerSec), ratio(p.ingestPerSec / g0.ingestPerSec)})
	}
	r.section("6. Growth (PostgreSQL)",
		"The same database grown step by step: audit rows spread over 30 days and as many API keys, then `VACUUM ANALYZE`, then an uncached Verify for "+r.cfg.dur.String()+" and one Auditor ingestion. Flat ratios mean the look-up stays an index probe and ingestion does not degrade as the log grows.",
		t)

	// Statistics over the largest table: a one-day window of the 30, off
	// the hour, so that mcpstore also reads the events of two partial hours.
	// The last ingestion wrote after the last vacuum: vacuum again, as
	// autovacuum would.
	from := baseline.Base.Add(15*24*time.Hour + 17*time.Minute)
	to := from.Add(24 * time.Hour)
	if visible, err = vacuum(ctx, s); err != nil {
		return err
	}
	var hourRows int64
	if err := s.Pool().QueryRow(ctx, "SELECT count(*) FROM audit_log_hourly WHERE hour >= $1 AND hour < $2", from.Truncate(time.Hour).Add(time.Hour), to.Truncate(time.Hour)).Scan(&hourRows); err != nil {
		return err
	}
	var oneN int
	var oneT, seedT time.Duration
	want := int64(0)
	for deadline := time.Now().Add(2 * r.cfg.dur); time.Now().Before(deadline) || oneN < 3; {
		start := time.Now()
		st, err := s.AuditLogs().Statistics(ctx, from, to)
		if err != nil {
			return err
		}
		oneT += time.Since(start)
		oneN++
		start = time.Now()
		n, err := seedStatistics(ctx, s, from, to)
		if err != nil {
			return err
		}
		seedT += time.Since(start)
		if n != st.Total || n == 0 {
			return fmt.Errorf("statistics: mcpstore counted %d, the seed's queries %d", st.Total, n)
		}
		want = n
	}
	one, seed := float64(oneT.Microseconds())/float64(oneN)/1000, float64(seedT.Microseconds())/float64(oneN)/1000

	// The seed's queries once more, on the same rows under the seed's own
	// index set and without mcpstore's triggers: the seed as a whole.
	if _, err := s.Pool().Exec(ctx, seedIndexes); err != nil {
		return fmt.Errorf("seed indexes: %w", err)
	}
	if _, err := vacuum(ctx, s); err != nil {
		return err
	}
	var ownN int
	var ownT time.Duration
	for deadline := time.Now().Add(r.cfg.dur); time.Now().Before(deadline) || ownN < 3; ownN++ {
		start := time.Now()
		if n, err := seedStatistics(ctx, s, from, to); err != nil || n != want {
			return fmt.Errorf("statistics on the seed's indexes: counted %d of %d: %v", n, want, err)
		}
		ownT += time.Since(start)
	}
	own := float64(ownT.Microseconds()) / float64(ownN) / 1000

	r.section("3. Statistics (PostgreSQL)",
		fmt.Sprintf("`AuditLogs().Statistics` (total, by status, by action and the exact p50/p95/p99 latency, in one query: the counts of whole hours from the hourly counts that triggers keep beside the log; the events of the partial hours at the window's edges and every duration of the window, for the percentiles, from the created_at index that carries duration_ms, status and action) beside the seed's three queries (count, group by status, group by action; no percentiles) on the same table, over %s rows spread over 30 days, for a one-day window starting 17 minutes past an hour (%s rows), alternated, %d times each. %.0f%% of the table's pages were all-visible (after a VACUUM run here until 99%% were, as autovacuum keeps them on a log whose recent pages change: migration 00005; a window of the last minutes may still read some pages from the table), which lets index-only scans skip the table; the seed's queries can read mcpstore's index without the table too. The last column runs the seed's queries again, %d times, on the same rows under the seed's own seven indexes (section 2), as the seed stores them.", num(float64(total)), num(float64(want)), oneN, 100*visible, ownN),
		table{head: []string{"rows stored", "mcpstore (ms)", "seed's three queries, same table (ms)", "seed ÷ mcpstore", "seed's three queries, the seed's indexes (ms)", "that ÷ mcpstore"},
			rows: [][]string{{num(float64(total)), fmt.Sprintf("%.2f", one), fmt.Sprintf("%.2f", seed), ratio(seed / one), fmt.Sprintf("%.2f", own), ratio(own / one)}}})
	r.goal("statistics ≥ 3 × faster than the seed's queries (same table)", seed/one, 3,
		"the counts come from one row per whole hour and (status, action) pair ("+num(float64(hourRows))+" here), but the exact percentiles still read and sort every duration of the window ("+num(float64(want))+" here), while the seed's queries read mcpstore's index without visiting the table as well (on the seed's own indexes they take "+fmt.Sprintf("%.2f ms, %s mcpstore's time", own, ratio(own/one))+")",
		"one of two ways, both measured by hand on 1,000,000 rows: per-hour latency histograms beside the hourly counts would give approximate percentiles from a few hundred rows, at the price of exactness; kept exact, the histograms can find the bucket that holds each rank so that only that bucket's durations are read and sorted, which with an expression index on (bucket, created_at) took about 1.5 ms instead of about 4.9 ms for the percentiles, but that index made audit writes about 20% slower (100,000 rows inserted by one statement, timed by hand outside this run: 1.12–1.22 s against 0.95–0.99 s), and without it the window's durations are still all read and the gain was about 15%. mcpstore keeps exact percentiles and its ingestion speed instead")
	return nil
}
