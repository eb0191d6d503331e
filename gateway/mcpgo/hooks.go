package mcpgo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/mcpstore/mcpstore/gateway"
)

// errNotDecided refuses a request that reaches the server without Handler
// having decided it.
var errNotDecided = errors.New("permission denied: this request did not pass mcpstore's policy (serve the server with mcpgo.Gateway.Handler)")

// install equips s with the policy's hooks, filters and middlewares, once.
// mcp-go keeps one Hooks per server: the server's own are kept and added
// to.
func (g *Gateway) install(s *server.MCPServer) {
	if _, done := g.installed.LoadOrStore(s, struct{}{}); done {
		return
	}
	hooks := s.GetHooks()
	if hooks == nil {
		hooks = &server.Hooks{}
		server.WithHooks(hooks)(s)
	}
	hooks.AddOnRequestInitialization(g.gate)
	hooks.AddOnSuccess(g.onSuccess)
	hooks.AddOnError(g.onError)
	hooks.AddOnRegisterSession(g.onRegister)
	hooks.AddOnUnregisterSession(g.onUnregister)

	// Lists are read from the start and paged again for the key.
	hooks.AddBeforeListTools(func(ctx context.Context, _ any, r *mcp.ListToolsRequest) { g.fromStart(ctx, &r.Params.Cursor) })
	hooks.AddBeforeListResources(func(ctx context.Context, _ any, r *mcp.ListResourcesRequest) { g.fromStart(ctx, &r.Params.Cursor) })
	hooks.AddBeforeListResourceTemplates(func(ctx context.Context, _ any, r *mcp.ListResourceTemplatesRequest) {
		g.fromStart(ctx, &r.Params.Cursor)
	})
	hooks.AddBeforeListPrompts(func(ctx context.Context, _ any, r *mcp.ListPromptsRequest) { g.fromStart(ctx, &r.Params.Cursor) })
	hooks.AddAfterListTools(func(ctx context.Context, _ any, _ *mcp.ListToolsRequest, r *mcp.ListToolsResult) {
		relist(g, ctx, gateway.ListTools, &r.Tools, &r.PaginatedResult, toolsPage, toolName)
	})
	hooks.AddAfterListResources(func(ctx context.Context, _ any, _ *mcp.ListResourcesRequest, r *mcp.ListResourcesResult) {
		relist(g, ctx, gateway.ListResources, &r.Resources, &r.PaginatedResult, resourcesPage, resourceURI)
	})
	hooks.AddAfterListResourceTemplates(func(ctx context.Context, _ any, _ *mcp.ListResourceTemplatesRequest, r *mcp.ListResourceTemplatesResult) {
		relist(g, ctx, gateway.ListResourceTemplates, &r.ResourceTemplates, &r.PaginatedResult, templatesPage, templateURI)
	})
	hooks.AddAfterListPrompts(func(ctx context.Context, _ any, _ *mcp.ListPromptsRequest, r *mcp.ListPromptsResult) {
		relist(g, ctx, gateway.ListPrompts, &r.Prompts, &r.PaginatedResult, promptsPage, promptName)
	})
	hooks.AddAfterReadResource(func(ctx context.Context, _ any, _ *mcp.ReadResourceRequest, r *mcp.ReadResourceResult) {
		if g.opts.Keys != nil && g.callOf(ctx) != nil {
			privateToKey(ctx, &r.CacheableResult)
		}
	})

	server.WithToolFilter(func(ctx context.Context, tools []mcp.Tool) []mcp.Tool {
		return visibleOnly(g, ctx, gateway.ListTools, tools, toolName)
	})(s)
	server.WithPromptFilter(func(ctx context.Context, prompts []mcp.Prompt) []mcp.Prompt {
		return visibleOnly(g, ctx, gateway.ListPrompts, prompts, promptName)
	})(s)
	server.WithToolHandlerMiddleware(func(next server.ToolHandlerFunc) server.ToolHandlerFunc {
		return func(ctx context.Context, r mcp.CallToolRequest) (res *mcp.CallToolResult, err error) {
			defer g.recoverInto(ctx, "tool "+r.Params.Name, &err)
			return next(ctx, r)
		}
	})(s)
	server.WithResourceHandlerMiddleware(func(next server.ResourceHandlerFunc) server.ResourceHandlerFunc {
		return func(ctx context.Context, r mcp.ReadResourceRequest) (res []mcp.ResourceContents, err error) {
			defer g.recoverInto(ctx, "resource "+r.Params.URI, &err)
			return next(ctx, r)
		}
	})(s)
	server.WithPromptHandlerMiddleware(func(next server.PromptHandlerFunc) server.PromptHandlerFunc {
		return func(ctx context.Context, r mcp.GetPromptRequest) (res *mcp.GetPromptResult, err error) {
			defer g.recoverInto(ctx, "prompt "+r.Params.Name, &err)
			return next(ctx, r)
		}
	})(s)
}

