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
		var st []struct {
			Version int64
			Applied bool
		}
		require.NoError(t, json.Unmarshal([]byte(out), &st), out)
		require.NotEmpty(t, st)
		for _, m := range st {
			assert.True(t, m.Applied)
		}
		assert.Equal(t, "migrate down: ok\n", c.ok("migrate", "down"))
	})
}

func TestUsageErrors(t *testing.T) {
	c := cli{t, testdb.SQLiteEmptyURL(t)}
	for _, args := range [][]string{{"bogus"}, {"migrate"}, {"migrate", "sideways"}, {"tools"}, {"tools", "list", "--nope"}} {
		code, out, errOut := c.run("", args...)
		assert.Equal(t, exitUsage, code, "%v", args)
		assert.Empty(t, out, "%v", args)
		assert.Equal(t, 1, strings.Count(errOut, "\n"), "one line on stderr: %q", errOut)
		assert.True(t, strings.HasPrefix(errOut, "mcpstore: "), errOut)
	}
	code, out, _ := c.run("", "help")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "migrate up|down|status")

	bad := cli{t, "mysql://nowhere"}
	code, _, errOut := bad.run("", "migrate", "status")
	assert.Equal(t, exitFail, code)
	assert.Contains(t, errOut, "url")
}
