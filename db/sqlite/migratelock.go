package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/gofrs/flock"
)

// MigrationLockSuffix names the file, beside the database file, that
// processes migrating the same SQLite database lock in turn. goose has no
// locker for SQLite, and without one two processes starting together may
// both try to apply the same migration.
const MigrationLockSuffix = "-migrate.lock"

// fileLocker serializes migrations across processes with an OS file lock
// (flock on Unix, LockFileEx on Windows). The operating system releases it
// when its process dies, so a crash mid-migration leaves no stale lock. The
// lock file is left in place: removing it could let a process lock a file
// another is about to replace.
type fileLocker struct {
	f     *flock.Flock
	retry time.Duration
}

func newFileLocker(dbPath string) *fileLocker {
	return &fileLocker{f: flock.New(dbPath + MigrationLockSuffix), retry: 20 * time.Millisecond}
}

// SessionLock waits for the lock until ctx ends.
func (l *fileLocker) SessionLock(ctx context.Context, _ *sql.Conn) error {
	ok, err := l.f.TryLockContext(ctx, l.retry)
	if err != nil {
		return fmt.Errorf("lock %s: %w", l.f.Path(), err)
	}
	if !ok {
		return fmt.Errorf("lock %s: %w", l.f.Path(), ctx.Err())
	}
	return nil
}

// SessionUnlock releases the lock.
func (l *fileLocker) SessionUnlock(context.Context, *sql.Conn) error {
	return l.f.Unlock()
}
