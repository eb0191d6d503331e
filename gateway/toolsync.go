package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
)

// ToolSync keeps the registry equal to one server's tools: it syncs them
// once at start (Registry.Follow), and again each time the server
// announces that its tool list changed. Close stops it; the registry keeps
// the tools last synced.
type ToolSync struct {
	r        *Registry
	serverID string
	list     func(context.Context) ([]Tool, error)
	log      *slog.Logger
	changed  <-chan struct{}
	done     chan struct{}
	cancel   context.CancelFunc

	mu      sync.Mutex
	last    SyncReport
	lastErr error
	syncs   int
}

// Follow syncs serverID's tools, as list reads them from the server, and
// syncs them again each time changed delivers (the SDK adapter sends on it,
// without waiting, when the server announces that its tools changed; a
// buffer of one keeps a change that arrives during a sync), until Close.
// The first sync's error is returned, and then nothing is followed. log
// (nil: discarded) receives the errors of later syncs.
func (r *Registry) Follow(ctx context.Context, serverID string, list func(context.Context) ([]Tool, error), changed <-chan struct{}, log *slog.Logger) (*ToolSync, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	ts := &ToolSync{r: r, serverID: serverID, list: list, log: log,
		changed: changed, done: make(chan struct{}), cancel: cancel}
	if err := ts.syncOnce(ctx); err != nil {
		cancel()
		return nil, err
	}
	go ts.loop(runCtx)
	return ts, nil
}

func (ts *ToolSync) loop(ctx context.Context) {
	defer close(ts.done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-ts.changed:
			if err := ts.syncOnce(ctx); err != nil && ctx.Err() == nil {
				ts.log.ErrorContext(ctx, "tool registry sync failed", "server", ts.serverID, "err", err)
			}
		}
	}
}

// syncOnce lists the server's tools and syncs them.
func (ts *ToolSync) syncOnce(ctx context.Context) error {
	tools, err := ts.list(ctx)
	if err != nil {
		return ts.record(SyncReport{}, err)
	}
	rep, err := ts.r.Sync(ctx, ts.serverID, tools)
	return ts.record(rep, err)
}

func (ts *ToolSync) record(rep SyncReport, err error) error {
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
func (ts *ToolSync) Last() (SyncReport, int, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.last, ts.syncs, ts.lastErr
}

// Close stops syncing, waiting for a sync under way to end.
func (ts *ToolSync) Close() error {
	ts.cancel()
	<-ts.done
	return nil
}

// ToolOf converts an SDK's tool into the registry's form: both follow the
// MCP specification's field names, so JSON carries it across.
func ToolOf(sdkTool any) (Tool, error) {
	b, err := json.Marshal(sdkTool)
	if err != nil {
		return Tool{}, fmt.Errorf("gateway: a tool of the server: %w", err)
	}
	var t Tool
	if err := json.Unmarshal(b, &t); err != nil {
		return Tool{}, fmt.Errorf("gateway: a tool of the server: %w", err)
	}
	return t, nil
}
