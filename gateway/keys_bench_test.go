package gateway_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gateway"
	"github.com/mcpstore/mcpstore/internal/baseline"
)

// seedNsPerOp caches, per engine, the cost of the seed's per-request path,
// measured in the same run as the benchmarks compared to it.
var seedNsPerOp sync.Map

// benchKey returns Keys on a fresh store of engine and a key it issued.
func benchKey(b *testing.B, engine string, opts gateway.KeysOptions) (db.Store, *gateway.Keys, string) {
	b.Helper()
	s := newStore(b, engine)
	k, err := gateway.NewKeys(b.Context(), s, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { k.Close(context.Background()) })
	raw, _, err := k.Issue(b.Context(), gateway.IssueOptions{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	return s, k, raw
}

func hashOf(raw string) string {
	h := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(h[:])
}

// seedCost measures the seed path on engine once per run, by hand:
// testing.Benchmark cannot run inside a running benchmark.
func seedCost(b *testing.B, engine string) float64 {
	if v, ok := seedNsPerOp.Load(engine); ok {
		return v.(float64)
	}
	s, _, raw := benchKey(b, engine, gateway.KeysOptions{})
	hash := hashOf(raw)
	ctx := context.Background()
	for range 20 { // warm up the connections and statements
		if err := baseline.SeedVerify(ctx, s, hash); err != nil {
			b.Fatal(err)
		}
	}
	n := 0
	start := time.Now()
	for time.Since(start) < 500*time.Millisecond || n < 100 {
		if err := baseline.SeedVerify(ctx, s, hash); err != nil {
			b.Fatal(err)
		}
		n++
	}
	ns := float64(time.Since(start).Nanoseconds()) / float64(n)
	seedNsPerOp.Store(engine, ns)
	b.Logf("seed path on %s: %.0f ns/op over %d requests", engine, ns, n)
	return ns
}

// report adds the ratio of this benchmark's time per op to the seed's.
func report(b *testing.B, seed float64) {
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(ns/seed, "x_seed_time")
	b.ReportMetric(seed/ns, "speedup_vs_seed")
}

// BenchmarkKeysVerify compares, on each engine, the seed's per-request
// database read, write and commit with Verify uncached (a database read,
// no write) and cached (no database at all). Target: cached Verify under
// 1 µs (ns/op), reported beside the seed path measured in the same run
// (x_seed_time, speedup_vs_seed).
func BenchmarkKeysVerify(b *testing.B) {
	for _, engine := range engines {
		b.Run(engine, func(b *testing.B) {
			b.Run("seed", func(b *testing.B) {
				s, _, raw := benchKey(b, engine, gateway.KeysOptions{})
				settings := pgSettings(b, s) // the seed path commits: its cost depends on fsync
				hash := hashOf(raw)
				ctx := b.Context()
				b.ReportAllocs()
				for b.Loop() {
					if err := baseline.SeedVerify(ctx, s, hash); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(1, "x_seed_time")
				settings()
			})
			b.Run("uncached", func(b *testing.B) {
				seed := seedCost(b, engine)
				_, k, raw := benchKey(b, engine, gateway.KeysOptions{CacheSize: -1})
				ctx := b.Context()
				b.ReportAllocs()
				for b.Loop() {
					if _, err := k.Verify(ctx, raw); err != nil {
						b.Fatal(err)
					}
				}
				report(b, seed)
			})
			b.Run("cached", func(b *testing.B) {
				seed := seedCost(b, engine)
				_, k, raw := benchKey(b, engine, gateway.KeysOptions{})
				ctx := b.Context()
				if _, err := k.Verify(ctx, raw); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := k.Verify(ctx, raw); err != nil {
						b.Fatal(err)
					}
				}
				report(b, seed)
			})
			b.Run("cached_parallel", func(b *testing.B) {
				seed := seedCost(b, engine)
				_, k, raw := benchKey(b, engine, gateway.KeysOptions{})
				ctx := b.Context()
				if _, err := k.Verify(ctx, raw); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := k.Verify(ctx, raw); err != nil {
							b.Error(err)
							return
						}
					}
				})
				report(b, seed)
			})
		})
	}
	b.Run("malformed", func(b *testing.B) {
		_, k, raw := benchKey(b, "sqlite", gateway.KeysOptions{})
		bad := raw[:len(raw)-1] + "!"
		ctx := b.Context()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := k.Verify(ctx, bad); err == nil {
				b.Fatal("accepted")
			}
		}
	})
}
