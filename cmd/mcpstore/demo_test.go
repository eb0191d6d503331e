package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDemo(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // the demo's folder lands here, to check it is removed
	var out, errOut strings.Builder
	start := time.Now()
	code := run(context.Background(), []string{"demo"}, strings.NewReader(""), &out, &errOut)
	took := time.Since(start)
	t.Logf("demo took %s (the target is under 10s)", took)
	require.Equal(t, exitOK, code, "stderr: %s", errOut.String())
	assert.Empty(t, errOut.String())
	assert.Less(t, took, 30*time.Second, "a generous bound on a shared machine")

	o := out.String()
	for _, want := range []string{
		"== tools/list",
		`{"text":"HELLO, MCPSTORE"}`,            // the allowed call's result
		`may not call tool "delete_everything"`, // the denied call
		"HTTP 401 Unauthorized",                 // the wrong key
		"== Audit log",                          // the rows the calls left
		"example/upper", "success",              //
		"example/delete_everything", "denied", "unauthorized", //
		"== Statistics", "Events from", //
	} {
		assert.Contains(t, o, want)
	}
	list := o[strings.Index(o, "== tools/list"):strings.Index(o, "== tools/call upper")]
	assert.Contains(t, list, "echo")
	assert.Contains(t, list, "upper")
	assert.NotContains(t, list, "delete_everything", "tools/list is filtered by the key's permissions")
	assert.NotRegexp(t, `mcp_[A-Za-z0-9]{20,}`, o, "the demo prints no key")
	left, err := os.ReadDir(tmp)
	require.NoError(t, err)
	assert.Empty(t, left, "the temporary folder is removed")
	assert.Regexp(t, `Events from \S+ to \S+: 3\n`, o, "three audit rows: upper, the denial, the 401")
}
