package sqlite

import (
	"context"
	"encoding/json"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gen/sqlitedb"
)

type tools repos

func toolOf(r sqlitedb.ToolRegistration) db.Tool {
	return db.Tool{
		ID:           r.ID,
		ServerID:     r.ServerID,
		Name:         r.Name,
		Title:        str(r.Title),
		Description:  r.Description,
		InputSchema:  json.RawMessage(r.InputSchema),
		OutputSchema: jsonOf(r.OutputSchema),
		Annotations:  jsonOf(r.Annotations),
		IsActive:     r.IsActive,
		CreatedAt:    timeOf(r.CreatedAt),
		UpdatedAt:    timeOf(r.UpdatedAt),
		Metadata:     jsonOf(r.Metadata),
	}
}

func toolsOf(rows []sqlitedb.ToolRegistration, err error) ([]db.Tool, error) {
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
	row, err := r.w.ToolCreate(ctx, sqlitedb.ToolCreateParams(upsertParams(in)))
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
	row, err := r.w.ToolUpsert(ctx, upsertParams(in))
	if err != nil {
		return db.Tool{}, mapErr(op, err)
	}
	return toolOf(row), nil
}

func upsertParams(in db.ToolCreate) sqlitedb.ToolUpsertParams {
	return sqlitedb.ToolUpsertParams{
		ServerID:     in.ServerID,
		Name:         in.Name,
		Title:        nullStr(in.Title),
		Description:  in.Description,
		InputSchema:  string(in.InputSchema),
		OutputSchema: nullJSON(in.OutputSchema),
		Annotations:  nullJSON(in.Annotations),
		IsActive:     !in.Inactive,
		Metadata:     nullJSON(in.Metadata),
	}
}

func (r tools) Get(ctx context.Context, id int64) (db.Tool, error) {
	row, err := r.r.ToolGetByID(ctx, id)
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
	row, err := r.r.ToolGetByName(ctx, sqlitedb.ToolGetByNameParams{ServerID: serverID, Name: name})
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
	out, err := toolsOf(r.r.ToolList(ctx, sqlitedb.ToolListParams{Off: off, Lim: lim}))
	return out, mapErr(op, err)
}

func (r tools) ListByServer(ctx context.Context, serverID string) ([]db.Tool, error) {
	const op = "Tools.ListByServer"
	if err := db.CheckText("server_id", serverID, 0, db.MaxShortLen); err != nil {
		return nil, mapErr(op, err)
	}
	out, err := toolsOf(r.r.ToolListByServer(ctx, serverID))
	return out, mapErr(op, err)
}

func (r tools) ListActive(ctx context.Context, p db.Page) ([]db.Tool, error) {
	const op = "Tools.ListActive"
	p, err := p.Checked()
	if err != nil {
		return nil, mapErr(op, err)
	}
	off, lim := limits(p)
	out, err := toolsOf(r.r.ToolListActive(ctx, sqlitedb.ToolListActiveParams{Off: off, Lim: lim}))
	return out, mapErr(op, err)
}

func (r tools) Update(ctx context.Context, id int64, u db.ToolUpdate) (db.Tool, error) {
	const op = "Tools.Update"
	u, err := u.Checked()
	if err != nil {
		return db.Tool{}, mapErr(op, err)
	}
	row, err := r.w.ToolUpdate(ctx, sqlitedb.ToolUpdateParams{
		ID:              id,
		SetTitle:        u.Title.Set,
		Title:           nullStr(u.Title.Value),
		SetDescription:  u.Description.Set,
		Description:     u.Description.Value,
		SetInputSchema:  u.InputSchema.Set,
		InputSchema:     string(u.InputSchema.Value),
		SetOutputSchema: u.OutputSchema.Set,
		OutputSchema:    nullJSON(u.OutputSchema.Value),
		SetAnnotations:  u.Annotations.Set,
		Annotations:     nullJSON(u.Annotations.Value),
		SetIsActive:     u.IsActive.Set,
		IsActive:        u.IsActive.Value,
		SetMetadata:     u.Metadata.Set,
		Metadata:        nullJSON(u.Metadata.Value),
	})
	if err != nil {
		return db.Tool{}, mapErr(op, err)
	}
	return toolOf(row), nil
}

func (r tools) Delete(ctx context.Context, id int64) error {
	n, err := r.w.ToolDelete(ctx, id)
	return mapErr("Tools.Delete", db.OneRow(n, err))
}

func (r tools) DeactivateByServer(ctx context.Context, serverID string) (int64, error) {
	const op = "Tools.DeactivateByServer"
	if err := db.CheckText("server_id", serverID, 0, db.MaxShortLen); err != nil {
		return 0, mapErr(op, err)
	}
	n, err := r.w.ToolDeactivateByServer(ctx, serverID)
	return n, mapErr(op, err)
}

// LockServer needs no statement on SQLite: a transaction takes the
// database's one write lock when it begins (BEGIN IMMEDIATE), across
// processes too, so transactions that write run one after another already.
// Hence no ToolLockServer query in queries/sqlite.
func (r tools) LockServer(ctx context.Context, serverID string) error {
	const op = "Tools.LockServer"
	if err := db.CheckText("server_id", serverID, 0, db.MaxShortLen); err != nil {
		return mapErr(op, err)
	}
	return mapErr(op, ctx.Err())
}
