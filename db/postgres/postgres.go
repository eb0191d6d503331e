// Package postgres is the PostgreSQL engine of mcpstore: a db.Store on a
// pgxpool.Pool, a thin wrapper over the sqlc code in gen/pgdb. It does not
// import SQLite.
package postgres

import (
	"context"
	"database/sql"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/mcpstore/mcpstore/db"
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

// Store is a db.Store on PostgreSQL.
type Store struct {
	repos
	pool    *pgxpool.Pool
	ownPool bool
	logger  *slog.Logger
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
	if err != nil {
		return nil, mapErr("Open", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, mapErr("Open", err)
	}
	s := New(pool, opts)
	s.ownPool = true
	return s, nil
}

// New returns a Store on a pool the caller owns: Close leaves it open.
// Setting the pool's AfterConnect to RegisterTypes (or calling it from
// yours) gives it the cheaper jsonb reads of the pools Open makes.
func New(pool *pgxpool.Pool, opts Options) *Store {
	return &Store{repos: newRepos(pool), pool: pool, logger: opts.Logger}
}

// Pool returns the underlying pool, for work outside mcpstore's queries.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Engine returns "postgres".
func (s *Store) Engine() string { return "postgres" }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return mapErr("Ping", s.pool.Ping(ctx)) }

// Close closes the pool when the Store opened it.
func (s *Store) Close() error {
	if s.ownPool {
		s.pool.Close()
	}
	return nil
}

// InTx runs fn in one transaction; see db.Store.
func (s *Store) InTx(ctx context.Context, fn func(tx db.Repositories) error) error {
	var fnErr error
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		fnErr = fn(newRepos(tx))
		return fnErr
	})
	if err != nil && err == fnErr {
		return err // the caller's own error, as it returned it
	}
	return mapErr("InTx", err)
}

func (s *Store) migrations() db.Migrations {
	return db.Migrations{
		Dialect: goose.DialectPostgres,
		FS:      schema.FS,
		Locker:  sessionLocker(),
		// A *sql.DB over the pool: closing it hands its connections back
		// to the pool and leaves the pool open.
		Open:   func() (*sql.DB, error) { return stdlib.OpenDBFromPool(s.pool), nil },
		Logger: s.logger,
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

// MigrateUp applies every pending migration under goose's advisory lock.
func (s *Store) MigrateUp(ctx context.Context) error { return s.migrations().Up(ctx) }

// MigrateDown rolls back the newest applied migration.
func (s *Store) MigrateDown(ctx context.Context) error { return s.migrations().Down(ctx) }

// MigrationStatus lists every migration and whether it is applied.
func (s *Store) MigrationStatus(ctx context.Context) ([]db.MigrationState, error) {
	return s.migrations().Status(ctx)
}

// conn is what the repositories run on: the pool, or a transaction.
// Begin starts a transaction on the pool and a savepoint in a transaction.
type conn interface {
	pgdb.DBTX
	Begin(ctx context.Context) (pgx.Tx, error)
}

type repos struct {
	c conn
	q *pgdb.Queries
}

func newRepos(c conn) repos { return repos{c: c, q: pgdb.New(c)} }

func (r repos) APIKeys() db.APIKeyRepository     { return apiKeys(r) }
func (r repos) Tools() db.ToolRepository         { return tools(r) }
func (r repos) AuditLogs() db.AuditLogRepository { return auditLogs(r) }
