package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
)

func TestSafe(t *testing.T) {
	for in, want := range map[string]string{
		"search_files":                       "search_files",
		"\x1b]0;pwned\x07\x1b[2J":            `\x1b]0;pwned\x07\x1b[2J`,
		"a\tb\nc\rd":                         `a\x09b\x0ac\x0dd`,
		"del\x7f":                            `del\x7f`,
		"csi\u009b31m":                       `csi\x9b31m`,
		"evil\u202etxt.exe":                  `evil\u202etxt.exe`,
		"line\u2028sep":                      `line\u2028sep`,
		`C:\x1b`:                             `C:\\x1b`,
		"bad\xffbyte":                        `bad\xffbyte`,
		"café ✓ 日本":                          "café ✓ 日本",
		"":                                   "",
		"tab\tand " + strings.Repeat("é", 3): `tab\x09and ééé`,
	} {
		assert.Equal(t, want, safe(in), "%q", in)
	}
	js := safeJSON([]byte(`{"a":"x` + "\x7f\u009b\u202e" + `y"}`))
	assert.Equal(t, `{"a":"x\u007f\u009b\u202ey"}`, string(js))
	var v map[string]string
	require.NoError(t, json.Unmarshal(js, &v))
	assert.Equal(t, "x\x7f\u009b\u202ey", v["a"], "the same JSON value")
}

// hostile is what a client put in the audit log to reach an operator's
// terminal: a tool name that sets the window title and clears the screen,
// a C1 control sequence, DEL, a right-to-left override, and a line break
// that would forge a line.
const hostile = "\x1b]0;pwned\x07\x1b[2J|\u009b31m|\x7f|\u202e|\nforged #1  success"

// assertTerminalSafe fails when out holds a control character other than
// the line ends of its own lines, or a bidirectional control.
func assertTerminalSafe(t *testing.T, what, out string) {
	t.Helper()
	for i, r := range out {
		if r == '\n' {
			continue
		}
		if r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f || unsafeRune(r) || r == utf8.RuneError {
			t.Errorf("%s: %U at byte %d reaches the terminal: %q", what, r, i, out)
			return
		}
	}
	assert.NotContains(t, out, "\nforged", what)
}

// Every command that prints stored values escapes what a terminal would
// act on, in tables, lines and JSON alike.
func TestOutputEscapesControlCharacters(t *testing.T) {
	eachDB(t, func(t *testing.T, c cli) {
		c.ok("migrate", "up")
		s := openStore(t, c.dbURL)
		ctx := t.Context()
		_, err := s.AuditLogs().Insert(ctx, db.AuditLogCreate{
			RequestID: "hostile", ClientRequestID: hostile, UserID: hostile, APIKeyID: hostile, Action: hostile, ResourceType: "tool",
			ResourceID: hostile, Status: hostile, ErrorMessage: hostile, CreatedAt: time.Now().Add(-time.Minute),
		})
		require.NoError(t, err)
		_, err = s.APIKeys().Create(ctx, db.APIKeyCreate{Name: hostile, Prefix: "mcp_x" + hostile, KeyHash: "h", UserID: hostile, Roles: []string{hostile}})
		require.NoError(t, err)
		_, err = s.Tools().Create(ctx, db.ToolCreate{ServerID: hostile, Name: "t" + hostile, Description: hostile, InputSchema: json.RawMessage(`{"type":"object"}`)})
		require.NoError(t, err)

		tail := c.ok("audit", "tail")
		assert.Contains(t, tail, `\x1b]0;pwned\x07\x1b[2J`, "shown, escaped")
		for _, args := range [][]string{
			{"audit", "tail"}, {"audit", "tail", "--json"},
			{"audit", "query", "--request", "hostile"}, {"audit", "query", "--since", "1h"}, {"audit", "query", "--user", hostile},
			{"audit", "query", "--client-request", hostile}, {"audit", "query", "--since", "1h", "--json"},
			{"audit", "stats", "--since", "1h"}, {"audit", "export", "--since", "1h"},
			{"keys", "list"}, {"keys", "list", "--json"}, {"tools", "list"}, {"tools", "list", "--json"},
		} {
			out := c.ok(args...)
			assertTerminalSafe(t, strings.Join(args, " "), out)
			if !strings.Contains(strings.Join(args, " "), "stats") {
				assert.Contains(t, out, `pwned`, "%v shows the event", args)
			}
		}
	})
}
