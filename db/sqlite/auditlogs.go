package sqlite

import (
	"context"
	"database/sql"
	"math"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gen/sqlitedb"
)

type auditLogs repos

func auditLogOf(r sqlitedb.AuditLog) db.AuditLog {
	id, _ := uuid.Parse(r.EventID) // written by mcpstore: always a UUID
	return db.AuditLog{
		ID:              r.ID,
		EventID:         id,
		RequestID:       r.RequestID,
		ClientRequestID: str(r.ClientRequestID),
		TraceID:         str(r.TraceID),
		UserID:          str(r.UserID),
		APIKeyID:        str(r.ApiKeyID),
		ClientIP:        str(r.ClientIp),
		Action:          r.Action,
		ResourceType:    r.ResourceType,
		ResourceID:      str(r.ResourceID),
		RequestData:     jsonOf(r.RequestData),
		ResponseData:    jsonOf(r.ResponseData),
		Status:          r.Status,
		ErrorMessage:    str(r.ErrorMessage),
		DurationMS:      r.DurationMs,
		CreatedAt:       timeOf(r.CreatedAt),
	}
}

func auditLogsOf(rows []sqlitedb.AuditLog, err error) ([]db.AuditLog, error) {
	if err != nil {
		return nil, err
	}
	out := make([]db.AuditLog, len(rows))
	for i, r := range rows {
		out[i] = auditLogOf(r)
	}
	return out, nil
}

func (r auditLogs) Insert(ctx context.Context, in db.AuditLogCreate) (db.AuditLog, error) {
	const op = "AuditLogs.Insert"
	in, err := in.Checked()
	if err != nil {
		return db.AuditLog{}, mapErr(op, err)
	}
	created := sql.NullInt64{Int64: micros(in.CreatedAt), Valid: !in.CreatedAt.IsZero()}
	row, err := r.w.AuditLogInsert(ctx, sqlitedb.AuditLogInsertParams{
		EventID:         in.EventID.String(),
		RequestID:       in.RequestID,
		ClientRequestID: nullStr(in.ClientRequestID),
		TraceID:         nullStr(in.TraceID),
		UserID:          nullStr(in.UserID),
		ApiKeyID:        nullStr(in.APIKeyID),
		ClientIp:        nullStr(in.ClientIP),
		Action:          in.Action,
		ResourceType:    in.ResourceType,
		ResourceID:      nullStr(in.ResourceID),
		RequestData:     nullJSON(in.RequestData),
		ResponseData:    nullJSON(in.ResponseData),
		Status:          in.Status,
		ErrorMessage:    nullStr(in.ErrorMessage),
		DurationMs:      in.DurationMS,
		CreatedAt:       created,
	})
	if err != nil {
		return db.AuditLog{}, mapErr(op, err)
	}
	return auditLogOf(row), nil
}

// InsertBatch stores the batch in one transaction, one prepared INSERT ...
// ON CONFLICT (event_id) DO NOTHING per event, so events stored already (a
// retried batch) are skipped.
func (r auditLogs) InsertBatch(ctx context.Context, in []db.AuditLogCreate) (int64, error) {
	const op = "AuditLogs.InsertBatch"
	if len(in) == 0 {
		return 0, nil
	}
	rows := make([]sqlitedb.AuditLogInsertIgnoreParams, len(in))
	now := micros(time.Now())
	for i, e := range in {
		e, err := e.Checked()
		if err != nil {
			return 0, mapErr(op, err)
		}
		created := now
		if !e.CreatedAt.IsZero() {
			created = micros(e.CreatedAt)
		}
		rows[i] = sqlitedb.AuditLogInsertIgnoreParams{
			EventID:         e.EventID.String(),
			RequestID:       e.RequestID,
			ClientRequestID: nullStr(e.ClientRequestID),
			TraceID:         nullStr(e.TraceID),
			UserID:          nullStr(e.UserID),
			ApiKeyID:        nullStr(e.APIKeyID),
			ClientIp:        nullStr(e.ClientIP),
			Action:          e.Action,
			ResourceType:    e.ResourceType,
			ResourceID:      nullStr(e.ResourceID),
			RequestData:     nullJSON(e.RequestData),
			ResponseData:    nullJSON(e.ResponseData),
			Status:          e.Status,
			ErrorMessage:    nullStr(e.ErrorMessage),
			DurationMs:      e.DurationMS,
			CreatedAt:       created,
		}
	}
	var n int64
	err := repos(r).inTx(ctx, func(q *sqlitedb.Queries) error {
		n = 0
		for _, row := range rows {
			k, err := q.AuditLogInsertIgnore(ctx, row)
			if err != nil {
				return err
			}
			n += k
		}
		return nil
	})
	if err != nil {
		return 0, mapErr(op, err)
	}
	return n, nil
}

