package mcpsdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpstore/mcpstore/gateway"
)

// ToolSync keeps the registry equal to a server's tools: it syncs once at
// start, and again whenever the server announces that its tool list
// changed (notifications/tools/list_changed, which go-sdk sends after
// AddTool and RemoveTools). Close stops it.
type ToolSync struct {
	g       *Gateway
	session *mcp.ClientSession
	kick    chan struct{}
	done    chan struct{}
	cancel  context.CancelFunc

	mu      sync.Mutex
	last    gateway.SyncReport
	lastErr error
	syncs   int
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
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	ts := &ToolSync{g: g, kick: make(chan struct{}, 1), done: make(chan struct{}), cancel: cancel}

	clientT, serverT := mcp.NewInMemoryTransports()
	ss, err := server.Connect(runCtx, serverT, nil)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("mcpsdk: connect to the server to read its tools: %w", err)
	}
	g.trusted.Store(ss, true)
	client := mcp.NewClient(&mcp.Implementation{Name: "mcpstore-registry", Version: "1"}, &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) { ts.trigger() },
	})
	ts.session, err = client.Connect(runCtx, clientT, nil)
	if err != nil {
		g.trusted.Delete(ss)
		ss.Close()
		cancel()
		return nil, fmt.Errorf("mcpsdk: connect to the server to read its tools: %w", err)
	}
	if err := ts.syncOnce(ctx); err != nil {
		ts.session.Close()
		g.trusted.Delete(ss)
		cancel()
		return nil, err
	}
	go ts.loop(runCtx, ss)
	return ts, nil
}

func (ts *ToolSync) trigger() {
	select {
	case ts.kick <- struct{}{}:
	default: // a sync is pending already; it will read the newest list
	}
}

func (ts *ToolSync) loop(ctx context.Context, ss *mcp.ServerSession) {
	defer close(ts.done)
	defer ts.g.trusted.Delete(ss)
	for {
		select {
		case <-ctx.Done():
			return
		case <-ts.kick:
			if err := ts.syncOnce(ctx); err != nil && ctx.Err() == nil {
				ts.g.log.ErrorContext(ctx, "tool registry sync failed", "server", ts.g.opts.ServerID, "err", err)
			}
		}
	}
}

// syncOnce lists the server's tools and syncs them.
func (ts *ToolSync) syncOnce(ctx context.Context) error {
	var tools []gateway.Tool
	for t, err := range ts.session.Tools(ctx, nil) {
		if err != nil {
			return ts.record(gateway.SyncReport{}, fmt.Errorf("mcpsdk: list the server's tools: %w", err))
		}
		gt, err := registryTool(t)
		if err != nil {
			return ts.record(gateway.SyncReport{}, err)
		}
		tools = append(tools, gt)
	}
	rep, err := ts.g.opts.Registry.Sync(ctx, ts.g.opts.ServerID, tools)
	return ts.record(rep, err)
}

func (ts *ToolSync) record(rep gateway.SyncReport, err error) error {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.syncs++
	ts.lastErr = err
	if err == nil {
		ts.last = rep
	}
	return err
}

// Last returns the report of the newest successful sync, how many syncs
// were attempted, and the error of the newest attempt.
func (ts *ToolSync) Last() (gateway.SyncReport, int, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.last, ts.syncs, ts.lastErr
}

// Close stops syncing. The registry keeps the tools last synced.
func (ts *ToolSync) Close() error {
	ts.cancel()
	err := ts.session.Close()
	<-ts.done
	return err
}

// registryTool converts an SDK tool into the registry's form. Both follow
// the MCP specification's field names, so JSON carries it across.
func registryTool(t *mcp.Tool) (gateway.Tool, error) {
	b, err := json.Marshal(t)
	if err != nil {
		return gateway.Tool{}, fmt.Errorf("mcpsdk: tool %q: %w", t.Name, err)
	}
	var gt gateway.Tool
	if err := json.Unmarshal(b, &gt); err != nil {
		return gateway.Tool{}, fmt.Errorf("mcpsdk: tool %q: %w", t.Name, err)
	}
	return gt, nil
}
