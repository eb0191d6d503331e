package gateway

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofrs/flock"
)

// A spool keeps recorded events in append-only segment files in one
// folder until they are stored. Record appends each event, as a record
// with its checksum, to a buffer that one goroutine writes to the active
// segment and fsyncs: every SpoolSyncInterval, or, in strict mode, as soon
// as events wait (Records that arrive during one fsync share the next). The
// Auditor's collector reads the segments back, oldest first, and a segment
// is deleted once every event read from it is stored. A spool left by a
// process that died is read first by the next one: its events are stored
// once each, by event id, and a torn or corrupt tail (a checksum that does
// not match) is skipped and counted.
type spool struct {
	dir      string
	strict   bool
	interval time.Duration
	segBytes int64
	maxBytes int64
	log      *slog.Logger
	lock     *flock.Flock

	mu      sync.Mutex
	buf     []byte     // records appended, not yet written
	bufN    int        // how many
	group   *syncGroup // the write that will carry buf
	spare   []byte     // the buffer written last, for the next
	closing bool
	// pending counts the bytes of the segment files not yet deleted and
	// of buf: what SpoolMaxBytes bounds.
	pending int64
	room    roomSignal // pending shrank
	segs    []*segment // every segment not deleted, oldest first
	nextSeq uint64

	// The flusher's own.
	active *segment
	file   *os.File
	dirty  bool // written since the last fsync

	kick     chan struct{} // wakes the flusher
	readable chan struct{} // tells the reader that a segment grew or was sealed
	stopped  chan struct{} // closed when the flusher has written everything
	lost     atomic.Uint64 // records that could not be written at Close
}

// syncGroup is one write and fsync: done is closed after it, err says how
// it went.
type syncGroup struct {
	done chan struct{}
	err  error
}

func newSyncGroup() *syncGroup { return &syncGroup{done: make(chan struct{})} }

// segment is one file of the spool.
type segment struct {
	seq  uint64
	path string
	old  bool // left by an earlier process
	// written is how many bytes of the file the reader may read; sealed
	// says no more will come (set after the last written).
	written atomic.Int64
	sealed  atomic.Bool

	// Under spool.mu.
	size     int64 // its bytes counted in pending
	handed   int   // records the reader handed out
	stored   int   // of those, records stored (or refused for good)
	readDone bool  // the reader is past its end
}

// Spool tuning.
const (
	// spoolFlushBytes makes the flusher write before its interval ends
	// once this much is buffered, and spoolBufferBytes makes Record wait
	// for a write while this much is: memory stays bounded when events
	// come faster than the disk takes them.
	spoolFlushBytes  = 1 << 20
	spoolBufferBytes = 8 << 20
	// spoolReadBytes is how much the reader reads at a time.
	spoolReadBytes = 256 << 10
)

const spoolSuffix = ".spool"

func segmentName(seq uint64) string { return fmt.Sprintf("audit-%016d%s", seq, spoolSuffix) }

// openSpool opens the spool in dir, creating the folder if needed, and
// takes its lock: one process at a time.
func openSpool(dir string, strict bool, interval time.Duration, segBytes, maxBytes int64, log *slog.Logger) (*spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("gateway: audit spool: %w", err)
	}
	lock := flock.New(filepath.Join(dir, "LOCK"))
	ok, err := lock.TryLock()
	if err != nil {
		return nil, fmt.Errorf("gateway: audit spool: lock: %w", err)
	}
	if !ok {
		return nil, fmt.Errorf("gateway: audit spool %s is in use by another Auditor", dir)
	}
	s := &spool{
		dir: dir, strict: strict, interval: interval, segBytes: segBytes, maxBytes: maxBytes, log: log, lock: lock,
		group: newSyncGroup(), nextSeq: 1,
		kick: make(chan struct{}, 1), readable: make(chan struct{}, 1), stopped: make(chan struct{}),
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("gateway: audit spool: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, "audit-") || !strings.HasSuffix(name, spoolSuffix) {
			continue
		}
		seq, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(name, "audit-"), spoolSuffix), 10, 64)
		if err != nil {
			continue
		}
		info, err := e.Info()
		if err != nil {
			lock.Close()
			return nil, fmt.Errorf("gateway: audit spool: %w", err)
		}
		seg := &segment{seq: seq, path: filepath.Join(dir, name), old: true, size: info.Size()}
		seg.written.Store(info.Size())
		seg.sealed.Store(true)
		s.segs = append(s.segs, seg)
		s.pending += seg.size
		s.nextSeq = max(s.nextSeq, seq+1)
	}
	slices.SortFunc(s.segs, func(a, b *segment) int { return cmp.Compare(a.seq, b.seq) })
	go s.run()
	return s, nil
}

