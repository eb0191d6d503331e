package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpstore/mcpstore/db"
)

// Errors of Auditor.Record.
var (
	// ErrAuditorClosed: Record was called after Close; the event was not
	// recorded.
	ErrAuditorClosed = errors.New("gateway: auditor closed")
	// ErrAuditBufferFull: the buffer was full and the Auditor drops events
	// then (AuditorOptions.DropWhenFull); the event was dropped and counted.
	ErrAuditBufferFull = errors.New("gateway: audit buffer full, event dropped")
)

// Defaults of AuditorOptions.
const (
	DefaultAuditBatchSize       = 1000
	DefaultAuditFlushInterval   = 200 * time.Millisecond
	DefaultAuditBufferSize      = 10_000
	DefaultAuditMaxPendingBytes = 64 << 20
	DefaultAuditRetryMinDelay   = 50 * time.Millisecond
	DefaultAuditRetryMaxDelay   = 5 * time.Second
	DefaultAuditMaxDataBytes    = 64 << 10
	DefaultAuditPruneBatchSize  = 5000
	DefaultAuditWriters         = 2
	DefaultAuditAggregate       = time.Second
	DefaultAuditSpoolSync       = 50 * time.Millisecond
	DefaultAuditSpoolMaxBytes   = 1 << 30
	DefaultAuditSpoolSegment    = 4 << 20
)

// AuditorOptions tunes an Auditor. Zero fields take the defaults.
type AuditorOptions struct {
	// BatchSize is the most events one write stores (one COPY on
	// PostgreSQL, one transaction on SQLite). Default 1000, at most
	// db.MaxLimit.
	BatchSize int
	// FlushInterval is the longest the collector holds fewer than BatchSize
	// events before it hands them to a writer, which may still be busy with
	// earlier batches. Default 200ms.
	FlushInterval time.Duration
	// BufferSize is how many recorded events may wait for the collector.
	// Default 10,000.
	BufferSize int
	// MaxPendingBytes bounds the memory of the events recorded and not
	// yet stored: their text, their documents and the structs around
	// them, counted from Record until a writer has stored them (events in
	// batches included). Record waits for room beyond it (or drops, with
	// DropWhenFull); one event larger than the bound passes alone. With a
	// spool it bounds the events read back from it. Default 64 MiB.
	MaxPendingBytes int64
	// DropWhenFull makes Record drop an event, count it and return
	// ErrAuditBufferFull when the buffer (or the spool) is full. By
	// default Record waits for room instead, and nothing is lost.
	DropWhenFull bool
	// AggregateInterval: while the Auditor is under pressure (half of
	// BufferSize, MaxPendingBytes or SpoolMaxBytes taken), events of
	// action ActionAuth, refused keys, which any client can cause
	// without a key, are not queued one by one but counted, per client
	// address and interval of this length, and stored as one row each
	// (see ActionAuth): a flood of bad keys cannot crowd out the
	// other events. Default 1s.
	AggregateInterval time.Duration
	// RetryMinDelay and RetryMaxDelay bound the exponential backoff between
	// attempts to store a batch while the database is unavailable. A
	// writer keeps the batch and retries until it is stored or Close gives
	// up. Defaults 50ms and 5s.
	RetryMinDelay time.Duration
	RetryMaxDelay time.Duration
	// RedactKeys names the words that make a field of request_data and
	// response_data secret when its name ends in one (see Redactor). Nil
	// means DefaultRedactKeys; an empty, non-nil list hides nothing.
	RedactKeys []string
	// MaxDataBytes caps request_data and response_data, each, in the
	// canonical form they are stored in, after redaction: a larger
	// document is stored as a truncation marker object (see Redactor). It
	// applies in Record, so a large document never waits in memory.
	// Default 64 KiB; at most (and, when negative, exactly)
	// db.MaxJSONBytes.
	MaxDataBytes int
	// Writers is how many batches may be stored at once, each on a
	// connection of its own: while one batch travels to the database,
	// another is written there. Default 2. SQLite has one writer
	// connection, so its batches still go one at a time.
	Writers int
	// PruneBatchSize is the most rows one statement of Prune deletes.
	// Default 5000.
	PruneBatchSize int
	// SpoolDir, when set, keeps every recorded event in append-only
	// segment files in this folder (created if needed, one Auditor at a
	// time) until it is stored, so that a crash loses none that Record
	// acknowledged (SpoolStrict) or only the last SpoolSyncInterval's
	// (the default). The collector stores from the spool; an Auditor
	// opened on a spool a dead process left stores its events first,
	// once each. Open such an Auditor with OpenAuditor. Off by default.
	SpoolDir string
	// SpoolStrict makes Record return only once its event is written and
	// fsynced (Records waiting together share one fsync). Otherwise the
	// spool is written every fifth of SpoolSyncInterval and fsynced every
	// SpoolSyncInterval: a process killed loses the events of the last
	// write period at most, a machine that stops those of the last
	// interval.
	SpoolStrict bool
	// SpoolSyncInterval is how often the spool is fsynced when not
	// strict. Default 50ms.
	SpoolSyncInterval time.Duration
	// SpoolMaxBytes bounds the spool's files: Record waits (or drops, with
	// DropWhenFull) beyond it. Default 1 GiB.
	SpoolMaxBytes int64
	// SpoolSegmentBytes is the size at which the spool starts a new
	// segment file; a segment is deleted once all its events are stored,
	// and the one being written when a process dies is read again whole
	// by the next (its stored events skipped by event id). Default 4 MiB.
	SpoolSegmentBytes int64
	// Logger receives refused events, retries and failures; never an
	// event's data. Nil discards.
	Logger *slog.Logger
}

