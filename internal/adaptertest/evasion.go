package adaptertest

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gateway"
	"github.com/mcpstore/mcpstore/internal/testdb"
)

// ClientsCannotEvadeTheAuditLog: what a client sends cannot keep its
// request out of the audit log: each of these, sent over HTTP as a hostile
// client would, leaves exactly one row, with what could not be stored
// repaired (both engines).
func ClientsCannotEvadeTheAuditLog(t *testing.T, sdk SDK) {
	testdb.EachEngine(t, func(t *testing.T, s db.Store) {
		ctx := t.Context()
		f := serve(t, sdk, s, Options{TrustedProxies: loopback}, gateway.KeysOptions{})
		raw, keyID := f.issue(t, "alice", "tools:call:echo", "resources:read:test://docs/*")
		cs, err := ConnectGoSDK(ctx, f.URL, raw, nil, "2025-11-25", nil)
		require.NoError(t, err)
		defer cs.Close()

		post := func(key, body string, header map[string]string) int {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.URL, strings.NewReader(body))
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Mcp-Session-Id", cs.ID())
			req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			for k, v := range header {
				req.Header[k] = []string{v} // as sent, unchecked
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp.StatusCode
		}
		call := func(args string) string {
			return `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":` + args + `}}`
		}
		longName := strings.Repeat("n", 300)
		longURI := "test://docs/" + strings.Repeat("u", 250)
		cases := []struct {
			name   string
			key    string
			body   string
			header map[string]string
			check  func(t *testing.T, ev db.AuditLog)
		}{
			{"a NUL in the arguments", raw, call(`{"text":"x\u0000"}`), nil, func(t *testing.T, ev db.AuditLog) {
				assert.NotContains(t, string(ev.RequestData), `\u0000`)
			}},
			{"an invalid UTF-8 byte in the arguments", raw, call("{\"text\":\"x\xff\"}"), nil, func(t *testing.T, ev db.AuditLog) {
				assert.True(t, utf8.Valid(ev.RequestData))
			}},
			{"a number jsonb refuses", raw, call(`{"text":"x","n":1e401}`), nil, func(t *testing.T, ev db.AuditLog) {
				assert.NotContains(t, string(ev.RequestData), "1e401")
			}},
			{"an X-Request-Id with a byte \\xff", raw, call(`{"text":"x"}`), map[string]string{"X-Request-Id": "req-\xff"}, func(t *testing.T, ev db.AuditLog) {
				assert.Equal(t, "req-\uFFFD", ev.ClientRequestID)
			}},
			{"a denied call to a 300-character tool name", raw,
				`{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"` + longName + `","arguments":{}}}`, nil,
				func(t *testing.T, ev db.AuditLog) {
					assert.Equal(t, gateway.StatusDenied, ev.Status)
					assert.True(t, strings.HasPrefix(ev.ResourceID, ServerID+"/nnnn"), ev.ResourceID)
					assert.LessOrEqual(t, utf8.RuneCountInString(ev.ResourceID), db.MaxShortLen)
				}},
			{"a bad key with X-Request-Id \\xff", "mcp_not_a_key", call(`{}`), map[string]string{"X-Request-Id": "\xff"}, func(t *testing.T, ev db.AuditLog) {
				assert.Equal(t, gateway.ActionAuth, ev.Action)
				assert.Equal(t, "\uFFFD", ev.ClientRequestID)
			}},
			{"an X-Forwarded-For over 200 characters", raw, call(`{"text":"x"}`),
				map[string]string{"X-Forwarded-For": strings.Repeat("9", 250) + ", " + strings.Repeat("a", 250)}, func(t *testing.T, ev db.AuditLog) {
					assert.Equal(t, "127.0.0.1", ev.ClientIP, "entries that are not addresses are skipped")
				}},
			{"an allowed read of a 262-character URI", raw,
				`{"jsonrpc":"2.0","id":9,"method":"resources/read","params":{"uri":"` + longURI + `"}}`, nil,
				func(t *testing.T, ev db.AuditLog) {
					assert.Equal(t, gateway.MethodResourcesRead, ev.Action)
					assert.Equal(t, gateway.StatusSuccess, ev.Status)
					assert.True(t, strings.HasPrefix(ev.ResourceID, "test://docs/uuu"), ev.ResourceID)
				}},
		}
		for _, c := range cases {
			before := f.Auditor.Stats()
			code := post(c.key, c.body, c.header)
			t.Logf("%s: HTTP %d", c.name, code)
			require.Eventually(t, func() bool { return f.Auditor.Stats().Recorded > before.Recorded }, 5e9, 1e6, "%s: an event was recorded", c.name)
			assert.Equal(t, before.Recorded+1, f.Auditor.Stats().Recorded, "%s: one event", c.name)
		}
		evs := f.events(t)
		var mine []db.AuditLog
		for _, ev := range evs {
			if ev.APIKeyID == keyID || ev.Action == gateway.ActionAuth {
				mine = append(mine, ev)
			}
		}
		require.Len(t, mine, len(cases), "one row per request, none missing")
		st := f.Auditor.Stats()
		assert.Zero(t, st.Invalid+st.Failed+st.Dropped, "nothing refused, failed or dropped: %+v", st)
		for i, c := range cases {
			ev := mine[i]
			_, err := uuid.Parse(ev.RequestID)
			assert.NoError(t, err, "%s: the server names the request", c.name)
			t.Run(c.name, func(t *testing.T) { c.check(t, ev) })
		}
	})
}
