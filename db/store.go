package db

import (
	"context"
	"time"
)

// Store is an open database: the three repositories, transactions,
// migrations. Open one with postgres.Open, sqlite.Open or dbopen.Open; it is
// safe for concurrent use, and the caller closes it.
type Store interface {
	Repositories

	// InTx runs fn in one transaction: committed when fn returns nil,
	// rolled back (leaving nothing behind) when it returns an error or
	// panics. The Repositories passed to fn work inside the transaction;
	// the Store's own repositories do not.
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

// APIKeyRepository stores API keys. It never sees a raw key.
type APIKeyRepository interface {
	// Create stores a key. ErrConflict when the id or hash exists.
	Create(ctx context.Context, in APIKeyCreate) (APIKey, error)
	// Get returns the key with this id, or ErrNotFound.
	Get(ctx context.Context, id string) (APIKey, error)
	// GetForUpdate is Get that, inside a transaction (Store.InTx), also
	// holds the key until the transaction ends: another transaction's
	// GetForUpdate or write of the key waits for it, so that reading a key,
	// checking it and writing from what was read (Keys.Rotate) cannot
	// interleave with another doing the same, even on several Stores
	// sharing one database. Outside a transaction it holds nothing: it
	// returns what Get does (on PostgreSQL once no transaction holds the
	// key).
	GetForUpdate(ctx context.Context, id string) (APIKey, error)
	// GetByHash returns the key with this hash, or ErrNotFound.
	GetByHash(ctx context.Context, keyHash string) (APIKey, error)
	// ListByPrefix returns the keys with this display prefix, oldest first.
	ListByPrefix(ctx context.Context, prefix string) ([]APIKey, error)
	// List returns a page of all keys, oldest first.
	List(ctx context.Context, p Page) ([]APIKey, error)
	// ListActive returns a page of the active keys, oldest first.
	ListActive(ctx context.Context, p Page) ([]APIKey, error)
	// ListByUser returns a page of the keys owned by userID, oldest first;
	// only the active ones when activeOnly.
	ListByUser(ctx context.Context, userID string, activeOnly bool, p Page) ([]APIKey, error)
	// Update changes the columns set in u and returns the key, or ErrNotFound.
	Update(ctx context.Context, id string, u APIKeyUpdate) (APIKey, error)
	// Delete removes the key, or returns ErrNotFound.
	Delete(ctx context.Context, id string) error
	// Deactivate marks the key inactive, or returns ErrNotFound.
	Deactivate(ctx context.Context, id string) error
	// UpdateLastUsed records a use at the given time. It never moves
	// last_used_at backwards, and ignores unknown ids.
	UpdateLastUsed(ctx context.Context, id string, at time.Time) error
	// Revoke makes the key stop working from at (now, or later for a
	// grace period) and records why, then returns the key, or ErrNotFound.
	// A revocation is never postponed: a key revoked at or before at keeps
	// its time and reason. On a Store that is a KeyChangeListener, every
	// listener hears of it when the write commits (as of Deactivate,
	// Delete, and an Update that changes what a verified key is).
	Revoke(ctx context.Context, id string, at time.Time, reason string) (APIKey, error)
	// UpdateLastUsedBatch records many uses in one statement and returns
	// how many keys it changed. Like UpdateLastUsed it never moves
	// last_used_at backwards and ignores unknown ids; of several uses of
	// one key, the latest counts.
	UpdateLastUsedBatch(ctx context.Context, uses []KeyUse) (int64, error)
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

// ToolRepository stores tool registrations. A tool name is unique per
// server.
type ToolRepository interface {
	// Create stores a tool. ErrConflict when its server has the name already.
	Create(ctx context.Context, in ToolCreate) (Tool, error)
	// Get returns the tool with this id, or ErrNotFound.
	Get(ctx context.Context, id int64) (Tool, error)
	// GetByName returns the tool of serverID with this name, or ErrNotFound.
	GetByName(ctx context.Context, serverID, name string) (Tool, error)
	// List returns a page of all tools, in id order.
	List(ctx context.Context, p Page) ([]Tool, error)
	// ListByServer returns every tool of serverID, active or not, by name.
	ListByServer(ctx context.Context, serverID string) ([]Tool, error)
	// ListActive returns a page of the active tools, in id order.
	ListActive(ctx context.Context, p Page) ([]Tool, error)
	// Update changes the columns set in u and returns the tool, or
	// ErrNotFound. updated_at moves only when a value changes.
	Update(ctx context.Context, id int64, u ToolUpdate) (Tool, error)
	// Delete removes the tool, or returns ErrNotFound.
	Delete(ctx context.Context, id int64) error
	// DeactivateByServer marks every active tool of serverID inactive and
	// returns how many it changed.
	DeactivateByServer(ctx context.Context, serverID string) (int64, error)
	// Upsert creates the tool or overwrites the one of the same server and
	// name, in one atomic statement. Writing the values a tool already has
	// leaves its updated_at alone.
	Upsert(ctx context.Context, in ToolCreate) (Tool, error)
	// LockServer, inside a transaction (Store.InTx), waits until no other
	// transaction holds the lock of serverID's tools, then holds it until
	// its own transaction ends: transactions that read a server's tools and
	// rewrite them from what they read run one after another, even on
	// several Stores sharing one database. It changes no row. Outside a
	// transaction it returns at once and holds nothing.
	LockServer(ctx context.Context, serverID string) error
}

// AuditLogRepository stores audit events.
type AuditLogRepository interface {
	// Insert stores one event. ErrConflict when its event id is stored.
	Insert(ctx context.Context, in AuditLogCreate) (AuditLog, error)
	// InsertBatch stores many events at once (COPY on PostgreSQL, one
	// transaction on SQLite) and returns how many it stored. Events whose
	// event id is stored already are skipped, so a batch retried after an
	// ambiguous failure is stored once. All or nothing: when it fails,
	// none of the batch is stored. It keeps nothing of in once it returns:
	// the caller may reuse the slice (the Auditor does).
	InsertBatch(ctx context.Context, in []AuditLogCreate) (int64, error)
	// Get returns the event with this id, or ErrNotFound.
	Get(ctx context.Context, id int64) (AuditLog, error)
	// List returns a page of all events, oldest first.
	List(ctx context.Context, p Page) ([]AuditLog, error)
	// ListByRequestID returns the events of one request, oldest first: those
	// whose request_id, which the server generates, is requestID.
	ListByRequestID(ctx context.Context, requestID string) ([]AuditLog, error)
	// ListByClientRequestID returns the events a client sent under its own
	// request id (AuditLogCreate.ClientRequestID), oldest first. It is a
	// method of its own rather than a second match of ListByRequestID, so
	// that a client choosing the id of another request cannot make its
	// events show among that request's.
	ListByClientRequestID(ctx context.Context, clientRequestID string) ([]AuditLog, error)
	// ListByUser returns a page of one user's events, newest first.
	ListByUser(ctx context.Context, userID string, p Page) ([]AuditLog, error)
	// ListByDateRange returns a page of the events in [from, to), oldest
	// first; only those of action when action is not "".
	ListByDateRange(ctx context.Context, from, to time.Time, action string, p Page) ([]AuditLog, error)
	// ListByDateRangeAfter returns up to limit events of [from, to) that
	// come after the cursor in ListByDateRange's order (created_at, then
	// id), oldest first; only those of action when action is not "". The
	// zero cursor starts at from; the last event's Cursor continues. Unlike
	// an Offset, a page does not cost more the deeper it is (it reads only
	// the events sharing the cursor's time before its own), and an event
	// committed meanwhile cannot shift a later page: one that sorts before
	// the cursor is not returned, none is returned twice. A zero limit
	// means DefaultLimit.
	ListByDateRangeAfter(ctx context.Context, from, to time.Time, action string, after AuditCursor, limit int) ([]AuditLog, error)
	// Statistics counts the events in [from, to): in total, by status and
	// by action, in one query.
	Statistics(ctx context.Context, from, to time.Time) (AuditStatistics, error)
	// Complete writes the outcome of an event and returns it, or
	// ErrNotFound. It is the only update of an audit event.
	Complete(ctx context.Context, id int64, c AuditLogComplete) (AuditLog, error)
	// Delete removes one event, or returns ErrNotFound.
	Delete(ctx context.Context, id int64) error
	// Prune deletes every event created before before and returns how
	// many. It deletes the oldest first, at most batchSize (1 to MaxLimit)
	// per statement, each statement on its own, so that it never holds the
	// table for long; inside InTx all batches share the transaction.
	Prune(ctx context.Context, before time.Time, batchSize int) (int64, error)
	// ListNewest returns a page of the events stored last, newest (highest
	// id) first.
	ListNewest(ctx context.Context, p Page) ([]AuditLog, error)
	// ListAfterID returns a page of the events whose id is above afterID,
	// in id order (the order they were stored in). On PostgreSQL ids are
	// taken before commit, so an event may become visible after one with a
	// higher id: a reader polling with the last id it saw looks back a
	// little (mcpstore audit tail -f does).
	ListAfterID(ctx context.Context, afterID int64, p Page) ([]AuditLog, error)
}
