package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// The kinds of error a Store returns. Test with errors.Is; use errors.As with
// *Error for the operation, the offending field or the constraint.
var (
	// ErrNotFound: no row has the given id, hash or name.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the write would break a unique rule (a key hash, a tool
	// name on its server, an audit event id); Error.Constraint names it.
	ErrConflict = errors.New("conflict")
	// ErrInvalid: the input was refused before or by the database; nothing
	// was written.
	ErrInvalid = errors.New("invalid input")
	// ErrUnavailable: the database could not be reached, or refused the work
	// for a passing reason (a lost connection, a deadlock, a busy SQLite
	// file). Retrying later may succeed.
	ErrUnavailable = errors.New("database unavailable")
	// ErrDatabase: the database refused the statement for another reason,
	// or the Store was misused (a transaction's repositories used after
	// InTx returned): retrying the same call fails again.
	ErrDatabase = errors.New("database error")
)

// Error is the error type of every Store method. It never holds a value that
// was stored or asked for (those may be secrets), nor a driver's message
// (which may quote them).
type Error struct {
	// Op is the method that failed, such as "APIKeys.Create".
	Op string
	// Kind is one of the sentinel errors above.
	Kind error
	// Field names the offending input field, for ErrInvalid.
	Field string
	// Constraint names the rule of the schema the write broke, with the
	// same name on both engines: "api_keys_key_hash_key",
	// "tool_registrations_server_id_name_key", "audit_logs_event_id_key",
	// or TABLE_pkey for an id. Empty when the database names none.
	Constraint string
	// Msg says what was wrong, in words safe to log.
	Msg string
	// Cause is kept for context errors (context.Canceled and
	// context.DeadlineExceeded), so errors.Is finds them. Driver errors are
	// never kept.
	Cause error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("mcpstore: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	b.WriteString(e.Kind.Error())
	for _, part := range []string{e.Field, e.Constraint, e.Msg} {
		if part != "" {
			b.WriteString(": ")
			b.WriteString(part)
		}
	}
	return b.String()
}

// Unwrap returns the kind and, for context errors, the cause.
func (e *Error) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Kind, e.Cause}
	}
	return []error{e.Kind}
}

// invalid returns an ErrInvalid *Error for field.
func invalid(op, field, msg string) *Error {
	return &Error{Op: op, Kind: ErrInvalid, Field: field, Msg: msg}
}

// MisusedTx is the error an engine's MapError returns for a statement run
// on a transaction that has ended: a programming error (the repositories
// given to InTx's function kept and used after it returned), never a
// passing one.
func MisusedTx() *Error {
	return &Error{Kind: ErrDatabase, Msg: "the transaction has ended: use a transaction's repositories only inside the function given to InTx"}
}

// MapError turns any error of an engine into an *Error named op, as the
// Store does for every method (engines use it where they report errors
// themselves, such as Open): an *Error (validation) gets the name; context
// errors become ErrUnavailable keeping the context's error; sql.ErrNoRows
// (which pgx's ErrNoRows matches) is ErrNotFound; what is left is the
// driver's, which the engine's MapError maps, and ErrDatabase when it
// does not know it.
func MapError(op string, e Engine, err error) error { return mapError(op, e, err) }

func mapError(op string, e Engine, err error) error {
	if err == nil {
		return nil
	}
	var out *Error
	switch {
	case errors.As(err, &out):
		c := *out
		out = &c
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		out = &Error{Kind: ErrUnavailable, Msg: "interrupted", Cause: ctxErr(err)}
	case errors.Is(err, sql.ErrNoRows):
		out = &Error{Kind: ErrNotFound}
	default:
		if out = e.MapError(err); out == nil {
			out = &Error{Kind: ErrDatabase, Msg: fmt.Sprintf("unexpected error (%T)", err)}
		}
	}
	if out.Op == "" {
		out.Op = op
	}
	return out
}

func ctxErr(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return context.DeadlineExceeded
	}
	return context.Canceled
}
