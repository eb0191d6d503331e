package mcpgo_test

import (
	"testing"

	"github.com/mcpstore/mcpstore/gateway/mcpgo/mcpgobench"
	"github.com/mcpstore/mcpstore/internal/mcpbench"
)

// A tool call over loopback HTTP through Handler (cached key, the message
// read and decided, an audit event) beside the same mcp-go server without
// mcpstore, in alternating rounds: p50_added_µs is what mcpstore adds to a
// call at the median (the target is at most 20 µs).
func BenchmarkToolCallHTTP(b *testing.B) { mcpbench.BenchmarkToolCall(b, mcpgobench.NewPair) }
