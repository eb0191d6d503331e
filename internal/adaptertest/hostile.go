package adaptertest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gateway"
	"github.com/mcpstore/mcpstore/internal/testdb"
)

// marker is the text the attacks ask the tools to echo: it appears in a
// response only if a tool ran.
const marker = "hostile-marker"

// reply is what a raw request got: its HTTP status and, when the body
// holds a JSON-RPC message (plain or as server-sent events), its error
// code (0 for a result).
type reply struct {
	status int
	code   int
	body   string
}

// post sends body on a session with a key and reads the reply.
func post(t *testing.T, url, session, key, body string) reply {
	t.Helper()
	resp, err := send(t.Context(), url, http.MethodPost, session, key, body)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	r := reply{status: resp.StatusCode, body: string(b)}
	text := r.body
	if i := strings.Index(text, "data: "); i >= 0 {
		text = text[i+len("data: "):]
	}
	var msg struct {
		Error *struct {
			Code int `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal([]byte(strings.TrimSpace(text)), &msg) == nil && msg.Error != nil {
		r.code = msg.Error.Code
	}
	return r
}

// refused reports whether a reply ran nothing: an HTTP error or a
// JSON-RPC error, and no result (an error message may quote the request,
// marker included).
func (r reply) refused() bool {
	return (r.status >= 400 || r.code != 0) && !strings.Contains(r.body, `"result"`)
}

// HostileRequests: what a hostile client sends over HTTP, with a key that
// may call echo only, on a session of its own. Whatever the SDK answers,
// nothing runs that the key may not run, and every request the policy
// decided is in the audit log, its row repaired (by the Auditor) where the
// client's text does not fit.
func HostileRequests(t *testing.T, sdk SDK) {
	testdb.EachEngine(t, func(t *testing.T, s db.Store) {
		f := serve(t, sdk, s, Options{}, gateway.KeysOptions{})
		key, keyID := f.issue(t, "mallory", "tools:call:echo")
		sid := openSession(t, f.URL, key)
		call := func(id int, name string) string {
			b, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": "tools/call",
				"params": map[string]any{"name": name, "arguments": map[string]any{"text": marker}}})
			require.NoError(t, err)
			return string(b)
		}

		// The key's own call runs: the attacks below are refused for
		// what they are, not for want of a working session.
		r := post(t, f.URL, sid, key, call(1, "echo"))
		require.Equal(t, http.StatusOK, r.status, r.body)
		require.Contains(t, r.body, marker)

		for _, a := range []struct{ name, body string }{
			{"a batch", "[" + call(2, "secret_tool") + "]"},
			{"a batch hiding a call after an allowed one", "[" + call(3, "echo") + "," + call(4, "secret_tool") + "]"},
			{"a notification with an id", `{"jsonrpc":"2.0","id":5,"method":"notifications/acme","params":{}}`},
			{"an unknown method", `{"jsonrpc":"2.0","id":6,"method":"acme/unknown","params":{"text":"` + marker + `"}}`},
			{"a tool name past any limit", call(7, strings.Repeat("secret_tool", 20_000))},
			{"a tool name with a NUL", call(8, "secret_tool\u0000")},
			{"params of the wrong type", `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":["secret_tool"]}`},
			{"a name of the wrong type", `{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":["secret_tool"],"arguments":{"text":"` + marker + `"}}}`},
			{"not JSON", `{"jsonrpc":"2.0","id":11,"method":"tools/call",`},
		} {
			r := post(t, f.URL, sid, key, a.body)
			assert.True(t, r.refused(), "%s: refused, nothing run: %d %.300s", a.name, r.status, r.body)
		}
		// A body past the bound is refused before anything reads it.
		huge := call(12, "echo")
		huge = huge[:len(huge)-1] + strings.Repeat(" ", 5<<20) + "}"
		assert.Equal(t, http.StatusRequestEntityTooLarge, post(t, f.URL, sid, key, huge).status, "a body of over 4 MiB")

		require.NoError(t, f.Auditor.Close(t.Context()))
		stats := f.Auditor.Stats()
		assert.Zero(t, stats.Invalid, "no audit event refused for what the client sent")
		assert.Zero(t, stats.Dropped)
		evs := f.events(t)
		var long, nul bool
		for _, ev := range evs {
			require.Equal(t, keyID, ev.APIKeyID)
			if ev.Action == gateway.MethodToolsCall && ev.Status == gateway.StatusSuccess {
				assert.Equal(t, ServerID+"/echo", ev.ResourceID, "only echo ran")
			}
			long = long || strings.Contains(ev.ResourceID, "[cut:")
			nul = nul || ev.ResourceID == ServerID+"/secret_tool"
		}
		assert.True(t, long, "the refusal of the over-long name is audited, its name cut")
		assert.True(t, nul, "the refusal of the name with a NUL is audited, the NUL removed")
	})
}
