// Package testdb gives each test a database of its own on a real engine: a
// fresh SQLite file, or a PostgreSQL database cloned from a migrated
// template (pgtestdb) on the server named by MCPSTORE_TEST_DATABASE_URL.
// `make test` starts a throwaway server and sets that variable.
package testdb

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver pgtestdb connects with
	"github.com/peterldowns/pgtestdb"

	"github.com/mcpstore/mcpstore/db/postgres"
	"github.com/mcpstore/mcpstore/db/sqlite"
	pgschema "github.com/mcpstore/mcpstore/schema/postgres"
)

// EnvURL names the variable holding the PostgreSQL server for tests.
const EnvURL = "MCPSTORE_TEST_DATABASE_URL"

// PostgresURL returns the URL of a new, migrated PostgreSQL database that is
// dropped when the test ends. Without a server it skips the test, except
// under CI=true, where it fails it: CI must run every PostgreSQL test.
func PostgresURL(t testing.TB) string {
	t.Helper()
	return pgtestdb.Custom(t, serverConfig(t), migrator{}).URL()
}

// PostgresEmptyURL returns the URL of a new PostgreSQL database with no
// tables, for tests of migrations themselves.
func PostgresEmptyURL(t testing.TB) string {
	t.Helper()
	return pgtestdb.Custom(t, serverConfig(t), pgtestdb.NoopMigrator{}).URL()
}

func serverConfig(t testing.TB) pgtestdb.Config {
	t.Helper()
	raw := os.Getenv(EnvURL)
	if raw == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: PostgreSQL tests may not be skipped in CI (run `make test`)", EnvURL)
		}
		t.Skipf("%s is not set; `make test` starts a PostgreSQL server for these tests", EnvURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("%s is not a URL", EnvURL)
	}
	pass, _ := u.User.Password()
	db := u.Path
	if len(db) > 0 && db[0] == '/' {
		db = db[1:]
	}
	if db == "" {
		db = "postgres"
	}
	return pgtestdb.Config{
		DriverName:                "pgx",
		Host:                      u.Hostname(),
		Port:                      u.Port(),
		User:                      u.User.Username(),
		Password:                  pass,
		Database:                  db,
		Options:                   u.RawQuery,
		ForceTerminateConnections: true,
	}
}

// SQLiteURL returns the URL of a new, migrated SQLite file in the test's
// temporary folder.
func SQLiteURL(t testing.TB) string {
	t.Helper()
	u := SQLiteEmptyURL(t)
	s, err := sqlite.Open(context.Background(), u, sqlite.Options{})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	defer s.Close()
	if err := s.MigrateUp(context.Background()); err != nil {
		t.Fatalf("migrate sqlite: %v", err)
	}
	return u
}

// SQLiteEmptyURL returns the URL of a SQLite file that does not exist yet.
func SQLiteEmptyURL(t testing.TB) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "mcpstore.db")
}

// migrator builds pgtestdb's template with mcpstore's own migrations; the
// template is rebuilt whenever a migration file changes.
type migrator struct{}

func (migrator) Hash() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(pgschema.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(pgschema.FS, path)
		h.Write([]byte(path))
		h.Write(b)
		return err
	})
	return hex.EncodeToString(h.Sum(nil))[:16], err
}

func (migrator) Migrate(ctx context.Context, _ *sql.DB, conf pgtestdb.Config) error {
	s, err := postgres.Open(ctx, conf.URL(), postgres.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	return s.MigrateUp(ctx)
}
