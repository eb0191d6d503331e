// Package postgres is the PostgreSQL engine of mcpstore: a db.Store on a
// pgxpool.Pool. Below db's checking Store it is the sqlc code of gen/pgdb,
// through the repositories both engines share (db/internal/sqlcrepo), and
// what only PostgreSQL does: COPY for audit batches, statistics from
// hourly counts, advisory locks, LISTEN/NOTIFY. It does not import SQLite.
package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/db/internal/sqlcrepo"
	"github.com/mcpstore/mcpstore/gen/pgdb"
	schema "github.com/mcpstore/mcpstore/schema/postgres"
)

// Options tunes the connection pool. Zero fields keep pgxpool's defaults,
// and settings in the URL (pool_max_conns=..., and so on) apply first.
type Options struct {
	// MaxConns caps open connections: the seed's pool_size + max_overflow.
	MaxConns int32
	// MinConns keeps this many connections open even when idle: the seed's
	// pool_size.
	MinConns int32
	// MaxConnIdleTime closes connections idle for longer.
	MaxConnIdleTime time.Duration
	// MaxConnLifetime replaces connections older than this.
	MaxConnLifetime time.Duration
	// HealthCheckPeriod is how often idle connections are checked.
	HealthCheckPeriod time.Duration
	// PingIdleAfter pings a connection taken from the pool when it has been
	// idle for longer (the seed's pool_pre_ping). Zero keeps pgxpool's
	// default of one second; a negative value turns pinging off.
	PingIdleAfter time.Duration
	// Logger receives migration progress and the key change listener's
	// warnings. Nil discards them.
	Logger *slog.Logger
}

// Store is a db.Store on PostgreSQL: db's checking Store over this
// engine, with what only PostgreSQL has (Pool, ListenKeyChanges).
type Store struct {
	db.Store
	e *engine
}

var _ db.Store = (*Store)(nil)

// Open connects to the database at url (postgres://... or postgresql://...)
// and checks that it answers. The Store owns the pool and closes it.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	if !strings.HasPrefix(url, "postgres://") && !strings.HasPrefix(url, "postgresql://") {
		return nil, &db.Error{Op: "Open", Kind: db.ErrInvalid, Field: "url", Msg: "want postgres://... or postgresql://..."}
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message may quote the URL, password included: say less.
		return nil, &db.Error{Op: "Open", Kind: db.ErrInvalid, Field: "url", Msg: "not a valid PostgreSQL connection URL"}
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if opts.MinConns > 0 {
		cfg.MinConns = opts.MinConns
	}
	if opts.MaxConnIdleTime > 0 {
		cfg.MaxConnIdleTime = opts.MaxConnIdleTime
	}
	if opts.MaxConnLifetime > 0 {
		cfg.MaxConnLifetime = opts.MaxConnLifetime
	}
	if opts.HealthCheckPeriod > 0 {
		cfg.HealthCheckPeriod = opts.HealthCheckPeriod
	}
	cfg.AfterConnect = RegisterTypes
	if d := opts.PingIdleAfter; d != 0 {
		cfg.ShouldPing = func(_ context.Context, p pgxpool.ShouldPingParams) bool {
			return d > 0 && p.IdleDuration > d
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err == nil {
		err = pool.Ping(ctx)
		if err != nil {
			pool.Close()
		}
	}
	if err != nil {
		return nil, db.MapError("Open", &engine{}, err)
	}
	s := New(pool, opts)
	s.e.ownPool = true
	return s, nil
}

// New returns a Store on a pool the caller owns: Close leaves it open.
// Setting the pool's AfterConnect to RegisterTypes (or calling it from
// yours) gives it the cheaper jsonb reads of the pools Open makes.
func New(pool *pgxpool.Pool, opts Options) *Store {
	e := &engine{repos: newRepos(pool), pool: pool, logger: opts.Logger}
	return &Store{Store: db.NewStore(e), e: e}
}

// Pool returns the underlying pool, for work outside mcpstore's queries.
func (s *Store) Pool() *pgxpool.Pool { return s.e.pool }

// engine is the db.Engine of PostgreSQL.
type engine struct {
	repos
	pool    *pgxpool.Pool
	ownPool bool
	logger  *slog.Logger
}

func (e *engine) Name() string { return "postgres" }

func (e *engine) Ping(ctx context.Context) error { return e.pool.Ping(ctx) }

// Close closes the pool when the Store opened it.
func (e *engine) Close() error {
	if e.ownPool {
		e.pool.Close()
	}
	return nil
}

// InTx runs fn in a transaction on a connection of the pool.
func (e *engine) InTx(ctx context.Context, fn func(tx db.EngineRepositories) error) error {
	return pgx.BeginFunc(ctx, e.pool, func(tx pgx.Tx) error { return fn(newRepos(tx)) })
}

func (e *engine) Migrations() db.Migrations {
	return db.Migrations{
		Dialect: goose.DialectPostgres,
		FS:      schema.FS,
		Locker:  sessionLocker(),
		// A *sql.DB over the pool: closing it hands its connections back
		// to the pool and leaves the pool open.
		Open:     func() (*sql.DB, error) { return stdlib.OpenDBFromPool(e.pool), nil },
		Logger:   e.logger,
		MapError: e.MapError,
	}
}

// sessionLocker is goose's advisory lock, so that replicas starting together
// migrate once.
func sessionLocker() lock.SessionLocker {
	l, err := lock.NewPostgresSessionLocker()
	if err != nil {
		panic(err) // only for invalid options, and none are given
	}
	return l
}

// conn is what the repositories run on: the pool, or a transaction.
// Begin starts a transaction on the pool and a savepoint in a transaction.
type conn interface {
	pgdb.DBTX
	Begin(ctx context.Context) (pgx.Tx, error)
}

// repos are the engine's repositories on a conn: the queries of
// db/internal/sqlcrepo over gen/pgdb, and what only PostgreSQL does. They
// are made once, as interface values, so that handing one out allocates
// nothing.
type repos struct {
	keys  db.APIKeyEngine
	tools db.ToolEngine
	audit db.AuditLogEngine
}

func newRepos(c conn) repos {
	q := pgdb.New(c)
	return repos{
		keys: sqlcrepo.Keys[pgdb.ApiKey, time.Time, []string, json.RawMessage]{
			Read: q, Write: q, LastUsedBatch: lastUsedBatch(q),
		},
		tools: sqlcrepo.Tools[pgdb.ToolRegistration, time.Time, json.RawMessage]{
			Read: q, Write: q, Lock: q.ToolLockServer,
		},
		audit: sqlcrepo.Audit[pgdb.AuditLog, time.Time, json.RawMessage]{
			Read: q, Write: q, Batch: copyBatch(c), Stats: statistics(q),
		},
	}
}

func (r repos) APIKeys() db.APIKeyEngine     { return r.keys }
func (r repos) Tools() db.ToolEngine         { return r.tools }
func (r repos) AuditLogs() db.AuditLogEngine { return r.audit }
