package faults_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/db/postgres"
	"github.com/mcpstore/mcpstore/gateway"
)

// logBuffer captures every log line of a run, to search it afterwards.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// TestPostgresRestartUnderLoad stops PostgreSQL (pg_ctl stop -m immediate)
// while 8 goroutines record audit events, and starts it again 3 seconds
// later: every event is stored exactly once, Verify fails cleanly during
// the outage and works again after, and the same pool serves on.
func TestPostgresRestartUnderLoad(t *testing.T) {
	events := 100_000
	if testing.Short() {
		events = 10_000
	}
	const writers = 8
	const outage = 3 * time.Second
	srv := startPGServer(t)
	ctx := t.Context()
	var logs logBuffer

	s, err := postgres.Open(ctx, srv.url(), postgres.Options{Logger: logs.logger()})
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.MigrateUp(ctx))

	// Uncached: every Verify asks the database.
	keys, err := gateway.NewKeys(ctx, s, gateway.KeysOptions{CacheSize: -1, UnknownSize: -1, Logger: logs.logger()})
	require.NoError(t, err)
	defer keys.Close(context.Background())
	raw, _, err := keys.Issue(ctx, gateway.IssueOptions{Name: "restart"})
	require.NoError(t, err)
	_, err = keys.Verify(ctx, raw)
	require.NoError(t, err)

	auditor := gateway.NewAuditor(s, gateway.AuditorOptions{RetryMaxDelay: 500 * time.Millisecond, Logger: logs.logger()})
	var recorded atomic.Int64
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := g; i < events; i += writers {
				ev := db.AuditLogCreate{
					RequestID: fmt.Sprintf("req-%d", i), Action: "tools/call", ResourceType: "tool", Status: "success",
					RequestData: json.RawMessage(fmt.Sprintf(`{"n":%d,"password":"pw-%d-secret","headers":{"Authorization":"Bearer %s"}}`, i, i, raw)),
				}
				if err := auditor.Record(context.Background(), ev); err != nil {
					t.Errorf("Record: %v", err)
					return
				}
				recorded.Add(1)
			}
		})
	}

	// Stop the server once a quarter of the events is stored.
	deadline := time.Now().Add(2 * time.Minute)
	for auditor.Stats().Stored < uint64(events/4) {
		require.True(t, time.Now().Before(deadline), "a quarter of the events not stored within 2 minutes")
		time.Sleep(time.Millisecond)
	}
	require.NoError(t, srv.crash())
	stoppedAt := time.Now()
	atStop := auditor.Stats()
	t.Logf("server stopped with %d events recorded, %d stored", atStop.Recorded, atStop.Stored)
	require.Less(t, atStop.Stored, uint64(events), "the stop came after the last event")

	// During the outage Verify fails, as unavailable rather than as an
	// invalid key, within its deadline.
	vctx, cancel := context.WithTimeout(ctx, time.Second)
	start := time.Now()
	_, verr := keys.Verify(vctx, raw)
	took := time.Since(start)
	cancel()
	require.Error(t, verr, "Verify during the outage")
	assert.NotErrorIs(t, verr, gateway.ErrInvalidKey, "an outage is not an invalid key")
	assert.ErrorIs(t, verr, db.ErrUnavailable)
	assert.Less(t, took, 3*time.Second, "Verify hung past its 1s deadline")
	t.Logf("Verify during the outage: %v after %v", verr, took)

	time.Sleep(time.Until(stoppedAt.Add(outage))) // the outage itself
	require.NoError(t, srv.start())
	restartedAt := time.Now()

	// The same Store and Keys work again once the server is back.
	var recovered time.Duration
	for {
		vctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := keys.Verify(vctx, raw)
		cancel()
		if err == nil {
			recovered = time.Since(restartedAt)
			break
		}
		require.NotErrorIs(t, err, gateway.ErrInvalidKey)
		require.Less(t, time.Since(restartedAt), time.Minute, "Verify still failing a minute after the restart: %v", err)
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("Verify works again %v after the restart", recovered)

	wg.Wait()
	cctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	require.NoError(t, auditor.Close(cctx))
	st := auditor.Stats()
	t.Logf("auditor: %+v", st)

	var total, distinctEvents, distinctRequests int64
	require.NoError(t, s.Pool().QueryRow(ctx,
		`SELECT count(*), count(DISTINCT event_id), count(DISTINCT request_id) FROM audit_logs`).
		Scan(&total, &distinctEvents, &distinctRequests))
	assert.Equal(t, int64(events), recorded.Load(), "recorded")
	assert.Equal(t, int64(events), total, "stored rows")
	assert.Equal(t, total, distinctEvents, "an event stored twice")
	assert.Equal(t, total, distinctRequests, "a request stored twice")
	assert.Equal(t, uint64(events), st.Stored+st.Duplicates)
	assert.Zero(t, st.Failed+st.Invalid+st.Dropped, "events lost")
	require.NoError(t, s.Ping(ctx), "the pool serves on")

	leaks := secretsAtRest(t, s, &logs, raw, "-secret")
	assert.Empty(t, leaks)
	summary(t, "events sent %d, stored %d, duplicated %d (batches retried %d, duplicates skipped %d), lost %d; server down %v; Verify during outage: ErrUnavailable=%v after %v; works again %v after restart; secrets found at rest: %d",
		events, total, total-distinctEvents, st.Retries, st.Duplicates, st.Failed+st.Invalid+st.Dropped,
		outage, errors.Is(verr, db.ErrUnavailable), took.Round(time.Microsecond), recovered.Round(time.Microsecond), len(leaks))
}

// secretsAtRest returns where the raw key or a secret value (a string
// containing secretMark) shows in the database or the logs: every row of
// every table as text on PostgreSQL, the file bytes (and WAL) on SQLite.
func secretsAtRest(t *testing.T, s db.Store, logs *logBuffer, raw, secretMark string) []string {
	t.Helper()
	var leaks []string
	check := func(where, text string) {
		if strings.Contains(text, raw) {
			leaks = append(leaks, where+": the raw key")
		}
		if strings.Contains(text, secretMark) {
			leaks = append(leaks, where+": a secret value")
		}
	}
	redacted := false
	for where, text := range dumpText(t, s) {
		check(where, text)
		redacted = redacted || strings.Contains(text, gateway.RedactedMarker)
	}
	if !redacted {
		t.Errorf("no redacted value in the dump: the search looked at the wrong data")
	}
	check("logs", logs.String())
	return leaks
}
