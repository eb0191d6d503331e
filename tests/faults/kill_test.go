package faults_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/db/dbopen"
	"github.com/mcpstore/mcpstore/gateway"
)

// The kill scenario's child processes: "record" records envEvents events
// through an Auditor, killRate a second, and writes the number of each event Record
// acknowledged on stdout, one per line, as soon as Record returns;
// "restore" opens an Auditor on the same spool and database, closes it,
// and prints "ok" and its counters.
const (
	envSpool  = "MCPSTORE_FAULTS_SPOOL"
	envMode   = "MCPSTORE_FAULTS_MODE" // none, interval or strict
	envEvents = "MCPSTORE_FAULTS_EVENTS"
)

// killInterval is the spool's sync interval in the scenario: the default.
const killInterval = gateway.DefaultAuditSpoolSync

// killRate is how many events per second the recording process records,
// a busy server's pace: one interval's worth is then about 1,000 events.
const killRate = 20_000

func killOptions(mode, spool string) gateway.AuditorOptions {
	o := gateway.AuditorOptions{}
	if mode != "none" {
		o.SpoolDir, o.SpoolStrict = spool, mode == "strict"
	}
	return o
}

// killEvent is event i of the scenario.
func killEvent(i int) db.AuditLogCreate {
	return db.AuditLogCreate{
		RequestID: "kill-" + strconv.Itoa(i), Action: "tools/call", ResourceType: "tool", ResourceID: "files.read_file",
		UserID: "alice", Status: "success", RequestData: json.RawMessage(`{"arguments":{"path":"/etc/hosts","n":` + strconv.Itoa(i) + `}}`),
	}
}

// recordMain is the "record" child: it never returns before it is killed
// unless it has recorded every event.
func recordMain(s db.Store) int {
	mode := os.Getenv(envMode)
	n, _ := strconv.Atoi(os.Getenv(envEvents))
	a, err := gateway.OpenAuditor(s, killOptions(mode, os.Getenv(envSpool)))
	if err != nil {
		fmt.Printf("error %v\n", err)
		return 1
	}
	// Strict Records wait for an fsync each: many at once share one.
	goroutines := 8
	if mode == "strict" {
		goroutines = 128
	}
	var wg sync.WaitGroup
	start := time.Now()
	for g := range goroutines {
		wg.Go(func() {
			var line [24]byte
			for i := g; i < n; i += goroutines {
				if d := time.Until(start.Add(time.Duration(i) * time.Second / killRate)); d > 0 {
					time.Sleep(d)
				}
				if err := a.Record(context.Background(), killEvent(i)); err != nil {
					fmt.Printf("error %v\n", err)
					os.Exit(1)
				}
				// One write(2) per acknowledgment, straight to the pipe: what
				// reached it before the kill is read by the test after.
				os.Stdout.Write(append(strconv.AppendInt(line[:0], int64(i), 10), '\n'))
			}
		})
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := a.Close(ctx); err != nil {
		fmt.Printf("error %v\n", err)
		return 1
	}
	fmt.Println("done")
	return 0
}

// restoreMain is the "restore" child.
func restoreMain(s db.Store) int {
	a, err := gateway.OpenAuditor(s, killOptions(os.Getenv(envMode), os.Getenv(envSpool)))
	if err != nil {
		fmt.Printf("error %v\n", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := a.Close(ctx); err != nil {
		fmt.Printf("error %v\n", err)
		return 1
	}
	st := a.Stats()
	fmt.Printf("ok recovered=%d duplicates=%d corrupt=%d\n", st.Recovered, st.Duplicates, st.SpoolCorrupt)
	return 0
}

// killRun is what one run measured.
type killRun struct {
	acked, stored, lost, duplicated int
	worth                           int // the most events acknowledged in one killInterval
	restore                         string
}

// TestAuditKillRecovery kills a process recording 100,000 audit events
// (20,000 with -short) with SIGKILL at a random point, three times per
// mode (once with -short): no spool, a spool synced every interval, a strict
// spool. Each time it starts the process again on the same spool and
// database and counts, of the events Record had acknowledged, those
// stored, lost and stored twice. With a strict spool none is lost; with an
// interval spool fewer than one interval's worth; never one twice.
func TestAuditKillRecovery(t *testing.T) {
	n, runs := 100_000, 3
	if testing.Short() {
		n, runs = 20_000, 1
	}
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			for _, mode := range []string{"none", "interval", "strict"} {
				for run := range runs {
					t.Run(fmt.Sprintf("%s/%d", mode, run+1), func(t *testing.T) {
						r := killAndRestore(t, engine, mode, n)
						summary(t, "events acknowledged %d, stored %d, lost %d, duplicated %d (one interval's worth: %d; restart: %s)",
							r.acked, r.stored, r.lost, r.duplicated, r.worth, r.restore)
						assert.Zero(t, r.duplicated, "an event stored twice")
						switch mode {
						case "strict":
							assert.Zero(t, r.lost, "an acknowledged event lost with a strict spool")
						case "interval":
							assert.Less(t, r.lost, max(r.worth, 1), "lost more than one interval's worth")
						}
					})
				}
			}
		})
	}
}

