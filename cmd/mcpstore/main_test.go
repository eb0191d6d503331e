package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/internal/testdb"
)

// cli runs the command line in-process against dbURL and returns its exit
// code and output.
type cli struct {
	t     *testing.T
	dbURL string
}

func (c cli) run(stdin string, args ...string) (code int, stdout, stderr string) {
	c.t.Helper()
	var out, errb bytes.Buffer
	var in io.Reader = strings.NewReader(stdin)
	code = run(context.Background(), append([]string{"--db", c.dbURL}, args...), in, &out, &errb)
	return code, out.String(), errb.String()
}

// ok runs the command, requires exit 0 and an empty stderr, and returns
// stdout.
func (c cli) ok(args ...string) string {
	c.t.Helper()
	code, out, errOut := c.run("", args...)
	require.Equal(c.t, 0, code, "mcpstore %v: stderr %q", args, errOut)
	assert.Empty(c.t, errOut)
	return out
}

func eachDB(t *testing.T, fn func(t *testing.T, c cli)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, cli{t, testdb.SQLiteEmptyURL(t)}) })
	t.Run("postgres", func(t *testing.T) { fn(t, cli{t, testdb.PostgresEmptyURL(t)}) })
}

func TestMigrate(t *testing.T) {
	eachDB(t, func(t *testing.T, c cli) {
		out := c.ok("migrate", "status")
		assert.Contains(t, out, "00001_init.sql")
		assert.Contains(t, out, "pending")
		assert.Equal(t, "migrate up: ok\n", c.ok("migrate", "up"))
		out = c.ok("migrate", "status", "--json")
		var st []migrationJSON
		require.NoError(t, json.Unmarshal([]byte(out), &st), out)
		require.NotEmpty(t, st)
		for _, m := range st {
			assert.True(t, m.Applied)
		}
		assert.Equal(t, "migrate down: ok\n", c.ok("migrate", "down"))
	})
}

// A bad command line: exit 2, nothing on stdout, the error on the first
// line of stderr, then the usage of the command it was for.
func TestUsageErrors(t *testing.T) {
	c := cli{t, testdb.SQLiteEmptyURL(t)}
	for _, tc := range []struct {
		args  []string
		usage string
	}{
		{[]string{"bogus"}, "usage: mcpstore COMMAND"},
		{[]string{"migrate"}, "usage: mcpstore migrate COMMAND"},
		{[]string{"migrate", "sideways"}, "usage: mcpstore migrate COMMAND"},
		{[]string{"tools"}, "usage: mcpstore tools COMMAND"},
		{[]string{"tools", "list", "--nope"}, "usage: mcpstore tools list [flags]"},
		{[]string{"keys", "show"}, "usage: mcpstore keys show ID"},
		{[]string{"keys", "show", "a", "b"}, "usage: mcpstore keys show ID"},
		{[]string{"keys", "create"}, "usage: mcpstore keys create [flags]"},
		{[]string{"audit", "tail", "-n", "x"}, "usage: mcpstore audit tail [flags]"},
		{[]string{"--nope"}, "usage: mcpstore COMMAND"},
	} {
		code, out, errOut := c.run("", tc.args...)
		assert.Equal(t, exitUsage, code, "%v", tc.args)
		assert.Empty(t, out, "%v", tc.args)
		first, rest, _ := strings.Cut(errOut, "\n")
		assert.True(t, strings.HasPrefix(first, "mcpstore: "), errOut)
		assert.True(t, strings.HasPrefix(rest, "\n"+tc.usage+"\n"), "%v: the usage follows: %q", tc.args, errOut)
	}
	code, out, _ := c.run("", "help")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "migrate up ")

	bad := cli{t, "mysql://nowhere"}
	code, _, errOut := bad.run("", "migrate", "status")
	assert.Equal(t, exitFail, code)
	assert.Contains(t, errOut, "url")
	assert.Equal(t, 1, strings.Count(errOut, "\n"), "a failure is one line: %q", errOut)
}
