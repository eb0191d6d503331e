package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/mcpstore/mcpstore/db"
)

// Tool is a tool definition as an MCP server offers it (MCP specification
// 2025-11-25, the Tool of a tools/list result), with the JSON field names of
// the specification, so that a tools/list result unmarshals into []Tool.
// Icons and fields newer than the specification are not kept.
type Tool struct {
	// Name identifies the tool on its server: 1 to 128 characters from
	// A-Z, a-z, 0-9, '_', '-', '.'.
	Name string `json:"name"`
	// Title is a human-readable name for display; optional.
	Title string `json:"title,omitempty"`
	// Description tells the model what the tool does; optional.
	Description string `json:"description,omitempty"`
	// InputSchema is a JSON Schema object whose "type" is "object";
	// required.
	InputSchema json.RawMessage `json:"inputSchema"`
	// OutputSchema, when present, is a JSON Schema object whose "type" is
	// "object".
	OutputSchema json.RawMessage `json:"outputSchema,omitempty"`
	// Annotations, when present, is a JSON object of hints
	// (readOnlyHint, destructiveHint, ...).
	Annotations json.RawMessage `json:"annotations,omitempty"`
	// Meta is the tool's _meta, when present: a JSON object, stored as the
	// registration's metadata.
	Meta json.RawMessage `json:"_meta,omitempty"`
}

// RegisteredTool is an active tool of the registry: its definition, the
// server that offers it and its stored registration.
type RegisteredTool struct {
	Tool
	// ServerID is the server that offers the tool.
	ServerID string `json:"serverId"`
	// QualifiedName is QualifiedName(ServerID, Name).
	QualifiedName string `json:"qualifiedName"`
	// ID is the registration's row id.
	ID int64 `json:"id"`
	// CreatedAt is when the tool was first registered.
	CreatedAt time.Time `json:"createdAt"`
	// UpdatedAt is when the registration last changed.
	UpdatedAt time.Time `json:"updatedAt"`
}

// SyncReport says what a Sync did, by tool name, each list sorted. A list is
// nil when empty.
type SyncReport struct {
	// Added were not registered for the server and now are.
	Added []string
	// Updated were registered and changed: their definition, or they were
	// inactive and are active again.
	Updated []string
	// Removed were active and are no longer offered: they are now inactive,
	// and their rows are kept.
	Removed []string
	// Unchanged were active with the same definition: not written at all.
	Unchanged []string
}

// Changed reports whether the Sync wrote anything.
func (r SyncReport) Changed() bool {
	return len(r.Added)+len(r.Updated)+len(r.Removed) > 0
}

// RegistryOptions tunes a Registry. The zero value is ready to use.
type RegistryOptions struct {
	// Logger receives a line per Sync that changed something, and per
	// retried transaction. Nil discards.
	Logger *slog.Logger
	// MaxAttempts is how many times Sync runs its transaction when the
	// database reports a conflict or a passing failure (db.ErrConflict,
	// db.ErrUnavailable). Default 5.
	MaxAttempts int
	// MaxTools is the most tools one server may offer in a Sync.
	// Default db.MaxLimit.
	MaxTools int
}

// Registry keeps each MCP server's tools in the store in sync with what the
// server offers, on any db.Store. It is safe for concurrent use, and several
// Registries (gateway replicas) may share one database.
type Registry struct {
	store       db.Store
	log         *slog.Logger
	maxAttempts int
	maxTools    int
}

// NewRegistry returns a Registry on store.
func NewRegistry(store db.Store, opts RegistryOptions) *Registry {
	r := &Registry{store: store, log: opts.Logger, maxAttempts: opts.MaxAttempts, maxTools: opts.MaxTools}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.maxAttempts <= 0 {
		r.maxAttempts = 5
	}
	if r.maxTools <= 0 {
		r.maxTools = db.MaxLimit
	}
	return r
}

