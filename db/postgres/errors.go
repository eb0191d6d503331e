package postgres

import (
	"context"
	"errors"
	"io"
	"net"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/mcpstore/mcpstore/db"
)

// mapErr turns any error of this engine into a *db.Error named op. It is the
// one place where pgx errors are read; none escapes.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var e *db.Error
	if errors.As(err, &e) {
		return db.WithOp(op, err)
	}
	out := &db.Error{Op: op}
	var pgErr *pgconn.PgError
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		out.Kind = db.ErrNotFound
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		out.Kind, out.Msg = db.ErrUnavailable, "interrupted"
		out.Cause = context.Canceled
		if errors.Is(err, context.DeadlineExceeded) {
			out.Cause = context.DeadlineExceeded
		}
	case errors.As(err, &pgErr):
		// Only the constraint name and PostgreSQL's short message: its
		// Detail quotes the values.
		out.Msg = pgErr.Code + " " + pgErr.Message
		switch {
		case pgErr.Code == "23505": // unique_violation
			out.Kind, out.Msg = db.ErrConflict, "duplicate "+pgErr.ConstraintName
		case pgErr.Code == "23503": // foreign_key_violation
			out.Kind, out.Msg = db.ErrConflict, "still referenced: "+pgErr.ConstraintName
		case pgErr.Code[:2] == "22" || pgErr.Code[:2] == "23": // data exception, other integrity rules
			out.Kind = db.ErrInvalid
		case pgErr.Code == "40001" || pgErr.Code == "40P01" || pgErr.Code[:2] == "08" ||
			pgErr.Code[:2] == "53" || pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03":
			// serialization failure, deadlock, connection exception,
			// insufficient resources, server shutting down or starting.
			out.Kind = db.ErrUnavailable
		default:
			out.Kind = db.ErrDatabase
		}
	case isConnectionError(err):
		out.Kind, out.Msg = db.ErrUnavailable, "connection to the database failed"
	default:
		out.Kind, out.Msg = db.ErrDatabase, err.Error()
	}
	return out
}

// isConnectionError reports a failure to reach the server or a lost
// connection: worth retrying once the database is back.
func isConnectionError(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	return pgconn.SafeToRetry(err) || pgconn.Timeout(err) || errors.As(err, &ce) || errors.As(err, &ne) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
}
