// Package sqlite is the SQLite engine of mcpstore: a db.Store on
// modernc.org/sqlite (pure Go, no cgo). Below db's checking Store it is
// the sqlc code of gen/sqlitedb, through the repositories both engines
// share (db/internal/sqlcrepo), and what only SQLite needs: one writer
// connection, statistics computed in Go, a key change log it polls. It
// does not import pgx.
//
// SQLite allows one writer at a time, so the Store keeps one writer
// connection (every write and transaction goes through it, queued in Go
// rather than failing with SQLITE_BUSY) and a small pool of read-only
// connections, which WAL mode lets read while the writer writes.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite" // also registers the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/db/internal/sqlcrepo"
	"github.com/mcpstore/mcpstore/gen/sqlitedb"
	"github.com/mcpstore/mcpstore/internal/sqlitecol"
	schema "github.com/mcpstore/mcpstore/schema/sqlite"
)

// Options tunes the connections. Zero fields take the defaults.
type Options struct {
	// BusyTimeout is how long a statement waits for another process's
	// write lock before failing with ErrUnavailable. Default 5s.
	BusyTimeout time.Duration
	// ReadConns is the number of read-only connections. Default 4.
	ReadConns int
	// Synchronous is SQLite's synchronous pragma: "FULL" (the default:
	// a committed transaction survives a power cut) or "NORMAL" (faster;
	// in WAL mode the newest commits may be lost on a power cut, never
	// corrupted).
	Synchronous string
	// Logger receives migration progress and the key change listener's
	// warnings. Nil discards them.
	Logger *slog.Logger
}

// Store is a db.Store on one SQLite file: db's checking Store over this
// engine, with what only SQLite has (DB, ListenKeyChanges).
type Store struct {
	db.Store
	e *engine
}

var _ db.Store = (*Store)(nil)

// engine is the db.Engine of SQLite.
type engine struct {
	repos
	path   string
	w, r   *sql.DB
	dsn    string
	logger *slog.Logger
}

// Open opens (creating it when missing) the SQLite database at url:
// "sqlite:PATH", "sqlite://PATH" or "sqlite::memory:". WAL mode, a busy
// timeout and foreign keys are switched on for every connection.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	path, ok := strings.CutPrefix(url, "sqlite:")
	if ok {
		path = strings.TrimPrefix(path, "//")
	}
	if !ok || path == "" {
		return nil, &db.Error{Op: "Open", Kind: db.ErrInvalid, Field: "url", Msg: "want sqlite:PATH"}
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 5 * time.Second
	}
	if opts.ReadConns <= 0 {
		opts.ReadConns = 4
	}
	switch opts.Synchronous = strings.ToUpper(opts.Synchronous); opts.Synchronous {
	case "":
		opts.Synchronous = "FULL"
	case "FULL", "NORMAL", "EXTRA":
	default:
		return nil, &db.Error{Op: "Open", Kind: db.ErrInvalid, Field: "synchronous", Msg: "want FULL, NORMAL or EXTRA"}
	}

	memory := path == ":memory:"
	file := "file:" + escapePath(path)
	if memory {
		// One private in-memory database, reachable from one connection:
		// the writer is also the reader.
		file = "file::memory:"
	}
	common := fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)&_pragma=synchronous(%s)",
		opts.BusyTimeout.Milliseconds(), opts.Synchronous)
	// BEGIN IMMEDIATE: a transaction takes the write lock when it starts,
	// so it never fails half-way to upgrade a read lock.
	wdsn := file + "?" + common + "&_pragma=journal_mode(WAL)&_txlock=immediate"

	s := &engine{path: path, dsn: wdsn, logger: opts.Logger}
	var err error
	if s.w, err = sql.Open("sqlite", wdsn); err != nil {
		return nil, openError(err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)
	// Connect the writer first: it creates the file and switches it to WAL
	// before a read-only connection looks at it.
	if err := connectWriter(ctx, s.w, opts.BusyTimeout); err != nil {
		s.w.Close()
		return nil, openError(err)
	}
	s.r = s.w
	if !memory {
		if s.r, err = sql.Open("sqlite", file+"?"+common+"&_pragma=query_only(1)"); err != nil {
			s.w.Close()
			return nil, openError(err)
		}
		s.r.SetMaxOpenConns(opts.ReadConns)
		s.r.SetMaxIdleConns(opts.ReadConns)
	}
	s.repos = newRepos(s.r, s.w, s.w, nil)
	return &Store{Store: db.NewStore(s), e: s}, nil
}

// openError maps a failure to open as the Store maps its errors.
func openError(err error) error { return db.MapError("Open", &engine{}, err) }

