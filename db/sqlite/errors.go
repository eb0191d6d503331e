package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/mcpstore/mcpstore/db"
)

// mapErr turns any error of this engine into a *db.Error named op. It is the
// one place where SQLite and database/sql errors are read; none escapes.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var e *db.Error
	if errors.As(err, &e) {
		return db.WithOp(op, err)
	}
	out := &db.Error{Op: op}
	var se *sqlite.Error
	switch {
	case errors.Is(err, sql.ErrNoRows):
		out.Kind = db.ErrNotFound
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		out.Kind, out.Msg = db.ErrUnavailable, "interrupted"
		out.Cause = context.Canceled
		if errors.Is(err, context.DeadlineExceeded) {
			out.Cause = context.DeadlineExceeded
		}
	case errors.As(err, &se):
		// SQLite names columns and constraints, never values. modernc adds
		// a generic lead and the numeric code; keep SQLite's own words.
		out.Msg = strings.TrimPrefix(strings.TrimSuffix(se.Error(), fmt.Sprintf(" (%d)", se.Code())), "constraint failed: ")
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			out.Kind = db.ErrConflict
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			out.Kind = db.ErrConflict
		default:
			switch se.Code() & 0xff {
			case sqlite3.SQLITE_CONSTRAINT, sqlite3.SQLITE_MISMATCH, sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_RANGE:
				out.Kind = db.ErrInvalid
			case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN,
				sqlite3.SQLITE_FULL, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_INTERRUPT:
				out.Kind = db.ErrUnavailable
			default:
				out.Kind = db.ErrDatabase
			}
		}
	case errors.Is(err, sql.ErrConnDone), errors.Is(err, sql.ErrTxDone):
		out.Kind, out.Msg = db.ErrUnavailable, err.Error()
	default:
		out.Kind, out.Msg = db.ErrDatabase, err.Error()
	}
	return out
}
