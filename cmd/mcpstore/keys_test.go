package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/db/dbopen"
)

// lastLine returns the last non-empty line of out.
func lastLine(out string) string {
	l := strings.Split(strings.TrimSpace(out), "\n")
	return strings.TrimSpace(l[len(l)-1])
}

// openStore opens the CLI's database directly, to check what it wrote.
func openStore(t *testing.T, url string) db.Store {
	t.Helper()
	s, err := dbopen.Open(t.Context(), url, dbopen.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func TestKeys(t *testing.T) {
	eachDB(t, func(t *testing.T, c cli) {
		c.ok("migrate", "up")
		var stderrs []string
		runAll := func(stdin string, args ...string) (int, string) {
			code, out, errOut := c.run(stdin, args...)
			stderrs = append(stderrs, errOut)
			return code, out
		}

		// Create: the raw key is printed once, on its own last line.
		out := c.ok("keys", "create", "--name", "ci", "--user", "alice", "--role", "admin", "--role", "ops",
			"--permission", "tools:call:echo", "--permission", "tools:call:search_*", "--expires-in", "30d")
		assert.Contains(t, out, "shown only this once")
		raw := lastLine(out)
		require.True(t, strings.HasPrefix(raw, "mcp_"), out)

		// --json: the key and its record, which has no hash.
		var created newKeyJSON
		js := c.ok("keys", "create", "--name", "deploy", "--permission", "tools:call:*", "--json")
		require.NoError(t, json.Unmarshal([]byte(js), &created), js)
		assert.True(t, strings.HasPrefix(created.Key, created.Prefix), "the prefix is the key's start")
		assert.Equal(t, "deploy", created.Name)
		assert.Equal(t, "active", created.State)
		assert.Equal(t, []string{"tools:call:*"}, created.Permissions)
		assert.NotContains(t, strings.ToLower(js), "hash")
		raw2 := created.Key

		store := openStore(t, c.dbURL)
		all, err := store.APIKeys().List(t.Context(), db.KeyQuery{})
		require.NoError(t, err)
		require.Len(t, all, 2)
		first := all[0]
		assert.Equal(t, "ci", first.Name)
		assert.Equal(t, "alice", first.Owner)
		assert.Equal(t, []string{"admin", "ops"}, first.Roles)
		assert.Equal(t, []string{"tools:call:echo", "tools:call:search_*"}, first.Permissions)
		assert.WithinDuration(t, first.CreatedAt.AddDate(0, 0, 30), first.ExpiresAt, 5*time.Second)
		for _, k := range all {
			stored := fmt.Sprintf("%+v", k)
			assert.NotContains(t, stored, raw, "the raw key is never stored")
			assert.NotContains(t, stored, raw2, "the raw key is never stored")
		}

		// List and show: no hash, ever.
		out = c.ok("keys", "list")
		assert.Contains(t, out, first.ID)
		assert.Contains(t, out, created.ID)
		assert.Contains(t, out, "tools:call:echo,tools:call:search_*")
		for _, k := range all {
			assert.NotContains(t, out, k.KeyHash)
		}
		var listed []map[string]any
		js = c.ok("keys", "list", "--json")
		require.NoError(t, json.Unmarshal([]byte(js), &listed), js)
		require.Len(t, listed, 2)
		assert.NotContains(t, js, all[0].KeyHash)
		assert.NotContains(t, strings.ToLower(js), "hash")
		js = c.ok("keys", "list", "--user", "alice", "--json")
		require.NoError(t, json.Unmarshal([]byte(js), &listed), js)
		require.Len(t, listed, 1)
		assert.Equal(t, first.ID, listed[0]["id"])

		out = c.ok("keys", "show", first.ID)
		assert.Contains(t, out, "ci")
		assert.Contains(t, out, "admin,ops")
		assert.NotContains(t, out, first.KeyHash)
		var shown map[string]any
		js = c.ok("keys", "show", first.ID, "--json")
		require.NoError(t, json.Unmarshal([]byte(js), &shown), js)
		assert.Equal(t, first.ID, shown["id"])
		assert.Equal(t, "active", shown["state"])

		// Verify reads stdin, trims it, exits 0 and prints the principal.
		code, out := runAll("  "+raw+"\n", "keys", "verify")
		assert.Equal(t, exitOK, code)
		assert.Contains(t, out, first.ID)
		assert.Contains(t, out, "alice")
		code, out = runAll(raw2+"\n", "keys", "verify", "--json")
		assert.Equal(t, exitOK, code)
		var v verdictJSON
		require.NoError(t, json.Unmarshal([]byte(out), &v), out)
		assert.True(t, v.Valid)
		assert.Equal(t, created.ID, v.Principal.KeyID)

		// Revoke: the key stops working at once.
		out = c.ok("keys", "revoke", first.ID, "--reason", "leaked")
		assert.Contains(t, out, "Revoked API key "+first.ID)
		code, out, errOut := c.run(raw+"\n", "keys", "verify")
		assert.Equal(t, exitFail, code)
		assert.Empty(t, out)
		assert.Equal(t, "invalid API key\n", errOut, "only this, never the key")
		code, out, errOut = c.run(raw, "keys", "verify", "--json")
		assert.Equal(t, exitFail, code)
		require.NoError(t, json.Unmarshal([]byte(out), &v), out)
		assert.False(t, v.Valid)
		assert.Equal(t, "invalid API key\n", errOut)
		js = c.ok("keys", "show", first.ID, "--json")
		require.NoError(t, json.Unmarshal([]byte(js), &shown), js)
		assert.Equal(t, "revoked", shown["state"])
		assert.Equal(t, "leaked", shown["revoke_reason"])
		code, _, errOut = c.run("garbage", "keys", "verify")
		assert.Equal(t, exitFail, code)
		assert.Equal(t, "invalid API key\n", errOut)
		code, _, _ = c.run("", "keys", "verify")
		assert.Equal(t, exitFail, code, "no key is not a valid key")

		// Rotate with a grace period: both keys work until it ends.
		out = c.ok("keys", "rotate", created.ID, "--grace", "1h")
		raw3 := lastLine(out)
		require.True(t, strings.HasPrefix(raw3, "mcp_"), out)
		assert.NotEqual(t, raw2, raw3)
		for _, k := range []string{raw2, raw3} {
			code, _ := runAll(k, "keys", "verify")
			assert.Equal(t, exitOK, code)
		}
		js = c.ok("keys", "show", created.ID, "--json")
		require.NoError(t, json.Unmarshal([]byte(js), &shown), js)
		assert.Equal(t, "rotating", shown["state"])
		code, out, errOut = c.run("", "keys", "rotate", created.ID)
		assert.Equal(t, exitFail, code, "a key rotated already cannot be rotated again")
		assert.Empty(t, out)
		assert.Contains(t, errOut, "conflict")
		code, out = runAll(raw3, "keys", "verify", "--json")
		require.Equal(t, exitOK, code)
		require.NoError(t, json.Unmarshal([]byte(out), &v), out)
		var rotated newKeyJSON
		js = c.ok("keys", "rotate", v.Principal.KeyID, "--json")
		require.NoError(t, json.Unmarshal([]byte(js), &rotated), js)
		assert.Equal(t, v.Principal.KeyID, rotated.Replaces)
		assert.Equal(t, "active", rotated.State)
		assert.True(t, strings.HasPrefix(rotated.Key, "mcp_"))
		code, _ = runAll(raw3, "keys", "verify")
		assert.Equal(t, exitFail, code, "rotated without grace: the old key stops at once")
		code, _ = runAll(rotated.Key, "keys", "verify")
		assert.Equal(t, exitOK, code)
		for _, e := range stderrs {
			assert.NotContains(t, e, "mcp_", "no key on stderr")
		}

		// Not found is a failure, not a usage error.
		code, out, errOut = c.run("", "keys", "show", "no-such-key")
		assert.Equal(t, exitFail, code)
		assert.Empty(t, out)
		assert.Equal(t, 1, strings.Count(errOut, "\n"), errOut)
		assert.Contains(t, errOut, "not found")

		if path, ok := strings.CutPrefix(c.dbURL, "sqlite:"); ok {
			// Every byte SQLite wrote: the file and its journal.
			files, _ := filepath.Glob(path + "*")
			require.NotEmpty(t, files)
			for _, f := range files {
				b, err := os.ReadFile(f)
				require.NoError(t, err)
				for _, k := range []string{raw, raw2, raw3} {
					assert.NotContains(t, string(b), k, "raw key in %s", filepath.Base(f))
				}
			}
		}
	})
}
