package gateway_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gateway"
	"github.com/mcpstore/mcpstore/internal/testdb"
)

func TestBearerToken(t *testing.T) {
	for header, want := range map[string]string{
		"Bearer abc":    "abc",
		"bearer abc":    "abc",
		"BEARER  abc ":  "abc",
		"Bearer":        "",
		"Bearer ":       "",
		"Basic abc":     "",
		"Bearer a b":    "",
		"Bearerabc":     "",
		"":              "",
		" Bearer\tabc ": "",
	} {
		got, ok := gateway.BearerToken(header)
		assert.Equal(t, want, got, "%q", header)
		assert.Equal(t, want != "", ok, "%q", header)
	}
}

// A filtered list over ids the key may partly see: pages of the size
// asked, in id order, each cursor holding the last id returned, which the
// key sees; paging to the end yields every visible item once.
func TestListPage(t *testing.T) {
	p := gateway.Policy{}
	g := gateway.NewGrants([]string{"tools:call:b*", "tools:call:d"})
	all := []string{"e", "d", "c", "bb", "a", "b", "ba"}
	id := func(s string) string { return s }

	var got []string
	after := ""
	for range 10 {
		page, next := gateway.ListPage(p, g, gateway.ListTools, all, id, after, 2)
		assert.LessOrEqual(t, len(page), 2)
		got = append(got, page...)
		if next == "" {
			break
		}
		raw, err := base64.RawURLEncoding.DecodeString(next)
		require.NoError(t, err)
		assert.Equal(t, page[len(page)-1], string(raw), "the cursor holds the last id returned")
		after, err = gateway.DecodeCursor(next)
		require.NoError(t, err)
	}
	assert.Equal(t, []string{"b", "ba", "bb", "d"}, got)

	page, next := gateway.ListPage(p, g, gateway.ListTools, all, id, "", 0)
	assert.Equal(t, []string{"b", "ba", "bb", "d"}, page, "page size 0: everything visible")
	assert.Empty(t, next)
	page, _ = gateway.ListPage(p, nil, gateway.ListTools, all, id, "", 0)
	assert.NotNil(t, page, "an empty page is an empty array, not null")
	assert.Empty(t, page)

	for _, bad := range []string{"!!", "a b", base64.RawURLEncoding.EncodeToString(nil) + "=", base64.StdEncoding.EncodeToString([]byte("ab?"))} {
		_, err := gateway.DecodeCursor(bad)
		assert.ErrorIs(t, err, gateway.ErrInvalidCursor, "%q", bad)
	}
	after, err := gateway.DecodeCursor("")
	require.NoError(t, err)
	assert.Empty(t, after)
}

// The audit row of a decided request: refused, failed, a tool's error or
// done, with what the request carried.
func TestRequestAuditEvent(t *testing.T) {
	p := gateway.Policy{ServerID: "srv"}
	key := &gateway.Principal{KeyID: "k1", Owner: "alice"}
	h := http.Header{"X-Request-Id": {"req-1"}, "Traceparent": {"00-" + traceHex + "-00f067aa0ba902b7-01"}}
	start := time.Now().Add(-time.Millisecond)
	a := gateway.RequestAudit{
		Decision:  p.Decide(gateway.NewGrants([]string{"*"}), gateway.MethodToolsCall, gateway.Target{Name: "echo"}),
		Principal: key, ClientIP: "203.0.113.9", Header: h, Start: start,
		Data: gateway.ToolCallData([]byte(`{"text":"hi"}`)),
	}
	ev := a.Event(nil, false, []byte(`{"isError":false}`))
	assert.Equal(t, "success", ev.Status)
	assert.Equal(t, "tools/call", ev.Action)
	assert.Equal(t, "srv/echo", ev.ResourceID)
	assert.Equal(t, "alice", ev.UserID)
	assert.Equal(t, "k1", ev.APIKeyID)
	assert.Equal(t, "203.0.113.9", ev.ClientIP)
	assert.Equal(t, "req-1", ev.RequestID)
	assert.Equal(t, traceHex, ev.TraceID)
	assert.JSONEq(t, `{"arguments":{"text":"hi"}}`, string(ev.RequestData))
	assert.JSONEq(t, `{"isError":false}`, string(ev.ResponseData))
	require.NotNil(t, ev.DurationMS)
	assert.GreaterOrEqual(t, *ev.DurationMS, 1.0)
	assert.Equal(t, start, ev.CreatedAt)

	ev = a.Event(nil, true, nil)
	assert.Equal(t, "error", ev.Status)
	assert.Equal(t, "the tool reported an error", ev.ErrorMessage)
	ev = a.Event(errors.New("boom"), false, nil)
	assert.Equal(t, "error", ev.Status)
	assert.Equal(t, "boom", ev.ErrorMessage)

	a.Decision = p.Decide(nil, gateway.MethodToolsCall, gateway.Target{Name: "echo"})
	ev = a.Event(nil, false, nil)
	assert.Equal(t, "denied", ev.Status)
	assert.Equal(t, "permission denied: tools:call:echo", ev.ErrorMessage)
	assert.Nil(t, ev.DurationMS, "a refused request did not run")

	a.Header, a.Meta = http.Header{"X-Request-Id": {string(make([]byte, 201))}}, map[string]any{"traceparent": "00-" + traceHex + "-00f067aa0ba902b7-01"}
	ev = a.Event(nil, false, nil)
	assert.NotEqual(t, a.Header.Get("X-Request-Id"), ev.RequestID, "an over-long request id is replaced")
	assert.Equal(t, traceHex, ev.TraceID, "the traceparent of _meta")
}