func (r auditLogs) Get(ctx context.Context, id int64) (db.AuditLog, error) {
	row, err := r.r.AuditLogGetByID(ctx, id)
	if err != nil {
		return db.AuditLog{}, mapErr("AuditLogs.Get", err)
	}
	return auditLogOf(row), nil
}

func (r auditLogs) List(ctx context.Context, p db.Page) ([]db.AuditLog, error) {
	const op = "AuditLogs.List"
	p, err := p.Checked()
	if err != nil {
		return nil, mapErr(op, err)
	}
	off, lim := limits(p)
	out, err := auditLogsOf(r.r.AuditLogList(ctx, sqlitedb.AuditLogListParams{Off: off, Lim: lim}))
	return out, mapErr(op, err)
}

func (r auditLogs) ListByRequestID(ctx context.Context, requestID string) ([]db.AuditLog, error) {
	const op = "AuditLogs.ListByRequestID"
	if err := db.CheckText("request_id", requestID, 1, db.MaxShortLen); err != nil {
		return nil, mapErr(op, err)
	}
	out, err := auditLogsOf(r.r.AuditLogListByRequestID(ctx, requestID))
	return out, mapErr(op, err)
}

func (r auditLogs) ListByClientRequestID(ctx context.Context, clientRequestID string) ([]db.AuditLog, error) {
	const op = "AuditLogs.ListByClientRequestID"
	if err := db.CheckText("client_request_id", clientRequestID, 1, db.MaxShortLen); err != nil {
		return nil, mapErr(op, err)
	}
	out, err := auditLogsOf(r.r.AuditLogListByClientRequestID(ctx, &clientRequestID))
	return out, mapErr(op, err)
}

func (r auditLogs) ListByUser(ctx context.Context, userID string, p db.Page) ([]db.AuditLog, error) {
	const op = "AuditLogs.ListByUser"
	p, err := p.Checked()
	if err == nil {
		err = db.CheckText("user_id", userID, 1, db.MaxShortLen)
	}
	if err != nil {
		return nil, mapErr(op, err)
	}
	off, lim := limits(p)
	out, err := auditLogsOf(r.r.AuditLogListByUser(ctx, sqlitedb.AuditLogListByUserParams{UserID: &userID, Off: off, Lim: lim}))
	return out, mapErr(op, err)
}

func (r auditLogs) ListByDateRange(ctx context.Context, from, to time.Time, action string, p db.Page) ([]db.AuditLog, error) {
	const op = "AuditLogs.ListByDateRange"
	p, err := p.Checked()
	if err == nil {
		from, to, err = db.CheckRange(from, to)
	}
	if err == nil {
		err = db.CheckText("action", action, 0, db.MaxShortLen)
	}
	if err != nil {
		return nil, mapErr(op, err)
	}
	off, lim := limits(p)
	out, err := auditLogsOf(r.r.AuditLogListByDateRange(ctx, sqlitedb.AuditLogListByDateRangeParams{
		FromTime: micros(from), ToTime: micros(to), Action: nullStr(action), Off: off, Lim: lim,
	}))
	return out, mapErr(op, err)
}

func (r auditLogs) ListByDateRangeAfter(ctx context.Context, from, to time.Time, action string, after db.AuditCursor, limit int) ([]db.AuditLog, error) {
	const op = "AuditLogs.ListByDateRangeAfter"
	from, to, after, limit, err := db.CheckAfter(from, to, action, after, limit)
	if err != nil {
		return nil, mapErr(op, err)
	}
	out, err := auditLogsOf(r.r.AuditLogListByDateRangeAfter(ctx, sqlitedb.AuditLogListByDateRangeAfterParams{
		FromTime: micros(from), ToTime: micros(to), AfterTime: micros(after.CreatedAt), AfterID: after.ID, Action: nullStr(action), Lim: int64(limit),
	}))
	return out, mapErr(op, err)
}

