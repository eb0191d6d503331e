package adaptertest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gateway"
	"github.com/mcpstore/mcpstore/internal/mcphttp"
	"github.com/mcpstore/mcpstore/internal/testdb"
)

// loopback trusts the test's own proxies: every request comes from
// 127.0.0.1, so X-Forwarded-For names the client.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

// RequestsWithoutParams: requests without params, or with null params,
// where the protocol lets them out (lists, custom methods): refused or run
// and audited, never a crash.
func RequestsWithoutParams(t *testing.T, sdk SDK) {
	testdb.EachEngine(t, func(t *testing.T, s db.Store) {
		f := serve(t, sdk, s, Options{AuditLists: true}, gateway.KeysOptions{})
		for _, perm := range []string{"", "*"} {
			var perms []string
			if perm != "" {
				perms = []string{perm}
			}
			raw, _ := f.issue(t, "alice", perms...)
			cs, err := ConnectGoSDK(t.Context(), f.URL, raw, nil, "2025-11-25", nil)
			require.NoError(t, err)
			for i, body := range []string{
				`{"jsonrpc":"2.0","id":%d,"method":"acme/search"}`,
				`{"jsonrpc":"2.0","id":%d,"method":"acme/search","params":null}`,
				`{"jsonrpc":"2.0","id":%d,"method":"tools/list"}`,
				`{"jsonrpc":"2.0","id":%d,"method":"resources/list","params":null}`,
				`{"jsonrpc":"2.0","id":%d,"method":"resources/templates/list"}`,
				`{"jsonrpc":"2.0","id":%d,"method":"prompts/list"}`,
			} {
				code := statusOf(t, f.URL, http.MethodPost, cs.ID(), raw, fmt.Sprintf(body, 100+i))
				assert.Equal(t, http.StatusOK, code, "key %q: %s", perm, body)
			}
			require.NoError(t, cs.Ping(t.Context(), nil), "the server is still up")
			require.NoError(t, cs.Close())
		}
		n := 0
		for _, ev := range f.events(t) {
			if ev.Action == SearchMethod || strings.HasSuffix(ev.Action, "/list") {
				n++
			}
		}
		want := 12
		if !sdk.Has.CustomMethods && !sdk.Has.UnknownMethodsReachPolicy {
			want = 8 // the unknown method never reaches the policy
		}
		assert.Equal(t, want, n, "each request audited (lists with AuditLists)")
	})
}

