package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gateway"
	"github.com/mcpstore/mcpstore/internal/mcphttp"
	"github.com/mcpstore/mcpstore/internal/testdb"
)

// connect opens a session with mcp-go's own client.
func connect(ctx context.Context, url, key string) (*client.Client, error) {
	c, err := client.NewStreamableHttpClient(url, transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + key}))
	if err != nil {
		return nil, err
	}
	if err := c.Start(ctx); err != nil {
		return nil, err
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.ProtocolVersion20251125
	init.Params.ClientInfo = mcp.Implementation{Name: "e2e", Version: "1"}
	if _, err := c.Initialize(ctx, init); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// The example end to end with mcp-go's client, on both engines: lists hold
// what the key may use, calls it may not make are refused and audited, bad
// keys get 401, and the registry holds the server's tools.
func TestEndToEnd(t *testing.T) {
	testdb.EachEngine(t, func(t *testing.T, store db.Store) {
		ctx := t.Context()
		srv, err := New(ctx, store)
		require.NoError(t, err)
		hs := httptest.NewServer(srv.Handler)
		defer hs.Close()

		key, info, err := srv.Keys.Issue(ctx, gateway.IssueOptions{Name: "good", Owner: "alice",
			Permissions: []string{"tools:call:echo", "tools:call:up*", "resources:read:example://docs/*", "prompts:get:" + GreetPrompt}})
		require.NoError(t, err)
		c, err := connect(ctx, hs.URL, key)
		require.NoError(t, err)
		defer c.Close()

		tools, err := c.ListTools(ctx, mcp.ListToolsRequest{})
		require.NoError(t, err)
		var names []string
		for _, tool := range tools.Tools {
			names = append(names, tool.Name)
		}
		assert.Equal(t, []string{"echo", "upper"}, names, "tools/list is filtered by the key's permissions")
		res, err := c.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "upper", Arguments: map[string]any{"text": "hi"}}})
		require.NoError(t, err)
		require.False(t, res.IsError)
		assert.Equal(t, "HI", mcp.GetTextFromContent(res.Content[0]))
		_, err = c.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "delete_everything"}})
		assert.ErrorContains(t, err, "permission denied", "refused before it runs")

		resources, err := c.ListResources(ctx, mcp.ListResourcesRequest{})
		require.NoError(t, err)
		require.Len(t, resources.Resources, 1)
		assert.Equal(t, DocURI, resources.Resources[0].URI)
		_, err = c.ReadResource(ctx, mcp.ReadResourceRequest{Params: mcp.ReadResourceParams{URI: "example://docs/intro"}})
		assert.NoError(t, err, "a document by the template")
		_, err = c.ReadResource(ctx, mcp.ReadResourceRequest{Params: mcp.ReadResourceParams{URI: SecretURI}})
		assert.ErrorContains(t, err, "permission denied")
		_, err = c.GetPrompt(ctx, mcp.GetPromptRequest{Params: mcp.GetPromptParams{Name: GreetPrompt, Arguments: map[string]string{"name": "bob"}}})
		assert.NoError(t, err)
		_, err = c.GetPrompt(ctx, mcp.GetPromptRequest{Params: mcp.GetPromptParams{Name: ReportPrompt}})
		assert.ErrorContains(t, err, "permission denied")

		for name, bad := range map[string]string{"none": "", "malformed": "mcp_nope"} {
			code, _, err := mcphttp.Initialize(ctx, hs.URL, bad)
			require.NoError(t, err)
			assert.Equal(t, http.StatusUnauthorized, code, name)
		}

		registered, err := gateway.NewRegistry(store, gateway.RegistryOptions{}).Tools(ctx, ServerID)
		require.NoError(t, err)
		assert.Len(t, registered, 3, "the registry holds the server's tools")

		require.NoError(t, srv.Close(ctx)) // flushes the audit log
		calls, err := store.AuditLogs().ListByDateRange(ctx, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), gateway.MethodToolsCall, db.Page{})
		require.NoError(t, err)
		status := map[string]string{}
		for _, ev := range calls {
			status[ev.ResourceID] = ev.Status
			assert.Equal(t, info.ID, ev.APIKeyID)
		}
		assert.Equal(t, map[string]string{"example/upper": gateway.StatusSuccess, "example/delete_everything": gateway.StatusDenied}, status)
	})
}
