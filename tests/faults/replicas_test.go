package faults_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/db/dbopen"
	"github.com/mcpstore/mcpstore/gateway"
	"github.com/mcpstore/mcpstore/internal/testdb"
)

// A replica is this test binary run again with envRole set: TestMain hands
// it to replicaMain instead of running the tests. It talks with the test
// in lines: it prints "ready" once set up, waits for "go" on stdin, and
// prints "ok ..." or "error ..." when done.
const (
	envRole   = "MCPSTORE_FAULTS_ROLE"
	envURL    = "MCPSTORE_FAULTS_URL"
	envIndex  = "MCPSTORE_FAULTS_INDEX"
	envRounds = "MCPSTORE_FAULTS_ROUNDS"
	envKey    = "MCPSTORE_FAULTS_KEY"
)

// replicas is how many processes each scenario starts.
const replicas = 4

// replicaMain runs one replica; its exit code is the process's.
func replicaMain(role string) int {
	ctx := context.Background()
	in := bufio.NewScanner(os.Stdin)
	say := func(format string, a ...any) { fmt.Printf(format+"\n", a...) }
	fail := func(err error) int { say("error %v", err); return 1 }
	wait := func(want string) error {
		if !in.Scan() {
			return fmt.Errorf("stdin closed before %q", want)
		}
		if got := in.Text(); got != want {
			return fmt.Errorf("got %q, want %q", got, want)
		}
		return nil
	}
	s, err := dbopen.Open(ctx, os.Getenv(envURL), dbopen.Options{})
	if err != nil {
		return fail(err)
	}
	defer s.Close()

	switch role {
	case "migrate":
		say("ready")
		if err := wait("go"); err != nil {
			return fail(err)
		}
		if err := s.MigrateUp(ctx); err != nil {
			return fail(err)
		}
		say("ok")
	case "sync":
		index, _ := strconv.Atoi(os.Getenv(envIndex))
		rounds, _ := strconv.Atoi(os.Getenv(envRounds))
		reg := gateway.NewRegistry(s, gateway.RegistryOptions{MaxAttempts: 20})
		say("ready")
		if err := wait("go"); err != nil {
			return fail(err)
		}
		for r := range rounds {
			if _, err := reg.Sync(ctx, "files", toolList((index+r)%2)); err != nil {
				return fail(err)
			}
		}
		say("ok")
	case "revoke":
		keys, err := gateway.NewKeys(ctx, s, gateway.KeysOptions{})
		if err != nil {
			return fail(err)
		}
		defer keys.Close(ctx)
		raw := os.Getenv(envKey)
		p, err := keys.Verify(ctx, raw) // now in the cache
		if err != nil {
			return fail(err)
		}
		say("ready")
		if !in.Scan() {
			return fail(io.ErrUnexpectedEOF)
		}
		switch in.Text() {
		case "revoke":
			if err := keys.Revoke(ctx, p.KeyID, "faults"); err != nil {
				return fail(err)
			}
			say("revoked %d", time.Now().UnixNano())
		case "watch":
			say("watching")
		}
		// Verify until refused, for at most 10s.
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			_, err := keys.Verify(ctx, raw)
			if err != nil {
				if !errors.Is(err, gateway.ErrInvalidKey) {
					return fail(err)
				}
				say("ok %d", time.Now().UnixNano())
				return 0
			}
			time.Sleep(200 * time.Microsecond)
		}
		return fail(fmt.Errorf("the revoked key was still accepted after 10s"))
	default:
		return fail(fmt.Errorf("unknown role %q", role))
	}
	return 0
}

// toolList is one of two versions of a server's tools: 40 tools, the
// second version changing the descriptions of some, dropping some and
// adding others.
func toolList(version int) []gateway.Tool {
	var out []gateway.Tool
	for i := range 40 {
		name := fmt.Sprintf("tool_%02d", i)
		if version == 1 && i%10 == 0 {
			name = fmt.Sprintf("new_tool_%02d", i)
		}
		desc := "version 0"
		if version == 1 && i%3 == 0 {
			desc = "version 1"
		}
		out = append(out, gateway.Tool{Name: name, Description: desc,
			InputSchema: json.RawMessage(fmt.Sprintf(`{"type":"object","properties":{"n":{"type":"integer","maximum":%d}}}`, i))})
	}
	return out
}

// replica is a running replica process.
type replica struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
}

// startReplicas starts n replicas in role, with env added, and waits until
// each is ready.
func startReplicas(t *testing.T, n int, role string, env ...string) []*replica {
	t.Helper()
	out := make([]*replica, n)
	for i := range n {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), append([]string{envRole + "=" + role, envIndex + "=" + strconv.Itoa(i)}, env...)...)
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		require.NoError(t, err)
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		r := &replica{cmd: cmd, stdin: stdin, lines: make(chan string, 16)}
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				r.lines <- sc.Text()
			}
			close(r.lines)
		}()
		t.Cleanup(func() {
			stdin.Close()
			if cmd.ProcessState == nil {
				done := make(chan struct{})
				go func() { cmd.Wait(); close(done) }()
				select {
				case <-done:
				case <-time.After(30 * time.Second):
					cmd.Process.Kill()
					<-done
				}
			}
		})
		out[i] = r
	}
	for i, r := range out {
		require.Equal(t, "ready", r.line(t), "replica %d", i)
	}
	return out
}

// line returns the replica's next line, failing after a minute.
func (r *replica) line(t *testing.T) string {
	t.Helper()
	select {
	case l, ok := <-r.lines:
		if !ok {
			t.Fatalf("replica %d exited without a word", r.cmd.Process.Pid)
		}
		return l
	case <-time.After(time.Minute):
		t.Fatalf("replica %d silent for a minute", r.cmd.Process.Pid)
	}
	return ""
}

