package db

import (
	"errors"
	"strings"
)

// The kinds of error a Store returns. Test with errors.Is; use errors.As with
// *Error for the operation and the offending field.
var (
	// ErrNotFound: no row has the given id, hash or name.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the write would break a unique rule (a key hash, a tool
	// name on its server, an audit event id).
	ErrConflict = errors.New("conflict")
	// ErrInvalid: the input was refused before or by the database; nothing
	// was written.
	ErrInvalid = errors.New("invalid input")
	// ErrUnavailable: the database could not be reached, or refused the work
	// for a passing reason (a lost connection, a deadlock, a busy SQLite
	// file). Retrying later may succeed.
	ErrUnavailable = errors.New("database unavailable")
	// ErrDatabase: the database refused the statement for another reason.
	ErrDatabase = errors.New("database error")
)

// Error is the error type of every Store method. It never holds a value that
// was stored or asked for: those may be secrets.
type Error struct {
	// Op is the method that failed, such as "APIKeys.Create".
	Op string
	// Kind is one of the sentinel errors above.
	Kind error
	// Field names the offending input field, for ErrInvalid.
	Field string
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
	if e.Field != "" {
		b.WriteString(": ")
		b.WriteString(e.Field)
	}
	if e.Msg != "" {
		b.WriteString(": ")
		b.WriteString(e.Msg)
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

// WithOp returns err with its Op set to op when err is an *Error without one.
// Validation runs before the engine knows which method asked; the engine
// names it here.
func WithOp(op string, err error) error {
	var e *Error
	if errors.As(err, &e) && e.Op == "" {
		c := *e
		c.Op = op
		return &c
	}
	return err
}

// OneRow is the error of a statement meant to touch one row: err, or
// ErrNotFound when it touched none (n = 0). Both engines use it.
func OneRow(n int64, err error) error {
	if err == nil && n == 0 {
		return &Error{Kind: ErrNotFound}
	}
	return err
}
