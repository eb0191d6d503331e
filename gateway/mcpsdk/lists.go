package mcpsdk

import (
	"context"
	"fmt"
	"slices"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpstore/mcpstore/gateway"
)

// maxListPages bounds how many of the server's own pages one filtered list
// reads, against a server whose cursors never end.
const maxListPages = 100_000

// filteredList answers a list method with what the key may use, paged over
// that alone (see gateway.ListPage): the list is read from the server
// whole (every page of it), then filtered and paged again, a page holding
// at most as many items as the server's own pages do (go-sdk's PageSize,
// read off its first page).
func (g *Gateway) filteredList(ctx context.Context, next mcp.MethodHandler, method string, req mcp.Request, grants *gateway.Grants, kind gateway.ListKind) (mcp.Result, error) {
	switch r := req.(type) {
	case *mcp.ListToolsRequest:
		return pageList(ctx, next, method, r, g.policy, grants, kind,
			func(c string) *mcp.ListToolsParams { return &mcp.ListToolsParams{Cursor: c} },
			func(p *mcp.ListToolsParams) string { return p.Cursor },
			func(res *mcp.ListToolsResult) ([]*mcp.Tool, *string) { return res.Tools, &res.NextCursor },
			func(res *mcp.ListToolsResult, items []*mcp.Tool) { res.Tools = items },
			func(t *mcp.Tool) string { return t.Name })
	case *mcp.ListResourcesRequest:
		return pageList(ctx, next, method, r, g.policy, grants, kind,
			func(c string) *mcp.ListResourcesParams { return &mcp.ListResourcesParams{Cursor: c} },
			func(p *mcp.ListResourcesParams) string { return p.Cursor },
			func(res *mcp.ListResourcesResult) ([]*mcp.Resource, *string) { return res.Resources, &res.NextCursor },
			func(res *mcp.ListResourcesResult, items []*mcp.Resource) { res.Resources = items },
			func(r *mcp.Resource) string { return r.URI })
	case *mcp.ListResourceTemplatesRequest:
		return pageList(ctx, next, method, r, g.policy, grants, kind,
			func(c string) *mcp.ListResourceTemplatesParams { return &mcp.ListResourceTemplatesParams{Cursor: c} },
			func(p *mcp.ListResourceTemplatesParams) string { return p.Cursor },
			func(res *mcp.ListResourceTemplatesResult) ([]*mcp.ResourceTemplate, *string) {
				return res.ResourceTemplates, &res.NextCursor
			},
			func(res *mcp.ListResourceTemplatesResult, items []*mcp.ResourceTemplate) {
				res.ResourceTemplates = items
			},
			func(t *mcp.ResourceTemplate) string { return t.URITemplate })
	case *mcp.ListPromptsRequest:
		return pageList(ctx, next, method, r, g.policy, grants, kind,
			func(c string) *mcp.ListPromptsParams { return &mcp.ListPromptsParams{Cursor: c} },
			func(p *mcp.ListPromptsParams) string { return p.Cursor },
			func(res *mcp.ListPromptsResult) ([]*mcp.Prompt, *string) { return res.Prompts, &res.NextCursor },
			func(res *mcp.ListPromptsResult, items []*mcp.Prompt) { res.Prompts = items },
			func(p *mcp.Prompt) string { return p.Name })
	}
	// A list request of a type this SDK version does not use: refuse
	// rather than return what the key may not see.
	return nil, &jsonrpc.Error{Code: gateway.CodePermissionDenied, Message: "permission denied: this list cannot be filtered"}
}

// pageList is filteredList for one kind of list: P its params, R its
// result, T its items.
func pageList[P interface {
	mcp.Params
	comparable
}, R interface {
	mcp.Result
	*S
}, S any, T any](
	ctx context.Context, next mcp.MethodHandler, method string, req *mcp.ServerRequest[P],
	policy gateway.Policy, grants *gateway.Grants, kind gateway.ListKind,
	withCursor func(string) P, cursorOf func(P) string,
	itemsOf func(R) ([]T, *string), setItems func(R, []T), idOf func(T) string,
) (mcp.Result, error) {
	var zero P
	after := ""
	if req.Params != zero {
		var err error
		if after, err = gateway.DecodeCursor(cursorOf(req.Params)); err != nil {
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "invalid cursor"}
		}
	}
	first, all, pageSize, err := serverList(ctx, next, method, req, withCursor, itemsOf)
	if err != nil {
		return nil, err
	}
	kept, nextCursor := gateway.ListPage(policy, grants, kind, all, idOf, after, pageSize)
	out := new(S)
	*out = *first
	res := R(out)
	_, cursor := itemsOf(res)
	*cursor = nextCursor
	setItems(res, kept)
	return res, nil
}