// Statistics reads the window in one scan. The measured durations come
// back to memory to be sorted, 8 bytes each (a few copies of that while
// they are read), and one (status, action) pair's durations travel as one
// blob, which SQLite caps at 1 GB: about 125 million measured events of one
// pair in one window.
func (r auditLogs) Statistics(ctx context.Context, from, to time.Time) (db.AuditStatistics, error) {
	const op = "AuditLogs.Statistics"
	from, to, err := db.CheckRange(from, to)
	if err != nil {
		return db.AuditStatistics{}, mapErr(op, err)
	}
	rows, err := r.r.AuditLogStatistics(ctx, sqlitedb.AuditLogStatisticsParams{FromTime: micros(from), ToTime: micros(to)})
	if err != nil {
		return db.AuditStatistics{}, mapErr(op, err)
	}
	st := db.NewAuditStatistics()
	size := 0
	for _, row := range rows {
		size += len(row.Durations) / 8
	}
	durations := make([]float64, 0, size)
	for _, row := range rows {
		st.Add(row.Status, row.Action, row.N)
		if durations, err = appendDurations(durations, row.Durations); err != nil {
			return db.AuditStatistics{}, mapErr(op, err)
		}
	}
	slices.Sort(durations)
	st.SetPercentiles(int64(len(durations)),
		percentileCont(durations, 0.5), percentileCont(durations, 0.95), percentileCont(durations, 0.99))
	return st, nil
}

// percentileCont is PostgreSQL's percentile_cont(p) of sorted values, in
// its floating-point steps (so that both engines give the same figures):
// the value at rank p*(n-1), interpolated between its two neighbours. It
// is 0 for no values.
func percentileCont(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := p * float64(len(sorted)-1)
	lo, hi := math.Floor(rank), math.Ceil(rank)
	a, b := sorted[int(lo)], sorted[int(hi)]
	if lo == hi {
		return a // no interpolation, as PostgreSQL: -0 stays -0
	}
	// The conversion keeps the compiler from fusing the multiply and the
	// add into one FMA instruction (rounded once, not twice as
	// PostgreSQL's float8 arithmetic is) on the platforms that have one.
	return a + float64((rank-lo)*(b-a))
}

func (r auditLogs) Complete(ctx context.Context, id int64, c db.AuditLogComplete) (db.AuditLog, error) {
	const op = "AuditLogs.Complete"
	c, err := c.Checked()
	if err != nil {
		return db.AuditLog{}, mapErr(op, err)
	}
	row, err := r.w.AuditLogComplete(ctx, sqlitedb.AuditLogCompleteParams{
		ID:           id,
		Status:       c.Status,
		ResponseData: nullJSON(c.ResponseData),
		ErrorMessage: nullStr(c.ErrorMessage),
		DurationMs:   c.DurationMS,
	})
	if err != nil {
		return db.AuditLog{}, mapErr(op, err)
	}
	return auditLogOf(row), nil
}

func (r auditLogs) Delete(ctx context.Context, id int64) error {
	n, err := r.w.AuditLogDelete(ctx, id)
	return mapErr("AuditLogs.Delete", db.OneRow(n, err))
}

// Prune runs AuditLogPrune until a batch deletes fewer than batchSize rows.
func (r auditLogs) Prune(ctx context.Context, before time.Time, batchSize int) (int64, error) {
	n, err := db.PruneInBatches(before, batchSize, func(before time.Time, lim int) (int64, error) {
		return r.w.AuditLogPrune(ctx, sqlitedb.AuditLogPruneParams{Before: micros(before), Lim: int64(lim)})
	})
	return n, mapErr("AuditLogs.Prune", err)
}

func (r auditLogs) ListNewest(ctx context.Context, p db.Page) ([]db.AuditLog, error) {
	const op = "AuditLogs.ListNewest"
	p, err := p.Checked()
	if err != nil {
		return nil, mapErr(op, err)
	}
	off, lim := limits(p)
	out, err := auditLogsOf(r.r.AuditLogListNewest(ctx, sqlitedb.AuditLogListNewestParams{Off: off, Lim: lim}))
	return out, mapErr(op, err)
}

func (r auditLogs) ListAfterID(ctx context.Context, afterID int64, p db.Page) ([]db.AuditLog, error) {
	const op = "AuditLogs.ListAfterID"
	p, err := p.Checked()
	if err != nil {
		return nil, mapErr(op, err)
	}
	off, lim := limits(p)
	out, err := auditLogsOf(r.r.AuditLogListAfterID(ctx, sqlitedb.AuditLogListAfterIDParams{AfterID: afterID, Off: off, Lim: lim}))
	return out, mapErr(op, err)
}