func (r *replica) send(t *testing.T, line string) {
	t.Helper()
	_, err := io.WriteString(r.stdin, line+"\n")
	require.NoError(t, err)
}

// goAll tells every replica to go at once and collects their last lines;
// it returns how many reported an error.
func goAll(t *testing.T, rs []*replica) (results []string, errs int) {
	t.Helper()
	for _, r := range rs {
		r.send(t, "go")
	}
	for i, r := range rs {
		l := r.line(t)
		results = append(results, l)
		if !strings.HasPrefix(l, "ok") {
			errs++
			t.Errorf("replica %d: %s", i, l)
		}
		require.NoError(t, r.cmd.Wait(), "replica %d", i)
	}
	return results, errs
}

func TestReplicasMigrateTogether(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			url := testdb.SQLiteEmptyURL(t)
			if engine == "postgres" {
				url = testdb.PostgresEmptyURL(t)
			}
			rs := startReplicas(t, replicas, "migrate", envURL+"="+url)
			_, errs := goAll(t, rs)

			s := openURL(t, url)
			st, err := s.MigrationStatus(t.Context())
			require.NoError(t, err)
			for _, m := range st {
				assert.True(t, m.Applied, m.Source)
			}
			// goose records each applied version once.
			rows := versionRows(t, s)
			var versions []int64
			for _, m := range st {
				versions = append(versions, m.Version)
			}
			assert.Equal(t, versions, rows, "each migration recorded once")
			assert.Equal(t, map[string]int64{"api_keys": 0, "tool_registrations": 0, "audit_logs": 0}, counts(t, s))
			summary(t, "%d processes migrated one empty %s database at once: %d errors, %d migrations applied once each",
				replicas, engine, errs, len(rows))
		})
	}
}

// versionRows lists the versions goose recorded as applied, in order,
// leaving out its initial version 0.
func versionRows(t *testing.T, s db.Store) []int64 {
	t.Helper()
	q := "SELECT version_id FROM " + db.MigrationTable + " WHERE version_id > 0 AND is_applied ORDER BY id"
	var out []int64
	err := query(s, q, func(scan func(...any) error) error {
		var v int64
		if err := scan(&v); err != nil {
			return err
		}
		out = append(out, v)
		return nil
	})
	require.NoError(t, err)
	return out
}

func TestReplicasSyncTogether(t *testing.T) {
	rounds := 5
	if testing.Short() {
		rounds = 1
	}
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			url := newURL(t, engine)
			rs := startReplicas(t, replicas, "sync", envURL+"="+url, envRounds+"="+strconv.Itoa(rounds))
			_, errs := goAll(t, rs)

			s := openURL(t, url)
			reg := gateway.NewRegistry(s, gateway.RegistryOptions{})
			got, err := reg.Tools(t.Context(), "files")
			require.NoError(t, err)
			// The registry is one of the two lists exactly, definitions
			// included.
			var names []string
			for _, tl := range got {
				names = append(names, tl.Name)
			}
			match := -1
			for v := range 2 {
				want := toolList(v)
				wantNames := make([]string, len(want))
				for i, tl := range want {
					wantNames[i] = tl.Name
				}
				slices.Sort(wantNames)
				if slices.Equal(names, wantNames) {
					match = v
					for _, w := range want {
						g, err := reg.Get(t.Context(), "files", w.Name)
						require.NoError(t, err)
						assert.Equal(t, w.Description, g.Description, w.Name)
						assert.JSONEq(t, string(w.InputSchema), string(g.InputSchema), w.Name)
					}
				}
			}
			require.NotEqual(t, -1, match, "the registry is neither list: %v", names)
			// One row per name ever offered: 40 + the 4 renamed.
			rows, err := s.Tools().List(t.Context(), db.ToolQuery{ServerID: "files", Limit: db.MaxLimit})
			require.NoError(t, err)
			assert.Len(t, rows, 44)
			summary(t, "%d processes x %d syncs of one server on %s: %d errors, registry = version %d (%d active tools, %d rows)",
				replicas, rounds, engine, errs, match, len(got), len(rows))
		})
	}
}

func TestReplicasSeeRevocation(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			url := newURL(t, engine)
			s := openURL(t, url)
			keys, err := gateway.NewKeys(t.Context(), s, gateway.KeysOptions{})
			require.NoError(t, err)
			defer keys.Close(context.Background())
			raw, _, err := keys.Issue(t.Context(), gateway.IssueOptions{Name: "replicated"})
			require.NoError(t, err)

			rs := startReplicas(t, replicas, "revoke", envURL+"="+url, envKey+"="+raw)
			for _, r := range rs[1:] {
				r.send(t, "watch")
				require.Equal(t, "watching", r.line(t))
			}
			rs[0].send(t, "revoke")
			l := rs[0].line(t)
			at, ok := strings.CutPrefix(l, "revoked ")
			require.True(t, ok, l)
			revokedAt, err := strconv.ParseInt(at, 10, 64)
			require.NoError(t, err)

			var worst time.Duration
			for i, r := range rs {
				l := r.line(t)
				at, ok := strings.CutPrefix(l, "ok ")
				require.True(t, ok, "replica %d: %s", i, l)
				refusedAt, err := strconv.ParseInt(at, 10, 64)
				require.NoError(t, err)
				d := time.Duration(refusedAt - revokedAt)
				t.Logf("replica %d refused the key %v after the revocation committed", i, d)
				worst = max(worst, d)
				require.NoError(t, r.cmd.Wait())
			}
			assert.LessOrEqual(t, worst, 100*time.Millisecond, "a revoked key must be refused everywhere within 100ms")
			summary(t, "key revoked through 1 of %d processes on %s: refused by all after at most %v (bound 100ms)", replicas, engine, worst)
		})
	}
}