// Sync makes the active tools of serverID exactly tools, in one
// transaction: it registers new tools, updates changed ones (reactivating
// inactive ones), deactivates the active tools missing from the list
// (keeping their rows), and does not write unchanged tools at all, so their
// updated_at stays. JSON is compared in canonical form: key order and
// spacing are not changes. A second Sync of the same list changes nothing.
//
// The whole list is validated first; an invalid tool or a name given twice
// is refused with a *ToolError (errors.Is db.ErrInvalid) and nothing is
// written. Concurrent Syncs of one server, from one Registry or several on
// one database, run one after another: the registry ends equal to one of
// the lists. Transactions that meet a conflict or a passing failure are
// retried, up to RegistryOptions.MaxAttempts times.
func (r *Registry) Sync(ctx context.Context, serverID string, tools []Tool) (SyncReport, error) {
	if err := validateServerID(serverID); err != nil {
		return SyncReport{}, err
	}
	want, err := r.checkList(serverID, tools)
	if err != nil {
		return SyncReport{}, err
	}
	var rep SyncReport
	for attempt := 1; ; attempt++ {
		err = r.store.InTx(ctx, func(tx db.Repositories) error {
			var err error
			rep, err = syncTx(ctx, tx.Tools(), serverID, want)
			return err
		})
		if err == nil || attempt >= r.maxAttempts || ctx.Err() != nil ||
			!(errors.Is(err, db.ErrConflict) || errors.Is(err, db.ErrUnavailable)) {
			break
		}
		r.log.WarnContext(ctx, "tool registry sync retried", "server", serverID, "attempt", attempt, "err", err)
		if err := backoff(ctx, attempt); err != nil {
			return SyncReport{}, fmt.Errorf("gateway: sync tools of a server: %w", err)
		}
	}
	if err != nil {
		return SyncReport{}, fmt.Errorf("gateway: sync tools of a server: %w", err)
	}
	if rep.Changed() {
		r.log.InfoContext(ctx, "tool registry synced", "server", serverID,
			"added", len(rep.Added), "updated", len(rep.Updated), "removed", len(rep.Removed),
			"unchanged", len(rep.Unchanged))
	}
	return rep, nil
}

