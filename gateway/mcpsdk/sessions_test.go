package mcpsdk_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gateway"
	"github.com/mcpstore/mcpstore/gateway/mcpsdk"
	"github.com/mcpstore/mcpstore/internal/testdb"
)

// send makes a raw streamable HTTP request to a session with a key.
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
	req.Header.Set("Mcp-Session-Id", session)
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

// A session belongs to the key that opened it: another key, even of the
// same owner, or with no owner like the first, cannot post to it, answer
// the server's requests on it, open its event stream or end it.
func TestSessionsBoundToKey(t *testing.T) {
	testdb.EachEngine(t, func(t *testing.T, s db.Store) {
		ctx := t.Context()
		f := newFixture(t, s, mcpsdk.Options{}, nil)
		for _, owner := range []string{"alice", ""} {
			a, _ := f.issue(t, owner, "*")
			b, _ := f.issue(t, owner, "*")
			cs, err := f.connect(ctx, a, nil)
			require.NoError(t, err)
			sid := cs.ID()
			require.NotEmpty(t, sid)

			ping := `{"jsonrpc":"2.0","id":99,"method":"ping"}`
			answer := `{"jsonrpc":"2.0","id":1,"result":{"role":"assistant","content":{"type":"text","text":"forged"},"model":"m"}}`
			assert.Equal(t, http.StatusForbidden, statusOf(t, f.url, http.MethodPost, sid, b, ping), "owner %q: a request on another key's session", owner)
			assert.Equal(t, http.StatusForbidden, statusOf(t, f.url, http.MethodPost, sid, b, answer), "owner %q: an answer on another key's session", owner)
			assert.Equal(t, http.StatusForbidden, statusOf(t, f.url, http.MethodGet, sid, b, ""), "owner %q: another key's event stream", owner)
			assert.Equal(t, http.StatusForbidden, statusOf(t, f.url, http.MethodDelete, sid, b, ""), "owner %q: ending another key's session", owner)
			require.NoError(t, cs.Ping(ctx, nil), "owner %q: the session still serves its own key", owner)
			require.NoError(t, cs.Close())
		}
	})
}

