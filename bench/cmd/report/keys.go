package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"time"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gateway"
	"github.com/mcpstore/mcpstore/internal/baseline"
)

func hashOf(raw string) string {
	h := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(h[:])
}

// issueKeys issues n keys through k, one per client, so that concurrent
// clients of the seed path do not queue on one row's lock.
func issueKeys(ctx context.Context, k *gateway.Keys, n int) ([]string, error) {
	raws := make([]string, n)
	for i := range raws {
		raw, _, err := k.Issue(ctx, gateway.IssueOptions{Name: fmt.Sprintf("bench-%d", i)})
		if err != nil {
			return nil, err
		}
		raws[i] = raw
	}
	return raws, nil
}

// verifyRates measures cached Verify, uncached Verify and the seed path on
// s at each concurrency level, with one key per client.
func verifyRates(ctx context.Context, r *report, s db.Store, clients []int) (cached, uncached, seed []float64, err error) {
	maxC := clients[len(clients)-1]
	kc, err := gateway.NewKeys(ctx, s, gateway.KeysOptions{})
	if err != nil {
		return nil, nil, nil, err
	}
	defer kc.Close(ctx)
	ku, err := gateway.NewKeys(ctx, s, gateway.KeysOptions{CacheSize: -1})
	if err != nil {
		return nil, nil, nil, err
	}
	defer ku.Close(ctx)
	raws, err := issueKeys(ctx, kc, maxC)
	if err != nil {
		return nil, nil, nil, err
	}
	hashes := make([]string, len(raws))
	for i, raw := range raws {
		hashes[i] = hashOf(raw)
	}
	for _, n := range clients {
		v, err := throughput(ctx, n, r.cfg.dur, func(ctx context.Context, c int) error {
			_, err := kc.Verify(ctx, raws[c])
			return err
		})
		if err != nil {
			return nil, nil, nil, fmt.Errorf("cached verify: %w", err)
		}
		cached = append(cached, v)
		if v, err = throughput(ctx, n, r.cfg.dur, func(ctx context.Context, c int) error {
			_, err := ku.Verify(ctx, raws[c])
			return err
		}); err != nil {
			return nil, nil, nil, fmt.Errorf("uncached verify: %w", err)
		}
		uncached = append(uncached, v)
		if v, err = throughput(ctx, n, r.cfg.dur, func(ctx context.Context, c int) error {
			return baseline.SeedVerify(ctx, s, hashes[c])
		}); err != nil {
			return nil, nil, nil, fmt.Errorf("seed verify: %w", err)
		}
		seed = append(seed, v)
	}
	return cached, uncached, seed, nil
}

var tpsRE = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

// pgbenchSelect runs `pgbench -S -M prepared` (one prepared primary-key
// select per transaction, as pgx's default statement cache sends it) with
// clients connections for d on a database initialised
// by `pgbench -i`, and returns its transactions per second.
func pgbenchSelect(ctx context.Context, url string, clients int, d time.Duration) (float64, error) {
	secs := max(1, int(d.Round(time.Second)/time.Second))
	out, err := exec.CommandContext(ctx, "pgbench", "-S", "-n", "-M", "prepared", "-c", strconv.Itoa(clients), "-j", strconv.Itoa(clients),
		"-T", strconv.Itoa(secs), url).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("pgbench -S: %w: %s", err, out)
	}
	m := tpsRE.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("pgbench -S: no tps in its output: %s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

// keysPostgres fills the key verification rows on PostgreSQL.
func keysPostgres(ctx context.Context, r *report) error {
	_, s, done, err := freshStore(ctx, r, "mcpstore_bench_keys", int32(r.cfg.clients[len(r.cfg.clients)-1]))
	if err != nil {
		return err
	}
	defer done()
	cached, uncached, seed, err := verifyRates(ctx, r, s, r.cfg.clients)
	if err != nil {
		return err
	}

	var limit []float64
	if _, err := exec.LookPath("pgbench"); err != nil {
		r.notef("pgbench is not on PATH: the `pgbench -S` column is empty.")
	} else {
		pb, err := newDatabase(ctx, r.cfg.pgURL, "mcpstore_bench_pgbench", false)
		if err != nil {
			return err
		}
		defer pb.drop()
		if out, err := exec.CommandContext(ctx, "pgbench", "-i", "-q", "-s", "10", pb.url).CombinedOutput(); err != nil {
			return fmt.Errorf("pgbench -i: %w: %s", err, out)
		}
		for _, n := range r.cfg.clients {
			v, err := pgbenchSelect(ctx, pb.url, n, r.cfg.dur)
			if err != nil {
				return err
			}
			limit = append(limit, v)
		}
	}

	t := table{head: []string{"clients", "mcpstore cached (verifies/s)", "mcpstore uncached", "seed path (lookup + UPDATE + commit)", "`pgbench -S` (tps)", "uncached / pgbench -S", "cached / seed", "uncached / seed"}}
	for i, n := range r.cfg.clients {
		row := []string{strconv.Itoa(n), num(cached[i]), num(uncached[i]), num(seed[i])}
		if limit != nil {
			row = append(row, num(limit[i]), ratio(uncached[i]/limit[i]))
			r.goal(fmt.Sprintf("uncached verification ≥ 1.0 × `pgbench -S`, %d client(s)", n), uncached[i]/limit[i], 1.0,
				"an uncached Verify is one select by key_hash plus the key's checks and the decoding of a wider row, where pgbench's select returns one integer; and its client is Go code (pgx, the pool, Verify) sharing the 2 cores with the server, where pgbench is C, so the more clients keep the server busy, the more the client's own CPU counts",
				"nothing in the data path: the cache (the default) removes the select altogether")
		} else {
			row = append(row, "–", "–")
		}
		row = append(row, ratio(cached[i]/seed[i]), ratio(uncached[i]/seed[i]))
		t.rows = append(t.rows, row)
	}
	r.section("1. Key verification (PostgreSQL)",
		fmt.Sprintf("Requests per second, each client verifying its own key for %s. Cached: `Keys.Verify` with its default cache (no database work once a key is known). Uncached: `CacheSize: -1`, one select by key hash per request and no write. Seed path: select by hash, `UPDATE last_used_at`, commit, per request. `pgbench -S`: PostgreSQL's own client running one prepared primary-key select per transaction (`-M prepared`) on a scale-10 `pgbench -i` database on the same server, same number of connections; its rows are random among 1,000,000, where each mcpstore client reads its own key's row.", r.cfg.dur),
		t)
	return nil
}
