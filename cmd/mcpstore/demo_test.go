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
		`Contents: "Welcome to the example server."`,                     // the readable resource
		`may not read resource "example://secrets/db-password"`,          // the secret one
		`Prompt: "Say hello to alice."`,                                  // the allowed prompt
		`may not get prompt "admin_report"`,                              // the other
		"resources/read", "example://secrets/db-password", "prompts/get", // their audit rows
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
	resources := o[strings.Index(o, "== resources/list"):strings.Index(o, "== resources/read")]
	assert.Contains(t, resources, "example://docs/readme")
	assert.NotContains(t, resources, "secrets", "resources/list is filtered by the key's permissions")
	assert.NotContains(t, o, "hunter2", "the secret resource is never read")
	assert.Regexp(t, `Events from \S+ to \S+: 7\n`, o, "seven audit rows: two calls, two reads, two prompts, the 401")
}
