// Command report measures mcpstore beside its baselines (the seed's
// per-request approach, GORM, hand-written pgx, pgbench and psql's \copy)
// in one run on one machine, and writes BENCHMARKS.md and the growth chart.
//
// It needs a PostgreSQL server (MCPSTORE_TEST_DATABASE_URL, a role that may
// create databases) and, for the database's own limits, pgbench and psql on
// PATH. `make bench` runs it on a durable server; `make bench-short` runs
// the quick form (-short).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"testing"
	"time"
)

// config sets how long and how much each measurement runs.
type config struct {
	short      bool
	dur        time.Duration // per throughput measurement
	clients    []int         // concurrency levels of key verification
	ingestRows int           // rows per ingestion measurement
	growth     []int         // audit rows (and keys) already stored
	benchtime  string        // testing.Benchmark's -test.benchtime
	pgURL      string
	out        string // BENCHMARKS.md
	svg        string // the growth chart
}

func main() {
	testing.Init()
	short := flag.Bool("short", false, "the quick form (about a minute)")
	out := flag.String("out", "BENCHMARKS.md", "the report to write")
	svg := flag.String("svg", "BENCHMARKS-growth.svg", "the growth chart to write, beside the report")
	flag.Parse()

	c := config{short: *short, out: *out, svg: *svg, clients: []int{1, 4, 16}}
	c.pgURL = os.Getenv("MCPSTORE_TEST_DATABASE_URL")
	if c.pgURL == "" {
		log.Fatal("report: MCPSTORE_TEST_DATABASE_URL is not set (make bench sets it)")
	}
	if c.short {
		c.dur, c.ingestRows, c.growth, c.benchtime = time.Second, 10_000, []int{10_000, 100_000}, "150ms"
	} else {
		c.dur, c.ingestRows, c.growth, c.benchtime = 3*time.Second, 100_000, []int{10_000, 100_000, 1_000_000}, "1s"
	}
	if err := flag.Set("test.benchtime", c.benchtime); err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	start := time.Now()
	r := &report{cfg: c, started: start}
	steps := []struct {
		name string
		run  func(context.Context, *report) error
	}{
		{"machine", machine},
		{"key verification", keysPostgres},
		{"audit ingestion", auditPostgres},
		{"repository operations", repoPostgres},
		{"growth and statistics", growthPostgres},
		{"sqlite", sqliteRows},
		{"mcp gateway", mcpGateway},
	}
	for _, s := range steps {
		t := time.Now()
		log.Printf("report: %s...", s.name)
		if err := s.run(ctx, r); err != nil {
			log.Fatalf("report: %s: %v", s.name, err)
		}
		log.Printf("report: %s done in %s", s.name, time.Since(t).Round(time.Millisecond))
	}
	r.took = time.Since(start)
	md := r.markdown()
	fmt.Print(md)
	if err := os.WriteFile(c.out, []byte(md), 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(c.svg, []byte(r.growthSVG()), 0o644); err != nil {
		log.Fatal(err)
	}
	log.Printf("report: wrote %s and %s in %s", c.out, c.svg, r.took.Round(time.Second))
}
