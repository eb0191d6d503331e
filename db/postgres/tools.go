package postgres

import (
	"context"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gen/pgdb"
)

type tools repos

func toolOf(r *pgdb.ToolRegistration) db.Tool {
	return db.Tool{
		ID:           r.ID,
		ServerID:     r.ServerID,
		Name:         r.Name,
		Title:        str(r.Title),
		Description:  r.Description,
		InputSchema:  jsonOf(r.InputSchema),
		OutputSchema: jsonOf(r.OutputSchema),
		Annotations:  jsonOf(r.Annotations),
		IsActive:     r.IsActive,
		CreatedAt:    r.CreatedAt.UTC(),
		UpdatedAt:    r.UpdatedAt.UTC(),
		Metadata:     jsonOf(r.Metadata),
	}
}

func toolsOf(rows []*pgdb.ToolRegistration, err error) ([]db.Tool, error) {
	if err != nil {
		return nil, err
	}
	out := make([]db.Tool, len(rows))
	for i, r := range rows {
		out[i] = toolOf(r)
	}
	return out, nil
}

func (r tools) Create(ctx context.Context, in db.ToolCreate) (db.Tool, error) {
	const op = "Tools.Create"
	in, err := in.Checked()
	if err != nil {
		return db.Tool{}, mapErr(op, err)
	}
	row, err := r.q.ToolCreate(ctx, pgdb.ToolCreateParams(upsertParams(in)))
	if err != nil {
		return db.Tool{}, mapErr(op, err)
	}
	return toolOf(row), nil
}

func (r tools) Upsert(ctx context.Context, in db.ToolCreate) (db.Tool, error) {
	const op = "Tools.Upsert"
	in, err := in.Checked()
	if err != nil {
		return db.Tool{}, mapErr(op, err)
	}
	row, err := r.q.ToolUpsert(ctx, upsertParams(in))
	if err != nil {
		return db.Tool{}, mapErr(op, err)
	}
	return toolOf(row), nil
}

func upsertParams(in db.ToolCreate) pgdb.ToolUpsertParams {
	return pgdb.ToolUpsertParams{
		ServerID:     in.ServerID,
		Name:         in.Name,
		Title:        nullStr(in.Title),
		Description:  in.Description,
		InputSchema:  in.InputSchema,
		OutputSchema: in.OutputSchema,
		Annotations:  in.Annotations,
		IsActive:     !in.Inactive,
		Metadata:     in.Metadata,
	}
}

func (r tools) Get(ctx context.Context, id int64) (db.Tool, error) {
	row, err := r.q.ToolGetByID(ctx, id)
	if err != nil {
		return db.Tool{}, mapErr("Tools.Get", err)
	}
	return toolOf(row), nil
}

func (r tools) GetByName(ctx context.Context, serverID, name string) (db.Tool, error) {
	const op = "Tools.GetByName"
	err := db.CheckText("server_id", serverID, 0, db.MaxShortLen)
	if err == nil {
		err = db.CheckText("name", name, 1, db.MaxToolNameLen)
	}
	if err != nil {
		return db.Tool{}, mapErr(op, err)
	}
	row, err := r.q.ToolGetByName(ctx, pgdb.ToolGetByNameParams{ServerID: serverID, Name: name})
	if err != nil {
		return db.Tool{}, mapErr(op, err)
	}
	return toolOf(row), nil
}

func (r tools) List(ctx context.Context, p db.Page) ([]db.Tool, error) {
	const op = "Tools.List"
	p, err := p.Checked()
	if err != nil {
		return nil, mapErr(op, err)
	}
	off, lim := limits(p)
	out, err := toolsOf(r.q.ToolList(ctx, pgdb.ToolListParams{Off: off, Lim: lim}))
	return out, mapErr(op, err)
}

func (r tools) ListByServer(ctx context.Context, serverID string) ([]db.Tool, error) {
	const op = "Tools.ListByServer"
	if err := db.CheckText("server_id", serverID, 0, db.MaxShortLen); err != nil {
		return nil, mapErr(op, err)
	}
	out, err := toolsOf(r.q.ToolListByServer(ctx, serverID))
	return out, mapErr(op, err)
}

func (r tools) ListActive(ctx context.Context, p db.Page) ([]db.Tool, error) {
	const op = "Tools.ListActive"
	p, err := p.Checked()
	if err != nil {
		return nil, mapErr(op, err)
	}
	off, lim := limits(p)
	out, err := toolsOf(r.q.ToolListActive(ctx, pgdb.ToolListActiveParams{Off: off, Lim: lim}))
	return out, mapErr(op, err)
}

func (r tools) Update(ctx context.Context, id int64, u db.ToolUpdate) (db.Tool, error) {
	const op = "Tools.Update"
	u, err := u.Checked()
	if err != nil {
		return db.Tool{}, mapErr(op, err)
	}
	row, err := r.q.ToolUpdate(ctx, pgdb.ToolUpdateParams{
		ID:              id,
		SetTitle:        u.Title.Set,
		Title:           nullStr(u.Title.Value),
		SetDescription:  u.Description.Set,
		Description:     u.Description.Value,
		SetInputSchema:  u.InputSchema.Set,
		InputSchema:     u.InputSchema.Value,
		SetOutputSchema: u.OutputSchema.Set,
		OutputSchema:    u.OutputSchema.Value,
		SetAnnotations:  u.Annotations.Set,
		Annotations:     u.Annotations.Value,
		SetIsActive:     u.IsActive.Set,
		IsActive:        u.IsActive.Value,
		SetMetadata:     u.Metadata.Set,
		Metadata:        u.Metadata.Value,
	})
	if err != nil {
		return db.Tool{}, mapErr(op, err)
	}
	return toolOf(row), nil
}

func (r tools) Delete(ctx context.Context, id int64) error {
	n, err := r.q.ToolDelete(ctx, id)
	return mapErr("Tools.Delete", db.OneRow(n, err))
}

func (r tools) DeactivateByServer(ctx context.Context, serverID string) (int64, error) {
	const op = "Tools.DeactivateByServer"
	if err := db.CheckText("server_id", serverID, 0, db.MaxShortLen); err != nil {
		return 0, mapErr(op, err)
	}
	n, err := r.q.ToolDeactivateByServer(ctx, serverID)
	return n, mapErr(op, err)
}

func (r tools) LockServer(ctx context.Context, serverID string) error {
	const op = "Tools.LockServer"
	if err := db.CheckText("server_id", serverID, 0, db.MaxShortLen); err != nil {
		return mapErr(op, err)
	}
	// On the pool the statement is its own transaction: the lock is taken
	// and released at once, as documented.
	return mapErr(op, r.q.ToolLockServer(ctx, serverID))
}
