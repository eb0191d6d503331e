package mcpsdk

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gateway"
)

// Audit vocabulary.
const (
	ActionToolCall = "tools/call"
	ActionAuth     = "auth"

	StatusSuccess      = "success"
	StatusError        = "error"
	StatusDenied       = "denied"
	StatusUnauthorized = "unauthorized"
)

// CodePermissionDenied is the JSON-RPC error code of a tool call the key
// may not make. The MCP specification leaves authorization errors to the
// server; -32030 sits in JSON-RPC's range for server-defined errors, apart
// from the codes go-sdk and MCP use (-32001 to -32005 mean connection
// states to go-sdk's client, -32002 and -32020 to -32042 are MCP's).
const CodePermissionDenied = -32030

// Middleware returns the receiving middleware to add with
// (*mcp.Server).AddReceivingMiddleware. For each request authenticated by
// TokenVerifier it
//   - runs tools/call only when one of the key's permissions grants
//     "tools:call:<tool>" (patterns such as tools:call:search_*), answers a
//     denied call with a JSON-RPC error (CodePermissionDenied) without
//     running it, and records every call, allowed or not, in the audit log;
//   - filters tools/list down to the tools the key may call.
//
// With Options.Keys set, a request without a verified key is treated as a
// key with no permissions. The Gateway's own sessions (SyncTools) pass.
func (g *Gateway) Middleware() mcp.Middleware {
	return func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			if ss, ok := req.GetSession().(*mcp.ServerSession); ok {
				if _, trusted := g.trusted.Load(ss); trusted {
					return next(ctx, method, req)
				}
			}
			switch method {
			case "tools/call":
				return g.callTool(ctx, next, method, req)
			case "tools/list":
				return g.listTools(ctx, next, method, req)
			}
			return next(ctx, method, req)
		}
	}
}

// permissions returns the key's permission patterns, and whether the
// request is subject to them at all.
func (g *Gateway) permissions(req mcp.Request) (patterns []string, enforced bool) {
	if g.opts.Keys == nil {
		return nil, false // no authentication configured: nothing to enforce
	}
	if ti := tokenInfo(req); ti != nil {
		return ti.Scopes, true
	}
	return nil, true
}

func tokenInfo(req mcp.Request) *auth.TokenInfo {
	if extra := req.GetExtra(); extra != nil {
		return extra.TokenInfo
	}
	return nil
}

func (g *Gateway) listTools(ctx context.Context, next mcp.MethodHandler, method string, req mcp.Request) (mcp.Result, error) {
	res, err := next(ctx, method, req)
	perms, enforced := g.permissions(req)
	list, ok := res.(*mcp.ListToolsResult)
	if err != nil || !enforced || !ok {
		return res, err
	}
	kept := make([]*mcp.Tool, 0, len(list.Tools))
	for _, t := range list.Tools {
		if gateway.Allows(perms, gateway.ToolCallPermission(t.Name)) {
			kept = append(kept, t)
		}
	}
	filtered := *list
	filtered.Tools = kept
	return &filtered, nil
}

func (g *Gateway) callTool(ctx context.Context, next mcp.MethodHandler, method string, req mcp.Request) (mcp.Result, error) {
	start := time.Now()
	params, _ := req.GetParams().(*mcp.CallToolParamsRaw)
	name := ""
	var args json.RawMessage
	var meta map[string]any
	if params != nil {
		name, args, meta = params.Name, params.Arguments, params.Meta
	}
	ev := g.callEvent(req, name, args, meta)

	if perms, enforced := g.permissions(req); enforced && !gateway.Allows(perms, gateway.ToolCallPermission(name)) {
		ev.Status = StatusDenied
		ev.ErrorMessage = "permission denied: " + gateway.ToolCallPermission(name)
		g.finish(ctx, &ev, start)
		return nil, &jsonrpc.Error{Code: CodePermissionDenied, Message: "permission denied: this key may not call tool " + quote(name)}
	}

	res, err := next(ctx, method, req)
	ev.Status = StatusSuccess
	switch r, _ := res.(*mcp.CallToolResult); {
	case err != nil:
		ev.Status, ev.ErrorMessage = StatusError, err.Error()
	case r != nil:
		if r.IsError {
			ev.Status, ev.ErrorMessage = StatusError, "the tool reported an error"
		}
		ev.ResponseData = responseData(r)
	}
	g.finish(ctx, &ev, start)
	return res, err
}

// callEvent starts the audit event of a tool call.
func (g *Gateway) callEvent(req mcp.Request, name string, args json.RawMessage, meta map[string]any) db.AuditLogCreate {
	var h http.Header
	if extra := req.GetExtra(); extra != nil {
		h = extra.Header
	}
	ev := db.AuditLogCreate{
		RequestID:    requestID(h),
		TraceID:      traceID(h, meta),
		Action:       ActionToolCall,
		ResourceType: "tool",
		ResourceID:   name,
		RequestData:  requestData(args),
	}
	if g.opts.ServerID != "" && name != "" {
		ev.ResourceID = gateway.QualifiedName(g.opts.ServerID, name)
	}
	if ti := tokenInfo(req); ti != nil {
		ev.UserID = ti.UserID
		ev.APIKeyID, _ = ti.Extra[ExtraKeyID].(string)
		ev.ClientIP, _ = ti.Extra[ExtraClientIP].(string)
	}
	return ev
}

func (g *Gateway) finish(ctx context.Context, ev *db.AuditLogCreate, start time.Time) {
	d := float64(time.Since(start).Microseconds()) / 1000
	ev.DurationMS = &d
	ev.CreatedAt = start
	g.record(ctx, *ev)
}

// record hands an event to the Auditor, which never waits for the database.
func (g *Gateway) record(ctx context.Context, ev db.AuditLogCreate) {
	if g.opts.Auditor == nil {
		return
	}
	if err := g.opts.Auditor.Record(ctx, ev); err != nil {
		g.log.WarnContext(ctx, "audit event not recorded", "action", ev.Action, "err", err)
	}
}

// requestData wraps the call's arguments in the object the audit log
// stores; the Auditor redacts secret fields and caps its size.
func requestData(args json.RawMessage) json.RawMessage {
	if len(args) == 0 {
		args = json.RawMessage("null")
	}
	b, err := json.Marshal(map[string]json.RawMessage{"arguments": args})
	if err != nil {
		return nil
	}
	return b
}

func responseData(r *mcp.CallToolResult) json.RawMessage {
	b, err := json.Marshal(struct {
		IsError           bool          `json:"isError"`
		Content           []mcp.Content `json:"content"`
		StructuredContent any           `json:"structuredContent,omitempty"`
	}{r.IsError, r.Content, r.StructuredContent})
	if err != nil {
		return nil
	}
	return b
}

// W3C trace context: version-traceid-parentid-flags.
var traceparent = regexp.MustCompile(`^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$`)

// traceID returns the trace id of a W3C traceparent sent as an HTTP header
// or in the request's _meta, or "".
func traceID(h http.Header, meta map[string]any) string {
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

func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return `"` + s + `"`
}
