package mcpsdk_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/internal/mcpbench"
	"github.com/mcpstore/mcpstore/internal/testdb"
)

// A tool call over loopback HTTP through Handler and Middleware (cached
// key, permission check, audit event) beside the same go-sdk server
// without mcpstore, in alternating rounds: p50_added_µs is what mcpstore
// adds to a call at the median (the target is at most 20 µs).
func BenchmarkToolCallHTTP(b *testing.B) { mcpbench.BenchmarkToolCall(b, mcpbench.NewPair) }

// A tools/list of 1,000 tools through the Middleware for a key with 50
// patterns: reading the server's list, filtering, ordering and paging it
// (the target is at most 200 µs per list).
func BenchmarkFilteredToolsList(b *testing.B) {
	s := testdb.Open(b, testdb.URL(b, "sqlite"))
	list, done, err := mcpbench.ListThroughMiddleware(b.Context(), s)
	require.NoError(b, err)
	defer done()
	n, err := list()
	require.NoError(b, err)
	require.Equal(b, 104, n)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := list(); err != nil {
			b.Fatal(err)
		}
	}
}
