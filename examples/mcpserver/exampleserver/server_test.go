package exampleserver_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/examples/mcpserver/exampleserver"
	"github.com/mcpstore/mcpstore/gateway"
	"github.com/mcpstore/mcpstore/internal/mcphttp"
	"github.com/mcpstore/mcpstore/internal/testdb"
)

// traceID is the W3C trace id every request of the test carries.
const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"

func connect(ctx context.Context, url, key string) (*mcp.ClientSession, error) {
	client := mcp.NewClient(&mcp.Implementation{Name: "e2e", Version: "1"}, nil)
	transport := mcphttp.Bearer(key)
	transport["traceparent"] = "00-" + traceID + "-00f067aa0ba902b7-01"
	return client.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint: url, HTTPClient: &http.Client{Transport: transport}, MaxRetries: -1,
	}, nil)
}

// status returns the HTTP status of an MCP initialize request sent with key.
func status(t *testing.T, url, key string) int {
	t.Helper()
	code, _, err := mcphttp.Initialize(t.Context(), url, key)
	require.NoError(t, err)
	return code
}

func TestEndToEnd(t *testing.T) {
	testdb.EachEngine(t, endToEnd)
}

func endToEnd(t *testing.T, store db.Store) {
	ctx := t.Context()
	srv, err := exampleserver.New(ctx, store)
	require.NoError(t, err)
	hs := httptest.NewServer(srv.Handler)
	defer hs.Close()

	issue := func(name string, perms []string, exp time.Time) (string, gateway.KeyInfo) {
		raw, info, err := srv.Keys.Issue(ctx, gateway.IssueOptions{Name: name, Owner: "alice", Permissions: perms, ExpiresAt: exp})
		require.NoError(t, err)
		return raw, info
	}
	good, goodInfo := issue("good", []string{"tools:call:echo", "tools:call:up*"}, time.Time{})
	revoked, _ := issue("revoked", []string{"tools:call:*"}, time.Time{})
	expiresAt := time.Now().Add(time.Second)
	expiring, _ := issue("expiring", []string{"tools:call:*"}, expiresAt)

	// A valid key: its calls run and are audited; tools/list shows only
	// what it may call.
	cs, err := connect(ctx, hs.URL, good)
	require.NoError(t, err)
	defer cs.Close()
	list, err := cs.ListTools(ctx, nil)
	require.NoError(t, err)
	var names []string
	for _, tool := range list.Tools {
		names = append(names, tool.Name)
	}
	assert.ElementsMatch(t, []string{"echo", "upper"}, names, "tools/list is filtered by the key's permissions")
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "upper", Arguments: map[string]any{"text": "hi"}})
	require.NoError(t, err)
	require.False(t, res.IsError)
	assert.Equal(t, map[string]any{"text": "HI"}, res.StructuredContent)

	// A tool the key may not call: refused with an MCP error, not run, audited.
	_, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "delete_everything", Arguments: map[string]any{}})
	var rpcErr *jsonrpc.Error
	require.True(t, errors.As(err, &rpcErr), "a JSON-RPC error: %v", err)
	assert.EqualValues(t, gateway.CodePermissionDenied, rpcErr.Code)

	// Bad, revoked and expired keys: 401 before anything runs.
	require.NoError(t, srv.Keys.Revoke(ctx, keyID(t, srv, revoked), "test"))
	time.Sleep(time.Until(expiresAt) + 50*time.Millisecond)
	for name, key := range map[string]string{"none": "", "malformed": "mcp_nope", "revoked": revoked, "expired": expiring} {
		assert.Equal(t, http.StatusUnauthorized, status(t, hs.URL, key), name)
		_, err := connect(ctx, hs.URL, key)
		assert.Error(t, err, name)
	}
	assert.Equal(t, http.StatusOK, status(t, hs.URL, good))

	require.NoError(t, srv.Close(ctx)) // flushes the audit log
	calls, err := store.AuditLogs().ListByDateRange(ctx, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), gateway.MethodToolsCall, db.Page{})
	require.NoError(t, err)
	require.Len(t, calls, 2, "one audit row per tool call")
	byTool := map[string]db.AuditLog{}
	for _, c := range calls {
		byTool[c.ResourceID] = c
	}
	ok := byTool[gateway.QualifiedName(exampleserver.ServerID, "upper")]
	assert.Equal(t, gateway.StatusSuccess, ok.Status)
	assert.Equal(t, "alice", ok.UserID)
	assert.Equal(t, goodInfo.ID, ok.APIKeyID)
	assert.Equal(t, "127.0.0.1", ok.ClientIP)
	assert.Equal(t, traceID, ok.TraceID, "the trace id of the traceparent header")
	assert.NotEmpty(t, ok.RequestID)
	require.NotNil(t, ok.DurationMS)
	assert.JSONEq(t, `{"arguments":{"text":"hi"}}`, string(ok.RequestData))
	denied := byTool[gateway.QualifiedName(exampleserver.ServerID, "delete_everything")]
	assert.Equal(t, gateway.StatusDenied, denied.Status)
	refusals, err := store.AuditLogs().ListByDateRange(ctx, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), gateway.ActionAuth, db.Page{})
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(refusals), 4, "refused keys are audited with their reason")
}

func keyID(t *testing.T, srv *exampleserver.Server, raw string) string {
	t.Helper()
	p, err := srv.Keys.Verify(t.Context(), raw)
	require.NoError(t, err)
	return p.KeyID
}
