package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/mcpstore/mcpstore/db"
)

// MapError is the one place where SQLite and database/sql errors are read:
// it gives a kind, the constraint (named as PostgreSQL names it), and
// SQLite's result code, never SQLite's message.
func (s *engine) MapError(err error) *db.Error {
	var se *sqlite.Error
	switch {
	case errors.As(err, &se):
		return sqliteError(se)
	case errors.Is(err, sql.ErrTxDone):
		return db.MisusedTx()
	case errors.Is(err, sql.ErrConnDone):
		return &db.Error{Kind: db.ErrUnavailable, Msg: "connection to the database lost"}
	}
	return nil
}

func sqliteError(se *sqlite.Error) *db.Error {
	code := se.Code()
	out := &db.Error{Kind: db.ErrDatabase, Msg: fmt.Sprintf("SQLite result code %d", code)}
	switch code {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		out.Kind, out.Constraint, out.Msg = db.ErrConflict, uniqueName(se.Error(), code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY), "duplicate"
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		out.Kind, out.Msg = db.ErrConflict, "still referenced"
	default:
		switch code & 0xff {
		case sqlite3.SQLITE_CONSTRAINT, sqlite3.SQLITE_MISMATCH, sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_RANGE:
			out.Kind = db.ErrInvalid
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN,
			sqlite3.SQLITE_FULL, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_INTERRUPT:
			out.Kind = db.ErrUnavailable
		}
	}
	return out
}

// uniqueName names the unique rule of a violation as PostgreSQL does, and
// as the schema names its constraints: TABLE_pkey for the primary key,
// TABLE_COLUMN[_COLUMN...]_key for a unique constraint or index. SQLite
// names the columns ("UNIQUE constraint failed: t.a, t.b"), never values.
func uniqueName(msg string, pkey bool) string {
	_, cols, ok := strings.Cut(msg, "UNIQUE constraint failed: ")
	if !ok {
		return ""
	}
	cols, _, _ = strings.Cut(cols, " (") // modernc appends the result code
	var table string
	var names []string
	for _, c := range strings.Split(cols, ", ") {
		t, col, ok := strings.Cut(c, ".")
		if !ok {
			return ""
		}
		table = t
		names = append(names, col)
	}
	if pkey {
		return table + "_pkey"
	}
	return table + "_" + strings.Join(names, "_") + "_key"
}
