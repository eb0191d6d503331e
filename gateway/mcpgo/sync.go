package mcpgo

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/google/uuid"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/mcpstore/mcpstore/gateway"
)

// ToolSync keeps the registry equal to an mcp-go server's tools: it syncs
// once at start, and again whenever the server announces that its tool
// list changed (mcp-go sends notifications/tools/list_changed after
// AddTool, SetTools and DeleteTools unless the server was built with
// server.WithToolCapabilities(false)). Close stops it; Last reports the
// newest sync.
type ToolSync struct {
	*gateway.ToolSync
	s    *server.MCPServer
	sess *syncSession
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// SyncTools syncs s's tools into the registry under Options.ServerID and
// keeps syncing them when they change, until Close. It reads the tools
// with tools/list through the server's own dispatch, as requests the
// policy trusts (it sees every tool; nothing is audited), and hears of
// changes through a session of its own that it registers with s. The
// first sync's error is returned.
func (g *Gateway) SyncTools(ctx context.Context, s *server.MCPServer) (*ToolSync, error) {
	if g.opts.Registry == nil {
		return nil, errors.New("mcpgo: SyncTools needs Options.Registry")
	}
	g.install(s)
	trusted := context.WithValue(context.WithoutCancel(ctx), trustedKey{}, g)
	ts := &ToolSync{s: s, stop: make(chan struct{}), done: make(chan struct{}),
		sess: &syncSession{id: "mcpstore-registry-" + uuid.NewString(), ch: make(chan mcp.JSONRPCNotification, 16)}}
	if err := s.RegisterSession(trusted, ts.sess); err != nil {
		return nil, fmt.Errorf("mcpgo: register the registry's session with the server: %w", err)
	}
	changed := make(chan struct{}, 1)
	go ts.listen(changed)
	list := func(ctx context.Context) ([]gateway.Tool, error) {
		tools, err := readPages(context.WithValue(ctx, trustedKey{}, g), s, gateway.MethodToolsList, "", toolsPage)
		if err != nil {
			return nil, fmt.Errorf("mcpgo: list the server's tools: %w", err)
		}
		out := make([]gateway.Tool, 0, len(tools))
		for _, t := range tools {
			gt, err := gateway.ToolOf(t)
			if err != nil {
				return nil, err
			}
			out = append(out, gt)
		}
		return out, nil
	}
	var err error
	if ts.ToolSync, err = g.opts.Registry.Follow(ctx, g.opts.ServerID, list, changed, g.log); err != nil {
		ts.stopListening()
		return nil, err
	}
	return ts, nil
}

// listen turns the server's list-changed notifications into syncs.
func (ts *ToolSync) listen(changed chan<- struct{}) {
	defer close(ts.done)
	for {
		select {
		case <-ts.stop:
			return
		case n := <-ts.sess.ch:
			if n.Method != string(mcp.MethodNotificationToolsListChanged) {
				continue
			}
			select {
			case changed <- struct{}{}:
			default: // a sync is pending already; it will read the newest list
			}
		}
	}
}

func (ts *ToolSync) stopListening() {
	ts.once.Do(func() {
		ts.s.UnregisterSession(context.Background(), ts.sess.id)
		close(ts.stop)
		<-ts.done
	})
}

// Close stops syncing; a second Close does nothing. The registry keeps the
// tools last synced.
func (ts *ToolSync) Close() error {
	err := ts.ToolSync.Close()
	ts.stopListening()
	return err
}

// syncSession is the registry's session with the server: it only hears the
// server's notifications.
type syncSession struct {
	id string
	ch chan mcp.JSONRPCNotification
}

func (s *syncSession) Initialize()                                         {}
func (s *syncSession) Initialized() bool                                   { return true }
func (s *syncSession) NotificationChannel() chan<- mcp.JSONRPCNotification { return s.ch }
func (s *syncSession) SessionID() string                                   { return s.id }
