package mcpsdk_test

import (
	"context"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gateway"
	"github.com/mcpstore/mcpstore/gateway/mcpsdk"
	"github.com/mcpstore/mcpstore/internal/adaptertest"
	"github.com/mcpstore/mcpstore/internal/testdb"
)

type echoArgs struct {
	Text string `json:"text"`
}

func addEcho(s *mcp.Server, name string) {
	mcp.AddTool(s, &mcp.Tool{Name: name, Description: "echoes " + name},
		func(ctx context.Context, req *mcp.CallToolRequest, in echoArgs) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.Text}}}, nil, nil
		})
}

func TestSyncTools(t *testing.T) {
	testdb.EachEngine(t, func(t *testing.T, s db.Store) {
		ctx := t.Context()
		server := mcp.NewServer(&mcp.Implementation{Name: "files", Version: "1"}, nil)
		addEcho(server, "read_file")
		addEcho(server, "list_dir")
		reg := gateway.NewRegistry(s, gateway.RegistryOptions{})
		g := mcpsdk.New(mcpsdk.Options{ServerID: "files", Registry: reg})

		ts, err := g.SyncTools(ctx, server)
		require.NoError(t, err)
		defer ts.Close()
		assert.Equal(t, []string{"list_dir", "read_file"}, adaptertest.RegistryNames(t, reg, "files"))
		rep, _, err := ts.Last()
		require.NoError(t, err)
		assert.Equal(t, []string{"list_dir", "read_file"}, rep.Added)
		got, err := reg.Get(ctx, "files", "read_file")
		require.NoError(t, err)
		assert.Equal(t, "echoes read_file", got.Description)
		assert.JSONEq(t, `{"type":"object","properties":{"text":{"type":"string"}},"required":["text"],"additionalProperties":false}`,
			string(got.InputSchema), "the schema go-sdk inferred from the Go type")

		// The server changes its tools: the registry follows.
		addEcho(server, "write_file")
		server.RemoveTools("list_dir")
		require.Eventually(t, func() bool {
			n := adaptertest.RegistryNames(t, reg, "files")
			return len(n) == 2 && n[0] == "read_file" && n[1] == "write_file"
		}, 10*time.Second, 20*time.Millisecond, "registry follows the server's tool list")
		inactive, err := s.Tools().GetByName(ctx, "files", "list_dir")
		require.NoError(t, err)
		assert.False(t, inactive.IsActive, "a removed tool is deactivated, its row kept")

		require.NoError(t, ts.Close())
		addEcho(server, "after_close")
		time.Sleep(300 * time.Millisecond) // longer than go-sdk's list-changed delay
		assert.NotContains(t, adaptertest.RegistryNames(t, reg, "files"), "after_close", "no sync after Close")
	})
}
