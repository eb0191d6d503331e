package mcpgo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gateway"
	"github.com/mcpstore/mcpstore/gateway/mcpgo"
	"github.com/mcpstore/mcpstore/internal/testdb"
)

// raw is an mcp-go server with echo and secret_tool behind a Gateway, for
// requests written by hand.
type raw struct {
	url     string
	s       *server.MCPServer
	keys    *gateway.Keys
	auditor *gateway.Auditor
	store   db.Store
	notes   atomic.Int32 // notifications/acme the server received
}

func newRaw(t *testing.T, st db.Store) *raw {
	t.Helper()
	keys, err := gateway.NewKeys(t.Context(), st, gateway.KeysOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { keys.Close(context.Background()) })
	auditor := gateway.NewAuditor(st, gateway.AuditorOptions{FlushInterval: 10 * time.Millisecond})
	t.Cleanup(func() { auditor.Close(context.Background()) })
	g := mcpgo.New(mcpgo.Options{ServerID: "srv", Keys: keys, Auditor: auditor})
	t.Cleanup(func() { g.Close() })
	r := &raw{s: server.NewMCPServer("raw", "1"), keys: keys, auditor: auditor, store: st}
	addEcho(r.s, "echo")
	addEcho(r.s, "secret_tool")
	r.s.AddNotificationHandler("notifications/acme", func(context.Context, mcp.JSONRPCNotification) { r.notes.Add(1) })
	hs := httptest.NewServer(g.Handler(r.s))
	t.Cleanup(hs.Close)
	r.url = hs.URL
	return r
}

func (r *raw) key(t *testing.T, perms ...string) string {
	t.Helper()
	k, _, err := r.keys.Issue(t.Context(), gateway.IssueOptions{Name: "k", Owner: "alice", Permissions: perms})
	require.NoError(t, err)
	return k
}

