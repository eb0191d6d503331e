package db

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"log/slog"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// MigrationTable is the table where goose records applied migrations.
const MigrationTable = "mcpstore_migrations"

// Migrations runs goose's Provider over an engine's embedded schema folder.
// The engines use it to implement Store.MigrateUp, MigrateDown and
// MigrationStatus.
type Migrations struct {
	Dialect goose.Dialect
	FS      fs.FS
	// Locker, when set, serializes migrations across processes (PostgreSQL:
	// goose's session advisory lock).
	Locker lock.SessionLocker
	// Open returns a *sql.DB for goose. goose's Provider.Close closes it,
	// so it must not be one the Store keeps using, unless KeepOpen is set.
	Open func() (*sql.DB, error)
	// KeepOpen skips closing the Provider (and so the *sql.DB): for an
	// in-memory SQLite database, which only lives in the Store's connection.
	KeepOpen bool
	Logger   *slog.Logger
	// MapError is the engine's error mapping (Engine.MapError): a
	// migration that fails for the database's reasons (unreachable, a
	// statement refused) fails with the same kinds as any other method.
	MapError func(error) *Error
}

func (m Migrations) provider() (*goose.Provider, error) {
	sqlDB, err := m.Open()
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{
		goose.WithTableName(MigrationTable),
		goose.WithDisableGlobalRegistry(true),
	}
	if m.Locker != nil {
		opts = append(opts, goose.WithSessionLocker(m.Locker))
	}
	if m.Logger != nil {
		opts = append(opts, goose.WithSlog(m.Logger))
	}
	p, err := goose.NewProvider(m.Dialect, sqlDB, m.FS, opts...)
	if err != nil {
		sqlDB.Close()
		return nil, err
	}
	return p, nil
}

func (m Migrations) run(ctx context.Context, op string, fn func(*goose.Provider) error) error {
	p, err := m.provider()
	if err != nil {
		return m.error(op, err)
	}
	err = fn(p)
	if !m.KeepOpen {
		if cerr := p.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}
	return m.error(op, err)
}

// Up applies every pending migration.
func (m Migrations) Up(ctx context.Context) error {
	return m.run(ctx, "MigrateUp", func(p *goose.Provider) error {
		_, err := p.Up(ctx)
		return err
	})
}

// Down rolls back the newest applied migration; ErrNotFound when none is.
func (m Migrations) Down(ctx context.Context) error {
	return m.run(ctx, "MigrateDown", func(p *goose.Provider) error {
		_, err := p.Down(ctx)
		return err
	})
}

// Status lists every migration and whether it is applied.
func (m Migrations) Status(ctx context.Context) ([]MigrationState, error) {
	var out []MigrationState
	err := m.run(ctx, "MigrationStatus", func(p *goose.Provider) error {
		st, err := p.Status(ctx)
		for _, s := range st {
			out = append(out, MigrationState{
				Version:   s.Source.Version,
				Source:    s.Source.Path,
				Applied:   s.State == goose.StateApplied,
				AppliedAt: s.AppliedAt,
			})
		}
		return err
	})
	return out, err
}

// error maps an error of goose, or of the database below it, to an *Error
// named op.
func (m Migrations) error(op string, err error) error {
	var out *Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, goose.ErrNoNextVersion):
		return &Error{Op: op, Kind: ErrNotFound, Msg: "no applied migration to roll back"}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &Error{Op: op, Kind: ErrUnavailable, Msg: "migration interrupted", Cause: ctxErr(err)}
	case m.MapError != nil:
		out = m.MapError(err)
	default:
		out = &Error{Kind: ErrDatabase, Msg: "migration failed"}
	}
	out.Op = op
	return out
}

// MigrationState is the state of one migration.
type MigrationState struct {
	Version   int64
	Source    string // the migration's file name
	Applied   bool
	AppliedAt time.Time
}
