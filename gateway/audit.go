package gateway

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

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
	DefaultAuditBatchSize      = 1000
	DefaultAuditFlushInterval  = 200 * time.Millisecond
	DefaultAuditBufferSize     = 10_000
	DefaultAuditRetryMinDelay  = 50 * time.Millisecond
	DefaultAuditRetryMaxDelay  = 5 * time.Second
	DefaultAuditMaxDataBytes   = 64 << 10
	DefaultAuditPruneBatchSize = 5000
	DefaultAuditWriters        = 2
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
	// DropWhenFull makes Record drop an event, count it and return
	// ErrAuditBufferFull when the buffer is full. By default Record waits
	// for room instead, and nothing is lost.
	DropWhenFull bool
	// RetryMinDelay and RetryMaxDelay bound the exponential backoff between
	// attempts to store a batch while the database is unavailable. A
	// writer keeps the batch and retries until it is stored or Close gives
	// up. Defaults 50ms and 5s.
	RetryMinDelay time.Duration
	RetryMaxDelay time.Duration
	// RedactKeys names the fields of request_data and response_data whose
	// values are replaced by RedactedMarker (see Redactor). Nil means
	// DefaultRedactKeys; an empty, non-nil list hides nothing.
	RedactKeys []string
	// MaxDataBytes caps request_data and response_data, each, after
	// redaction: a larger document is stored as a truncation marker object
	// (see Redactor). Default 64 KiB; negative: no cap.
	MaxDataBytes int
	// Writers is how many batches may be stored at once, each on a
	// connection of its own: while one batch travels to the database,
	// another is written there. Default 2. SQLite has one writer
	// connection, so its batches still go one at a time.
	Writers int
	// PruneBatchSize is the most rows one statement of Prune deletes.
	// Default 5000.
	PruneBatchSize int
	// Logger receives invalid events, retries and failures; never an
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
	if o.RetryMinDelay <= 0 {
		o.RetryMinDelay = DefaultAuditRetryMinDelay
	}
	if o.RetryMaxDelay <= 0 {
		o.RetryMaxDelay = DefaultAuditRetryMaxDelay
	}
	o.RetryMaxDelay = max(o.RetryMaxDelay, o.RetryMinDelay)
	if o.MaxDataBytes == 0 {
		o.MaxDataBytes = DefaultAuditMaxDataBytes
	}
	if o.Writers <= 0 {
		o.Writers = DefaultAuditWriters
	}
	if o.PruneBatchSize <= 0 {
		o.PruneBatchSize = DefaultAuditPruneBatchSize
	}
	o.PruneBatchSize = min(o.PruneBatchSize, db.MaxLimit)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// AuditStats counts what an Auditor did with the events given to it. Once
// Close has returned, Recorded = Stored + Duplicates + Invalid + Failed.
type AuditStats struct {
	// Recorded: events Record accepted into the buffer.
	Recorded uint64
	// Stored: events written to the database.
	Stored uint64
	// Duplicates: events not written because their event id was stored
	// already (recorded twice, or a batch retried after an ambiguous
	// failure).
	Duplicates uint64
	// Dropped: events Record refused: the buffer was full in drop mode,
	// the caller's context ended while Record waited, or the Auditor was
	// closed.
	Dropped uint64
	// Invalid: events refused by validation (db.ErrInvalid), not stored.
	Invalid uint64
	// Failed: events a writer gave up on: the database refused them for
	// a reason other than a passing one, or Close ran out of time.
	Failed uint64
	// Retries: attempts to store a batch that failed for a passing reason
	// (db.ErrUnavailable) and were tried again.
	Retries uint64
}

// Auditor records audit events without making the caller wait for the
// database. Record puts an event in a bounded buffer; a background
// collector redacts, truncates and validates the events, and writers store
// them in batches through AuditLogs().InsertBatch (one COPY on PostgreSQL,
// one transaction on SQLite), retrying while the database is unavailable.
// Every event carries an event id from Record on, so a batch retried after
// an ambiguous failure is stored once. Close stores what is left and stops
// the collector and the writers.
//
// An Auditor works on any db.Store and is safe for concurrent use.
type Auditor struct {
	store  db.Store
	opts   AuditorOptions
	redact *Redactor

	// senders counts the Records under way, and holds closing once Close
	// has begun: Record takes no lock, so that one waiting for room in the
	// buffer, or arriving while Close waits for the writers, answers by its
	// context (or at once, closed) instead of waiting for Close. Whoever
	// brings the count to zero after Close began (Close itself when no
	// Record is under way) closes events, once.
	senders     atomic.Int64
	closeEvents sync.Once
	events      chan db.AuditLogCreate

	batches chan []db.AuditLogCreate // from the collector to the writers
	// free holds stored batches, emptied, for the collector to fill again:
	// a batch of BatchSize events is large, and at full speed a new one
	// per send was most of what the Auditor gave the garbage collector.
	free chan []db.AuditLogCreate
	// ctx is the writers'; cancel abandons the remaining work when Close
	// runs out of time.
	ctx       context.Context
	cancel    context.CancelFunc
	closeOnce sync.Once
	done      chan struct{} // closed when the writers have finished

	recorded, stored, duplicates, dropped, invalid, failed, retries atomic.Uint64
}