// append adds one record. It waits while the spool holds SpoolMaxBytes
// (or returns ErrAuditBufferFull at once with drop) or while the buffer
// waits for the disk, until ctx ends; in strict mode it then waits until
// the record is written and fsynced.
func (s *spool) append(ctx context.Context, rec []byte, drop bool) error {
	s.mu.Lock()
	for {
		switch {
		// Room for the record and for the header of a segment its
		// write may start.
		case s.pending > 0 && s.pending+int64(len(rec))+spoolHeaderLen > s.maxBytes:
			if drop {
				s.mu.Unlock()
				return ErrAuditBufferFull
			}
			if err := s.room.wait(ctx, &s.mu); err != nil {
				s.mu.Unlock()
				return err
			}
			continue
		case len(s.buf) >= spoolBufferBytes:
			g := s.group
			s.mu.Unlock()
			s.wake()
			select {
			case <-g.done:
			case <-ctx.Done():
				return ctx.Err()
			}
			s.mu.Lock()
			continue
		}
		break
	}
	s.buf = append(s.buf, rec...)
	s.bufN++
	s.pending += int64(len(rec))
	g := s.group
	flush := s.strict || len(s.buf) >= spoolFlushBytes
	s.mu.Unlock()
	if flush {
		s.wake()
	}
	if !s.strict {
		return nil
	}
	<-g.done // a write that fails is tried again until it succeeds, or Close
	return g.err
}

func (s *spool) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *spool) signalReadable() {
	select {
	case s.readable <- struct{}{}:
	default:
	}
}

// underPressure reports whether half of SpoolMaxBytes is taken.
func (s *spool) underPressure() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending >= s.maxBytes/2
}

// run is the flusher. In strict mode it writes and fsyncs the buffer as
// soon as it is woken. Otherwise it writes the buffer to the segment every
// fifth of SpoolSyncInterval (a process killed loses only what it had not
// written: the kernel keeps the rest) and fsyncs every interval (a machine
// that stops loses at most that).
func (s *spool) run() {
	defer close(s.stopped)
	var tick <-chan time.Time
	if !s.strict {
		t := time.NewTicker(max(s.interval/5, time.Millisecond))
		defer t.Stop()
		tick = t.C
	}
	lastSync := time.Now()
	for {
		select {
		case <-tick:
		case <-s.kick:
		}
		s.mu.Lock()
		closing := s.closing
		s.mu.Unlock()
		sync := s.strict || closing || time.Since(lastSync) >= s.interval
		s.flush(closing, sync)
		if sync {
			lastSync = time.Now()
		}
		if closing {
			s.flush(true, true) // what came while the last write ran
			if s.active != nil {
				s.active.sealed.Store(true)
				s.file.Close()
			}
			s.signalReadable()
			return
		}
	}
}

