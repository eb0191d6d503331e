package mcpsdk

import (
	"context"
	"encoding/json"
	"reflect"
	"runtime/debug"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpstore/mcpstore/gateway"
)

// Middleware returns the receiving middleware to add with
// (*mcp.Server).AddReceivingMiddleware. It applies gateway.Policy to every
// request the server receives, whatever its method, deny by default:
//   - a request the key may not make is answered with a JSON-RPC error
//     (gateway.CodePermissionDenied) and never runs;
//   - list results (tools, resources, resource templates, prompts) hold
//     only what the key may use, paged over that (see filteredList);
//   - the requests the policy audits are recorded, allowed or refused,
//     with the method as the action and the tool, resource or prompt as
//     the resource.
//
// With Options.Keys set, a request without a verified key has no
// permissions. Without Options.Keys nothing is refused. The Gateway's own
// sessions (SyncTools) pass unchecked.
func (g *Gateway) Middleware() mcp.Middleware {
	return func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (res mcp.Result, err error) {
			ss, _ := req.GetSession().(*mcp.ServerSession)
			if ss != nil {
				if _, trusted := g.trusted.Load(ss); trusted {
					return next(ctx, method, req)
				}
			}
			params := paramsOf(req)
			p := principal(req)
			grants := g.grants(p)
			if p != nil && ss != nil {
				g.track(ss, p)
			}
			d := g.policy.Decide(grants, method, target(params))
			if d.CheckServed && !g.served(ctx, next, req, d.ResourceID) {
				d = d.NotServed()
			}
			if !d.Allowed {
				g.audit(ctx, req, params, d, time.Now(), nil, nil)
				return nil, &jsonrpc.Error{Code: gateway.CodePermissionDenied, Message: d.Message}
			}
			if !d.Audit && d.List == gateway.NotAList {
				return next(ctx, method, req)
			}
			start := time.Now()
			defer func() {
				// A panic below (a tool handler's, say) would end the
				// process without an audit row: the call is an error.
				if v := recover(); v != nil {
					g.log.ErrorContext(ctx, "mcpsdk: a request handler panicked", "method", method, "panic", v, "stack", string(debug.Stack()))
					res, err = nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "internal error"}
					g.audit(ctx, req, params, d, start, res, err)
				}
			}()
			switch {
			case d.List != gateway.NotAList && g.opts.Keys != nil:
				res, err = g.filteredList(ctx, next, method, req, grants, d.List)
			default:
				res, err = next(ctx, method, req)
			}
			if g.opts.Keys != nil {
				privateToKey(res)
			}
			g.audit(ctx, req, params, d, start, res, err)
			return res, err
		}
	}
}

// paramsOf returns the request's params, or nil when it has none: go-sdk
// gives a method whose params may be left out a typed nil pointer, which
// must not be called.
func paramsOf(req mcp.Request) mcp.Params {
	params := req.GetParams()
	if params == nil {
		return nil
	}
	if v := reflect.ValueOf(params); v.Kind() == reflect.Pointer && v.IsNil() {
		return nil
	}
	return params
}

// allGrants stands for "no authentication configured": every request
// runs.
var allGrants = gateway.NewGrants([]string{"*"})

// grants returns what the request's key may do: everything without Keys,
// nothing without a verified key.
func (g *Gateway) grants(p *gateway.Principal) *gateway.Grants {
	switch {
	case g.opts.Keys == nil:
		return allGrants
	case p == nil:
		return nil
	}
	return p.Grants
}

// principal returns the verified key of the request, or nil.
func principal(req mcp.Request) *gateway.Principal {
	if ti := tokenInfo(req); ti != nil {
		p, _ := ti.Extra[ExtraPrincipal].(*gateway.Principal)
		return p
	}
	return nil
}

func tokenInfo(req mcp.Request) *auth.TokenInfo {
	if extra := req.GetExtra(); extra != nil {
		return extra.TokenInfo
	}
	return nil
}

// track adds a session to those ended when its key stops working, once.
func (g *Gateway) track(ss *mcp.ServerSession, p *gateway.Principal) {
	if g.sessions == nil {
		return
	}
	if _, loaded := g.tracked.LoadOrStore(ss, p.KeyID); loaded {
		return
	}
	remove := g.sessions.Add(*p, ss)
	go func() {
		_ = ss.Wait()
		remove()
		g.tracked.Delete(ss)
	}()
}

// target reads what a request reaches from its params.
func target(params mcp.Params) gateway.Target {
	switch p := params.(type) {
	case *mcp.CallToolParamsRaw:
		return gateway.Target{Name: p.Name}
	case *mcp.GetPromptParams:
		return gateway.Target{Name: p.Name}
	case *mcp.ReadResourceParams:
		return gateway.Target{URI: p.URI}
	case *mcp.SubscribeParams:
		return gateway.Target{URI: p.URI}
	case *mcp.UnsubscribeParams:
		return gateway.Target{URI: p.URI}
	case *mcp.SubscriptionsListenParams:
		if p.Notifications != nil {
			return gateway.Target{URIs: p.Notifications.ResourceSubscriptions}
		}
	case *mcp.CompleteParams:
		if p.Ref != nil {
			return gateway.Target{Ref: gateway.CompletionRef{Type: p.Ref.Type, Name: p.Ref.Name, URI: p.Ref.URI}}
		}
	}
	return gateway.Target{}
}

// audit records a request the policy audits: refused (res and err nil),
// failed or run.
func (g *Gateway) audit(ctx context.Context, req mcp.Request, params mcp.Params, d gateway.Decision, start time.Time, res mcp.Result, err error) {
	if g.opts.Auditor == nil || !d.Audit {
		return
	}
	a := gateway.RequestAudit{Decision: d, Data: requestData(params), Start: start}
	if extra := req.GetExtra(); extra != nil {
		a.Header = extra.Header
	}
	if params != nil {
		a.Meta = params.GetMeta()
	}
	if ti := tokenInfo(req); ti != nil {
		a.Principal, _ = ti.Extra[ExtraPrincipal].(*gateway.Principal)
		a.ClientIP, _ = ti.Extra[ExtraClientIP].(string)
	}
	var toolError bool
	var response json.RawMessage
	if r, ok := res.(*mcp.CallToolResult); ok && r != nil && err == nil {
		toolError, response = r.IsError, gateway.ToolResultData(r.IsError, r.Content, r.StructuredContent)
	}
	g.auth.Record(ctx, a.Event(err, toolError, response))
}

// requestData is what the audit log keeps of a request's params (see
// gateway.ToolCallData and gateway.ParamsData).
func requestData(params mcp.Params) json.RawMessage {
	if p, ok := params.(*mcp.CallToolParamsRaw); ok {
		return gateway.ToolCallData(p.Arguments)
	}
	if params == nil {
		return nil
	}
	b, err := json.Marshal(params)
	if err != nil {
		return nil
	}
	return gateway.ParamsData(b)
}
