package gateway

import (
	"context"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/mcpstore/mcpstore/db"
)

// eventOverhead is what an event costs in memory besides its text and
// documents: the struct itself and its measured duration.
const eventOverhead = int64(unsafe.Sizeof(db.AuditLogCreate{})) + 16

// eventBytes is what ev holds in memory, as the byte bound counts it: its
// text, the capacity of its documents and the struct around them.
func eventBytes(ev *db.AuditLogCreate) int64 {
	n := eventOverhead
	for i := range db.NumAuditText {
		_, p := ev.TextField(i)
		n += int64(len(*p))
	}
	for i := range db.NumAuditJSON {
		_, p := ev.JSONField(i)
		n += int64(cap(*p))
	}
	return n
}

// byteGate bounds the bytes of the events held in memory, from the moment
// they are taken until they are stored (or given up). An event larger than
// the whole bound still passes when nothing else is held, so that no
// event waits forever.
type byteGate struct {
	max  int64
	used atomic.Int64

	mu   sync.Mutex
	room roomSignal
}

func newByteGate(max int64) *byteGate { return &byteGate{max: max} }

// tryAcquire takes n bytes if they fit.
func (g *byteGate) tryAcquire(n int64) bool {
	for {
		u := g.used.Load()
		if u > 0 && u+n > g.max {
			return false
		}
		if g.used.CompareAndSwap(u, u+n) {
			return true
		}
	}
}

// acquire takes n bytes, waiting for room until ctx ends.
func (g *byteGate) acquire(ctx context.Context, n int64) error {
	for !g.tryAcquire(n) {
		g.mu.Lock()
		// release announces room under mu: bytes released before this
		// second try are found by it, those released after wake the wait.
		if g.tryAcquire(n) {
			g.mu.Unlock()
			return nil
		}
		err := g.room.wait(ctx, &g.mu)
		g.mu.Unlock()
		if err != nil {
			return err
		}
	}
	return nil
}

// force takes n bytes whether they fit or not, for the few events the
// Auditor makes itself.
func (g *byteGate) force(n int64) { g.used.Add(n) }

// release gives n bytes back and wakes whoever waits for room.
func (g *byteGate) release(n int64) {
	if n == 0 {
		return
	}
	g.used.Add(-n)
	g.mu.Lock()
	g.room.wake()
	g.mu.Unlock()
}

// underPressure reports whether half the bound is taken.
func (g *byteGate) underPressure() bool { return g.used.Load() >= g.max/2 }

// roomSignal lets goroutines wait for room that others make, all under
// one mutex of their owner: the queue's byte bound, the spool's.
type roomSignal struct {
	waiters int
	ch      chan struct{} // closed when room is made while someone waits
}

// wait waits, mu held (and held again when it returns), until wake is
// called or ctx ends.
func (r *roomSignal) wait(ctx context.Context, mu *sync.Mutex) error {
	if r.ch == nil {
		r.ch = make(chan struct{})
	}
	r.waiters++
	ch := r.ch
	mu.Unlock()
	var err error
	select {
	case <-ch:
	case <-ctx.Done():
		err = ctx.Err()
	}
	mu.Lock()
	r.waiters--
	return err
}

// wake wakes every waiter, mu held.
func (r *roomSignal) wake() {
	if r.waiters > 0 {
		close(r.ch)
		r.ch = make(chan struct{})
	}
}