// killAndRestore runs the scenario once.
func killAndRestore(t *testing.T, engine, mode string, n int) killRun {
	url := newURL(t, engine)
	spool := t.TempDir()
	env := []string{envURL + "=" + url, envSpool + "=" + spool, envMode + "=" + mode, envEvents + "=" + strconv.Itoa(n)}

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{envRole + "=record"}, env...)...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())

	// A random point: after 10% to 90% of the events, and after a few
	// intervals, so that a spool has been written to before.
	killAt := n/10 + rand.N(n*8/10)
	acked := make([]bool, n)
	var times []time.Time
	var count int
	var other []string
	killed := false
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		i, err := strconv.Atoi(sc.Text())
		if err != nil || i < 0 || i >= n {
			other = append(other, sc.Text())
			continue
		}
		if !acked[i] {
			acked[i] = true
			count++
			times = append(times, time.Now())
		}
		if count >= killAt && !killed && time.Since(times[0]) >= 3*killInterval {
			require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
			killed = true
		}
	}
	err = cmd.Wait()
	require.True(t, killed, "the process finished before the kill: %v %q", err, other)
	require.Error(t, err, "killed")
	require.Empty(t, other, "the process said")

	restore := exec.Command(os.Args[0], "-test.run=^$")
	restore.Env = append(os.Environ(), append([]string{envRole + "=restore"}, env...)...)
	restore.Stderr = os.Stderr
	out, err := restore.Output()
	require.NoError(t, err, "restart: %s", out)
	line := strings.TrimSpace(string(out))
	require.True(t, strings.HasPrefix(line, "ok "), "restart: %s", out)

	s := openURL(t, url)
	seen := make([]int, n)
	rows := 0
	require.NoError(t, query(s, "SELECT request_id FROM audit_logs", func(scan func(...any) error) error {
		var req string
		if err := scan(&req); err != nil {
			return err
		}
		i, err := strconv.Atoi(strings.TrimPrefix(req, "kill-"))
		if err != nil || i < 0 || i >= n {
			return fmt.Errorf("unexpected request id %q", req)
		}
		seen[i]++
		rows++
		return nil
	}))
	r := killRun{acked: count, stored: rows, worth: mostIn(times, killInterval), restore: strings.TrimPrefix(line, "ok ")}
	for i := range n {
		if acked[i] && seen[i] == 0 {
			r.lost++
		}
		if seen[i] > 1 {
			r.duplicated += seen[i] - 1
		}
	}
	return r
}

// mostIn returns the most of times (in order) that fall within one window
// of length d.
func mostIn(times []time.Time, d time.Duration) int {
	most, j := 0, 0
	for i := range times {
		for times[i].Sub(times[j]) >= d {
			j++
		}
		most = max(most, i-j+1)
	}
	return most
}

// killChild runs the child roles of the kill scenario.
func killChild(role string) (int, bool) {
	if role != "record" && role != "restore" {
		return 0, false
	}
	s, err := dbopen.Open(context.Background(), os.Getenv(envURL), dbopen.Options{})
	if err != nil {
		fmt.Printf("error %v\n", err)
		return 1, true
	}
	defer s.Close()
	if role == "record" {
		return recordMain(s), true
	}
	return restoreMain(s), true
}
