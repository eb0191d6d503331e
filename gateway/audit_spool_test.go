package gateway_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gateway"
)

// segments returns the spool's segment files.
func segments(t testing.TB, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "audit-*.spool"))
	require.NoError(t, err)
	return files
}

var spoolModes = []struct {
	name   string
	strict bool
}{{"interval", false}, {"strict", true}}

// With a spool, in either mode, every event recorded by 8 goroutines is
// stored once, and the spool is empty after Close.
func TestAuditorSpoolStoresEveryEventOnce(t *testing.T) {
	for _, mode := range spoolModes {
		t.Run(mode.name, func(t *testing.T) {
			eachEngine(t, func(t *testing.T, s db.Store) {
				dir := t.TempDir()
				a, err := gateway.OpenAuditor(s, gateway.AuditorOptions{
					SpoolDir: dir, SpoolStrict: mode.strict, SpoolSegmentBytes: 64 << 10, // many segments
				})
				require.NoError(t, err)
				recordAllOnce(t, s, a, 8, 1000)
				assert.Empty(t, segments(t, dir), "every segment deleted once stored")
			})
		})
	}
}

// leaveInSpool records n events through an Auditor whose database takes
// nothing and closes it when it gives up: they stay in the spool, as after
// a crash.
func leaveInSpool(t *testing.T, engine, url string, s db.Store, dir string, from, n int) {
	t.Helper()
	release := blockWrites(t, engine, url)
	defer release()
	a, err := gateway.OpenAuditor(s, gateway.AuditorOptions{
		SpoolDir: dir, SpoolStrict: true, SpoolSegmentBytes: 16 << 10, FlushInterval: 10 * time.Millisecond,
		RetryMinDelay: 5 * time.Millisecond, RetryMaxDelay: 20 * time.Millisecond,
	})
	require.NoError(t, err)
	for i := range n {
		require.NoError(t, a.Record(t.Context(), auditEvent(from+i)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err = a.Close(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	st := a.Stats()
	assert.EqualValues(t, n, st.Left, "left in the spool, not lost: %+v", st)
	assert.Zero(t, st.Stored+st.Failed)
}

// What a process leaves in its spool is stored by the next Auditor opened
// on it, before new events, and once by event id even when it is read
// again (a crash after storing a segment, before deleting it).
func TestAuditorSpoolLeftoversStoredOnce(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			s, url := blockableStore(t, engine)
			dir := t.TempDir()
			const n = 300
			leaveInSpool(t, engine, url, s, dir, 0, n)
			left := segments(t, dir)
			require.NotEmpty(t, left)
			saved := t.TempDir()
			for _, f := range left {
				b, err := os.ReadFile(f)
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(filepath.Join(saved, filepath.Base(f)), b, 0o600))
			}

			a, err := gateway.OpenAuditor(s, gateway.AuditorOptions{SpoolDir: dir})
			require.NoError(t, err)
			require.NoError(t, a.Record(t.Context(), auditEvent(n)))
			closeAuditor(t, a)
			st := a.Stats()
			assert.EqualValues(t, n, st.Recovered)
			assert.EqualValues(t, n+1, st.Stored)
			storedOnce(t, s, int64(n+1))
			assert.Empty(t, segments(t, dir))
			first, err := a.ListByRequestID(t.Context(), "req-0")
			require.NoError(t, err)
			last, err := a.ListByRequestID(t.Context(), fmt.Sprintf("req-%d", n))
			require.NoError(t, err)
			assert.Less(t, first[0].ID, last[0].ID, "what was left is stored first")

			// The same segments again: every event is a duplicate.
			for _, f := range left {
				b, err := os.ReadFile(filepath.Join(saved, filepath.Base(f)))
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(f, b, 0o600))
			}
			a, err = gateway.OpenAuditor(s, gateway.AuditorOptions{SpoolDir: dir})
			require.NoError(t, err)
			closeAuditor(t, a)
			st = a.Stats()
			assert.EqualValues(t, n, st.Recovered)
			assert.EqualValues(t, n, st.Duplicates)
			assert.Zero(t, st.Stored)
			storedOnce(t, s, int64(n+1), "stored once")
		})
	}
}