const traceHex = "4bf92f3577b34da6a3ce929d0e0e4736"

func TestParamsData(t *testing.T) {
	for in, want := range map[string]string{
		``:                                 ``,
		`null`:                             ``,
		`{"_meta":{"a":1}}`:                ``,
		`{"uri":"x","_meta":{"a":1}}`:      `{"uri":"x"}`,
		`{"uri":"x"}`:                      `{"uri":"x"}`,
		`[1,2]`:                            `[1,2]`,
		`{"name":"n","arguments":{"a":1}}`: `{"name":"n","arguments":{"a":1}}`,
	} {
		got := gateway.ParamsData([]byte(in))
		if want == "" {
			assert.Nil(t, got, "%s", in)
			continue
		}
		assert.JSONEq(t, want, string(got), "%s", in)
	}
	assert.JSONEq(t, `{"arguments":null}`, string(gateway.ToolCallData(nil)))
	assert.JSONEq(t, `{"arguments":[1]}`, string(gateway.ToolCallData([]byte(`[1]`))))
}

// What a client chose is repaired to fit its audit row, never a reason for
// the row to be refused: stored on both engines.
func TestRequestAuditRepairsWhatTheClientSent(t *testing.T) {
	testdb.EachEngine(t, func(t *testing.T, s db.Store) {
		p := gateway.Policy{ServerID: "srv"}
		long := strings.Repeat("n", 1000)
		a := gateway.RequestAudit{Start: time.Now(), Header: http.Header{"X-Request-Id": {"bad\xffid"}}}
		var evs []db.AuditLogCreate
		for _, name := range []string{long, "a\x00b", "bad\xffname"} {
			a.Decision = p.Decide(nil, gateway.MethodToolsCall, gateway.Target{Name: name})
			a.Data = gateway.ToolCallData([]byte(`{"t":"x\u0000y","k\u0000":[1,"\u0000"],"n":12345678901234567890}`))
			evs = append(evs, a.Event(nil, false, nil))
		}
		a.Decision = p.Decide(gateway.NewGrants([]string{"*"}), "", gateway.Target{})
		evs = append(evs, a.Event(errors.New("e\x00rr"), false, nil))
		a.Decision = p.Decide(nil, long, gateway.Target{})
		evs = append(evs, a.Event(nil, false, nil))
		for _, ev := range evs {
			_, err := ev.Checked()
			require.NoError(t, err, "%+v", ev)
		}
		n, err := s.AuditLogs().InsertBatch(t.Context(), evs)
		require.NoError(t, err)
		assert.EqualValues(t, len(evs), n)

		assert.Equal(t, 200, utf8.RuneCountInString(evs[0].ResourceID))
		assert.True(t, strings.HasPrefix(evs[0].ResourceID, "srv/nnn") && strings.HasSuffix(evs[0].ResourceID, "n…"), evs[0].ResourceID)
		assert.Equal(t, "srv/a\uFFFDb", evs[1].ResourceID)
		assert.Equal(t, "srv/bad\uFFFDname", evs[2].ResourceID)
		assert.JSONEq(t, `{"arguments":{"t":"x\ufffdy","k\ufffd":[1,"\ufffd"],"n":12345678901234567890}}`, string(evs[0].RequestData))
		assert.NotEqual(t, "bad\xffid", evs[0].RequestID, "a request id that is not UTF-8 is replaced")
		assert.Equal(t, "(none)", evs[3].Action)
		assert.Equal(t, "e\uFFFDrr", evs[3].ErrorMessage)
		assert.Equal(t, 200, utf8.RuneCountInString(evs[4].Action))
	})
}