// serverList reads a list from the server whole, through next: every item
// of every page, the first page's result, and the server's page size (0
// when its first page held everything).
func serverList[P interface {
	mcp.Params
	comparable
}, R interface {
	mcp.Result
	*S
}, S any, T any](
	ctx context.Context, next mcp.MethodHandler, method string, req *mcp.ServerRequest[P],
	withCursor func(string) P, itemsOf func(R) ([]T, *string),
) (first R, all []T, pageSize int, err error) {
	var zero P
	cursor := ""
	for page := 0; ; page++ {
		if page == maxListPages {
			return nil, nil, 0, fmt.Errorf("mcpsdk: %s: the server's list did not end after %d pages", method, maxListPages)
		}
		sub := &mcp.ServerRequest[P]{Session: req.Session, Params: withCursor(cursor), Extra: req.Extra}
		if req.Params != zero {
			sub.Params.SetMeta(req.Params.GetMeta())
		}
		res, err := next(ctx, method, sub)
		if err != nil {
			return nil, nil, 0, err
		}
		r, ok := res.(R)
		if !ok || r == nil {
			return nil, nil, 0, fmt.Errorf("mcpsdk: %s: unexpected result %T", method, res)
		}
		items, nextCursor := itemsOf(r)
		if page == 0 {
			first = r
			if *nextCursor != "" {
				pageSize = len(items)
			}
		}
		all = append(all, items...)
		if *nextCursor == "" {
			return first, all, pageSize, nil
		}
		cursor = *nextCursor
	}
}

// served reports whether uri is a resource template, or a resource, that
// the server serves: what a completion's reference must name.
func (g *Gateway) served(ctx context.Context, next mcp.MethodHandler, req mcp.Request, uri string) bool {
	ss, _ := req.GetSession().(*mcp.ServerSession)
	extra := req.GetExtra()
	_, templates, _, err := serverList(ctx, next, gateway.MethodResourceTemplatesList,
		&mcp.ListResourceTemplatesRequest{Session: ss, Params: &mcp.ListResourceTemplatesParams{}, Extra: extra},
		func(c string) *mcp.ListResourceTemplatesParams { return &mcp.ListResourceTemplatesParams{Cursor: c} },
		func(res *mcp.ListResourceTemplatesResult) ([]*mcp.ResourceTemplate, *string) {
			return res.ResourceTemplates, &res.NextCursor
		})
	if err == nil && slices.ContainsFunc(templates, func(t *mcp.ResourceTemplate) bool { return t.URITemplate == uri }) {
		return true
	}
	_, resources, _, err := serverList(ctx, next, gateway.MethodResourcesList,
		&mcp.ListResourcesRequest{Session: ss, Params: &mcp.ListResourcesParams{}, Extra: extra},
		func(c string) *mcp.ListResourcesParams { return &mcp.ListResourcesParams{Cursor: c} },
		func(res *mcp.ListResourcesResult) ([]*mcp.Resource, *string) { return res.Resources, &res.NextCursor })
	return err == nil && slices.ContainsFunc(resources, func(r *mcp.Resource) bool { return r.URI == uri })
}

// privateToKey marks a result as for its key alone: what a key gets
// depends on its permissions, and MCP's cache scope defaults to public,
// which would let a shared cache serve it to other keys.
func privateToKey(res mcp.Result) {
	switch r := res.(type) {
	case *mcp.ReadResourceResult:
		r.CacheScope = "private"
	case *mcp.ListToolsResult:
		r.CacheScope = "private"
	case *mcp.ListResourcesResult:
		r.CacheScope = "private"
	case *mcp.ListResourceTemplatesResult:
		r.CacheScope = "private"
	case *mcp.ListPromptsResult:
		r.CacheScope = "private"
	}
}
