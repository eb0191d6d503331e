package mcpgo

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/mcpstore/mcpstore/gateway"
)

// maxListPages bounds how many of the server's own pages one filtered list
// reads, against a server whose cursors never end.
const maxListPages = 100_000

// fromStart makes the server answer a list from its first page: the
// client's cursor is the Gateway's (Handler decoded it), not the server's.
func (g *Gateway) fromStart(ctx context.Context, cursor *mcp.Cursor) {
	if g.opts.Keys != nil && g.callOf(ctx) != nil {
		*cursor = ""
	}
}

// relist replaces the server's first page of a list with the key's page
// of the whole list (see gateway.ListPage): the rest of the server's
// pages are read (nested requests through the same session), and a page
// holds at most as many items as the server's own first page did when it
// had more (mcp-go's WithPaginationLimit).
func relist[T any](g *Gateway, ctx context.Context, kind gateway.ListKind, items *[]T, res *mcp.PaginatedResult,
	pageOf func(any) ([]T, mcp.Cursor, bool), id func(T) string) {
	c := g.callOf(ctx)
	if c == nil || g.opts.Keys == nil {
		return
	}
	all, pageSize := *items, 0
	if res.NextCursor != "" {
		pageSize = len(all)
		rest, err := readPages(ctx, c.h.s, c.msg.method, res.NextCursor, pageOf)
		if err != nil {
			// What was read is still filtered: the page lacks items, and
			// the audit row says why.
			g.log.ErrorContext(ctx, "mcpgo: reading the server's whole list failed", "method", c.msg.method, "err", err)
			c.err = err
		}
		all = append(all, rest...)
	}
	page, next := gateway.ListPage(g.policy, c.grants, kind, all, id, c.after, pageSize)
	*items, res.NextCursor = page, mcp.Cursor(next)
	privateToKey(ctx, &res.CacheableResult)
}

// nestedIDs numbers the Gateway's own requests to a server, apart from
// any id a client sends.
var nestedIDs atomic.Uint64

// readPages reads a list from s, from cursor on, as requests of the
// Gateway's own, which the policy's hooks let through.
func readPages[T any](ctx context.Context, s *server.MCPServer, method string, cursor mcp.Cursor, pageOf func(any) ([]T, mcp.Cursor, bool)) ([]T, error) {
	ctx = context.WithValue(ctx, nestedKey{}, true)
	var all []T
	for range maxListPages {
		req := map[string]any{"jsonrpc": mcp.JSONRPC_VERSION, "id": fmt.Sprintf("mcpstore-%d", nestedIDs.Add(1)), "method": method}
		if cursor != "" {
			req["params"] = map[string]any{"cursor": cursor}
		}
		b, err := json.Marshal(req)
		if err != nil {
			return all, err
		}
		switch r := s.HandleMessage(ctx, b).(type) {
		case mcp.JSONRPCResponse:
			items, next, ok := pageOf(r.Result)
			if !ok {
				return all, fmt.Errorf("mcpgo: %s: unexpected result %T", method, r.Result)
			}
			all = append(all, items...)
			if next == "" {
				return all, nil
			}
			cursor = next
		case mcp.JSONRPCError:
			return all, fmt.Errorf("mcpgo: %s: %s", method, r.Error.Message)
		default:
			return all, fmt.Errorf("mcpgo: %s: unexpected answer %T", method, r)
		}
	}
	return all, fmt.Errorf("mcpgo: %s: the server's list did not end after %d pages", method, maxListPages)
}

// served reports whether uri is a resource template, or a resource, that
// the server serves (to the session, when there is one): what a
// completion's reference must name.
func (h *handler) served(ctx context.Context, sess *session, uri string) bool {
	if sess != nil {
		sess.mu.Lock()
		cs := sess.cs
		sess.mu.Unlock()
		if cs != nil {
			ctx = h.s.WithContext(ctx, cs)
		}
	}
	templates, err := readPages(ctx, h.s, gateway.MethodResourceTemplatesList, "", templatesPage)
	if err == nil && slices.ContainsFunc(templates, func(t mcp.ResourceTemplate) bool { return templateURI(t) == uri }) {
		return true
	}
	resources, err := readPages(ctx, h.s, gateway.MethodResourcesList, "", resourcesPage)
	return err == nil && slices.ContainsFunc(resources, func(r mcp.Resource) bool { return r.URI == uri })
}

// The pages of each list, and the ids Policy.Visible takes.

func toolsPage(v any) ([]mcp.Tool, mcp.Cursor, bool) {
	r, ok := v.(mcp.ListToolsResult)
	return r.Tools, r.NextCursor, ok
}

func resourcesPage(v any) ([]mcp.Resource, mcp.Cursor, bool) {
	r, ok := v.(mcp.ListResourcesResult)
	return r.Resources, r.NextCursor, ok
}

func templatesPage(v any) ([]mcp.ResourceTemplate, mcp.Cursor, bool) {
	r, ok := v.(mcp.ListResourceTemplatesResult)
	return r.ResourceTemplates, r.NextCursor, ok
}

func promptsPage(v any) ([]mcp.Prompt, mcp.Cursor, bool) {
	r, ok := v.(mcp.ListPromptsResult)
	return r.Prompts, r.NextCursor, ok
}

func toolName(t mcp.Tool) string        { return t.Name }
func resourceURI(r mcp.Resource) string { return r.URI }
func promptName(p mcp.Prompt) string    { return p.Name }
func templateURI(t mcp.ResourceTemplate) string {
	if t.URITemplate == nil || t.URITemplate.Template == nil {
		return ""
	}
	return t.URITemplate.Raw()
}