// connectWriter opens the writer's connection, trying again for up to
// busyTimeout while SQLite answers SQLITE_BUSY: switching a new database to
// WAL needs it alone, and when several processes open it at once SQLite
// may refuse the switch at once, without waiting on busy_timeout.
func connectWriter(ctx context.Context, w *sql.DB, busyTimeout time.Duration) error {
	deadline := time.Now().Add(busyTimeout)
	for {
		err := w.PingContext(ctx)
		var se *sqlite.Error
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(10+rand.IntN(40)) * time.Millisecond):
		}
	}
}

// escapePath makes path safe inside a file: URI.
func escapePath(path string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
}

// DB returns the writer connection pool, for work outside mcpstore's queries.
func (s *Store) DB() *sql.DB { return s.e.w }

func (s *engine) Name() string { return "sqlite" }

func (s *engine) Ping(ctx context.Context) error { return s.w.PingContext(ctx) }

// Close closes every connection.
func (s *engine) Close() error {
	err := s.w.Close()
	if s.r != s.w {
		if rerr := s.r.Close(); err == nil {
			err = rerr
		}
	}
	return err
}

// InTx runs fn in one transaction on the writer connection. Inside fn, use
// only the Repositories passed to it: the Store's own wait for the writer
// connection, which fn holds.
func (s *engine) InTx(ctx context.Context, fn func(tx db.EngineRepositories) error) error {
	return inTx(ctx, s.w, func(tx *sql.Tx) error { return fn(newRepos(tx, tx, s.w, tx)) })
}

// inTx runs fn in a transaction on w, rolling back on error or panic.
func inTx(ctx context.Context, w *sql.DB, fn func(*sql.Tx) error) (err error) {
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
		if err != nil {
			tx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

func (s *engine) Migrations() db.Migrations {
	m := db.Migrations{
		Dialect: goose.DialectSQLite3,
		FS:      schema.FS,
		// goose closes the *sql.DB it is given: a new one on the same file.
		// An in-memory database lives only in the writer connection, so
		// goose gets that one, and keeps it open.
		Open: func() (*sql.DB, error) {
			if s.path == ":memory:" {
				return s.w, nil
			}
			d, err := sql.Open("sqlite", s.dsn)
			if err == nil {
				d.SetMaxOpenConns(1)
			}
			return d, err
		},
		KeepOpen: s.path == ":memory:",
		Logger:   s.logger,
		MapError: s.MapError,
	}
	// Processes sharing the file migrate one at a time; a private
	// in-memory database has no one to share with.
	if s.path != ":memory:" {
		m.Locker = newFileLocker(s.path)
	}
	return m
}

// repos are the engine's repositories: the queries of db/internal/sqlcrepo
// over gen/sqlitedb, reads on r and writes on w (both the transaction
// inside one), and what only SQLite does. They are made once, as interface
// values, so that handing one out allocates nothing.
type repos struct {
	keys  db.APIKeyEngine
	tools db.ToolEngine
	audit db.AuditLogEngine
}

// conns are where what sqlc does not generate runs: the writer (or the
// transaction), and the writer's pool for work that needs a transaction of
// its own (tx is nil then).
type conns struct {
	w     sqlitedb.DBTX
	begin *sql.DB
	tx    *sql.Tx
}

func newRepos(r, w sqlitedb.DBTX, begin *sql.DB, tx *sql.Tx) repos {
	rq, wq := sqlitedb.New(r), sqlitedb.New(w)
	c := conns{w: w, begin: begin, tx: tx}
	return repos{
		keys: sqlcrepo.Keys[sqlitedb.ApiKey, sqlitecol.Time, sqlitecol.List, sqlitecol.JSON]{
			Read: rq, Write: wq, LastUsedBatch: c.updateLastUsedBatch,
		},
		tools: sqlcrepo.Tools[sqlitedb.ToolRegistration, sqlitecol.Time, sqlitecol.JSON]{
			Read: rq, Write: wq, Lock: c.lockServer,
		},
		audit: sqlcrepo.Audit[sqlitedb.AuditLog, sqlitecol.Time, sqlitecol.JSON]{
			Read: rq, Write: wq, Batch: c.insertBatch, Stats: statistics(rq),
		},
	}
}

func (r repos) APIKeys() db.APIKeyEngine     { return r.keys }
func (r repos) Tools() db.ToolEngine         { return r.tools }
func (r repos) AuditLogs() db.AuditLogEngine { return r.audit }

// inTx runs fn in the current transaction, or in a new one on the writer.
func (c conns) inTx(ctx context.Context, fn func(*sqlitedb.Queries) error) error {
	if c.tx != nil {
		return fn(sqlitedb.New(c.tx))
	}
	return inTx(ctx, c.begin, func(tx *sql.Tx) error { return fn(sqlitedb.New(tx)) })
}
