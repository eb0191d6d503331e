package db

import (
	"context"
	"time"
)

// Engine is a storage engine below the Store that NewStore makes: the
// statements of one database, and nothing else. The Store checks and
// normalizes every input before it calls an Engine method, names the
// operation and maps every error, so that an Engine method only turns
// domain values into its statements' arguments and rows back into domain
// values, and returns its driver's errors as they are: the Store hands
// them to MapError.
//
// What an Engine method may rely on, having come through the Store: text
// is valid UTF-8 without NUL, within the length limits; JSON documents are
// canonical (CanonicalJSON); times are in UTC at microsecond precision,
// within MinTime and MaxTime; pages have a limit of 1 to MaxLimit and an
// offset of 0 to MaxOffset; queries have their defaults filled in (see
// KeyQuery, ToolQuery and AuditQuery). db/postgres and db/sqlite are the
// two Engines; db/internal/sqlcrepo holds what they share.
type Engine interface {
	EngineRepositories

	// InTx runs fn in one transaction, committed when fn returns nil and
	// rolled back when it returns an error or panics (the panic goes on).
	// It returns fn's error as fn returned it.
	InTx(ctx context.Context, fn func(tx EngineRepositories) error) error
	// Migrations returns the engine's migrations.
	Migrations() Migrations
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Name is "postgres" or "sqlite".
	Name() string
	// Close releases the connections.
	Close() error
	// MapError turns an error of the engine's driver into an *Error without
	// an Op: its Kind, the constraint a write broke (with the same names on
	// every engine), and a message of the engine's own words, never the
	// driver's text (which may quote values); nil for an error it does not
	// know. Context errors and sql.ErrNoRows never reach it (see MapError).
	MapError(err error) *Error
}

// EngineRepositories hands out an Engine's three repositories, on the
// database or inside one of its transactions.
type EngineRepositories interface {
	APIKeys() APIKeyEngine
	Tools() ToolEngine
	AuditLogs() AuditLogEngine
}

// APIKeyEngine is APIKeyRepository below the Store: its methods take
// checked input (see Engine) and return driver errors as they are. Delete
// and Deactivate return how many rows they changed (0 or 1); the Store
// turns 0 into ErrNotFound.
type APIKeyEngine interface {
	Create(ctx context.Context, in APIKeyCreate) (APIKey, error)
	Get(ctx context.Context, id string) (APIKey, error)
	GetForUpdate(ctx context.Context, id string) (APIKey, error)
	GetByHash(ctx context.Context, keyHash string) (APIKey, error)
	List(ctx context.Context, q KeyQuery) ([]APIKey, error)
	Update(ctx context.Context, id string, u APIKeyUpdate) (APIKey, error)
	Delete(ctx context.Context, id string) (int64, error)
	Deactivate(ctx context.Context, id string) (int64, error)
	UpdateLastUsed(ctx context.Context, id string, at time.Time) error
	Revoke(ctx context.Context, id string, at time.Time, reason string) (APIKey, error)
	// UpdateLastUsedBatch gets at least one use, one per key, in id order.
	UpdateLastUsedBatch(ctx context.Context, uses []KeyUse) (int64, error)
}

// ToolEngine is ToolRepository below the Store (see APIKeyEngine).
type ToolEngine interface {
	Create(ctx context.Context, in ToolCreate) (Tool, error)
	Upsert(ctx context.Context, in ToolCreate) (Tool, error)
	Get(ctx context.Context, id int64) (Tool, error)
	GetByName(ctx context.Context, serverID, name string) (Tool, error)
	List(ctx context.Context, q ToolQuery) ([]Tool, error)
	Update(ctx context.Context, id int64, u ToolUpdate) (Tool, error)
	Delete(ctx context.Context, id int64) (int64, error)
	DeactivateByServer(ctx context.Context, serverID string) (int64, error)
	LockServer(ctx context.Context, serverID string) error
}

// AuditLogEngine is AuditLogRepository below the Store (see
// APIKeyEngine).
type AuditLogEngine interface {
	Insert(ctx context.Context, in AuditLogCreate) (AuditLog, error)
	// InsertBatch gets at least one event, each with its CreatedAt set.
	InsertBatch(ctx context.Context, in []AuditLogCreate) (int64, error)
	Get(ctx context.Context, id int64) (AuditLog, error)
	List(ctx context.Context, q AuditQuery) ([]AuditLog, error)
	ListNewest(ctx context.Context, p Page) ([]AuditLog, error)
	ListAfterID(ctx context.Context, afterID int64, p Page) ([]AuditLog, error)
	Statistics(ctx context.Context, from, to time.Time) (AuditStatistics, error)
	Complete(ctx context.Context, id int64, c AuditLogComplete) (AuditLog, error)
	Delete(ctx context.Context, id int64) (int64, error)
	// PruneBatch deletes at most limit of the oldest events created
	// before before, in one statement, and returns how many.
	PruneBatch(ctx context.Context, before time.Time, limit int) (int64, error)
}