func (o AuditorOptions) withDefaults() AuditorOptions {
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultAuditBatchSize
	}
	o.BatchSize = min(o.BatchSize, db.MaxLimit)
	if o.FlushInterval <= 0 {
		o.FlushInterval = DefaultAuditFlushInterval
	}
	if o.BufferSize <= 0 {
		o.BufferSize = DefaultAuditBufferSize
	}
	if o.MaxPendingBytes <= 0 {
		o.MaxPendingBytes = DefaultAuditMaxPendingBytes
	}
	if o.AggregateInterval <= 0 {
		o.AggregateInterval = DefaultAuditAggregate
	}
	if o.RetryMinDelay <= 0 {
		o.RetryMinDelay = DefaultAuditRetryMinDelay
	}
	if o.RetryMaxDelay <= 0 {
		o.RetryMaxDelay = DefaultAuditRetryMaxDelay
	}
	o.RetryMaxDelay = max(o.RetryMaxDelay, o.RetryMinDelay)
	switch {
	case o.MaxDataBytes == 0:
		o.MaxDataBytes = DefaultAuditMaxDataBytes
	case o.MaxDataBytes < 0 || o.MaxDataBytes > db.MaxJSONBytes:
		o.MaxDataBytes = db.MaxJSONBytes
	}
	if o.Writers <= 0 {
		o.Writers = DefaultAuditWriters
	}
	if o.PruneBatchSize <= 0 {
		o.PruneBatchSize = DefaultAuditPruneBatchSize
	}
	o.PruneBatchSize = min(o.PruneBatchSize, db.MaxLimit)
	if o.SpoolSyncInterval <= 0 {
		o.SpoolSyncInterval = DefaultAuditSpoolSync
	}
	if o.SpoolMaxBytes <= 0 {
		o.SpoolMaxBytes = DefaultAuditSpoolMaxBytes
	}
	if o.SpoolSegmentBytes <= 0 {
		o.SpoolSegmentBytes = DefaultAuditSpoolSegment
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// AuditStats counts what an Auditor did with the events given to it. Once
// Close has returned,
//
//	Recorded - Aggregated + AggregateRows + Recovered = Stored + Duplicates + Failed + Left
type AuditStats struct {
	// Recorded: events Record accepted.
	Recorded uint64
	// Repaired: of those, events with a field repaired (see Record).
	Repaired uint64
	// Aggregated: of those, refused keys counted into aggregate rows
	// under pressure (see AuditorOptions.AggregateInterval), and
	// AggregateRows the rows that count them.
	Aggregated    uint64
	AggregateRows uint64
	// Recovered: events read from a spool that an earlier process left.
	Recovered uint64
	// Stored: events written to the database.
	Stored uint64
	// Duplicates: events not written because their event id was stored
	// already (recorded twice, a batch retried after an ambiguous failure,
	// or a spool read again after a crash).
	Duplicates uint64
	// Dropped: events Record refused for want of room: the buffer was full
	// in drop mode, the caller's context ended while Record waited, or the
	// Auditor was closed.
	Dropped uint64
	// Invalid: events Record refused because the embedding program got
	// them wrong (a required field empty, a bad duration).
	Invalid uint64
	// Failed: events a writer gave up on: the database refused them for
	// a reason other than a passing one, or Close ran out of time (without
	// a spool).
	Failed uint64
	// Left: events not stored when Close ran out of time, which stay in
	// the spool for the next Auditor opened on it.
	Left uint64
	// SpoolCorrupt: segments of the spool whose torn or corrupt tail was
	// skipped (its events lost), such as a record cut short by a crash
	// during a write.
	SpoolCorrupt uint64
	// Retries: attempts to store a batch that failed for a passing reason
	// (db.ErrUnavailable) and were tried again.
	Retries uint64
}

// Auditor records audit events without making the caller wait for the
// database. Record repairs and redacts an event and puts it in a queue
// bounded in events and in bytes (or, with a spool, appends it to a file);
// a collector gathers queued events into batches, and writers store them
// through AuditLogs().InsertBatch (one COPY on PostgreSQL, one transaction
// on SQLite), retrying while the database is unavailable. Every event
// carries an event id from Record on, so a batch retried after an
// ambiguous failure is stored once. Close stores what is left and stops
// the collector and the writers.
//
// An Auditor works on any db.Store and is safe for concurrent use.
type Auditor struct {
	store   db.Store
	opts    AuditorOptions
	redact  *Redactor
	maxData int
	mem     *byteGate   // the bytes of the events held in memory
	agg     *aggregator // refused keys counted under pressure
	spool   *spool      // nil without SpoolDir
	// aggMu makes taking aggregate rows and spooling them one step, so
	// that Close spools the last rows before it closes the spool.
	aggMu     sync.Mutex
	spoolShut bool

	// mu guards closed and the closing of events against Record: Record
	// holds it shared while it queues, Close exclusively to close.
	mu     sync.RWMutex
	closed bool
	events chan queued   // without a spool
	kick   chan struct{} // wakes the collector
	kickAt int           // queued events that make Record wake it

	batches chan batch // from the collector to the writers
	// free holds stored batches' slices, emptied, for the collector to
	// fill again: a batch of BatchSize events is large, and at full speed
	// a new one per send was most of what the Auditor gave the garbage
	// collector.
	free chan []db.AuditLogCreate
	// ctx is the writers'; cancel abandons the remaining work when Close
	// runs out of time.
	ctx       context.Context
	cancel    context.CancelFunc
	closeOnce sync.Once
	done      chan struct{} // closed when the writers have finished

	recorded, repaired, aggregated, aggregateRows, recovered, stored, duplicates,
	dropped, invalid, failed, left, spoolCorrupt, retries atomic.Uint64
}

// queued is an event in the queue and the bytes it holds.
type queued struct {
	ev    db.AuditLogCreate
	bytes int64
}

// batch is what a writer stores: events, the bytes they hold, and, from a
// spool, the segment each was read from.
type batch struct {
	events []db.AuditLogCreate
	segs   []*segment
	bytes  int64
}

// NewAuditor starts an Auditor on store. Call Close to store the buffered
// events and stop it. With a SpoolDir, whose opening can fail, use
// OpenAuditor: NewAuditor panics when the spool cannot be opened.
func NewAuditor(store db.Store, opts AuditorOptions) *Auditor {
	a, err := OpenAuditor(store, opts)
	if err != nil {
		panic(err)
	}
	return a
}

// OpenAuditor starts an Auditor on store, opening its spool when
// opts.SpoolDir is set: it fails when the folder cannot be created or
// another Auditor holds it. Events a dead process left in the spool are
// stored before the new ones. Call Close to store what is left and stop
// it.
func OpenAuditor(store db.Store, opts AuditorOptions) (*Auditor, error) {
	opts = opts.withDefaults()
	a := &Auditor{
		store:   store,
		opts:    opts,
		redact:  NewRedactor(opts.RedactKeys, opts.MaxDataBytes),
		maxData: opts.MaxDataBytes,
		mem:     newByteGate(opts.MaxPendingBytes),
		agg:     newAggregator(opts.AggregateInterval),
		batches: make(chan batch, 1),
		free:    make(chan []db.AuditLogCreate, opts.Writers+1),
		done:    make(chan struct{}),
	}
	if opts.SpoolDir != "" {
		s, err := openSpool(opts.SpoolDir, opts.SpoolStrict, opts.SpoolSyncInterval, opts.SpoolSegmentBytes, opts.SpoolMaxBytes, opts.Logger)
		if err != nil {
			return nil, err
		}
		a.spool = s
	} else {
		a.events = make(chan queued, opts.BufferSize)
		a.kick = make(chan struct{}, 1)
		a.kickAt = max(1, min(opts.BatchSize, opts.BufferSize/2))
	}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	if a.spool != nil {
		go a.collectSpool()
	} else {
		go a.collect()
	}
	var writers sync.WaitGroup
	for range opts.Writers {
		writers.Go(a.write)
	}
	go func() {
		writers.Wait()
		a.cancel()
		if a.spool != nil {
			a.failed.Add(a.spool.lost.Load()) // not written at Close: the disk refused
			a.spool.release()
		}
		close(a.done)
	}()
	return a, nil
}

// Record repairs ev and queues it for storing, without waiting for the
// database.
//
// An event is refused only when the embedding program got it wrong: a
// required text field (request_id, action, resource_type, status) empty,
// or a duration that is not a finite number of milliseconds, not negative.
// Record then returns a *db.Error (db.ErrInvalid) naming the field, and
// counts it (Stats().Invalid). Whatever else ev holds, it is stored: text
// made valid UTF-8, without NULs and within its column's limit (cut, and
// marked "…[cut: N chars]"); JSON documents redacted (Redactor), capped at
// MaxDataBytes (a truncation marker beyond) and replaced by
// {"_size":N,"_invalid":"why"} when they cannot be stored at all. An event
// without an event id gets one (a UUIDv7), and one without CreatedAt the
// current time, so that a batch retried after an ambiguous failure is
// stored once and the stored time is when the event happened.
//
// Without a spool, when the queue is full (BufferSize events or
// MaxPendingBytes bytes), Record waits for room, or until ctx ends (the
// event is then dropped and ctx's error returned); with DropWhenFull it
// drops the event at once and returns ErrAuditBufferFull. With a spool it
// appends the event to it, waiting only when the spool is full or, with
// SpoolStrict, until the event is fsynced. Dropped events are counted.
// Under pressure, refused keys are counted rather than queued (see
// AggregateInterval). The Auditor keeps ev's JSON documents until it has
// stored them: the caller must not modify their bytes after Record.
func (a *Auditor) Record(ctx context.Context, ev db.AuditLogCreate) error {
	repaired, err := a.repair(&ev)
	if err != nil {
		a.invalid.Add(1)
		return err
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.closed {
		a.dropped.Add(1)
		return ErrAuditorClosed
	}
	if ev.Action == ActionAuth && a.underPressure() {
		a.agg.add(&ev)
		a.count(repaired)
		a.aggregated.Add(1)
		return nil
	}
	if a.spool != nil {
		err = a.appendSpool(ctx, &ev)
	} else {
		err = a.enqueue(ctx, ev)
	}
	if err != nil {
		a.dropped.Add(1)
		return err
	}
	a.count(repaired)
	return nil
}

func (a *Auditor) count(repaired bool) {
	a.recorded.Add(1)
	if repaired {
		a.repaired.Add(1)
	}
}

// underPressure reports whether half the queue's or the spool's room is
// taken.
func (a *Auditor) underPressure() bool {
	if a.spool != nil {
		return a.spool.underPressure()
	}
	return a.mem.underPressure() || len(a.events) >= cap(a.events)/2
}

// enqueue queues ev in memory, within BufferSize events and
// MaxPendingBytes bytes.
func (a *Auditor) enqueue(ctx context.Context, ev db.AuditLogCreate) error {
	q := queued{ev: ev, bytes: eventBytes(&ev)}
	if !a.mem.tryAcquire(q.bytes) {
		a.wakeCollector() // what is queued goes to the writers, which free the room
		if a.opts.DropWhenFull {
			return ErrAuditBufferFull
		}
		if err := a.mem.acquire(ctx, q.bytes); err != nil {
			return fmt.Errorf("gateway: audit event dropped while waiting for room: %w", err)
		}
	}
	select {
	case a.events <- q:
		if len(a.events) >= a.kickAt {
			a.wakeCollector()
		}
		return nil
	default:
	}
	a.wakeCollector()
	if a.opts.DropWhenFull {
		a.mem.release(q.bytes)
		return ErrAuditBufferFull
	}
	select {
	case a.events <- q:
		return nil
	case <-ctx.Done():
		a.mem.release(q.bytes)
		return fmt.Errorf("gateway: audit event dropped while waiting for room: %w", ctx.Err())
	}
}

// spoolRecords holds the buffers Record encodes events into.
var spoolRecords = sync.Pool{New: func() any { return new([]byte) }}

// appendSpool appends ev to the spool.
func (a *Auditor) appendSpool(ctx context.Context, ev *db.AuditLogCreate) error {
	p := spoolRecords.Get().(*[]byte)
	*p = appendRecord((*p)[:0], ev)
	err := a.spool.append(ctx, *p, a.opts.DropWhenFull)
	if cap(*p) <= 64<<10 {
		spoolRecords.Put(p)
	}
	if err != nil && !errors.Is(err, ErrAuditBufferFull) {
		return fmt.Errorf("gateway: audit event dropped while waiting for room: %w", err)
	}
	return err
}

// Stats returns the counters so far.
func (a *Auditor) Stats() AuditStats {
	return AuditStats{
		Recorded:      a.recorded.Load(),
		Repaired:      a.repaired.Load(),
		Aggregated:    a.aggregated.Load(),
		AggregateRows: a.aggregateRows.Load(),
		Recovered:     a.recovered.Load(),
		Stored:        a.stored.Load(),
		Duplicates:    a.duplicates.Load(),
		Dropped:       a.dropped.Load(),
		Invalid:       a.invalid.Load(),
		Failed:        a.failed.Load(),
		Left:          a.left.Load(),
		SpoolCorrupt:  a.spoolCorrupt.Load(),
		Retries:       a.retries.Load(),
	}
}

// Close stops accepting events, stores every recorded one (retrying while
// the database is unavailable) and stops the writers. When ctx ends first,
// it abandons the events not yet stored and returns an error wrapping
// ctx's: without a spool they are lost (counted as Failed); with one they
// stay in it (counted as Left) for the next Auditor opened on SpoolDir.
// Later calls wait for the same end.
//
// Give Close a context of its own, not one that shutdown has already
// cancelled, or it stores nothing:
//
//	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
//	defer cancel()
//	err := auditor.Close(ctx)
func (a *Auditor) Close(ctx context.Context) error {
	a.closeOnce.Do(func() {
		// In a goroutine: taking the lock waits for Records blocked on a
		// full queue, which the writers may take a while to empty.
		go func() {
			a.mu.Lock()
			a.closed = true
			a.mu.Unlock()
			if a.spool != nil {
				a.aggMu.Lock()
				a.flushAggregates(time.Time{}, true)
				a.spoolShut = true
				a.aggMu.Unlock()
				a.spool.close()
			} else {
				close(a.events)
				a.wakeCollector()
			}
		}()
	})
	select {
	case <-a.done:
		return nil
	case <-ctx.Done():
	}
	before := a.failed.Load()
	a.cancel()
	<-a.done
	st := a.Stats()
	if a.spool != nil {
		in := st.Recorded - st.Aggregated + st.AggregateRows + st.Recovered
		out := st.Stored + st.Duplicates + st.Failed
		if in > out {
			a.left.Store(in - out)
		}
		return fmt.Errorf("gateway: audit close: %d events left in the spool: %w", a.left.Load(), ctx.Err())
	}
	return fmt.Errorf("gateway: audit close: %d events not stored: %w", a.failed.Load()-before, ctx.Err())
}

// flushAggregates turns the counts of refused keys of the intervals ended
// by now (all of them with all) into rows, queued as events the Auditor
// makes itself: within the byte bound whether it has room or not (they
// are few and small), or appended to the spool.
func (a *Auditor) flushAggregates(now time.Time, all bool) (rows []queued) {
	events, refusals := a.agg.take(now, all)
	if refusals == 0 {
		return nil
	}
	for _, ev := range events {
		if _, err := a.repair(&ev); err != nil { // cannot happen: every required field is set
			a.opts.Logger.Error("audit aggregate row refused", "err", err)
			a.failed.Add(1)
			continue
		}
		a.aggregateRows.Add(1)
		if a.spool != nil {
			rec := appendRecord(nil, &ev)
			if err := a.spool.append(context.Background(), rec, false); err != nil {
				a.opts.Logger.Error("audit aggregate row not spooled", "err", err)
				a.failed.Add(1)
			}
			continue
		}
		q := queued{ev: ev, bytes: eventBytes(&ev)}
		a.mem.force(q.bytes)
		rows = append(rows, q)
	}
	return rows
}

// collect turns queued events into batches: by size, or every
// FlushInterval.
func (a *Auditor) collect() {
	defer close(a.batches)
	tick := time.NewTicker(a.opts.FlushInterval)
	defer tick.Stop()
	b := a.newBatch()
	send := func() {
		if len(b.events) > 0 {
			a.batches <- b
			b = a.newBatch()
		}
	}
	add := func(q queued) {
		b.events = append(b.events, q.ev)
		b.bytes += q.bytes
		if len(b.events) >= a.opts.BatchSize {
			send()
		}
	}
	// The collector takes what is queued when woken, every FlushInterval
	// or when a batch's worth waits, rather than one event at a time:
	// Record's send then finds no receiver to wake, which on an idle
	// machine would cost it a system call.
	for {
		var now time.Time
		select {
		case <-a.kick:
		case now = <-tick.C:
		}
		for {
			q, ok, more := a.next()
			if !more {
				break
			}
			if !ok {
				for _, r := range a.flushAggregates(time.Time{}, true) {
					add(r)
				}
				send()
				return
			}
			add(q)
		}
		if !now.IsZero() {
			for _, r := range a.flushAggregates(now, false) {
				add(r)
			}
			send()
		}
	}
}

// next takes a queued event without waiting: more is false when none is
// queued, ok false when the queue is closed.
func (a *Auditor) next() (q queued, ok, more bool) {
	select {
	case q, ok = <-a.events:
		return q, ok, true
	default:
		return q, false, false
	}
}

// wakeCollector tells the collector to take what is queued now.
func (a *Auditor) wakeCollector() {
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// collectSpool turns the events read back from the spool into batches, by
// size or every FlushInterval, until the spool is closed and read to its
// end, or Close gives up.
func (a *Auditor) collectSpool() {
	defer close(a.batches)
	tick := time.NewTicker(a.opts.FlushInterval)
	defer tick.Stop()
	r := &spoolReader{s: a.spool, corrupt: func(seg *segment, skipped int64, err error) {
		a.spoolCorrupt.Add(1)
		a.opts.Logger.Error("audit spool: corrupt tail skipped", "segment", seg.path, "bytes", skipped, "err", err)
	}}
	defer func() {
		if r.file != nil {
			r.file.Close()
		}
	}()
	b := a.newBatch()
	send := func() {
		if len(b.events) > 0 {
			a.batches <- b
			b = a.newBatch()
		}
	}
	for a.ctx.Err() == nil { // Close gave up: what is not stored stays in the spool
		ev, seg, ok, done := r.next()
		if ok {
			if seg.old {
				a.recovered.Add(1)
			}
			n := eventBytes(&ev)
			if err := a.mem.acquire(a.ctx, n); err != nil {
				return // Close gave up: what is not stored stays in the spool
			}
			b.events, b.segs, b.bytes = append(b.events, ev), append(b.segs, seg), b.bytes+n
			if len(b.events) >= a.opts.BatchSize {
				send()
			}
			continue
		}
		if done {
			send()
			return
		}
		select {
		case <-a.spool.readable:
		case now := <-tick.C:
			a.aggMu.Lock()
			if !a.spoolShut {
				a.flushAggregates(now, false)
			}
			a.aggMu.Unlock()
			send()
		case <-a.ctx.Done():
			return
		}
	}
}

// newBatch returns an empty batch, reusing a stored one's slice. A new
// slice starts small and grows with what it holds, so that batches sent
// half empty (by FlushInterval) hold little memory besides their events.
func (a *Auditor) newBatch() batch {
	select {
	case evs := <-a.free:
		return batch{events: evs}
	default:
		return batch{events: make([]db.AuditLogCreate, 0, min(a.opts.BatchSize, 64))}
	}
}

// write stores batches the collector makes, one at a time.
func (a *Auditor) write() {
	for b := range a.batches {
		a.storeBatch(b.events, b.segs)
		a.mem.release(b.bytes)
		// Nothing keeps a batch once it is stored (or given up); cleared,
		// it no longer holds the events' data alive while it waits.
		clear(b.events)
		select {
		case a.free <- b.events[:0]:
		default:
		}
	}
}

// storeBatch stores batch, retrying with exponential backoff while the
// database is unavailable. A batch the database refuses for another reason
// is split in halves until the events it refuses are alone, so that one bad
// event costs only itself. Events read from a spool (segs, one per event)
// are acknowledged to it once stored, or refused for good; those Close
// gives up on stay in it.
func (a *Auditor) storeBatch(batch []db.AuditLogCreate, segs []*segment) {
	delay := a.opts.RetryMinDelay
	repairedOnce := false
	for {
		if err := a.ctx.Err(); err != nil {
			a.fail(batch, segs, err)
			return
		}
		n, err := a.store.AuditLogs().InsertBatch(a.ctx, batch)
		switch {
		case err == nil:
			a.stored.Add(uint64(n))
			a.duplicates.Add(uint64(int64(len(batch)) - n))
			a.ack(segs)
			return
		case a.ctx.Err() != nil:
			a.fail(batch, segs, err)
			return
		case errors.Is(err, db.ErrUnavailable):
			a.retries.Add(1)
			// Jitter in [delay/2, delay): replicas that lost the database
			// together do not all come back at the same instant.
			wait := delay/2 + mrand.N(delay/2+1)
			a.opts.Logger.Warn("audit batch not stored, retrying", "events", len(batch), "retry_in", wait, "err", err)
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-a.ctx.Done():
				t.Stop()
			}
			delay = min(2*delay, a.opts.RetryMaxDelay)
		case len(batch) > 1:
			a.opts.Logger.Warn("audit batch refused, splitting it", "events", len(batch), "err", err)
			half := len(batch) / 2
			if segs == nil {
				a.storeBatch(batch[:half], nil)
				a.storeBatch(batch[half:], nil)
			} else {
				a.storeBatch(batch[:half], segs[:half])
				a.storeBatch(batch[half:], segs[half:])
			}
			return
		case !repairedOnce && repairRefused(&batch[0], err):
			// An event the store refuses alone, although Record repaired it:
			// its field is replaced, and it is stored with the rest.
			a.opts.Logger.Error("audit event refused after repair; its field replaced", "field", fieldOf(err), "err", err)
			repairedOnce = true
		default:
			a.fail(batch, segs, err)
			if a.ctx.Err() == nil {
				a.ack(segs) // refused for good: reading it again would not help
			}
			return
		}
	}
}

func fieldOf(err error) string {
	var e *db.Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// ack tells the spool that the events read from segs are done with.
func (a *Auditor) ack(segs []*segment) {
	for i := 0; i < len(segs); {
		j := i + 1
		for j < len(segs) && segs[j] == segs[i] {
			j++
		}
		a.spool.ack(segs[i], j-i)
		i = j
	}
}

func (a *Auditor) fail(batch []db.AuditLogCreate, segs []*segment, err error) {
	if segs != nil && a.ctx.Err() != nil {
		return // left in the spool, for the next Auditor on it
	}
	a.failed.Add(uint64(len(batch)))
	a.opts.Logger.Error("audit events not stored", "events", len(batch), "err", err)
}

// ListByRequestID returns the stored events of one request, oldest first.
func (a *Auditor) ListByRequestID(ctx context.Context, requestID string) ([]db.AuditLog, error) {
	return a.store.AuditLogs().ListByRequestID(ctx, requestID)
}

// ListByClientRequestID returns the stored events a client sent under its
// own request id, oldest first.
func (a *Auditor) ListByClientRequestID(ctx context.Context, clientRequestID string) ([]db.AuditLog, error) {
	return a.store.AuditLogs().ListByClientRequestID(ctx, clientRequestID)
}

// ListByUser returns a page of one user's stored events, newest first.
func (a *Auditor) ListByUser(ctx context.Context, userID string, p db.Page) ([]db.AuditLog, error) {
	return a.store.AuditLogs().ListByUser(ctx, userID, p)
}

// ListByTimeRange returns a page of the stored events in [from, to), oldest
// first; only those of action when action is not "".
func (a *Auditor) ListByTimeRange(ctx context.Context, from, to time.Time, action string, p db.Page) ([]db.AuditLog, error) {
	return a.store.AuditLogs().ListByDateRange(ctx, from, to, action, p)
}

// Statistics counts the stored events of [from, to) in total, by status
// and by action, with the p50, p95 and p99 of their durations, in one query.
func (a *Auditor) Statistics(ctx context.Context, from, to time.Time) (db.AuditStatistics, error) {
	return a.store.AuditLogs().Statistics(ctx, from, to)
}

// Prune deletes the stored events created before olderThan, at most
// PruneBatchSize per statement so that it never holds the table for long,
// and returns how many it deleted.
func (a *Auditor) Prune(ctx context.Context, olderThan time.Time) (int64, error) {
	return a.store.AuditLogs().Prune(ctx, olderThan, a.opts.PruneBatchSize)
}
