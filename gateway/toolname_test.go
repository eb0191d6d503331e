package gateway_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gateway"
)

func TestValidateToolName(t *testing.T) {
	valid := []string{"a", "read_file", "get-weather", "v2.search", "UPPER_lower-09.x", strings.Repeat("z", 128)}
	for _, name := range valid {
		assert.NoError(t, gateway.ValidateToolName(name), "%q", name)
	}
	invalid := map[string]string{
		"empty":        "",
		"129 chars":    strings.Repeat("z", 129),
		"space":        "read file",
		"slash":        "fs/read",
		"comma":        "a,b",
		"colon":        "ns:tool",
		"unicode":      "café",
		"emoji":        "🔧",
		"tab":          "a\tb",
		"NUL":          "a\x00b",
		"invalid UTF8": "a\xffb",
	}
	for what, name := range invalid {
		err := gateway.ValidateToolName(name)
		require.Error(t, err, what)
		assert.ErrorIs(t, err, db.ErrInvalid, what)
		var te *gateway.ToolError
		require.True(t, errors.As(err, &te), what)
		assert.Equal(t, "name", te.Field, what)
		assert.Equal(t, name, te.Tool, what)
	}
	// A long bad name is cut short in the message.
	err := gateway.ValidateToolName(strings.Repeat("y", 300))
	assert.Less(t, len(err.Error()), 200)
}

func TestQualifiedNameRoundTrip(t *testing.T) {
	cases := []struct{ server, tool, qualified string }{
		{"files", "read_file", "files/read_file"},
		{"team/files", "read_file", "team/files/read_file"},
		{"https://example.com/mcp", "v1.search", "https://example.com/mcp/v1.search"},
		{"s", strings.Repeat("t", 128), "s/" + strings.Repeat("t", 128)},
		{"dévs", "x", "dévs/x"},
	}
	for _, c := range cases {
		q := gateway.QualifiedName(c.server, c.tool)
		assert.Equal(t, c.qualified, q)
		server, tool, err := gateway.ParseQualifiedName(q)
		require.NoError(t, err, q)
		assert.Equal(t, c.server, server, q)
		assert.Equal(t, c.tool, tool, q)
	}
}

func TestParseQualifiedNameRefuses(t *testing.T) {
	cases := map[string]string{
		"no separator":     "read_file",
		"empty":            "",
		"no server":        "/read_file",
		"no tool":          "files/",
		"bad tool":         "files/read file",
		"server too long":  strings.Repeat("s", db.MaxShortLen+1) + "/t",
		"tool too long":    "files/" + strings.Repeat("t", 129),
		"NUL in server id": "fi\x00les/read",
	}
	for what, q := range cases {
		server, tool, err := gateway.ParseQualifiedName(q)
		assert.ErrorIs(t, err, db.ErrInvalid, what)
		var te *gateway.ToolError
		assert.ErrorAs(t, err, &te, what)
		assert.Empty(t, server+tool, what)
	}
}

func TestToolErrorMessage(t *testing.T) {
	err := &gateway.ToolError{Server: "files", Index: 2, Tool: "read", Field: "inputSchema", Msg: `must have "type": "object"`}
	assert.Equal(t, `gateway: invalid tool "read" (#2 of server "files"): inputSchema: must have "type": "object"`, err.Error())
	assert.ErrorIs(t, err, db.ErrInvalid)
	err = &gateway.ToolError{Index: -1, Field: "serverId", Msg: "must not be empty"}
	assert.Equal(t, `gateway: invalid tool: serverId: must not be empty`, err.Error())
}
