package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpstore/mcpstore/db/sqlite"
)

func sqliteVersion(ctx context.Context) (string, error) {
	s, err := sqlite.Open(ctx, "sqlite::memory:", sqlite.Options{})
	if err != nil {
		return "", err
	}
	defer s.Close()
	var v string
	err = s.DB().QueryRowContext(ctx, "SELECT sqlite_version()").Scan(&v)
	return v, err
}

// openSQLite opens a fresh, migrated SQLite database in dir.
func openSQLite(ctx context.Context, dir, name string) (*sqlite.Store, error) {
	s, err := sqlite.Open(ctx, "sqlite:"+filepath.Join(dir, name+".db"), sqlite.Options{})
	if err != nil {
		return nil, err
	}
	if err := s.MigrateUp(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// sqliteRows fills the SQLite rows: key verification, audit ingestion and
// repository operations.
func sqliteRows(ctx context.Context, r *report) error {
	dir, err := os.MkdirTemp("", "mcpstore-bench-sqlite-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	ks, err := openSQLite(ctx, dir, "keys")
	if err != nil {
		return err
	}
	defer ks.Close()
	clients := []int{1, 4}
	cached, uncached, seed, err := verifyRates(ctx, r, ks, clients)
	if err != nil {
		return err
	}
	tk := table{head: []string{"clients", "mcpstore cached (verifies/s)", "mcpstore uncached", "seed path", "cached ÷ seed", "uncached ÷ seed"}}
	for i, n := range clients {
		tk.rows = append(tk.rows, []string{strconv.Itoa(n), num(cached[i]), num(uncached[i]), num(seed[i]), ratio(cached[i] / seed[i]), ratio(uncached[i] / seed[i])})
	}

	as, err := openSQLite(ctx, dir, "audit")
	if err != nil {
		return err
	}
	defer as.Close()
	seq := atomic.Int64{}
	seedRate, err := throughput(ctx, 1, r.cfg.dur, func(ctx context.Context, _ int) error {
		i := int(seq.Add(1))
		_, err := as.AuditLogs().Insert(ctx, auditEvent(2_000_000_000+i, time.Duration(i)*time.Millisecond))
		return err
	})
	if err != nil {
		return err
	}
	aud, err := ingestAuditor(ctx, as, events(r.cfg.ingestRows))
	if err != nil {
		return err
	}
	ta := table{head: []string{"path", "rows/s", "Auditor ÷ this"}, rows: [][]string{
		{"mcpstore Auditor", num(aud), "1.00×"},
		{"seed: one INSERT + commit per event, 1 client", num(seedRate), ratio(aud / seedRate)},
	}}

	rs, err := openSQLite(ctx, dir, "repo")
	if err != nil {
		return err
	}
	defer rs.Close()
	id, err := prepareTools(ctx, rs, "srv")
	if err != nil {
		return err
	}
	tr := table{head: []string{"operation", "mcpstore ns/op", "allocs/op", "B/op"}}
	for j, op := range mcpstoreOps(rs, "srv", id).all() {
		var br testing.BenchmarkResult
		if br, err = benchOp(ctx, op); err != nil {
			return fmt.Errorf("sqlite %s: %w", opNames[j], err)
		}
		tr.rows = append(tr.rows, []string{opNames[j], num(float64(br.NsPerOp())), strconv.FormatInt(br.AllocsPerOp(), 10), strconv.FormatInt(br.AllocedBytesPerOp(), 10)})
	}
	r.section("5. SQLite",
		fmt.Sprintf("The same key, audit and repository measurements on a SQLite file (WAL, synchronous = FULL: every commit waits for the disk). Key verification at 1 and 4 clients (SQLite has one writer: the seed path's commits queue on it). Audit: %s events through the Auditor beside one INSERT + commit per event for %s. Repository operations: mcpstore alone; GORM's SQLite driver (`gorm.io/driver/sqlite`) is built on mattn/go-sqlite3, which needs cgo and a C compiler, while mcpstore's engine is pure Go (modernc.org/sqlite), so a GORM row would compare two different SQLite builds rather than the two code paths.", num(float64(r.cfg.ingestRows)), r.cfg.dur),
		tk, ta, tr)
	return nil
}