// gate lets through the requests Handler decided, each with the message
// it decided, and the Gateway's own; without Keys, everything.
func (g *Gateway) gate(ctx context.Context, _ any, message any) error {
	if ctx.Value(nestedKey{}) != nil || ctx.Value(trustedKey{}) == g {
		return nil
	}
	c := g.callOf(ctx)
	if c == nil {
		if g.opts.Keys == nil {
			return nil
		}
		return errNotDecided
	}
	raw, _ := message.(json.RawMessage)
	if !c.decision.Allowed || c.body == nil || !bytes.Equal(raw, c.body) {
		return errNotDecided
	}
	return nil
}

// onSuccess notes that the request ran, and a tool call's result.
func (g *Gateway) onSuccess(ctx context.Context, _ any, method mcp.MCPMethod, _ any, result any) {
	c := g.callOf(ctx)
	if c == nil {
		return
	}
	c.ran = true
	if r, ok := result.(*mcp.CallToolResult); ok && r != nil && method == mcp.MethodToolsCall {
		c.toolError, c.response = r.IsError, gateway.ToolResultData(r.IsError, r.Content, r.StructuredContent)
	}
}

// onError notes that the request failed.
func (g *Gateway) onError(ctx context.Context, _ any, _ mcp.MCPMethod, _ any, err error) {
	if c := g.callOf(ctx); c != nil {
		c.ran, c.err = true, err
	}
}

// recoverInto turns a handler's panic into its error, so that the client
// gets an error and the call its audit row.
func (g *Gateway) recoverInto(ctx context.Context, what string, err *error) {
	if v := recover(); v != nil {
		g.log.ErrorContext(ctx, "mcpgo: a handler panicked", "handler", what, "panic", v, "stack", string(debug.Stack()))
		*err = fmt.Errorf("internal error in %s", what)
	}
}

// visibleOnly keeps the items the request's key may use: the tool and
// prompt filters, which mcp-go applies to calls as well as lists.
func visibleOnly[T any](g *Gateway, ctx context.Context, kind gateway.ListKind, items []T, id func(T) string) []T {
	grants := g.grantsOf(ctx)
	if grants.All() {
		return items
	}
	kept := make([]T, 0, len(items))
	for _, it := range items {
		if g.policy.Visible(grants, kind, id(it)) {
			kept = append(kept, it)
		}
	}
	return kept
}

// privateToKey marks a result as for its key alone: what a key gets
// depends on its permissions. To clients of the 2026-07-28 protocol, which
// mcp-go would otherwise tell the server's configured cache hints, a result
// whose freshness is not set yet is also said to be stale at once
// (mcp-go's default), since the configured scope may be public.
func privateToKey(ctx context.Context, r *mcp.CacheableResult) {
	r.CacheScope = mcp.CacheScopePrivate
	if _, set := r.TTL(); !set && server.IsModernRequest(ctx) {
		r.SetCacheHints(0, mcp.CacheScopePrivate)
	}
}
