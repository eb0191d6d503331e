package faults_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/db/postgres"
	"github.com/mcpstore/mcpstore/db/sqlite"
	"github.com/mcpstore/mcpstore/internal/testdb"
)

// Short names for internal/testdb's helpers.
var (
	engines = testdb.Engines
	newURL  = testdb.URL
	openURL = testdb.Open
)

// tables are mcpstore's tables, whose rows the tests count.
var tables = []string{"api_keys", "tool_registrations", "audit_logs"}

// counts returns the number of rows of each table.
func counts(t testing.TB, s db.Store) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, tb := range tables {
		q := "SELECT count(*) FROM " + tb
		var n int64
		var err error
		switch s := s.(type) {
		case *postgres.Store:
			err = s.Pool().QueryRow(context.Background(), q).Scan(&n)
		case *sqlite.Store:
			err = s.DB().QueryRowContext(context.Background(), q).Scan(&n)
		default:
			err = fmt.Errorf("unknown store %T", s)
		}
		if err != nil {
			t.Fatalf("count %s: %v", tb, err)
		}
		out[tb] = n
	}
	return out
}

// summary prints one line per scenario, shown whatever the test flags, so
// that `make test-faults` ends with the figures each scenario checked.
func summary(t testing.TB, format string, args ...any) {
	t.Helper()
	line := fmt.Sprintf(format, args...)
	t.Log(line)
	fmt.Printf("faults summary: %s: %s\n", t.Name(), line)
}

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
	buildOut  []byte
)

// binary returns the path of a program of this module built once for the
// whole run: "cli" (cmd/mcpstore).
func binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "mcpstore-faults-bin")
		if buildErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", filepath.Join(buildDir, "mcpstore"), "github.com/mcpstore/mcpstore/cmd/mcpstore")
		buildOut, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("build the CLI: %v\n%s", buildErr, buildOut)
	}
	return filepath.Join(buildDir, "mcpstore")
}

func TestMain(m *testing.M) {
	if role := os.Getenv(envRole); role != "" {
		if code, ok := killChild(role); ok {
			os.Exit(code)
		}
		os.Exit(replicaMain(role))
	}
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// query runs q on the store's own connections and calls row for each row.
func query(s db.Store, q string, row func(scan func(...any) error) error) error {
	ctx := context.Background()
	switch s := s.(type) {
	case *postgres.Store:
		rows, err := s.Pool().Query(ctx, q)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := row(rows.Scan); err != nil {
				return err
			}
		}
		return rows.Err()
	case *sqlite.Store:
		rows, err := s.DB().QueryContext(ctx, q)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := row(rows.Scan); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	return fmt.Errorf("unknown store %T", s)
}

// dumpText returns the whole database as text, by where it came from:
// every row of every table (PostgreSQL), or the bytes of the database file
// and its WAL (SQLite), which hold deleted and overwritten values too.
func dumpText(t testing.TB, s db.Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	switch st := s.(type) {
	case *postgres.Store:
		for _, tb := range append(slices.Clone(tables), db.MigrationTable) {
			var b strings.Builder
			err := query(s, "SELECT x::text FROM "+tb+" x", func(scan func(...any) error) error {
				var row string
				if err := scan(&row); err != nil {
					return err
				}
				b.WriteString(row)
				b.WriteByte('\n')
				return nil
			})
			if err != nil {
				t.Fatalf("dump %s: %v", tb, err)
			}
			out["table "+tb] = b.String()
		}
	case *sqlite.Store:
		var seq int
		var name, path string
		if err := st.DB().QueryRow("PRAGMA database_list").Scan(&seq, &name, &path); err != nil {
			t.Fatalf("database file: %v", err)
		}
		for _, p := range []string{path, path + "-wal"} {
			b, err := os.ReadFile(p)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			out["file "+filepath.Base(p)] = string(b)
		}
	default:
		t.Fatalf("unknown store %T", s)
	}
	return out
}

func postgresOptions(l *slog.Logger) postgres.Options { return postgres.Options{Logger: l} }
func sqliteOptions(l *slog.Logger) sqlite.Options     { return sqlite.Options{Logger: l} }
