package gateway_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
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
	_, err := uuid.Parse(ev.RequestID)
	assert.NoError(t, err, "the server names the request")
	assert.Equal(t, "req-1", ev.ClientRequestID, "the client's id beside it")
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

	a.Header, a.Meta = nil, map[string]any{"traceparent": "00-" + traceHex + "-00f067aa0ba902b7-01"}
	ev = a.Event(nil, false, nil)
	assert.Empty(t, ev.ClientRequestID)
	assert.Equal(t, traceHex, ev.TraceID, "the traceparent of _meta")

	a.Decision = p.Decide(gateway.NewGrants([]string{"*"}), "", gateway.Target{})
	ev = a.Event(nil, false, nil)
	assert.Equal(t, "(none)", ev.Action, "a message without a method has an action all the same")
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

// The rows of requests whose names, method, arguments and request id do
// not fit a row as sent are stored all the same, repaired by the Auditor
// (both engines).
func TestRequestAuditStoredWhateverTheClientSent(t *testing.T) {
	testdb.EachEngine(t, func(t *testing.T, s db.Store) {
		p := gateway.Policy{ServerID: "srv"}
		auditor := gateway.NewAuditor(s, gateway.AuditorOptions{})
		a := gateway.RequestAudit{Start: time.Now(), Header: http.Header{"X-Request-Id": {"bad\xffid"}}}
		long := strings.Repeat("n", 1000)
		for _, d := range []gateway.Decision{
			p.Decide(nil, gateway.MethodToolsCall, gateway.Target{Name: long}),
			p.Decide(nil, gateway.MethodToolsCall, gateway.Target{Name: "a\x00b"}),
			p.Decide(nil, long, gateway.Target{}),
			p.Decide(gateway.NewGrants([]string{"*"}), "", gateway.Target{}),
		} {
			a.Decision = d
			a.Data = gateway.ToolCallData([]byte(`{"t":"x\u0000y"}`))
			require.NoError(t, auditor.Record(t.Context(), a.Event(errors.New("e\x00rr"), false, nil)))
		}
		require.NoError(t, auditor.Close(t.Context()))
		st := auditor.Stats()
		assert.EqualValues(t, 4, st.Stored, "%+v", st)
		evs, err := s.AuditLogs().ListByDateRange(t.Context(), time.Now().Add(-time.Hour), time.Now().Add(time.Hour), "", db.Page{})
		require.NoError(t, err)
		require.Len(t, evs, 4)
		for _, ev := range evs {
			assert.LessOrEqual(t, utf8.RuneCountInString(ev.ResourceID), db.MaxShortLen)
			assert.NotContains(t, ev.ResourceID, "\x00")
			assert.NotContains(t, string(ev.RequestData), `\u0000`)
		}
	})
}
