package gateway

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/mcpstore/mcpstore/db"
)

// maxRequestIDLen bounds the caller's X-Request-Id kept in an audit row.
const maxRequestIDLen = 200

// RequestAudit is what an SDK adapter knows of an MCP request the Policy
// decided, for its audit row (see Event).
type RequestAudit struct {
	Decision Decision
	// Principal is the request's verified key; nil without one.
	Principal *Principal
	ClientIP  string
	// Header is the HTTP request's (X-Request-Id, traceparent); nil
	// without HTTP.
	Header http.Header
	// Meta is the request's _meta (a "traceparent" in it is read).
	Meta map[string]any
	// Data is what the row keeps of the request's params: see
	// ToolCallData and ParamsData.
	Data  json.RawMessage
	Start time.Time
}

// Event is the audit row of the request, refused (Decision.Allowed false)
// or run: failed with err, a tool call whose result reports an error
// (toolError), or done. response is what the row keeps of a tool call's
// result. The Auditor redacts secret fields and caps the data's size.
//
// What the client chose (the method, the name or URI, the arguments) is
// repaired to fit a row rather than let the row be refused: text is cut to
// its column's length with a trailing "…", and NUL characters, which
// PostgreSQL does not store, become U+FFFD, in text and in JSON alike.
func (a RequestAudit) Event(err error, toolError bool, response json.RawMessage) db.AuditLogCreate {
	d := a.Decision
	ev := db.AuditLogCreate{
		RequestID:    RequestID(a.Header),
		TraceID:      TraceID(a.Header, a.Meta),
		ClientIP:     a.ClientIP,
		Action:       fitText(d.Action, db.MaxShortLen),
		ResourceType: d.ResourceType,
		ResourceID:   fitText(d.ResourceID, db.MaxShortLen),
		RequestData:  fitJSON(a.Data),
		ResponseData: fitJSON(response),
		CreatedAt:    a.Start,
	}
	if ev.Action == "" {
		ev.Action = "(none)" // a message without a method
	}
	if a.Principal != nil {
		ev.UserID, ev.APIKeyID = a.Principal.Owner, a.Principal.KeyID
	}
	switch {
	case !d.Allowed:
		ev.Status, ev.ErrorMessage = StatusDenied, fitText(d.AuditError, db.MaxDescriptionLen)
	case err != nil:
		ev.Status, ev.ErrorMessage = StatusError, fitText(err.Error(), db.MaxDescriptionLen)
	case toolError:
		ev.Status, ev.ErrorMessage = StatusError, "the tool reported an error"
	default:
		ev.Status = StatusSuccess
	}
	if d.Allowed {
		ms := float64(time.Since(a.Start).Microseconds()) / 1000
		ev.DurationMS = &ms
	}
	return ev
}

// RequestID takes the caller's X-Request-Id when it sends one (of at most
// 200 bytes of UTF-8 text), else makes one.
func RequestID(h http.Header) string {
	if id := h.Get("X-Request-Id"); id != "" && len(id) <= maxRequestIDLen && utf8.ValidString(id) && strings.IndexByte(id, 0) < 0 {
		return id
	}
	return uuid.Must(uuid.NewV7()).String()
}

// W3C trace context: version-traceid-parentid-flags.
var traceparent = regexp.MustCompile(`^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$`)

// TraceID returns the trace id of a W3C traceparent sent as an HTTP header
// or in the request's _meta, or "".
func TraceID(h http.Header, meta map[string]any) string {
	candidates := []string{h.Get("traceparent")}
	if v, ok := meta["traceparent"].(string); ok {
		candidates = append(candidates, v)
	}
	for _, c := range candidates {
		if m := traceparent.FindStringSubmatch(strings.TrimSpace(c)); m != nil && m[1] != strings.Repeat("0", 32) {
			return m[1]
		}
	}
	return ""
}

// ToolCallData is what the audit log keeps of a tool call's params: its
// arguments (a JSON value; nil for none), as {"arguments": ...}.
func ToolCallData(args json.RawMessage) json.RawMessage {
	if len(args) == 0 {
		return json.RawMessage(`{"arguments":null}`)
	}
	if !json.Valid(args) {
		return nil
	}
	b := make([]byte, 0, len(args)+len(`{"arguments":}`))
	b = append(b, `{"arguments":`...)
	b = append(b, args...)
	return append(b, '}')
}

// ToolResultData is what the audit log keeps of a tool call's result: its
// error flag, content and structured content, given in the SDK's types
// (which follow the MCP specification's JSON).
func ToolResultData(isError bool, content, structured any) json.RawMessage {
	b, err := json.Marshal(struct {
		IsError           bool `json:"isError"`
		Content           any  `json:"content"`
		StructuredContent any  `json:"structuredContent,omitempty"`
	}{isError, content, structured})
	if err != nil {
		return nil
	}
	return b
}

// ParamsData is what the audit log keeps of other params: as the client
// sent them, without _meta; nil for none.
func ParamsData(params json.RawMessage) json.RawMessage {
	if len(params) == 0 || string(params) == "null" {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(params, &m) != nil {
		return params
	}
	if _, ok := m["_meta"]; !ok {
		return params
	}
	delete(m, "_meta")
	if len(m) == 0 {
		return nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil
	}
	return b
}

// fitText makes s storable in a text column of max characters: valid
// UTF-8, NUL characters replaced by U+FFFD, cut with a trailing "…".
func fitText(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	}
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max-1 {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// fitJSON replaces the NUL characters of a JSON document's strings (keys
// included), which PostgreSQL's jsonb does not store, by U+FFFD. Anything
// else, invalid JSON included, is left for the Auditor and the store to
// handle.
func fitJSON(doc json.RawMessage) json.RawMessage {
	if !bytes.Contains(doc, []byte(`\u0000`)) {
		return doc
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return doc
	}
	b, err := json.Marshal(withoutNUL(v))
	if err != nil {
		return doc
	}
	return b
}

func withoutNUL(v any) any {
	switch t := v.(type) {
	case string:
		return strings.ReplaceAll(t, "\x00", "\uFFFD")
	case []any:
		for i := range t {
			t[i] = withoutNUL(t[i])
		}
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[strings.ReplaceAll(k, "\x00", "\uFFFD")] = withoutNUL(e)
		}
		return out
	}
	return v
}