// NewAuditor starts an Auditor on store. Call Close to store the buffered
// events and stop it.
func NewAuditor(store db.Store, opts AuditorOptions) *Auditor {
	opts = opts.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	a := &Auditor{
		store:   store,
		opts:    opts,
		redact:  NewRedactor(opts.RedactKeys, opts.MaxDataBytes),
		events:  make(chan db.AuditLogCreate, opts.BufferSize),
		batches: make(chan []db.AuditLogCreate, 1),
		free:    make(chan []db.AuditLogCreate, opts.Writers+1),
		ctx:     ctx,
		cancel:  cancel,
		done:    make(chan struct{}),
	}
	go a.collect()
	var writers sync.WaitGroup
	for range opts.Writers {
		writers.Go(a.write)
	}
	go func() {
		writers.Wait()
		a.cancel()
		close(a.done)
	}()
	return a
}

// Record queues ev for storing and returns without waiting for the
// database. It gives ev the current time when CreatedAt is zero, so that
// the stored time is when the event happened; an event without an event id
// gets one (a UUIDv7) from the collector, before it joins a batch, so that
// a batch retried after an ambiguous failure is stored once. When the
// buffer is full, Record waits for room, or until ctx ends (the event is
// then dropped and ctx's error returned); with DropWhenFull it drops the
// event at once and returns ErrAuditBufferFull. Dropped events are counted
// (Stats). Validation happens in the collector: an invalid event is counted
// there, not reported here. The Auditor keeps ev's JSON documents until it
// has stored them: the caller must not modify their bytes after Record.
//
// Record allocates nothing and takes no lock: its cost is a clock reading,
// two atomic additions and a send on a buffered channel. Once Close has
// begun it refuses at once; a Record already waiting for room goes on
// waiting, by its context.
func (a *Auditor) Record(ctx context.Context, ev db.AuditLogCreate) error {
	if ev.CreatedAt.IsZero() {
		ev.CreatedAt = time.Now()
	}
	if a.senders.Add(1) >= closing {
		a.leave()
		a.dropped.Add(1)
		return ErrAuditorClosed
	}
	defer a.leave()
	select {
	case a.events <- ev:
		a.recorded.Add(1)
		return nil
	default:
	}
	if a.opts.DropWhenFull {
		a.dropped.Add(1)
		return ErrAuditBufferFull
	}
	select {
	case a.events <- ev:
		a.recorded.Add(1)
		return nil
	case <-ctx.Done():
		a.dropped.Add(1)
		return fmt.Errorf("gateway: audit event dropped while waiting for room: %w", ctx.Err())
	}
}

// closing is added to Auditor.senders when Close begins: far above any
// count of Records under way.
const closing = 1 << 62

// leave ends a Record, closing events when it is the last one out after
// Close began.
func (a *Auditor) leave() {
	if a.senders.Add(-1) == closing {
		a.closeEvents.Do(func() { close(a.events) })
	}
}

// Stats returns the counters so far.
func (a *Auditor) Stats() AuditStats {
	return AuditStats{
		Recorded:   a.recorded.Load(),
		Stored:     a.stored.Load(),
		Duplicates: a.duplicates.Load(),
		Dropped:    a.dropped.Load(),
		Invalid:    a.invalid.Load(),
		Failed:     a.failed.Load(),
		Retries:    a.retries.Load(),
	}
}

// Close stops accepting events, stores every buffered one (retrying while
// the database is unavailable) and stops the writers. When ctx ends first,
// it abandons the events not yet stored, counts them as Failed and returns
// an error wrapping ctx's. Later calls wait for the same end.
func (a *Auditor) Close(ctx context.Context) error {
	a.closeOnce.Do(func() {
		// Records blocked on a full buffer, which the writers may take a
		// while to empty, close events as the last of them leaves.
		if a.senders.Add(closing) == closing {
			a.closeEvents.Do(func() { close(a.events) })
		}
	})
	select {
	case <-a.done:
		return nil
	case <-ctx.Done():
	}
	before := a.failed.Load()
	a.cancel()
	<-a.done
	return fmt.Errorf("gateway: audit close: %d events not stored: %w", a.failed.Load()-before, ctx.Err())
}

