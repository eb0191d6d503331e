package db

import (
	"context"
	"iter"
)

// tools is the Store's ToolRepository: it checks, calls the engine and maps
// errors.
type tools struct {
	e Engine
	r ToolEngine
}

func (r *tools) Create(ctx context.Context, in ToolCreate) (Tool, error) {
	return r.write(ctx, "Tools.Create", in, r.r.Create)
}

func (r *tools) Upsert(ctx context.Context, in ToolCreate) (Tool, error) {
	return r.write(ctx, "Tools.Upsert", in, r.r.Upsert)
}

func (r *tools) write(ctx context.Context, op string, in ToolCreate, run func(context.Context, ToolCreate) (Tool, error)) (Tool, error) {
	in, err := in.check()
	var t Tool
	if err == nil {
		t, err = run(ctx, in)
	}
	return t, mapError(op, r.e, err)
}

func (r *tools) Get(ctx context.Context, id int64) (Tool, error) {
	return byRowID(ctx, r.e, "Tools.Get", id, r.r.Get)
}

func (r *tools) GetByName(ctx context.Context, serverID, name string) (Tool, error) {
	var ch checker
	ch.text("server_id", serverID, 0, MaxShortLen)
	ch.toolName("name", name)
	if ch.err != nil {
		return Tool{}, mapError("Tools.GetByName", r.e, ch.err)
	}
	t, err := r.r.GetByName(ctx, serverID, name)
	return t, mapError("Tools.GetByName", r.e, err)
}

func (r *tools) List(ctx context.Context, q ToolQuery) ([]Tool, error) {
	return list(ctx, r.e, "Tools.List", q, r.r.List)
}

func (r *tools) All(ctx context.Context, q ToolQuery) iter.Seq2[Tool, error] {
	return all(ctx, r.e, "Tools.All", q, r.r.List)
}

func (r *tools) Update(ctx context.Context, id int64, u ToolUpdate) (Tool, error) {
	u, err := u.check()
	if err != nil {
		return Tool{}, mapError("Tools.Update", r.e, err)
	}
	return byRowID(ctx, r.e, "Tools.Update", id, func(ctx context.Context, id int64) (Tool, error) {
		return r.r.Update(ctx, id, u)
	})
}

func (r *tools) Delete(ctx context.Context, id int64) error {
	return deleteRow(ctx, r.e, "Tools.Delete", id, r.r.Delete)
}

func (r *tools) DeactivateByServer(ctx context.Context, serverID string) (int64, error) {
	if err := CheckText("server_id", serverID, 0, MaxShortLen); err != nil {
		return 0, mapError("Tools.DeactivateByServer", r.e, err)
	}
	n, err := r.r.DeactivateByServer(ctx, serverID)
	return n, mapError("Tools.DeactivateByServer", r.e, err)
}

func (r *tools) LockServer(ctx context.Context, serverID string) error {
	if err := CheckText("server_id", serverID, 0, MaxShortLen); err != nil {
		return mapError("Tools.LockServer", r.e, err)
	}
	return mapError("Tools.LockServer", r.e, r.r.LockServer(ctx, serverID))
}
