package adaptertest

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gateway"
	"github.com/mcpstore/mcpstore/internal/testdb"
)

// send makes a raw streamable HTTP request to a session ("" for none) with
// a key.
func send(ctx context.Context, url, method, session, key, body string) (*http.Response, error) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if session != "" {
		req.Header.Set("Mcp-Session-Id", session)
	}
	req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	return http.DefaultClient.Do(req)
}

// statusOf is the HTTP status of send.
func statusOf(t *testing.T, url, method, session, key, body string) int {
	t.Helper()
	resp, err := send(t.Context(), url, method, session, key, body)
	require.NoError(t, err)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// initializeBody is the initialize request a client first sends.
const initializeBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`

// openSession opens a session by hand with key (initialize, then its
// notification) and returns its id.
func openSession(t *testing.T, url, key string) string {
	t.Helper()
	resp, err := send(t.Context(), url, http.MethodPost, "", key, initializeBody)
	require.NoError(t, err)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	sid := resp.Header.Get("Mcp-Session-Id")
	require.NotEmpty(t, sid)
	require.Equal(t, http.StatusAccepted, statusOf(t, url, http.MethodPost, sid, key, `{"jsonrpc":"2.0","method":"notifications/initialized"}`))
	return sid
}

// SessionsBoundToKey: a session belongs to the key that opened it: another
// key, even of the same owner, or with no owner like the first, cannot
// post to it, answer the server's requests on it, open its event stream
// or end it.
func SessionsBoundToKey(t *testing.T, sdk SDK) {
	testdb.EachEngine(t, func(t *testing.T, s db.Store) {
		ctx := t.Context()
		f := serve(t, sdk, s, Options{}, gateway.KeysOptions{})
		for _, owner := range []string{"alice", ""} {
			a, _ := f.issue(t, owner, "*")
			b, _ := f.issue(t, owner, "*")
			cs, err := ConnectGoSDK(ctx, f.URL, a, nil, "2025-11-25", nil)
			require.NoError(t, err)
			sid := cs.ID()
			require.NotEmpty(t, sid)

			ping := `{"jsonrpc":"2.0","id":99,"method":"ping"}`
			answer := `{"jsonrpc":"2.0","id":1,"result":{"role":"assistant","content":{"type":"text","text":"forged"},"model":"m"}}`
			assert.Equal(t, http.StatusForbidden, statusOf(t, f.URL, http.MethodPost, sid, b, ping), "owner %q: a request on another key's session", owner)
			assert.Equal(t, http.StatusForbidden, statusOf(t, f.URL, http.MethodPost, sid, b, answer), "owner %q: an answer on another key's session", owner)
			assert.Equal(t, http.StatusForbidden, statusOf(t, f.URL, http.MethodGet, sid, b, ""), "owner %q: another key's event stream", owner)
			assert.Equal(t, http.StatusForbidden, statusOf(t, f.URL, http.MethodDelete, sid, b, ""), "owner %q: ending another key's session", owner)
			require.NoError(t, cs.Ping(ctx, nil), "owner %q: the session still serves its own key", owner)
			assert.True(t, f.SessionOpen(sid), "owner %q: the session is still open on the server", owner)
			require.NoError(t, cs.Close())
		}
	})
}

// RevokedKeyEndsItsSessions: revoking a key, through any process sharing
// the database, ends its open sessions and their event streams within a
// second.
func RevokedKeyEndsItsSessions(t *testing.T, sdk SDK) {
	testdb.EachEngine(t, func(t *testing.T, s db.Store) {
		ctx := t.Context()
		f := serve(t, sdk, s, Options{}, gateway.KeysOptions{})
		raw, id := f.issue(t, "alice", "*")
		other, _ := f.issue(t, "alice", "*")
		keep, err := ConnectGoSDK(ctx, f.URL, other, nil, "2025-11-25", nil)
		require.NoError(t, err)
		defer keep.Close()

		// A session opened by hand, so that the test holds its event
		// stream (a client opens its own).
		sid := openSession(t, f.URL, raw)
		resp, err := send(ctx, f.URL, http.MethodGet, sid, raw, "")
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		ended := make(chan time.Time, 1)
		go func() {
			io.Copy(io.Discard, bufio.NewReader(resp.Body))
			ended <- time.Now()
		}()
		require.True(t, f.SessionOpen(sid))

		// Revoked in the database, not through Keys: as another process
		// would.
		revokedAt := time.Now()
		_, err = s.APIKeys().Revoke(ctx, id, revokedAt, "leaked")
		require.NoError(t, err)
		select {
		case at := <-ended:
			t.Logf("event stream ended %s after the revocation", at.Sub(revokedAt).Round(time.Millisecond))
		case <-time.After(time.Second):
			t.Fatal("the revoked key's event stream is still open after 1s")
		}
		require.Eventually(t, func() bool { return !f.SessionOpen(sid) }, time.Second, 5*time.Millisecond,
			"the revoked key's session is closed on the server")
		assert.NoError(t, keep.Ping(ctx, nil), "another key's session stays open")
		assert.True(t, f.SessionOpen(keep.ID()))
	})
}

// ExpiredKeyEndsItsSessions: a session of a key that expires ends when it
// expires.
func ExpiredKeyEndsItsSessions(t *testing.T, sdk SDK) {
	testdb.EachEngine(t, func(t *testing.T, s db.Store) {
		ctx := t.Context()
		f := serve(t, sdk, s, Options{}, gateway.KeysOptions{})
		raw, _, err := f.Keys.Issue(ctx, gateway.IssueOptions{Name: "k", Owner: "alice", Permissions: []string{"*"},
			ExpiresAt: time.Now().Add(300 * time.Millisecond)})
		require.NoError(t, err)
		cs, err := ConnectGoSDK(ctx, f.URL, raw, nil, "2025-11-25", nil)
		require.NoError(t, err)
		defer cs.Close()
		sid := cs.ID()
		waited := make(chan error, 1)
		go func() { waited <- cs.Wait() }()
		select {
		case <-waited:
		case <-time.After(2 * time.Second):
			t.Fatal("the expired key's session is still open")
		}
		require.Eventually(t, func() bool { return !f.SessionOpen(sid) }, time.Second, 5*time.Millisecond,
			"the session is closed on the server")
	})
}
