package gateway

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/mcpstore/mcpstore/db"
)

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
// result. What the client chose (the method, the name or URI, the
// arguments, its X-Request-Id) goes as it was sent: the Auditor repairs
// what a row cannot hold, redacts secrets and caps the data's size.
func (a RequestAudit) Event(err error, toolError bool, response json.RawMessage) db.AuditLogCreate {
	d := a.Decision
	ev := db.AuditLogCreate{
		RequestID:       NewRequestID(),
		ClientRequestID: a.Header.Get("X-Request-Id"),
		TraceID:         TraceID(a.Header, a.Meta),
		ClientIP:        a.ClientIP,
		Action:          d.Action,
		ResourceType:    d.ResourceType,
		ResourceID:      d.ResourceID,
		RequestData:     a.Data,
		ResponseData:    response,
		CreatedAt:       a.Start,
	}
	if ev.Action == "" {
		// A message without a method: the Auditor refuses an empty
		// action as the program's mistake.
		ev.Action = "(none)"
	}
	if a.Principal != nil {
		ev.UserID, ev.APIKeyID = a.Principal.Owner, a.Principal.KeyID
	}
	switch {
	case !d.Allowed:
		ev.Status, ev.ErrorMessage = StatusDenied, d.AuditError
	case err != nil:
		ev.Status, ev.ErrorMessage = StatusError, err.Error()
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

// NewRequestID names a request in the audit log. The server names it, so
// that no client can file events under another request's id; the
// client's own X-Request-Id is kept beside it (ClientRequestID).
func NewRequestID() string { return uuid.Must(uuid.NewV7()).String() }

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
