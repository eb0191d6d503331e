package mcpgo_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gateway"
	"github.com/mcpstore/mcpstore/gateway/mcpgo"
	"github.com/mcpstore/mcpstore/internal/adaptertest"
	"github.com/mcpstore/mcpstore/internal/testdb"
)

// The registry follows an mcp-go server's tools, task tools included, even
// when keys are on (the sync's own reads pass the policy), and stops
// following at Close.
func TestSyncTools(t *testing.T) {
	testdb.EachEngine(t, func(t *testing.T, s db.Store) {
		ctx := t.Context()
		keys, err := gateway.NewKeys(ctx, s, gateway.KeysOptions{})
		require.NoError(t, err)
		defer keys.Close(context.Background())
		srv := server.NewMCPServer("files", "1", server.WithTaskCapabilities(true, true, true))
		addEcho(srv, "read_file")
		addEcho(srv, "list_dir")
		srv.AddTaskTool(mcp.NewTool("index", mcp.WithDescription("indexes"), mcp.WithTaskSupport(mcp.TaskSupportRequired)),
			func(context.Context, mcp.CallToolRequest) (*mcp.CreateTaskResult, error) {
				return &mcp.CreateTaskResult{}, nil
			})
		reg := gateway.NewRegistry(s, gateway.RegistryOptions{})
		g := mcpgo.New(mcpgo.Options{ServerID: "files", Registry: reg, Keys: keys})
		defer g.Close()

		ts, err := g.SyncTools(ctx, srv)
		require.NoError(t, err)
		defer ts.Close()
		assert.Equal(t, []string{"index", "list_dir", "read_file"}, adaptertest.RegistryNames(t, reg, "files"))
		rep, _, err := ts.Last()
		require.NoError(t, err)
		assert.Equal(t, []string{"index", "list_dir", "read_file"}, rep.Added)
		got, err := reg.Get(ctx, "files", "read_file")
		require.NoError(t, err)
		assert.Equal(t, "echoes read_file", got.Description)
		var schema map[string]any
		require.NoError(t, json.Unmarshal(got.InputSchema, &schema))
		assert.Equal(t, "object", schema["type"])
		assert.Equal(t, []any{"text"}, schema["required"], "the schema mcp-go built from the tool's options")

		// The server changes its tools: the registry follows.
		addEcho(srv, "write_file")
		srv.DeleteTools("list_dir")
		require.Eventually(t, func() bool {
			n := adaptertest.RegistryNames(t, reg, "files")
			return len(n) == 3 && n[0] == "index" && n[1] == "read_file" && n[2] == "write_file"
		}, 10*time.Second, 20*time.Millisecond, "registry follows the server's tool list")
		inactive, err := s.Tools().GetByName(ctx, "files", "list_dir")
		require.NoError(t, err)
		assert.False(t, inactive.IsActive, "a removed tool is deactivated, its row kept")

		require.NoError(t, ts.Close())
		addEcho(srv, "after_close")
		time.Sleep(300 * time.Millisecond)
		assert.NotContains(t, adaptertest.RegistryNames(t, reg, "files"), "after_close", "no sync after Close")
	})
}
