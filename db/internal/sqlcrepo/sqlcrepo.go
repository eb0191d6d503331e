// Package sqlcrepo holds the repositories of both engines, written once
// over the code sqlc generates for each (gen/pgdb, gen/sqlitedb): a method
// turns checked domain values into the arguments of a generated query and
// its rows back into domain values, nothing more (db's Store has checked
// the input, and maps the errors returned as they are).
//
// The two engines' generated code line up: the same queries, with the
// same names and arguments, return rows with the same fields, and differ
// only in the Go types of times, JSON documents and lists of names
// (time.Time, json.RawMessage and []string on PostgreSQL; their
// internal/sqlitecol twins on SQLite). The repositories are generic over
// those types and over the generated row types, which convert to this
// package's row shapes (KeyRow, ToolRow, AuditRow). An engine instantiates
// them with its own, and adds what only it has (PostgreSQL's COPY, each
// engine's statistics and batch updates).
package sqlcrepo

import (
	"encoding/json"
	"time"

	"github.com/mcpstore/mcpstore/internal/sqlitecol"
)

// Time is the Go type of a time column.
type Time interface{ time.Time | sqlitecol.Time }

// List is the Go type of a list of names.
type List interface{ []string | sqlitecol.List }

// JSON is the Go type of a JSON document.
type JSON interface {
	json.RawMessage | sqlitecol.JSON
}