// backoff waits a little longer after each failed attempt, with jitter so
// that replicas that collided do not collide again.
func backoff(ctx context.Context, attempt int) error {
	d := time.Duration(5<<min(attempt, 6)) * time.Millisecond
	d = d/2 + rand.N(d/2+1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// checkList validates every tool of the list and returns them by name, in
// name order, in canonical form.
func (r *Registry) checkList(serverID string, tools []Tool) ([]db.ToolCreate, error) {
	if len(tools) > r.maxTools {
		return nil, &ToolError{Server: serverID, Index: -1, Field: "tools",
			Msg: fmt.Sprintf("a server may offer at most %d tools, got %d", r.maxTools, len(tools))}
	}
	out := make([]db.ToolCreate, 0, len(tools))
	seen := make(map[string]int, len(tools))
	for i, t := range tools {
		w, err := checkTool(t)
		if err != nil {
			te := err.(*ToolError)
			te.Server, te.Index = serverID, i
			return nil, te
		}
		if j, dup := seen[t.Name]; dup {
			return nil, &ToolError{Server: serverID, Index: i, Tool: t.Name, Field: "name",
				Msg: fmt.Sprintf("given twice (also #%d)", j)}
		}
		seen[t.Name] = i
		w.ServerID = serverID
		out = append(out, w)
	}
	slices.SortFunc(out, func(a, b db.ToolCreate) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// checkTool validates one tool definition against the MCP specification
// and the store's limits, so that the transaction meets no invalid input.
func checkTool(t Tool) (db.ToolCreate, error) {
	fail := func(field, msg string) (db.ToolCreate, error) {
		return db.ToolCreate{}, &ToolError{Index: -1, Tool: t.Name, Field: field, Msg: msg}
	}
	if err := ValidateToolName(t.Name); err != nil {
		return db.ToolCreate{}, err
	}
	if err := db.CheckText("title", t.Title, 0, db.MaxNameLen); err != nil {
		return fail("title", dbMsg(err))
	}
	if err := db.CheckText("description", t.Description, 0, db.MaxDescriptionLen); err != nil {
		return fail("description", dbMsg(err))
	}
	in, err := schemaObject(t.InputSchema, true)
	if err != nil {
		return fail("inputSchema", err.Error())
	}
	out, err := schemaObject(t.OutputSchema, false)
	if err != nil {
		return fail("outputSchema", err.Error())
	}
	ann, err := jsonObject(t.Annotations, false)
	if err != nil {
		return fail("annotations", err.Error())
	}
	meta, err := jsonObject(t.Meta, false)
	if err != nil {
		return fail("_meta", err.Error())
	}
	return db.ToolCreate{
		Name: t.Name, Title: t.Title, Description: t.Description,
		InputSchema: in, OutputSchema: out, Annotations: ann, Metadata: meta,
	}, nil
}

func dbMsg(err error) string {
	if de := (*db.Error)(nil); errors.As(err, &de) && de.Msg != "" {
		return de.Msg
	}
	return "invalid"
}

// absent reports a JSON field that was left out or given as null.
func absent(raw json.RawMessage) bool {
	return len(raw) == 0 || string(bytes.TrimSpace(raw)) == "null"
}

// jsonObject returns raw, a JSON object, in canonical form; nil when absent
// and optional.
func jsonObject(raw json.RawMessage, required bool) (json.RawMessage, error) {
	if absent(raw) {
		if required {
			return nil, errors.New("required")
		}
		return nil, nil
	}
	// The store's own rule (size, depth, numbers), so that a tool it
	// would refuse is refused here, alone, rather than failing its sync.
	return db.CheckObject(raw)
}

// schemaObject returns raw, a JSON Schema object whose "type" is "object",
// in canonical form; nil when absent and optional.
func schemaObject(raw json.RawMessage, required bool) (json.RawMessage, error) {
	c, err := jsonObject(raw, required)
	if err != nil || c == nil {
		return c, err
	}
	var s struct {
		Type json.RawMessage `json:"type"`
	}
	if err := json.Unmarshal(c, &s); err != nil {
		return nil, err
	}
	if string(s.Type) != `"object"` {
		return nil, errors.New(`must have "type": "object"`)
	}
	return c, nil
}

// syncTx does Sync's work inside its transaction. want is in name order.
func syncTx(ctx context.Context, tools db.ToolRepository, serverID string, want []db.ToolCreate) (SyncReport, error) {
	var rep SyncReport
	// Taken first: a concurrent Sync of this server waits here, then reads
	// what this one wrote.
	if err := tools.LockServer(ctx, serverID); err != nil {
		return rep, err
	}
	stored, err := tools.ListByServer(ctx, serverID)
	if err != nil {
		return rep, err
	}
	have := make(map[string]db.Tool, len(stored))
	for _, t := range stored {
		have[t.Name] = t
	}
	for _, w := range want {
		cur, ok := have[w.Name]
		delete(have, w.Name)
		if !ok {
			if _, err := tools.Create(ctx, w); err != nil {
				return rep, err
			}
			rep.Added = append(rep.Added, w.Name)
			continue
		}
		u, changed := diff(cur, w)
		if !changed {
			rep.Unchanged = append(rep.Unchanged, w.Name)
			continue
		}
		if _, err := tools.Update(ctx, cur.ID, u); err != nil {
			return rep, err
		}
		rep.Updated = append(rep.Updated, w.Name)
	}
	// stored is in name order, so Removed is too.
	for _, t := range stored {
		if _, gone := have[t.Name]; !gone || !t.IsActive {
			continue
		}
		if _, err := tools.Update(ctx, t.ID, db.ToolUpdate{IsActive: db.Set(false)}); err != nil {
			return rep, err
		}
		rep.Removed = append(rep.Removed, t.Name)
	}
	return rep, nil
}

// diff returns the update that turns cur into w, setting only the columns
// that differ, and whether there is any.
func diff(cur db.Tool, w db.ToolCreate) (db.ToolUpdate, bool) {
	var u db.ToolUpdate
	changed := false
	if cur.Title != w.Title {
		u.Title, changed = db.Set(w.Title), true
	}
	if cur.Description != w.Description {
		u.Description, changed = db.Set(w.Description), true
	}
	if !sameJSON(cur.InputSchema, w.InputSchema) {
		u.InputSchema, changed = db.Set(w.InputSchema), true
	}
	if !sameJSON(cur.OutputSchema, w.OutputSchema) {
		u.OutputSchema, changed = db.Set(w.OutputSchema), true
	}
	if !sameJSON(cur.Annotations, w.Annotations) {
		u.Annotations, changed = db.Set(w.Annotations), true
	}
	if !sameJSON(cur.Metadata, w.Metadata) {
		u.Metadata, changed = db.Set(w.Metadata), true
	}
	if !cur.IsActive {
		u.IsActive, changed = db.Set(true), true
	}
	return u, changed
}

// sameJSON compares a stored document with a canonical one. Both engines
// return documents in canonical form; stored is canonicalized again so that
// a row written by other means compares by content too.
func sameJSON(stored, canon json.RawMessage) bool {
	if stored == nil || canon == nil {
		return stored == nil && canon == nil
	}
	if bytes.Equal(stored, canon) {
		return true
	}
	c, err := db.CanonicalJSON(stored)
	return err == nil && bytes.Equal(c, canon)
}

// Get returns the active tool name of serverID, or an error matching
// db.ErrNotFound when the server does not offer it (never registered, or
// deactivated).
func (r *Registry) Get(ctx context.Context, serverID, name string) (RegisteredTool, error) {
	if err := validateServerID(serverID); err != nil {
		return RegisteredTool{}, err
	}
	if err := ValidateToolName(name); err != nil {
		return RegisteredTool{}, err
	}
	t, err := r.store.Tools().GetByName(ctx, serverID, name)
	if err == nil && !t.IsActive {
		err = &db.Error{Op: "Registry.Get", Kind: db.ErrNotFound, Msg: "tool is inactive"}
	}
	if err != nil {
		return RegisteredTool{}, fmt.Errorf("gateway: get tool: %w", err)
	}
	return registered(t), nil
}

// GetQualified returns the active tool with this qualified name (see
// QualifiedName), or an error matching db.ErrNotFound.
func (r *Registry) GetQualified(ctx context.Context, qualified string) (RegisteredTool, error) {
	serverID, name, err := ParseQualifiedName(qualified)
	if err != nil {
		return RegisteredTool{}, err
	}
	return r.Get(ctx, serverID, name)
}

// Tools returns the active tools of serverID, in name order.
func (r *Registry) Tools(ctx context.Context, serverID string) ([]RegisteredTool, error) {
	if err := validateServerID(serverID); err != nil {
		return nil, err
	}
	all, err := r.store.Tools().ListByServer(ctx, serverID)
	if err != nil {
		return nil, fmt.Errorf("gateway: list tools of a server: %w", err)
	}
	out := make([]RegisteredTool, 0, len(all))
	for _, t := range all {
		if t.IsActive {
			out = append(out, registered(t))
		}
	}
	return out, nil
}

// List returns a page of the active tools of every server, in registration
// (id) order, each with its qualified name. Tools of no server (server id
// "", written through the repository directly) are left out.
func (r *Registry) List(ctx context.Context, p db.Page) ([]RegisteredTool, error) {
	rows, err := r.store.Tools().ListActive(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("gateway: list tools: %w", err)
	}
	out := make([]RegisteredTool, 0, len(rows))
	for _, t := range rows {
		if t.ServerID != "" {
			out = append(out, registered(t))
		}
	}
	return out, nil
}

// All returns the active tools of every server, ordered by qualified name,
// for a gateway that exposes them all at once. It reads page by page
// outside a transaction: a Sync running meanwhile may show in part.
func (r *Registry) All(ctx context.Context) ([]RegisteredTool, error) {
	var out []RegisteredTool
	for off := 0; ; off += db.MaxLimit {
		rows, err := r.store.Tools().ListActive(ctx, db.Page{Limit: db.MaxLimit, Offset: off})
		if err != nil {
			return nil, fmt.Errorf("gateway: list tools: %w", err)
		}
		for _, t := range rows {
			if t.ServerID != "" {
				out = append(out, registered(t))
			}
		}
		if len(rows) < db.MaxLimit {
			break
		}
	}
	slices.SortFunc(out, func(a, b RegisteredTool) int { return strings.Compare(a.QualifiedName, b.QualifiedName) })
	return out, nil
}

func registered(t db.Tool) RegisteredTool {
	return RegisteredTool{
		Tool: Tool{
			Name: t.Name, Title: t.Title, Description: t.Description,
			InputSchema: t.InputSchema, OutputSchema: t.OutputSchema,
			Annotations: t.Annotations, Meta: t.Metadata,
		},
		ServerID:      t.ServerID,
		QualifiedName: QualifiedName(t.ServerID, t.Name),
		ID:            t.ID,
		CreatedAt:     t.CreatedAt,
		UpdatedAt:     t.UpdatedAt,
	}
}