// post sends body with key on session (none when ""); it returns the
// status, the JSON-RPC error code (0 for none) and the body.
func (r *raw) post(t *testing.T, key, session, body string) (int, int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, r.url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	if session != "" {
		req.Header.Set("Mcp-Session-Id", session)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var msg struct {
		Error *struct{ Code int } `json:"error"`
	}
	code := 0
	if json.Unmarshal(bytes.TrimSpace(b), &msg) == nil && msg.Error != nil {
		code = msg.Error.Code
	}
	return resp.StatusCode, code, string(b)
}

// session opens a session with key and returns its id.
func (r *raw) session(t *testing.T, key string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, r.url, strings.NewReader(
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	sid := resp.Header.Get("Mcp-Session-Id")
	require.NotEmpty(t, sid)
	st, _, _ := r.post(t, key, sid, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	require.Equal(t, http.StatusAccepted, st)
	return sid
}

// events returns the audit rows so far.
func (r *raw) events(t *testing.T) []db.AuditLog {
	t.Helper()
	require.NoError(t, r.auditor.Close(t.Context()))
	evs, err := r.store.AuditLogs().ListByDateRange(t.Context(), time.Now().Add(-time.Hour), time.Now().Add(time.Hour), "", db.Page{Limit: db.MaxLimit})
	require.NoError(t, err)
	return evs
}

// Handler reads a message the way mcp-go does (encoding/json into mcp-go's
// own types), so that a message written to be read two ways is decided as
// the server runs it: each of these runs secret_tool for a key that may
// (proof that mcp-go reads it so) and is refused for one that may not.
func TestMessagesDecidedAsMCPGoReadsThem(t *testing.T) {
	testdb.EachEngine(t, func(t *testing.T, st db.Store) {
		r := newRaw(t, st)
		echoOnly, star := r.key(t, "tools:call:echo"), r.key(t, "*")
		echoSession, starSession := r.session(t, echoOnly), r.session(t, star)
		for name, msg := range map[string]string{
			"a second method":        `{"jsonrpc":"2.0","id":2,"method":"ping","method":"tools/call","params":{"name":"secret_tool","arguments":{"text":"ran"}}}`,
			"a second name":          `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","name":"secret_tool","arguments":{"text":"ran"}}}`,
			"keys in capitals":       `{"jsonrpc":"2.0","id":2,"METHOD":"tools/call","Params":{"NAME":"secret_tool","arguments":{"text":"ran"}}}`,
			"an escaped key":         `{"jsonrpc":"2.0","id":2,"\u006dethod":"tools/call","params":{"n\u0061me":"secret_tool","arguments":{"text":"ran"}}}`,
			"an escaped name":        `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"secret\u005ftool","arguments":{"text":"ran"}}}`,
			"a string id":            `{"jsonrpc":"2.0","id":"x","method":"tools/call","params":{"name":"secret_tool","arguments":{"text":"ran"}}}`,
			"params before a method": `{"params":{"name":"secret_tool","arguments":{"text":"ran"}},"jsonrpc":"2.0","id":2,"method":"tools/call"}`,
		} {
			status, code, got := r.post(t, star, starSession, msg)
			require.Equal(t, http.StatusOK, status, "%s: %s", name, got)
			require.Zero(t, code, "%s: mcp-go runs it for a key that may: %s", name, got)
			require.Contains(t, got, "ran", name)
			status, code, got = r.post(t, echoOnly, echoSession, msg)
			assert.Equal(t, http.StatusOK, status, name)
			assert.Equal(t, gateway.CodePermissionDenied, code, "%s: refused: %s", name, got)
			assert.NotContains(t, got, `"ran"`, name)
		}
	})
}

// A message with a null id is a notification to mcp-go: decided as one
// (refused with 403, nothing answered or run) and a notification MCP does
// not let a client send needs its permission; a message with a method and
// a result, which mcp-go ignores, is still decided and audited as not run.
func TestNotificationsAndOddMessagesDecided(t *testing.T) {
	testdb.EachEngine(t, func(t *testing.T, st db.Store) {
		r := newRaw(t, st)
		echoOnly, acme := r.key(t, "tools:call:echo"), r.key(t, "mcp:notifications/acme", "tools:call:*")
		s1, s2 := r.session(t, echoOnly), r.session(t, acme)

		status, code, _ := r.post(t, echoOnly, s1, `{"jsonrpc":"2.0","id":null,"method":"tools/call","params":{"name":"secret_tool"}}`)
		assert.Equal(t, http.StatusForbidden, status, "a refused notification")
		assert.Equal(t, gateway.CodePermissionDenied, code)
		status, _, _ = r.post(t, echoOnly, s1, `{"jsonrpc":"2.0","method":"notifications/acme"}`)
		assert.Equal(t, http.StatusForbidden, status)
		assert.Zero(t, r.notes.Load(), "the server's handler never ran")
		for _, n := range []string{"notifications/cancelled", "notifications/progress", "notifications/roots/list_changed"} {
			status, _, _ = r.post(t, echoOnly, s1, `{"jsonrpc":"2.0","method":"`+n+`","params":{}}`)
			assert.Equal(t, http.StatusAccepted, status, "%s needs no permission", n)
		}
		status, _, _ = r.post(t, acme, s2, `{"jsonrpc":"2.0","method":"notifications/acme"}`)
		assert.Equal(t, http.StatusAccepted, status)
		assert.EqualValues(t, 1, r.notes.Load(), "delivered to a key that may send it")

		status, code, _ = r.post(t, echoOnly, s1, `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"secret_tool"},"result":{}}`)
		assert.Equal(t, gateway.CodePermissionDenied, code, "refused: %d", status)
		status, _, body := r.post(t, acme, s2, `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"secret_tool","arguments":{"text":"ran"}},"result":{}}`)
		assert.Less(t, status, 300)
		assert.NotContains(t, body, "ran", "mcp-go ignores it")

		rows := map[string]int{}
		for _, ev := range r.events(t) {
			rows[ev.Action+" "+ev.ResourceID+" "+ev.Status+" "+ev.ErrorMessage]++
		}
		assert.Equal(t, map[string]int{
			"tools/call srv/secret_tool denied permission denied: tools:call:secret_tool":            2,
			"notifications/acme notifications/acme denied permission denied: mcp:notifications/acme": 1,
			"notifications/acme notifications/acme success ":                                         1,
			"tools/call srv/secret_tool error the server did not run the request":                    1,
		}, rows)
	})
}

// A session id the Gateway did not bind to the key is refused, though
// mcp-go's default session ids are valid anywhere; a session its key
// ended is gone; an answer needs its own session (mcp-go takes an empty
// one, an answer to its pings, without looking further: it does nothing).
func TestUnknownAndEndedSessions(t *testing.T) {
	testdb.EachEngine(t, func(t *testing.T, st db.Store) {
		r := newRaw(t, st)
		k := r.key(t, "*")
		ping := `{"jsonrpc":"2.0","id":9,"method":"ping"}`
		status, _, _ := r.post(t, k, "mcp-session-"+uuid.NewString(), ping)
		assert.Equal(t, http.StatusNotFound, status, "a made-up session id of mcp-go's form")
		sid := r.session(t, k)
		status, _, _ = r.post(t, k, sid, ping)
		require.Equal(t, http.StatusOK, status)

		req, err := http.NewRequestWithContext(t.Context(), http.MethodDelete, r.url, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+k)
		req.Header.Set("Mcp-Session-Id", sid)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		status, _, _ = r.post(t, k, sid, ping)
		assert.Equal(t, http.StatusNotFound, status, "ended by its client: gone")

		status, _, _ = r.post(t, k, "", `{"jsonrpc":"2.0","id":1,"result":{"x":1}}`)
		assert.GreaterOrEqual(t, status, 400, "an answer without a session")

		// Without a key: 401, but for a CORS preflight, which mcp-go
		// refuses (no CORS configured) and which carries no message.
		for method, want := range map[string]int{http.MethodPost: http.StatusUnauthorized, http.MethodGet: http.StatusUnauthorized,
			http.MethodDelete: http.StatusUnauthorized, http.MethodOptions: http.StatusNotFound} {
			req, err := http.NewRequestWithContext(t.Context(), method, r.url, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, want, resp.StatusCode, method)
		}
	})
}

// A server equipped by Handler refuses what does not come through it (its
// own dispatch called directly, as stdio and in-process transports do)
// when keys are on, and runs it without keys.
func TestServedOnlyThroughHandler(t *testing.T) {
	st := testdb.Open(t, testdb.URL(t, "sqlite"))
	keys, err := gateway.NewKeys(t.Context(), st, gateway.KeysOptions{})
	require.NoError(t, err)
	defer keys.Close(context.Background())
	call := json.RawMessage(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"ran"}}}`)

	s := server.NewMCPServer("s", "1")
	addEcho(s, "echo")
	g := mcpgo.New(mcpgo.Options{Keys: keys})
	defer g.Close()
	g.Handler(s)
	res, ok := s.HandleMessage(t.Context(), call).(mcp.JSONRPCError)
	require.True(t, ok, "refused")
	assert.Contains(t, res.Error.Message, "did not pass mcpstore's policy")

	open := server.NewMCPServer("s", "1")
	addEcho(open, "echo")
	g2 := mcpgo.New(mcpgo.Options{})
	defer g2.Close()
	g2.Handler(open)
	_, ok = open.HandleMessage(t.Context(), call).(mcp.JSONRPCResponse)
	assert.True(t, ok, "without keys nothing is enforced")
}
