package db

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"time"
)

// ToolRepository stores tool registrations. A tool name is unique per
// server.
type ToolRepository interface {
	// Create stores a tool. ErrConflict when its server has the name already.
	Create(ctx context.Context, in ToolCreate) (Tool, error)
	// Get returns the tool with this id, or ErrNotFound.
	Get(ctx context.Context, id int64) (Tool, error)
	// GetByName returns the tool of serverID with this name, or ErrNotFound.
	GetByName(ctx context.Context, serverID, name string) (Tool, error)
	// List returns one page of the tools q selects, in id order.
	List(ctx context.Context, q ToolQuery) ([]Tool, error)
	// All returns every tool q selects, in id order, reading q.Limit at a
	// time (DefaultLimit for 0) and continuing each page after the last
	// tool of the one before. It stops at the first error, which it yields.
	All(ctx context.Context, q ToolQuery) iter.Seq2[Tool, error]
	// Update changes the columns set in u and returns the tool, or
	// ErrNotFound. updated_at moves only when a value changes.
	Update(ctx context.Context, id int64, u ToolUpdate) (Tool, error)
	// Delete removes the tool, or returns ErrNotFound.
	Delete(ctx context.Context, id int64) error
	// DeactivateByServer marks every active tool of serverID inactive and
	// returns how many it changed.
	DeactivateByServer(ctx context.Context, serverID string) (int64, error)
	// Upsert creates the tool or overwrites the one of the same server and
	// name, in one atomic statement. Writing the values a tool already has
	// leaves its updated_at alone.
	Upsert(ctx context.Context, in ToolCreate) (Tool, error)
	// LockServer waits until no other transaction holds the lock of
	// serverID's tools. Inside a transaction (Store.InTx) it then holds the
	// lock until its own transaction ends: transactions that read a
	// server's tools and rewrite them from what they read run one after
	// another, even on several Stores sharing one database. Outside a
	// transaction it holds nothing once it returns. It changes no row.
	LockServer(ctx context.Context, serverID string) error
}

// Tool is a tool registration: a tool offered by an MCP server.
type Tool struct {
	ID           int64
	ServerID     string // "" for tools of no particular server
	Name         string
	Title        string
	Description  string
	InputSchema  json.RawMessage
	OutputSchema json.RawMessage
	Annotations  json.RawMessage
	IsActive     bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
	Metadata     json.RawMessage
}

// ToolCreate is the input of ToolRepository.Create and Upsert.
type ToolCreate struct {
	ServerID     string
	Name         string // see CheckToolName
	Title        string
	Description  string
	InputSchema  json.RawMessage // a JSON object; required
	OutputSchema json.RawMessage // a JSON object, or nil
	Annotations  json.RawMessage // a JSON object, or nil
	// Inactive stores the tool deactivated; tools are active by default.
	Inactive bool
	Metadata json.RawMessage // a JSON object, or nil
}

// ToolUpdate lists the columns ToolRepository.Update changes.
type ToolUpdate struct {
	Title        Field[string]
	Description  Field[string]
	InputSchema  Field[json.RawMessage]
	OutputSchema Field[json.RawMessage]
	Annotations  Field[json.RawMessage]
	IsActive     Field[bool]
	Metadata     Field[json.RawMessage]
}

// ToolQuery selects tools for ToolRepository.List and All, in id order.
// The zero ToolQuery selects every tool.
type ToolQuery struct {
	ServerID   string // only the tools of this server; "" for any
	HasServer  bool   // leave out the tools of no server (server id "")
	ActiveOnly bool   // only the active tools
	// AfterID, when set, selects only the tools of a higher id: the ID of
	// the last tool of the previous page.
	AfterID int64
	// Limit is how many List returns at most (0: DefaultLimit), and how
	// many All reads at a time.
	Limit int
	// Offset skips this many tools first.
	Offset int
}

// CheckToolName checks a tool name against the MCP specification
// (2025-11-25): 1 to 128 characters, each an ASCII letter, a digit, '_',
// '-' or '.'; case-sensitive. It is the one rule for tool names: the
// repository refuses any other with ErrInvalid, and gateway's registry
// applies the same.
func CheckToolName(name string) error {
	var ch checker
	ch.toolName("name", name)
	return errOrNil(ch.err)
}

func (c *checker) toolName(field, name string) {
	if name == "" {
		c.fail(field, "must not be empty")
		return
	}
	if len(name) > MaxToolNameLen {
		// Longer in bytes: longer in characters too, or not ASCII.
		if n := len([]rune(name)); n > MaxToolNameLen {
			c.fail(field, fmt.Sprintf("must be at most %d characters, got %d", MaxToolNameLen, n))
			return
		}
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			c.fail(field, fmt.Sprintf("character %q not allowed: use A-Z, a-z, 0-9, '_', '-' and '.'", r))
			return
		}
	}
}

// check returns c validated and normalized for storing.
func (c ToolCreate) check() (ToolCreate, error) {
	var ch checker
	ch.text("server_id", c.ServerID, 0, MaxShortLen)
	ch.toolName("name", c.Name)
	ch.text("title", c.Title, 0, MaxNameLen)
	ch.text("description", c.Description, 0, MaxDescriptionLen)
	c.InputSchema = ch.object("input_schema", c.InputSchema, true)
	c.OutputSchema = ch.object("output_schema", c.OutputSchema, false)
	c.Annotations = ch.object("annotations", c.Annotations, false)
	c.Metadata = ch.object("metadata", c.Metadata, false)
	return c, errOrNil(ch.err)
}

// check returns u validated and normalized for storing.
func (u ToolUpdate) check() (ToolUpdate, error) {
	var ch checker
	if u.Title.Set {
		ch.text("title", u.Title.Value, 0, MaxNameLen)
	}
	if u.Description.Set {
		ch.text("description", u.Description.Value, 0, MaxDescriptionLen)
	}
	if u.InputSchema.Set {
		u.InputSchema.Value = ch.object("input_schema", u.InputSchema.Value, true)
	}
	if u.OutputSchema.Set {
		u.OutputSchema.Value = ch.object("output_schema", u.OutputSchema.Value, false)
	}
	if u.Annotations.Set {
		u.Annotations.Value = ch.object("annotations", u.Annotations.Value, false)
	}
	if u.Metadata.Set {
		u.Metadata.Value = ch.object("metadata", u.Metadata.Value, false)
	}
	return u, errOrNil(ch.err)
}

// check returns q validated, with its limit filled in.
func (q ToolQuery) check() (ToolQuery, error) {
	var ch checker
	ch.text("server_id", q.ServerID, 0, MaxShortLen)
	if q.AfterID < 0 {
		ch.fail("after_id", "must not be negative")
	}
	p := ch.page(Page{Limit: q.Limit, Offset: q.Offset})
	q.Limit = p.Limit
	return q, errOrNil(ch.err)
}

func (q *ToolQuery) pageSize() int { return q.Limit }

// next moves a checked query past its page, whose last tool is last.
func (q *ToolQuery) next(last Tool) { q.AfterID, q.Offset = last.ID, 0 }