// flush writes what is buffered, and fsyncs with sync, trying again after
// a failure until it succeeds or, when closing, giving up (counted as
// lost).
func (s *spool) flush(closing, sync bool) {
	s.mu.Lock()
	buf, n, g := s.buf, s.bufN, s.group
	s.buf, s.bufN, s.spare, s.group = s.spare[:0], 0, nil, newSyncGroup()
	s.mu.Unlock()
	var err error
	delay := 10 * time.Millisecond
	for len(buf) > 0 {
		if err = s.write(buf, sync); err == nil {
			break
		}
		if closing {
			s.lost.Add(uint64(n))
			s.log.Error("audit spool: events not written at close", "events", n, "err", err)
			break
		}
		s.log.Error("audit spool: write failed, retrying", "events", n, "retry_in", delay, "err", err)
		time.Sleep(delay)
		delay = min(2*delay, time.Second)
		s.mu.Lock()
		closing = s.closing
		s.mu.Unlock()
	}
	if len(buf) == 0 && sync && s.dirty {
		if err := s.file.Sync(); err != nil {
			s.log.Error("audit spool: fsync failed", "err", err)
		} else {
			s.dirty = false
		}
	}
	g.err = err
	close(g.done)
	s.signalReadable()
	if cap(buf) <= spoolBufferBytes {
		s.mu.Lock()
		s.spare = buf[:0]
		s.mu.Unlock()
	}
}

// write appends buf, whole records, to the active segment, starting a new
// segment when the active one is full, and fsyncs it with sync (and
// whatever was written before). A write that fails is cut back off the
// segment, so that a retry leaves no torn record in the middle.
func (s *spool) write(buf []byte, sync bool) error {
	if s.active == nil || s.active.written.Load() >= s.segBytes {
		if err := s.rotate(); err != nil {
			return err
		}
	}
	seg := s.active
	at := seg.written.Load()
	if _, err := s.file.WriteAt(buf, at); err != nil {
		s.file.Truncate(at)
		return err
	}
	if sync {
		if err := s.file.Sync(); err != nil {
			s.file.Truncate(at)
			return err
		}
	}
	s.dirty = !sync
	s.mu.Lock()
	seg.size += int64(len(buf))
	s.mu.Unlock()
	seg.written.Store(at + int64(len(buf)))
	return nil
}

// rotate seals the active segment and starts the next.
func (s *spool) rotate() error {
	s.mu.Lock()
	seq := s.nextSeq
	s.mu.Unlock()
	path := filepath.Join(s.dir, segmentName(seq))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write([]byte(spoolMagic)); err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = syncDir(s.dir) // the new file's name survives a power loss
	}
	if err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	seg := &segment{seq: seq, path: path, size: spoolHeaderLen}
	seg.written.Store(spoolHeaderLen)
	s.mu.Lock()
	s.nextSeq++
	s.segs = append(s.segs, seg)
	s.pending += spoolHeaderLen
	s.mu.Unlock()
	if s.active != nil {
		if s.dirty {
			s.file.Sync() // best effort: its records are written, and read from the page cache
			s.dirty = false
		}
		s.active.sealed.Store(true)
		s.file.Close()
	}
	s.active, s.file = seg, f
	s.signalReadable()
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// close writes what is buffered, seals the active segment and stops the
// flusher; the reader then reads to the end. The lock is released by
// release, once nothing reads or deletes segments any more.
func (s *spool) close() {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.wake()
	<-s.stopped
}

func (s *spool) release() { s.lock.Close() }

// after returns the oldest segment whose number is above seq, or nil.
func (s *spool) after(seq uint64) *segment {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, seg := range s.segs {
		if seg.seq > seq {
			return seg
		}
	}
	return nil
}

// handed notes that the reader handed out n records of seg.
func (s *spool) handed(seg *segment, n int) {
	s.mu.Lock()
	seg.handed += n
	s.mu.Unlock()
}

// readDone notes that the reader is past the end of seg, sealed.
func (s *spool) readDone(seg *segment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seg.readDone = true
	s.deleteIfDone(seg)
}

// ack notes that n records of seg were stored (or refused for good).
func (s *spool) ack(seg *segment, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seg.stored += n
	s.deleteIfDone(seg)
}

// deleteIfDone deletes seg, s.mu held, once it is read to its end and
// every record read from it is stored.
func (s *spool) deleteIfDone(seg *segment) {
	if !seg.readDone || seg.stored < seg.handed {
		return
	}
	if err := os.Remove(seg.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.Error("audit spool: segment not deleted", "path", seg.path, "err", err)
		return
	}
	s.segs = slices.DeleteFunc(s.segs, func(x *segment) bool { return x == seg })
	s.pending -= seg.size
	s.room.wake()
}
