package faults_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// pgServer is a PostgreSQL server of the test's own, which it may stop and
// start: never the shared one. It follows scripts/with-postgres: initdb and
// pg_ctl from the installed server binaries, in a temporary folder, on a
// free loopback port, as the "postgres" user when run as root.
type pgServer struct {
	bindir, dir string
	port        int
	asPG        []string
}

// pgBindir finds the folder of initdb and pg_ctl, or "".
func pgBindir() string {
	if d := os.Getenv("PG_BINDIR"); d != "" {
		return d
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		if d := string(out[:len(out)-1]); fileExists(filepath.Join(d, "initdb")) {
			return d
		}
	}
	// Debian and Ubuntu keep the server binaries out of PATH.
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return va - vb
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		if fileExists(filepath.Join(dirs[i], "initdb")) {
			return dirs[i]
		}
	}
	return ""
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// startPGServer creates and starts a throwaway server, stopped and removed
// when the test ends. Without server binaries it skips the test, except
// under CI=true.
func startPGServer(t *testing.T) *pgServer {
	t.Helper()
	bindir := pgBindir()
	if bindir == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no PostgreSQL server binaries (initdb, pg_ctl): this test may not be skipped in CI")
		}
		t.Skip("no PostgreSQL server binaries (initdb, pg_ctl); set PG_BINDIR or install PostgreSQL")
	}
	dir, err := os.MkdirTemp("", "mcpstore-faults-pg")
	if err != nil {
		t.Fatal(err)
	}
	s := &pgServer{bindir: bindir, dir: dir}
	if os.Getuid() == 0 {
		// PostgreSQL refuses to run as root.
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs a postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		s.asPG = []string{"runuser", "-u", "postgres", "--"}
	}
	t.Cleanup(func() {
		s.run("pg_ctl", "-D", s.data(), "-m", "immediate", "-w", "stop")
		os.RemoveAll(dir)
	})
	if out, err := s.run("initdb", "-D", s.data(), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	for range 8 {
		s.port = freePort(t)
		if err = s.start(); err == nil {
			return s
		}
	}
	log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
	t.Fatalf("PostgreSQL did not start: %v\n%s", err, log)
	return nil
}

func (s *pgServer) data() string { return filepath.Join(s.dir, "data") }

// run runs one of the server binaries, as the postgres user when root.
func (s *pgServer) run(name string, args ...string) ([]byte, error) {
	argv := append(slices.Clone(s.asPG), filepath.Join(s.bindir, name))
	argv = append(argv, args...)
	return exec.Command(argv[0], argv[1:]...).CombinedOutput()
}

// start starts the server on its port and waits until it accepts
// connections.
func (s *pgServer) start() error {
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories=%s -c max_connections=100 -c fsync=off -c full_page_writes=off", s.port, s.dir)
	out, err := s.run("pg_ctl", "-D", s.data(), "-l", filepath.Join(s.dir, "server.log"), "-w", "-t", "60", "-o", opts, "start")
	if err != nil {
		return fmt.Errorf("pg_ctl start: %v: %s", err, out)
	}
	return nil
}

// crash stops the server at once, as a crash would (pg_ctl stop -m
// immediate: no checkpoint, recovery from the WAL at the next start).
func (s *pgServer) crash() error {
	out, err := s.run("pg_ctl", "-D", s.data(), "-m", "immediate", "-w", "stop")
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %v: %s", err, out)
	}
	return nil
}

// url is the server's postgres database.
func (s *pgServer) url() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
