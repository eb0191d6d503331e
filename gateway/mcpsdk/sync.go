package mcpsdk

import (
	"context"
	"errors"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpstore/mcpstore/gateway"
)

// ToolSync keeps the registry equal to a server's tools: it syncs once at
// start, and again whenever the server announces that its tool list
// changed (notifications/tools/list_changed, which go-sdk sends after
// AddTool and RemoveTools). Close stops it; Last reports the newest sync.
type ToolSync struct {
	*gateway.ToolSync
	g       *Gateway
	session *mcp.ClientSession
	server  *mcp.ServerSession
}

// SyncTools syncs server's tools into the registry under Options.ServerID
// and keeps syncing them when they change, until Close. It reads the tools
// the way any client does, through an in-memory session, which the
// Gateway's middleware trusts: it sees every tool, and its tools/list is
// not audited. The first sync's error is returned.
func (g *Gateway) SyncTools(ctx context.Context, server *mcp.Server) (*ToolSync, error) {
	if g.opts.Registry == nil {
		return nil, errors.New("mcpsdk: SyncTools needs Options.Registry")
	}
	ts := &ToolSync{g: g}
	changed := make(chan struct{}, 1)
	clientT, serverT := mcp.NewInMemoryTransports()
	ss, err := server.Connect(context.WithoutCancel(ctx), serverT, nil)
	if err != nil {
		return nil, fmt.Errorf("mcpsdk: connect to the server to read its tools: %w", err)
	}
	ts.server = ss
	g.trusted.Store(ss, true)
	client := mcp.NewClient(&mcp.Implementation{Name: "mcpstore-registry", Version: "1"}, &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) {
			select {
			case changed <- struct{}{}:
			default: // a sync is pending already; it will read the newest list
			}
		},
	})
	ts.session, err = client.Connect(context.WithoutCancel(ctx), clientT, nil)
	if err != nil {
		ts.closeSessions()
		return nil, fmt.Errorf("mcpsdk: connect to the server to read its tools: %w", err)
	}
	ts.ToolSync, err = g.opts.Registry.Follow(ctx, g.opts.ServerID, ts.list, changed, g.log)
	if err != nil {
		ts.closeSessions()
		return nil, err
	}
	return ts, nil
}

// list reads the server's tools, as a client does.
func (ts *ToolSync) list(ctx context.Context) ([]gateway.Tool, error) {
	var tools []gateway.Tool
	for t, err := range ts.session.Tools(ctx, nil) {
		if err != nil {
			return nil, fmt.Errorf("mcpsdk: list the server's tools: %w", err)
		}
		gt, err := gateway.ToolOf(t)
		if err != nil {
			return nil, err
		}
		tools = append(tools, gt)
	}
	return tools, nil
}

func (ts *ToolSync) closeSessions() {
	if ts.session != nil {
		ts.session.Close()
	}
	ts.server.Close()
	ts.g.trusted.Delete(ts.server)
}

// Close stops syncing. The registry keeps the tools last synced.
func (ts *ToolSync) Close() error {
	err := ts.ToolSync.Close()
	ts.closeSessions()
	return err
}
