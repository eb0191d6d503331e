package mcpsdk_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/internal/mcpbench"
	"github.com/mcpstore/mcpstore/internal/testdb"
)

// A tool call over loopback HTTP through Handler and Middleware (cached
// key, permission check, audit event) beside the same go-sdk server
// without mcpstore, in alternating rounds: p50_added_µs is what mcpstore
// adds to a call at the median (the target is at most 20 µs).
func BenchmarkToolCallHTTP(b *testing.B) {
	for _, engine := range testdb.Engines {
		b.Run(engine, func(b *testing.B) {
			s := testdb.Open(b, testdb.URL(b, engine))
			p, err := mcpbench.NewPair(b.Context(), s)
			require.NoError(b, err)
			defer p.Close()
			perRound := max(b.N/10, 1)
			b.ResetTimer()
			plain, gw, err := p.Latencies(b.Context(), 10, perRound)
			require.NoError(b, err)
			b.StopTimer()
			us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 }
			b.ReportMetric(us(mcpbench.Quantile(plain, 0.5)), "p50_plain_µs")
			b.ReportMetric(us(mcpbench.Quantile(gw, 0.5)), "p50_mcpstore_µs")
			b.ReportMetric(us(mcpbench.Quantile(gw, 0.5)-mcpbench.Quantile(plain, 0.5)), "p50_added_µs")
		})
	}
}