// A torn tail (the last record cut short, as by a crash during a write)
// and a corrupt record (bytes changed) are found by their checksums,
// skipped and counted; every record before them is stored.
func TestAuditorSpoolCorruptTail(t *testing.T) {
	for _, damage := range []struct {
		name string
		do   func(b []byte) []byte
	}{
		{"torn", func(b []byte) []byte { return b[:len(b)-5] }},
		{"corrupt", func(b []byte) []byte { b[len(b)-20] ^= 0xff; return b }},
		{"garbage after", func(b []byte) []byte { return append(b, "\x10\x00\x00\x00garbage"...) }},
	} {
		t.Run(damage.name, func(t *testing.T) {
			s, url := blockableStore(t, "sqlite")
			dir := t.TempDir()
			const n = 200
			leaveInSpool(t, "sqlite", url, s, dir, 0, n)
			files := segments(t, dir)
			newest := files[len(files)-1]
			b, err := os.ReadFile(newest)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(newest, damage.do(b), 0o600))

			a, err := gateway.OpenAuditor(s, gateway.AuditorOptions{SpoolDir: dir})
			require.NoError(t, err)
			closeAuditor(t, a)
			st := a.Stats()
			assert.EqualValues(t, 1, st.SpoolCorrupt, "one tail skipped, and counted")
			want := n - 1
			if damage.name == "garbage after" {
				want = n
			}
			assert.EqualValues(t, want, st.Recovered)
			storedOnce(t, s, int64(want))
			assert.Empty(t, segments(t, dir))
		})
	}
}

// One Auditor at a time per spool.
func TestAuditorSpoolInUse(t *testing.T) {
	s := newStore(t, "sqlite")
	dir := t.TempDir()
	a, err := gateway.OpenAuditor(s, gateway.AuditorOptions{SpoolDir: dir})
	require.NoError(t, err)
	_, err = gateway.OpenAuditor(s, gateway.AuditorOptions{SpoolDir: dir})
	assert.ErrorContains(t, err, "in use")
	closeAuditor(t, a)
	b, err := gateway.OpenAuditor(s, gateway.AuditorOptions{SpoolDir: dir})
	require.NoError(t, err, "free again after Close")
	closeAuditor(t, b)
	assert.Panics(t, func() { gateway.NewAuditor(s, gateway.AuditorOptions{SpoolDir: "/dev/null/x"}) })
}

// The spool's files are bounded too: with the database stalled, Record
// drops (in drop mode) once SpoolMaxBytes are held.
func TestAuditorSpoolBounded(t *testing.T) {
	s, url := blockableStore(t, "sqlite")
	release := blockWrites(t, "sqlite", url)
	dir := t.TempDir()
	const bound = 256 << 10
	a, err := gateway.OpenAuditor(s, gateway.AuditorOptions{
		SpoolDir: dir, SpoolMaxBytes: bound, SpoolSegmentBytes: 32 << 10, DropWhenFull: true,
		RetryMinDelay: 5 * time.Millisecond, RetryMaxDelay: 20 * time.Millisecond,
	})
	require.NoError(t, err)
	const n = 5000
	full := 0
	for i := range n {
		if err := a.Record(t.Context(), auditEvent(i)); err != nil {
			require.ErrorIs(t, err, gateway.ErrAuditBufferFull)
			full++
		}
	}
	var size int64
	for _, f := range segments(t, dir) {
		info, err := os.Stat(f)
		require.NoError(t, err)
		size += info.Size()
	}
	assert.Positive(t, full)
	assert.LessOrEqual(t, size, int64(bound), "the files hold no more than the bound")
	release()
	closeAuditor(t, a)
	st := a.Stats()
	assert.EqualValues(t, full, st.Dropped)
	assert.EqualValues(t, n-full, st.Stored)
}
