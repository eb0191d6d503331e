// Package db holds what both storage engines share: the domain types
// (APIKey, Tool, AuditLog) and the queries that select them, the errors
// every method returns, the Store interface with its three repositories,
// and the Store that checks every input before an engine runs it
// (NewStore), so that both engines refuse the same input and name the same
// operations; migrations run through goose.
//
// The engines live in db/postgres (pgx, for fleets of gateway replicas) and
// db/sqlite (modernc.org/sqlite, the zero-setup default); each implements
// Engine, and both share their repositories (db/internal/sqlcrepo). A
// program that wants both, chosen by URL, uses db/dbopen.
//
// Every error returned by a Store is a *Error whose Kind is one of
// ErrNotFound, ErrConflict, ErrInvalid, ErrUnavailable or ErrDatabase, so
// callers use errors.Is and never see a driver's error type.
package db