// Revoking a key, through any process sharing the database, ends its open
// sessions and their event streams within a second.
func TestRevokedKeyEndsItsSessions(t *testing.T) {
	testdb.EachEngine(t, func(t *testing.T, s db.Store) {
		ctx := t.Context()
		f := newFixture(t, s, mcpsdk.Options{}, nil)
		raw, id := f.issue(t, "alice", "*")
		other, _ := f.issue(t, "alice", "*")
		keep, err := f.connect(ctx, other, nil)
		require.NoError(t, err)
		defer keep.Close()

		// A session opened by hand, so that the test holds its event
		// stream (a go-sdk client opens its own).
		resp, err := send(ctx, f.url, http.MethodPost, "", raw,
			`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`)
		require.NoError(t, err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		sid := resp.Header.Get("Mcp-Session-Id")
		require.NotEmpty(t, sid)
		require.Equal(t, http.StatusAccepted, statusOf(t, f.url, http.MethodPost, sid, raw, `{"jsonrpc":"2.0","method":"notifications/initialized"}`))
		resp, err = send(ctx, f.url, http.MethodGet, sid, raw, "")
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		ended := make(chan time.Time, 1)
		go func() {
			io.Copy(io.Discard, bufio.NewReader(resp.Body))
			ended <- time.Now()
		}()

		// Revoked in the database, not through f.keys: as another process
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
		// go-sdk forgets a closed session in a callback that may run just
		// after the stream ends.
		assert.Eventually(t, func() bool {
			for ss := range f.server.Sessions() {
				if ss.ID() == sid {
					return false
				}
			}
			return true
		}, time.Second, 5*time.Millisecond, "the revoked key's session is closed on the server")
		assert.NoError(t, keep.Ping(ctx, nil), "another key's session stays open")
	})
}

// A session of a key that expires ends when it expires.
func TestExpiredKeyEndsItsSessions(t *testing.T) {
	testdb.EachEngine(t, func(t *testing.T, s db.Store) {
		ctx := t.Context()
		f := newFixture(t, s, mcpsdk.Options{}, nil)
		raw, info, err := f.keys.Issue(ctx, gatewayIssue("*", time.Now().Add(300*time.Millisecond)))
		require.NoError(t, err)
		_ = info
		cs, err := f.connect(ctx, raw, nil)
		require.NoError(t, err)
		defer cs.Close()
		waited := make(chan error, 1)
		go func() { waited <- cs.Wait() }()
		select {
		case <-waited:
		case <-time.After(2 * time.Second):
			t.Fatal("the expired key's session is still open")
		}
	})
}

// Paging a filtered tools/list with a page size of 1 over 1,000 tools of
// which the key may call 10 yields exactly those 10, one a page, and no
// cursor names another tool.
func TestFilteredListPages(t *testing.T) {
	testdb.EachEngine(t, func(t *testing.T, s db.Store) {
		ctx := t.Context()
		f := newFixture(t, s, mcpsdk.Options{}, &mcp.ServerOptions{PageSize: 1})
		var allowed []string
		for i := range 1000 {
			name := fmt.Sprintf("tool_%04d", i)
			addEcho(f.server, name)
			if i%100 == 7 {
				allowed = append(allowed, name)
			}
		}
		var perms []string
		for _, n := range allowed {
			perms = append(perms, "tools:call:"+n)
		}
		raw, _ := f.issue(t, "alice", perms...)
		cs, err := f.connect(ctx, raw, nil)
		require.NoError(t, err)
		defer cs.Close()

		var got []string
		cursor := ""
		for pages := 0; ; pages++ {
			require.Less(t, pages, 20, "paging ends")
			res, err := cs.ListTools(ctx, &mcp.ListToolsParams{Cursor: cursor})
			require.NoError(t, err)
			assert.LessOrEqual(t, len(res.Tools), 1, "the server's page size is honoured")
			assert.Equal(t, "private", res.CacheScope, "a filtered list is for its key alone")
			for _, tool := range res.Tools {
				got = append(got, tool.Name)
			}
			if res.NextCursor == "" {
				break
			}
			decoded, err := base64.RawURLEncoding.DecodeString(res.NextCursor)
			require.NoError(t, err)
			assert.Contains(t, allowed, string(decoded), "a cursor holds only a name the key may see")
			cursor = res.NextCursor
		}
		assert.Equal(t, allowed, got)

		_, err = cs.ListTools(ctx, &mcp.ListToolsParams{Cursor: "!!not a cursor"})
		assert.ErrorContains(t, err, "invalid cursor")

		// What a key gets depends on its permissions, even when they are
		// "*": private to it.
		star, _ := f.issue(t, "alice", "*")
		all, err := f.connect(ctx, star, nil)
		require.NoError(t, err)
		defer all.Close()
		res, err := all.ListTools(ctx, nil)
		require.NoError(t, err)
		assert.Len(t, res.Tools, 1, "page size 1 for * too")
		assert.Equal(t, "private", res.CacheScope)
		read, err := all.ReadResource(ctx, &mcp.ReadResourceParams{URI: docURI})
		require.NoError(t, err)
		assert.Equal(t, "private", read.CacheScope)
	})
}

// Requests without params, or with null params, where go-sdk lets them
// out (lists, custom methods): refused or run and audited, never a crash.
func TestRequestsWithoutParams(t *testing.T) {
	testdb.EachEngine(t, func(t *testing.T, s db.Store) {
		f := newFixture(t, s, mcpsdk.Options{AuditLists: true}, nil)
		for _, perm := range []string{"", "*"} {
			var perms []string
			if perm != "" {
				perms = []string{perm}
			}
			raw, _ := f.issue(t, "alice", perms...)
			cs, err := f.connect(t.Context(), raw, nil)
			require.NoError(t, err)
			for i, body := range []string{
				`{"jsonrpc":"2.0","id":%d,"method":"acme/search"}`,
				`{"jsonrpc":"2.0","id":%d,"method":"acme/search","params":null}`,
				`{"jsonrpc":"2.0","id":%d,"method":"tools/list"}`,
				`{"jsonrpc":"2.0","id":%d,"method":"resources/list","params":null}`,
				`{"jsonrpc":"2.0","id":%d,"method":"resources/templates/list"}`,
				`{"jsonrpc":"2.0","id":%d,"method":"prompts/list"}`,
			} {
				code := statusOf(t, f.url, http.MethodPost, cs.ID(), raw, fmt.Sprintf(body, 100+i))
				assert.Equal(t, http.StatusOK, code, "key %q: %s", perm, body)
			}
			require.NoError(t, cs.Ping(t.Context(), nil), "the server is still up")
			require.NoError(t, cs.Close())
		}
		evs := f.events(t)
		n := 0
		for _, ev := range evs {
			if ev.Action == searchCall || strings.HasSuffix(ev.Action, "/list") {
				n++
			}
		}
		assert.Equal(t, 12, n, "each request audited (lists with AuditLists)")
	})
}

// Failed verifications from one address are limited: past the burst, the
// address gets 429 with Retry-After and its keys are not looked at; other
// addresses are not affected.
func TestAuthFailuresLimitedPerAddress(t *testing.T) {
	testdb.EachEngine(t, func(t *testing.T, s db.Store) {
		ctx := t.Context()
		f := newFixture(t, s, mcpsdk.Options{TrustedProxies: loopback,
			AuthFailureLimit: gatewayLimit(3, time.Hour)}, nil)
		good, _ := f.issue(t, "alice", "*")
		post := func(key, from string) *http.Response {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.url, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("X-Forwarded-For", from)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp
		}
		bad := "mcp_" + strings.Repeat("A", 49) // malformed: refused without a query, still a failure
		for i := range 3 {
			assert.Equal(t, http.StatusUnauthorized, post(bad, "198.51.100.1").StatusCode, "failure %d", i+1)
		}
		resp := post(bad, "198.51.100.1")
		assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
		assert.NotEmpty(t, resp.Header.Get("Retry-After"))
		assert.Equal(t, http.StatusTooManyRequests, post(good, "198.51.100.1").StatusCode, "a blocked address's keys are not looked at")
		assert.NotEqual(t, http.StatusTooManyRequests, post(good, "198.51.100.2").StatusCode, "another address is not limited")
		assert.Equal(t, http.StatusUnauthorized, post(bad, "198.51.100.2").StatusCode)

		// Requests verified at the same moment cannot overrun the limit
		// together: 200 distinct well-formed made-up keys at once from one
		// address reach the database at most 3 times.
		made := madeUpKeys(t, 200)
		var wg sync.WaitGroup
		codes := make(chan int, 200)
		for _, key := range made {
			wg.Go(func() { codes <- post(key, "198.51.100.3").StatusCode })
		}
		wg.Wait()
		close(codes)
		counts := map[int]int{}
		for c := range codes {
			counts[c]++
		}
		assert.Equal(t, 3, counts[http.StatusUnauthorized], "looked up and refused: the burst")
		assert.Equal(t, 197, counts[http.StatusTooManyRequests])
		// A verified key in the cache takes nothing from its address's
		// budget: many at once all pass.
		wg = sync.WaitGroup{}
		codes = make(chan int, 50)
		for range 50 {
			wg.Go(func() { codes <- post(good, "198.51.100.4").StatusCode })
		}
		wg.Wait()
		close(codes)
		for c := range codes {
			assert.NotEqual(t, http.StatusTooManyRequests, c)
		}
	})
}

// madeUpKeys returns n well-formed keys that no store of the test knows:
// issued on a scratch database of their own.
func madeUpKeys(t *testing.T, n int) []string {
	t.Helper()
	scratch := testdb.Open(t, testdb.URL(t, "sqlite"))
	k, err := gateway.NewKeys(t.Context(), scratch, gateway.KeysOptions{})
	require.NoError(t, err)
	defer k.Close(context.Background())
	keys := make([]string, n)
	for i := range keys {
		keys[i], _, err = k.Issue(t.Context(), gateway.IssueOptions{Name: "made-up"})
		require.NoError(t, err)
	}
	return keys
}
