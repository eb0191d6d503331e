package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/gateway"
	"github.com/mcpstore/mcpstore/internal/testdb"
)

func TestToolsList(t *testing.T) {
	eachDB(t, func(t *testing.T, c cli) {
		c.ok("migrate", "up")
		s := openStore(t, c.dbURL)
		reg := gateway.NewRegistry(s, gateway.RegistryOptions{})
		schema := json.RawMessage(`{"type":"object"}`)
		_, err := reg.Sync(t.Context(), "files", []gateway.Tool{
			{Name: "read_file", Description: "Reads a file.", InputSchema: schema},
			{Name: "write_file", Description: "Writes a file.", InputSchema: schema},
		})
		require.NoError(t, err)
		_, err = reg.Sync(t.Context(), "search", []gateway.Tool{{Name: "query", InputSchema: schema}})
		require.NoError(t, err)
		// write_file goes away: deactivated, listed only with --all.
		_, err = reg.Sync(t.Context(), "files", []gateway.Tool{{Name: "read_file", Description: "Reads a file.", InputSchema: schema}})
		require.NoError(t, err)

		out := c.ok("tools", "list")
		assert.Contains(t, out, "SERVER")
		assert.Regexp(t, `files\s+read_file\s+true`, out)
		assert.Regexp(t, `search\s+query\s+true`, out)
		assert.NotContains(t, out, "write_file")
		assert.Equal(t, 3, strings.Count(out, "\n"), out)

		var tools []toolJSON
		js := c.ok("tools", "list", "--server", "files", "--all", "--json")
		require.NoError(t, json.Unmarshal([]byte(js), &tools), js)
		require.Len(t, tools, 2)
		assert.Equal(t, "read_file", tools[0].Name)
		assert.True(t, tools[0].Active)
		assert.Equal(t, "write_file", tools[1].Name)
		assert.False(t, tools[1].Active)

		js = c.ok("tools", "list", "--server", "search", "--json")
		require.NoError(t, json.Unmarshal([]byte(js), &tools), js)
		require.Len(t, tools, 1)
		assert.Equal(t, "query", tools[0].Name)
	})
}

func TestUsageErrorsKeysAudit(t *testing.T) {
	c := cli{t, testdb.SQLiteURL(t)}
	for _, args := range [][]string{
		{"keys"}, {"keys", "bogus"}, {"keys", "create"}, {"keys", "create", "--name", "x", "--expires-in", "soon"},
		{"keys", "create", "--name", "x", "--expires-in", "-1h"}, {"keys", "create", "--name", "x", "--nope"},
		{"keys", "create", "--name", "x", "extra"}, {"keys", "show"}, {"keys", "show", "a", "b"}, {"keys", "revoke"},
		{"keys", "rotate", "id", "--grace", "forever"}, {"keys", "rotate", "id", "--grace", "-1h"},
		{"keys", "verify", "mcp_on_the_command_line"}, {"keys", "list", "--role", "x"},
		{"audit"}, {"audit", "bogus"}, {"audit", "tail", "-n", "-1"}, {"audit", "tail", "-n", "x"}, {"audit", "tail", "extra"},
		{"audit", "query"}, {"audit", "query", "--user", "u", "--request", "r"}, {"audit", "query", "--since", "1x"},
		{"audit", "export", "--user", "u", "--request", "r"}, {"audit", "query", "--to", "2026-01-01"},
		{"audit", "query", "--since", "1h", "--from", "2026-01-01"}, {"audit", "query", "--from", "yesterday"},
		{"audit", "query", "--since", "1h", "--limit", "0"}, {"audit", "query", "--since", "1h", "--limit", "10001"},
		{"audit", "query", "--since", "1h", "--offset", "-1"}, {"audit", "query", "--request", "r", "--limit", "5"},
		{"audit", "query", "--from", "2026-02-01", "--to", "2026-01-01"},
		{"audit", "stats", "--since", "0s"}, {"audit", "stats", "--since", "week"},
		{"audit", "prune"}, {"audit", "prune", "--older-than", "ninety days"}, {"audit", "prune", "--older-than", "0d"},
		{"audit", "export", "--format", "xml"}, {"audit", "export", "--since", "-5m"},
		{"demo", "extra"},
	} {
		code, out, errOut := c.run("", args...)
		assert.Equal(t, exitUsage, code, "%v: %s", args, errOut)
		assert.Empty(t, out, "%v", args)
		first, rest, _ := strings.Cut(errOut, "\n")
		assert.True(t, strings.HasPrefix(first, "mcpstore: "), errOut)
		assert.True(t, strings.HasPrefix(rest, "\nusage: mcpstore "), "the usage follows: %q", errOut)
		assert.NotContains(t, errOut, "mcp_on_the_command_line", "an argument is never echoed")
	}
	for _, sub := range []string{"keys", "audit"} {
		out := c.ok(sub, "help")
		assert.Contains(t, out, "usage:")
	}
	out := c.ok("help")
	for _, want := range []string{"keys create", "audit tail", "demo"} {
		assert.Contains(t, out, want)
	}
}
