package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/internal/testdb"
)

// openPTY opens a pseudo-terminal pair: what is written to tty is read
// from pty.
func openPTY(t *testing.T) (pty, tty *os.File) {
	t.Helper()
	pty, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { pty.Close() })
	var n uint32
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, pty.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Skipf("unlockpt: %v", e)
	}
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, pty.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Skipf("ptsname: %v", e)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	require.NoError(t, err)
	t.Cleanup(func() { tty.Close() })
	return pty, tty
}

// audit export and audit prune show their progress on stderr when it is a
// terminal, and only then; stdout holds the same either way.
func TestProgressOnTerminal(t *testing.T) {
	url := testdb.SQLiteEmptyURL(t)
	c := cli{t, url}
	c.ok("migrate", "up")
	s := openStore(t, url)
	batch := make([]db.AuditLogCreate, 2*exportPage+10)
	for i := range batch {
		batch[i] = db.AuditLogCreate{RequestID: fmt.Sprintf("r%d", i), Action: "tools/call", ResourceType: "tool",
			Status: "success", CreatedAt: time.Now().Add(-time.Duration(len(batch)-i) * time.Minute)}
	}
	_, err := s.AuditLogs().InsertBatch(t.Context(), batch)
	require.NoError(t, err)

	runOn := func(stderr io.Writer, args ...string) string {
		var out bytes.Buffer
		code := run(context.Background(), append([]string{"--db", url}, args...), strings.NewReader(""), &out, stderr)
		require.Equal(t, exitOK, code)
		return out.String()
	}
	pty, tty := openPTY(t)
	assert.True(t, isTerminal(tty))
	read := make(chan string)
	go func() {
		var b bytes.Buffer
		buf := make([]byte, 4096)
		for {
			n, err := pty.Read(buf)
			b.Write(buf[:n])
			if err != nil || strings.HasSuffix(b.String(), " deleted\r\n") {
				read <- b.String()
				return
			}
		}
	}()

	exported := runOn(tty, "audit", "export")
	file, err := os.CreateTemp(t.TempDir(), "stderr")
	require.NoError(t, err)
	assert.Equal(t, exported, runOn(file, "audit", "export"), "stdout is the same")
	runOn(tty, "audit", "prune", "--older-than", "1h")
	var progress string
	select {
	case progress = <-read:
	case <-time.After(10 * time.Second):
		tty.Close()
		t.Fatalf("no progress on the terminal: %q", <-read)
	}
	assert.Contains(t, progress, "exported 1000 events")
	assert.Contains(t, progress, fmt.Sprintf("exported %d events\r\n", len(batch)))
	assert.Contains(t, progress, "pruning: 100%, ")
	assert.Contains(t, progress, " deleted\r\n")

	info, err := file.Stat()
	require.NoError(t, err)
	assert.Zero(t, info.Size(), "no progress into a file")
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	require.NoError(t, err)
	defer devNull.Close()
	assert.False(t, isTerminal(devNull), "a character device, but no terminal")
}
