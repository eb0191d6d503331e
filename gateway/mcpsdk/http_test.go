package mcpsdk_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gateway"
	"github.com/mcpstore/mcpstore/gateway/mcpsdk"
	"github.com/mcpstore/mcpstore/internal/mcphttp"
	"github.com/mcpstore/mcpstore/internal/testdb"
)

// served is an MCP server with one tool, echo, behind a Gateway over HTTP.
type served struct {
	url     string
	keys    *gateway.Keys
	auditor *gateway.Auditor
}

func serve(t *testing.T, s db.Store, opts mcpsdk.Options, keyOpts gateway.KeysOptions) served {
	t.Helper()
	ctx := t.Context()
	keys, err := gateway.NewKeys(ctx, s, keyOpts)
	require.NoError(t, err)
	t.Cleanup(func() { keys.Close(context.Background()) })
	auditor := gateway.NewAuditor(s, gateway.AuditorOptions{})
	t.Cleanup(func() { auditor.Close(context.Background()) })
	opts.Keys, opts.Auditor = keys, auditor
	g := mcpsdk.New(opts)
	server := mcp.NewServer(&mcp.Implementation{Name: "http", Version: "1"}, nil)
	addEcho(server, "echo")
	server.AddReceivingMiddleware(g.Middleware())
	hs := httptest.NewServer(g.Handler(server, nil))
	t.Cleanup(hs.Close)
	return served{url: hs.URL, keys: keys, auditor: auditor}
}

// call issues a key, connects with it and hdr, and calls echo with meta.
func (sv served) call(t *testing.T, hdr mcphttp.Headers, meta mcp.Meta) {
	t.Helper()
	ctx := t.Context()
	raw, _, err := sv.keys.Issue(ctx, gateway.IssueOptions{Name: "k", Owner: "alice", Permissions: []string{"tools:call:*"}})
	require.NoError(t, err)
	hdr["Authorization"] = "Bearer " + raw
	client := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint: sv.url, HTTPClient: &http.Client{Transport: hdr}, MaxRetries: -1,
	}, nil)
	require.NoError(t, err)
	defer cs.Close()
	_, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "hi"}, Meta: meta})
	require.NoError(t, err)
}

// lastCall flushes the audit log and returns its one tool call.
func (sv served) lastCall(t *testing.T, s db.Store) db.AuditLog {
	t.Helper()
	require.NoError(t, sv.auditor.Close(t.Context()))
	calls, err := s.AuditLogs().ListByDateRange(t.Context(), time.Now().Add(-time.Hour), time.Now().Add(time.Hour), gateway.MethodToolsCall, db.Page{})
	require.NoError(t, err)
	require.Len(t, calls, 1)
	return calls[0]
}

const traceHex = "4bf92f3577b34da6a3ce929d0e0e4736"

// What the audit row of a call takes from the HTTP request: the client's
// address (from X-Forwarded-For only when trusted), the server's own
// request id with the caller's beside it, and a W3C trace id from the
// request's _meta.
func TestHTTPAuditFields(t *testing.T) {
	for _, engine := range testdb.Engines {
		t.Run(engine+"/BehindATrustedProxy", func(t *testing.T) {
			s := testdb.Open(t, testdb.URL(t, engine))
			sv := serve(t, s, mcpsdk.Options{ServerID: "srv", TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")}}, gateway.KeysOptions{})
			sv.call(t, mcphttp.Headers{"X-Forwarded-For": "203.0.113.9, 10.0.0.1", "X-Request-Id": "req-abc"},
				mcp.Meta{"traceparent": "00-" + traceHex + "-00f067aa0ba902b7-01"})
			ev := sv.lastCall(t, s)
			assert.Equal(t, "203.0.113.9", ev.ClientIP, "the rightmost X-Forwarded-For entry that is not a trusted proxy")
			_, err := uuid.Parse(ev.RequestID)
			assert.NoError(t, err, "the server names the request: %q", ev.RequestID)
			assert.Equal(t, "req-abc", ev.ClientRequestID, "the caller's X-Request-Id, beside it")
			assert.Equal(t, traceHex, ev.TraceID, "the trace id of the traceparent in _meta")
		})
		t.Run(engine+"/Direct", func(t *testing.T) {
			s := testdb.Open(t, testdb.URL(t, engine))
			sv := serve(t, s, mcpsdk.Options{ServerID: "srv"}, gateway.KeysOptions{})
			long := strings.Repeat("r", 201)
			sv.call(t, mcphttp.Headers{"X-Forwarded-For": "203.0.113.9", "X-Request-Id": long},
				mcp.Meta{"traceparent": "00-" + strings.Repeat("0", 32) + "-00f067aa0ba902b7-01"})
			ev := sv.lastCall(t, s)
			host, _, err := net.SplitHostPort(strings.TrimPrefix(sv.url, "http://"))
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

// A key that cannot be checked because the database is down is not a
// refused key: the client gets 500 (and may retry), not 401, and the
// response does not echo the key.
func TestHTTPDatabaseFailureIs500(t *testing.T) {
	testdb.EachEngine(t, func(t *testing.T, s db.Store) {
		sv := serve(t, s, mcpsdk.Options{ServerID: "srv"}, gateway.KeysOptions{CacheSize: -1})
		raw, _, err := sv.keys.Issue(t.Context(), gateway.IssueOptions{Name: "k"})
		require.NoError(t, err)
		code, _, err := mcphttp.Initialize(t.Context(), sv.url, raw)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, code, "the key works while the database does")

		require.NoError(t, s.Close())
		code, body, err := mcphttp.Initialize(t.Context(), sv.url, raw)
		require.NoError(t, err)
		assert.Equal(t, http.StatusInternalServerError, code)
		assert.NotContains(t, string(body), raw)
	})
}
