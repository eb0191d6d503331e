package sqlcrepo

import (
	"context"

	"github.com/mcpstore/mcpstore/db"
)

// ToolRow is a row of tool_registrations.
type ToolRow[T Time, J JSON] = struct {
	ID           int64
	ServerID     string
	Name         string
	Title        *string
	Description  string
	InputSchema  J
	OutputSchema J
	Annotations  J
	IsActive     bool
	CreatedAt    T
	UpdatedAt    T
	Metadata     J
}

// ToolQueries are the tool_registrations queries both engines generate.
type ToolQueries[R ~ToolRow[T, J], T Time, J JSON] interface {
	ToolCreate(ctx context.Context, serverID, name string, title *string, description string, inputSchema, outputSchema, annotations J, isActive bool, metadata J) (*R, error)
	ToolUpsert(ctx context.Context, serverID, name string, title *string, description string, inputSchema, outputSchema, annotations J, isActive bool, metadata J) (*R, error)
	ToolGetByID(ctx context.Context, id int64) (*R, error)
	ToolGetByName(ctx context.Context, serverID, name string) (*R, error)
	ToolList(ctx context.Context, off, lim int64) ([]*R, error)
	ToolListFiltered(ctx context.Context, activeOnly, hasServer bool, afterID, off, lim int64) ([]*R, error)
	ToolListByServer(ctx context.Context, serverID string, activeOnly bool, afterID, off, lim int64) ([]*R, error)
	ToolUpdate(ctx context.Context, setTitle bool, title *string, setDescription bool, description string,
		setInputSchema bool, inputSchema J, setOutputSchema bool, outputSchema J, setAnnotations bool, annotations J,
		setIsActive, isActive, setMetadata bool, metadata J, id int64) (*R, error)
	ToolDelete(ctx context.Context, id int64) (int64, error)
	ToolDeactivateByServer(ctx context.Context, serverID string) (int64, error)
}

// Tools is a db.ToolEngine. Reads run on Read, writes on Write.
type Tools[R ~ToolRow[T, J], T Time, J JSON] struct {
	Read, Write ToolQueries[R, T, J]
	// Lock is LockServer, which each engine does its own way.
	Lock func(ctx context.Context, serverID string) error
}

func toolOf[R ~ToolRow[T, J], T Time, J JSON](r *R) db.Tool {
	t := ToolRow[T, J](*r)
	return db.Tool{
		ID:           t.ID,
		ServerID:     t.ServerID,
		Name:         t.Name,
		Title:        str(t.Title),
		Description:  t.Description,
		InputSchema:  jsonOf(t.InputSchema),
		OutputSchema: jsonOf(t.OutputSchema),
		Annotations:  jsonOf(t.Annotations),
		IsActive:     t.IsActive,
		CreatedAt:    timeOf(t.CreatedAt),
		UpdatedAt:    timeOf(t.UpdatedAt),
		Metadata:     jsonOf(t.Metadata),
	}
}

func tool[R ~ToolRow[T, J], T Time, J JSON](r *R, err error) (db.Tool, error) {
	if err != nil {
		return db.Tool{}, err
	}
	return toolOf(r), nil
}

func (r Tools[R, T, J]) Create(ctx context.Context, in db.ToolCreate) (db.Tool, error) {
	return tool(r.Write.ToolCreate(ctx, in.ServerID, in.Name, nullStr(in.Title), in.Description,
		J(in.InputSchema), J(in.OutputSchema), J(in.Annotations), !in.Inactive, J(in.Metadata)))
}

func (r Tools[R, T, J]) Upsert(ctx context.Context, in db.ToolCreate) (db.Tool, error) {
	return tool(r.Write.ToolUpsert(ctx, in.ServerID, in.Name, nullStr(in.Title), in.Description,
		J(in.InputSchema), J(in.OutputSchema), J(in.Annotations), !in.Inactive, J(in.Metadata)))
}

func (r Tools[R, T, J]) Get(ctx context.Context, id int64) (db.Tool, error) {
	return tool(r.Read.ToolGetByID(ctx, id))
}

func (r Tools[R, T, J]) GetByName(ctx context.Context, serverID, name string) (db.Tool, error) {
	return tool(r.Read.ToolGetByName(ctx, serverID, name))
}

func (r Tools[R, T, J]) List(ctx context.Context, q db.ToolQuery) ([]db.Tool, error) {
	var rows []*R
	var err error
	switch off, lim := int64(q.Offset), int64(q.Limit); {
	case q.ServerID != "":
		rows, err = r.Read.ToolListByServer(ctx, q.ServerID, q.ActiveOnly, q.AfterID, off, lim)
	case q.ActiveOnly || q.HasServer || q.AfterID > 0:
		rows, err = r.Read.ToolListFiltered(ctx, q.ActiveOnly, q.HasServer, q.AfterID, off, lim)
	default:
		rows, err = r.Read.ToolList(ctx, off, lim)
	}
	return mapRows(rows, err, toolOf[R])
}

func (r Tools[R, T, J]) Update(ctx context.Context, id int64, u db.ToolUpdate) (db.Tool, error) {
	return tool(r.Write.ToolUpdate(ctx, u.Title.Set, nullStr(u.Title.Value), u.Description.Set, u.Description.Value,
		u.InputSchema.Set, J(u.InputSchema.Value), u.OutputSchema.Set, J(u.OutputSchema.Value),
		u.Annotations.Set, J(u.Annotations.Value), u.IsActive.Set, u.IsActive.Value, u.Metadata.Set, J(u.Metadata.Value), id))
}

func (r Tools[R, T, J]) Delete(ctx context.Context, id int64) (int64, error) {
	return r.Write.ToolDelete(ctx, id)
}

func (r Tools[R, T, J]) DeactivateByServer(ctx context.Context, serverID string) (int64, error) {
	return r.Write.ToolDeactivateByServer(ctx, serverID)
}

func (r Tools[R, T, J]) LockServer(ctx context.Context, serverID string) error {
	return r.Lock(ctx, serverID)
}
