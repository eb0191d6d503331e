package db

import (
	"context"
	"fmt"
	"iter"
	"time"
)

// auditLogs is the Store's AuditLogRepository: it checks, calls the engine
// and maps errors.
type auditLogs struct {
	e Engine
	r AuditLogEngine
}

func (r *auditLogs) Insert(ctx context.Context, in AuditLogCreate) (AuditLog, error) {
	in, err := in.Checked()
	var ev AuditLog
	if err == nil {
		if in.CreatedAt.IsZero() {
			in.CreatedAt = time.Now().UTC().Truncate(time.Microsecond)
		}
		ev, err = r.r.Insert(ctx, in)
	}
	return ev, mapError("AuditLogs.Insert", r.e, err)
}

func (r *auditLogs) InsertBatch(ctx context.Context, in []AuditLogCreate) (int64, error) {
	const op = "AuditLogs.InsertBatch"
	if len(in) == 0 {
		return 0, nil
	}
	// A copy: the caller may reuse in once InsertBatch returns.
	rows := make([]AuditLogCreate, len(in))
	now := time.Now().UTC().Truncate(time.Microsecond)
	for i, e := range in {
		e, err := e.Checked()
		if err != nil {
			return 0, mapError(op, r.e, err)
		}
		if e.CreatedAt.IsZero() {
			e.CreatedAt = now
		}
		rows[i] = e
	}
	n, err := r.r.InsertBatch(ctx, rows)
	if err != nil {
		return 0, mapError(op, r.e, err)
	}
	return n, nil
}

func (r *auditLogs) Get(ctx context.Context, id int64) (AuditLog, error) {
	return byRowID(ctx, r.e, "AuditLogs.Get", id, r.r.Get)
}

func (r *auditLogs) List(ctx context.Context, q AuditQuery) ([]AuditLog, error) {
	return list(ctx, r.e, "AuditLogs.List", q, r.r.List)
}

func (r *auditLogs) All(ctx context.Context, q AuditQuery) iter.Seq2[AuditLog, error] {
	return all(ctx, r.e, "AuditLogs.All", q, r.r.List)
}

func (r *auditLogs) ListByDateRange(ctx context.Context, from, to time.Time, action string, p Page) ([]AuditLog, error) {
	var ch checker
	if ch.window(from, to); ch.err != nil {
		return nil, mapError("AuditLogs.ListByDateRange", r.e, ch.err)
	}
	q := AuditQuery{From: from, To: to, Action: action, Limit: p.Limit, Offset: p.Offset}
	return list(ctx, r.e, "AuditLogs.ListByDateRange", q, r.r.List)
}

func (r *auditLogs) Statistics(ctx context.Context, from, to time.Time) (AuditStatistics, error) {
	var ch checker
	from, to = ch.window(from, to)
	if ch.err != nil {
		return AuditStatistics{}, mapError("AuditLogs.Statistics", r.e, ch.err)
	}
	st, err := r.r.Statistics(ctx, from, to)
	return st, mapError("AuditLogs.Statistics", r.e, err)
}

func (r *auditLogs) Complete(ctx context.Context, id int64, c AuditLogComplete) (AuditLog, error) {
	c, err := c.check()
	if err != nil {
		return AuditLog{}, mapError("AuditLogs.Complete", r.e, err)
	}
	return byRowID(ctx, r.e, "AuditLogs.Complete", id, func(ctx context.Context, id int64) (AuditLog, error) {
		return r.r.Complete(ctx, id, c)
	})
}

func (r *auditLogs) Delete(ctx context.Context, id int64) error {
	return deleteRow(ctx, r.e, "AuditLogs.Delete", id, r.r.Delete)
}

// Prune runs the engine's PruneBatch until a batch deletes fewer than
// batchSize events.
func (r *auditLogs) Prune(ctx context.Context, before time.Time, batchSize int) (int64, error) {
	const op = "AuditLogs.Prune"
	var ch checker
	before = ch.time("before", before, true)
	if batchSize < 1 || batchSize > MaxLimit {
		ch.fail("batch_size", fmt.Sprintf("must be 1 to %d", MaxLimit))
	}
	if ch.err != nil {
		return 0, mapError(op, r.e, ch.err)
	}
	var total int64
	for {
		n, err := r.r.PruneBatch(ctx, before, batchSize)
		total += n
		if err != nil || n < int64(batchSize) {
			return total, mapError(op, r.e, err)
		}
	}
}

func (r *auditLogs) ListNewest(ctx context.Context, p Page) ([]AuditLog, error) {
	p, err := p.Checked()
	var out []AuditLog
	if err == nil {
		out, err = r.r.ListNewest(ctx, p)
	}
	return out, mapError("AuditLogs.ListNewest", r.e, err)
}

func (r *auditLogs) ListAfterID(ctx context.Context, afterID int64, p Page) ([]AuditLog, error) {
	var ch checker
	if afterID < 0 {
		ch.fail("after_id", "must not be negative")
	}
	p = ch.page(p)
	var out []AuditLog
	err := errOrNil(ch.err)
	if err == nil {
		out, err = r.r.ListAfterID(ctx, afterID, p)
	}
	return out, mapError("AuditLogs.ListAfterID", r.e, err)
}
