package postgres

import (
	"errors"
	"io"
	"net"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/mcpstore/mcpstore/db"
)

// MapError is the one place where pgx errors are read: it gives a kind,
// the constraint PostgreSQL names, and the SQLSTATE, never PostgreSQL's
// message (its Detail quotes values, and some messages do too).
func (e *engine) MapError(err error) *db.Error {
	if errors.Is(err, pgx.ErrTxClosed) {
		return db.MisusedTx()
	}
	if pgErr := (*pgconn.PgError)(nil); errors.As(err, &pgErr) {
		return pgError(pgErr)
	}
	if isConnectionError(err) {
		return &db.Error{Kind: db.ErrUnavailable, Msg: "connection to the database failed"}
	}
	return nil
}

func pgError(e *pgconn.PgError) *db.Error {
	out := &db.Error{Kind: db.ErrDatabase, Msg: "SQLSTATE " + e.Code}
	class := e.Code[:2]
	switch {
	case e.Code == "23505": // unique_violation
		out.Kind, out.Constraint, out.Msg = db.ErrConflict, e.ConstraintName, "duplicate"
	case e.Code == "23503": // foreign_key_violation
		out.Kind, out.Constraint, out.Msg = db.ErrConflict, e.ConstraintName, "still referenced"
	case class == "22" || class == "23": // data exception, other integrity rules
		out.Kind, out.Constraint = db.ErrInvalid, e.ConstraintName
	case e.Code == "40001" || e.Code == "40P01" || class == "08" || class == "53" ||
		e.Code == "57P01" || e.Code == "57P02" || e.Code == "57P03":
		// serialization failure, deadlock, connection exception,
		// insufficient resources, server shutting down or starting.
		out.Kind = db.ErrUnavailable
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
