package db

import (
	"context"
)

// Store is an open database: the three repositories, transactions,
// migrations. Open one with postgres.Open, sqlite.Open or dbopen.Open; it is
// safe for concurrent use, and the caller closes it.
type Store interface {
	Repositories

	// InTx runs fn in one transaction: committed when fn returns nil,
	// rolled back (leaving nothing behind) when it returns an error or
	// panics. It returns fn's error as fn returned it. The Repositories
	// passed to fn work inside the transaction, and only until fn returns
	// (after, they fail with ErrDatabase); the Store's own repositories do
	// not take part in it.
	InTx(ctx context.Context, fn func(tx Repositories) error) error

	// MigrateUp applies every migration not yet applied. Replicas that
	// start together may all call it: the work is done once.
	MigrateUp(ctx context.Context) error
	// MigrateDown rolls back the newest applied migration.
	MigrateDown(ctx context.Context) error
	// MigrationStatus lists every known migration and whether it is applied.
	MigrationStatus(ctx context.Context) ([]MigrationState, error)

	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Engine names the engine: "postgres" or "sqlite".
	Engine() string
	// Close releases the connections. The Store must not be used after.
	Close() error
}

// Repositories hands out the three repositories, on a Store or inside one of
// its transactions.
type Repositories interface {
	APIKeys() APIKeyRepository
	Tools() ToolRepository
	AuditLogs() AuditLogRepository
}

// KeyChangeListener is implemented by the Stores that can tell every
// process sharing the database, within milliseconds, that an API key was
// revoked, deactivated, deleted, or given another name, roles,
// permissions, owner or expiry. Both engines' Stores are: *postgres.Store
// through LISTEN/NOTIFY, *sqlite.Store by polling a change log. On both a
// trigger records the change, so that one made outside mcpstore counts
// too.
type KeyChangeListener interface {
	// ListenKeyChanges calls onChange with the id of each key changed
	// that way by any client of the same database, until ctx ends, and then
	// returns ctx's error. It retries with backoff when the database
	// cannot be reached. It calls onListen each time it starts listening,
	// the first time included, and whenever it may have missed changes: a
	// caller drops what it cached then. The callbacks run on the listening
	// goroutine and must not block.
	ListenKeyChanges(ctx context.Context, onListen func(), onChange func(keyID string)) error
}

// NewStore returns the Store of an engine: every method checks and
// normalizes its input (refusing bad input with ErrInvalid before any
// statement runs), calls the engine, and maps what fails to an *Error
// named after the method. It is how postgres.Open and sqlite.Open make
// their Stores; an engine's own type embeds it.
func NewStore(e Engine) Store { return &store{e: e, repos: newRepos(e, e)} }

// store is the validating Store over an Engine.
type store struct {
	e Engine
	repos
}

func (s *store) InTx(ctx context.Context, fn func(tx Repositories) error) error {
	// Whether fn failed is kept apart from the engine's error rather than
	// compared with it: an error of an uncomparable type (a slice, a map)
	// makes == panic.
	var fnErr error
	err := s.e.InTx(ctx, func(tx EngineRepositories) error {
		fnErr = fn(newRepos(s.e, tx))
		return fnErr
	})
	if fnErr != nil {
		return fnErr // the caller's own error, as it returned it
	}
	return mapError("InTx", s.e, err)
}

func (s *store) MigrateUp(ctx context.Context) error { return s.e.Migrations().Up(ctx) }

func (s *store) MigrateDown(ctx context.Context) error { return s.e.Migrations().Down(ctx) }

func (s *store) MigrationStatus(ctx context.Context) ([]MigrationState, error) {
	return s.e.Migrations().Status(ctx)
}

func (s *store) Ping(ctx context.Context) error { return mapError("Ping", s.e, s.e.Ping(ctx)) }

func (s *store) Engine() string { return s.e.Name() }

func (s *store) Close() error { return mapError("Close", s.e, s.e.Close()) }

// repos are the validating repositories over an engine's, on the database
// or in a transaction; e maps errors. They are made once, as interface
// values, so that handing one out allocates nothing.
type repos struct {
	keys  APIKeyRepository
	tools ToolRepository
	audit AuditLogRepository
}

func newRepos(e Engine, r EngineRepositories) repos {
	return repos{
		keys:  &apiKeys{e: e, r: r.APIKeys()},
		tools: &tools{e: e, r: r.Tools()},
		audit: &auditLogs{e: e, r: r.AuditLogs()},
	}
}

func (r repos) APIKeys() APIKeyRepository     { return r.keys }
func (r repos) Tools() ToolRepository         { return r.tools }
func (r repos) AuditLogs() AuditLogRepository { return r.audit }

// oneRow is the error of a statement meant to change one row: ErrNotFound
// when it changed none.
func oneRow(n int64, err error) error {
	if err == nil && n == 0 {
		return &Error{Kind: ErrNotFound}
	}
	return err
}

// byRowID checks the id of a row the database numbers, then runs read.
func byRowID[T any](ctx context.Context, e Engine, op string, id int64, read func(context.Context, int64) (T, error)) (T, error) {
	var ch checker
	if ch.rowID("id", id); ch.err != nil {
		var zero T
		return zero, mapError(op, e, ch.err)
	}
	v, err := read(ctx, id)
	return v, mapError(op, e, err)
}

// deleteRow checks the id of a row the database numbers, then deletes it:
// ErrNotFound when there is none.
func deleteRow(ctx context.Context, e Engine, op string, id int64, del func(context.Context, int64) (int64, error)) error {
	_, err := byRowID(ctx, e, op, id, func(ctx context.Context, id int64) (int64, error) {
		n, err := del(ctx, id)
		return n, oneRow(n, err)
	})
	return err
}
