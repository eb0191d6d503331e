package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gateway/mcpgo/mcpgobench"
	"github.com/mcpstore/mcpstore/internal/mcpbench"
)

// mcpGateway measures what mcpstore adds to an MCP server: a tool call
// over loopback HTTP through the go-sdk adapter (Handler and Middleware),
// and through the mcp-go adapter (Handler), each beside the same server
// without mcpstore (alternating rounds, one run), and the tools/list filter
// of 1,000 tools for a key with 50 patterns.
func mcpGateway(ctx context.Context, r *report) error {
	_, s, done, err := freshStore(ctx, r, "bench_mcp", 4)
	if err != nil {
		return err
	}
	defer done()
	rounds, perRound := 20, 1000
	if r.cfg.short {
		perRound = 100
	}
	sdks := []struct {
		name, title, through string
		newPair              func(context.Context, db.Store) (*mcpbench.Pair, error)
	}{
		{"go-sdk", "go-sdk", "`Handler` and `Middleware`", mcpbench.NewPair},
		{"mcp-go", "mark3labs/mcp-go", "`Handler`, which decides each message before mcp-go reads it", mcpgobench.NewPair},
	}
	added := map[string]float64{}
	var rows [][][]string
	for _, sdk := range sdks {
		rs, a, err := toolCallLatencies(ctx, s, sdk.newPair, rounds, perRound)
		if err != nil {
			return fmt.Errorf("%s: %w", sdk.name, err)
		}
		rows, added[sdk.name] = append(rows, rs), a
	}

	pol, grants, names := mcpbench.FilterFixture()
	visible := mcpbench.Filter(pol, grants, names)
	fb := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			mcpbench.Filter(pol, grants, names)
		}
	})
	filterUS := float64(fb.NsPerOp()) / 1000
	list, listDone, err := mcpbench.ListThroughMiddleware(ctx, s)
	if err != nil {
		return err
	}
	defer listDone()
	var listErr error
	lb := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := list(); err != nil {
				listErr = err
			}
		}
	})
	if listErr != nil {
		return listErr
	}
	listUS := float64(lb.NsPerOp()) / 1000

	intro := fmt.Sprintf("A `tools/call` of one echo tool through go-sdk's client, over streamable HTTP on loopback, to the same server served plain and behind mcpstore (key verified from the cache, permission checked, an audit event recorded and stored in the background), for each SDK: %d rounds of %d calls each, alternating which server goes first; latencies in µs. Below, a `tools/list` of %d tools for a key with 50 patterns (30 exact, 15 prefixes, 5 with an inner star), which sees %d of them, through the go-sdk adapter.", rounds, perRound, len(names), visible)
	var tables []table
	for i, sdk := range sdks {
		tables = append(tables, table{head: []string{"latency", sdk.title + " alone (µs)", "behind mcpstore's " + sdk.through + " (µs)", "added (µs)"}, rows: rows[i]})
	}
	tables = append(tables, table{head: []string{"tools/list of 1,000 tools, key with 50 patterns", "µs per list", "allocs per list"},
		rows: [][]string{
			{"the whole filtered list through `Middleware` (the server's list read, filtered, ordered, paged; no transport)", fmt.Sprintf("%.1f", listUS), fmt.Sprint(lb.AllocsPerOp())},
			{"the permission check alone (`Policy.Visible` per tool)", fmt.Sprintf("%.1f", filterUS), fmt.Sprint(fb.AllocsPerOp())},
		}})
	r.section("7. MCP gateway (go-sdk and mcp-go over loopback HTTP, PostgreSQL)", intro, tables...)
	r.goalAtMostIn("tool call through mcpstore (go-sdk): added time at p50", added["go-sdk"], 20, "µs",
		"the machine's noise between rounds is of the same order as the added time", "more rounds, or a quieter machine")
	r.goalAtMostIn("tool call through mcpstore (mcp-go): added time at p50", added["mcp-go"], 20, "µs",
		"the message is read once more than mcp-go alone reads it, and the machine's noise is of the same order", "more rounds, or a quieter machine")
	r.goalAtMostIn("tools/list filtered through Middleware, 1,000 tools × 50 patterns", listUS, 200, "µs",
		"patterns with inner stars are matched one by one", "index the inner-star patterns by their literal parts")
	return nil
}

// toolCallLatencies warms a pair newPair starts, times its calls in
// alternating rounds, and returns the table rows (p50, p90, p99) and the
// time added at p50, in µs.
func toolCallLatencies(ctx context.Context, s db.Store, newPair func(context.Context, db.Store) (*mcpbench.Pair, error), rounds, perRound int) ([][]string, float64, error) {
	p, err := newPair(ctx, s)
	if err != nil {
		return nil, 0, err
	}
	defer p.Close()
	// Warm both servers (connections, caches, the Auditor's first batch).
	if _, _, err := p.Latencies(ctx, 2, 100); err != nil {
		return nil, 0, err
	}
	plain, gw, err := p.Latencies(ctx, rounds, perRound)
	if err != nil {
		return nil, 0, err
	}
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 }
	var rows [][]string
	for _, q := range []float64{0.5, 0.9, 0.99} {
		a, b := mcpbench.Quantile(plain, q), mcpbench.Quantile(gw, q)
		rows = append(rows, []string{fmt.Sprintf("p%.0f", q*100), fmt.Sprintf("%.1f", us(a)), fmt.Sprintf("%.1f", us(b)), fmt.Sprintf("%+.1f", us(b-a))})
	}
	return rows, us(mcpbench.Quantile(gw, 0.5) - mcpbench.Quantile(plain, 0.5)), nil
}