// AuthFailuresLimitedPerAddress: failed verifications from one address
// are limited: past the burst, the address gets 429 with Retry-After and
// its keys are not looked at; other addresses are not affected.
func AuthFailuresLimitedPerAddress(t *testing.T, sdk SDK) {
	testdb.EachEngine(t, func(t *testing.T, s db.Store) {
		ctx := t.Context()
		f := serve(t, sdk, s, Options{TrustedProxies: loopback,
			AuthFailureLimit: gateway.AuthFailureLimit{Burst: 3, Every: time.Hour}}, gateway.KeysOptions{})
		good, _ := f.issue(t, "alice", "*")
		post := func(key, from string) *http.Response {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.URL, strings.NewReader(initializeBody))
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
		assert.Equal(t, http.StatusOK, post(good, "198.51.100.2").StatusCode, "another address is not limited")
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
			assert.Equal(t, http.StatusOK, c)
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

const traceHex = "4bf92f3577b34da6a3ce929d0e0e4736"

// HTTPAuditFields: what the audit row of a call takes from the HTTP
// request: the client's address (from X-Forwarded-For only when trusted),
// the server's own request id with the caller's beside it, and a W3C trace
// id from the request's _meta.
func HTTPAuditFields(t *testing.T, sdk SDK) {
	call := func(t *testing.T, f *fixture, hdr map[string]string, meta map[string]any) db.AuditLog {
		raw, _ := f.issue(t, "alice", "tools:call:*")
		cs, err := ConnectGoSDK(t.Context(), f.URL, raw, hdr, "2025-11-25", nil)
		require.NoError(t, err)
		require.NoError(t, goSDK{cs}.CallTool(t.Context(), "echo", map[string]any{"text": "hi"}, meta))
		require.NoError(t, cs.Close())
		var calls []db.AuditLog
		for _, ev := range f.events(t) {
			if ev.Action == gateway.MethodToolsCall {
				calls = append(calls, ev)
			}
		}
		require.Len(t, calls, 1)
		return calls[0]
	}
	for _, engine := range testdb.Engines {
		t.Run(engine+"/BehindATrustedProxy", func(t *testing.T) {
			s := testdb.Open(t, testdb.URL(t, engine))
			f := serve(t, sdk, s, Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")}}, gateway.KeysOptions{})
			ev := call(t, f, map[string]string{"X-Forwarded-For": "203.0.113.9, 10.0.0.1", "X-Request-Id": "req-abc"},
				map[string]any{"traceparent": "00-" + traceHex + "-00f067aa0ba902b7-01"})
			assert.Equal(t, "203.0.113.9", ev.ClientIP, "the rightmost X-Forwarded-For entry that is not a trusted proxy")
			_, err := uuid.Parse(ev.RequestID)
			assert.NoError(t, err, "the server names the request: %q", ev.RequestID)
			assert.Equal(t, "req-abc", ev.ClientRequestID, "the caller's X-Request-Id, beside it")
			assert.Equal(t, traceHex, ev.TraceID, "the trace id of the traceparent in _meta")
			assert.JSONEq(t, `{"arguments":{"text":"hi"}}`, string(ev.RequestData))
			assert.Equal(t, gateway.StatusSuccess, ev.Status)
		})
		t.Run(engine+"/Direct", func(t *testing.T) {
			s := testdb.Open(t, testdb.URL(t, engine))
			f := serve(t, sdk, s, Options{}, gateway.KeysOptions{})
			long := strings.Repeat("r", 201)
			ev := call(t, f, map[string]string{"X-Forwarded-For": "203.0.113.9", "X-Request-Id": long},
				map[string]any{"traceparent": "00-" + strings.Repeat("0", 32) + "-00f067aa0ba902b7-01"})
			host, _, err := net.SplitHostPort(strings.TrimPrefix(f.URL, "http://"))
			require.NoError(t, err)
			assert.Equal(t, host, ev.ClientIP, "X-Forwarded-For is ignored unless trusted: the peer's address")
			_, err = uuid.Parse(ev.RequestID)
			assert.NoError(t, err, "the server names the request: %q", ev.RequestID)
			assert.Equal(t, strings.Repeat("r", db.MaxShortLen-20), ev.ClientRequestID[:db.MaxShortLen-20], "the caller's id, cut to its limit and marked: %q", ev.ClientRequestID)
			assert.Contains(t, ev.ClientRequestID, "cut", "marked as cut")
			assert.Empty(t, ev.TraceID, "an all-zero trace id is invalid")
		})
	}
}

// HTTPDatabaseFailureIs500: a key that cannot be checked because the
// database is down is not a refused key: the client gets 500 (and may
// retry), not 401, and the response does not echo the key.
func HTTPDatabaseFailureIs500(t *testing.T, sdk SDK) {
	testdb.EachEngine(t, func(t *testing.T, s db.Store) {
		f := serve(t, sdk, s, Options{}, gateway.KeysOptions{CacheSize: -1})
		raw, _, err := f.Keys.Issue(t.Context(), gateway.IssueOptions{Name: "k"})
		require.NoError(t, err)
		code, _, err := mcphttp.Initialize(t.Context(), f.URL, raw)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, code, "the key works while the database does")

		require.NoError(t, s.Close())
		code, body, err := mcphttp.Initialize(t.Context(), f.URL, raw)
		require.NoError(t, err)
		assert.Equal(t, http.StatusInternalServerError, code)
		assert.NotContains(t, string(body), raw)
	})
}