// collect turns buffered events into batches of prepared events: by size,
// or every FlushInterval.
func (a *Auditor) collect() {
	defer close(a.batches)
	tick := time.NewTicker(a.opts.FlushInterval)
	defer tick.Stop()
	// Event ids draw their random bits from a buffer filled from
	// crypto/rand a page at a time, rather than from a system call each.
	// Only this goroutine reads it.
	random := bufio.NewReaderSize(rand.Reader, 4096)
	batch := make([]db.AuditLogCreate, 0, a.opts.BatchSize)
	send := func() {
		if len(batch) > 0 {
			a.batches <- batch
			select {
			case batch = <-a.free:
			default:
				batch = make([]db.AuditLogCreate, 0, a.opts.BatchSize)
			}
		}
	}
	for {
		select {
		case ev, ok := <-a.events:
			if !ok {
				send()
				return
			}
			if ev.EventID == (uuid.UUID{}) {
				id, err := uuid.NewV7FromReader(random)
				if err != nil { // crypto/rand does not fail on supported systems
					id = uuid.Must(uuid.NewV7())
				}
				ev.EventID = id
			}
			if ev, ok = a.prepare(ev); ok {
				batch = append(batch, ev)
			}
			if len(batch) >= a.opts.BatchSize {
				send()
			}
		case <-tick.C:
			send()
		}
	}
}

// prepare redacts and truncates the event's data and validates it, so that
// an invalid event never reaches, and never spoils, a batch.
func (a *Auditor) prepare(ev db.AuditLogCreate) (db.AuditLogCreate, bool) {
	// A document that is not JSON is left as it is: validation, which
	// follows, names it. So redaction need not prove a document it leaves
	// alone valid.
	if out, err := a.redact.apply(ev.RequestData, false); err == nil {
		ev.RequestData = out
	}
	if out, err := a.redact.apply(ev.ResponseData, false); err == nil {
		ev.ResponseData = out
	}
	checked, err := ev.Checked()
	if err != nil {
		a.invalid.Add(1)
		var dbErr *db.Error
		field := ""
		if errors.As(err, &dbErr) {
			field = dbErr.Field
		}
		a.opts.Logger.Warn("audit event refused", "event_id", ev.EventID, "field", field, "err", err)
		return ev, false
	}
	return checked, true
}

// write stores batches the collector makes, one at a time.
func (a *Auditor) write() {
	for batch := range a.batches {
		a.storeBatch(batch)
		// Nothing keeps a batch once it is stored (or given up); cleared,
		// it no longer holds the events' data alive while it waits.
		clear(batch)
		select {
		case a.free <- batch[:0]:
		default:
		}
	}
}

// storeBatch stores batch, retrying with exponential backoff while the
// database is unavailable. A batch the database refuses for another reason
// is split in halves until the events it refuses are alone, so that one bad
// event costs only itself.
func (a *Auditor) storeBatch(batch []db.AuditLogCreate) {
	delay := a.opts.RetryMinDelay
	for {
		if err := a.ctx.Err(); err != nil {
			a.fail(batch, err)
			return
		}
		n, err := a.store.AuditLogs().InsertBatch(a.ctx, batch)
		switch {
		case err == nil:
			a.stored.Add(uint64(n))
			a.duplicates.Add(uint64(int64(len(batch)) - n))
			return
		case a.ctx.Err() != nil:
			a.fail(batch, err)
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
			a.storeBatch(batch[:half])
			a.storeBatch(batch[half:])
			return
		default:
			a.fail(batch, err)
			return
		}
	}
}

func (a *Auditor) fail(batch []db.AuditLogCreate, err error) {
	a.failed.Add(uint64(len(batch)))
	a.opts.Logger.Error("audit events not stored", "events", len(batch), "err", err)
}

// ListByRequestID returns the stored events of one request, oldest first.
func (a *Auditor) ListByRequestID(ctx context.Context, requestID string) ([]db.AuditLog, error) {
	if err := db.CheckText("request_id", requestID, 1, db.MaxShortLen); err != nil {
		return nil, err
	}
	var out []db.AuditLog
	for ev, err := range a.store.AuditLogs().All(ctx, db.AuditQuery{RequestID: requestID}) {
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, nil
}

// ListByUser returns a page of one user's stored events, newest first.
func (a *Auditor) ListByUser(ctx context.Context, userID string, p db.Page) ([]db.AuditLog, error) {
	if err := db.CheckText("user_id", userID, 1, db.MaxShortLen); err != nil {
		return nil, err
	}
	return a.store.AuditLogs().List(ctx, db.AuditQuery{UserID: userID, Newest: true, Limit: p.Limit, Offset: p.Offset})
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
