package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gen/pgdb"
)

type auditLogs repos

func auditLogOf(r *pgdb.AuditLog) db.AuditLog {
	return db.AuditLog{
		ID:              r.ID,
		EventID:         r.EventID,
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
		CreatedAt:       r.CreatedAt.UTC(),
	}
}

func auditLogsOf(rows []*pgdb.AuditLog, err error) ([]db.AuditLog, error) {
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
	row, err := r.q.AuditLogInsert(ctx, pgdb.AuditLogInsertParams{
		EventID:         in.EventID,
		RequestID:       in.RequestID,
		ClientRequestID: nullStr(in.ClientRequestID),
		TraceID:         nullStr(in.TraceID),
		UserID:          nullStr(in.UserID),
		ApiKeyID:        nullStr(in.APIKeyID),
		ClientIp:        nullStr(in.ClientIP),
		Action:          in.Action,
		ResourceType:    in.ResourceType,
		ResourceID:      nullStr(in.ResourceID),
		RequestData:     in.RequestData,
		ResponseData:    in.ResponseData,
		Status:          in.Status,
		ErrorMessage:    nullStr(in.ErrorMessage),
		DurationMs:      in.DurationMS,
		CreatedAt:       nullTime(in.CreatedAt),
	})
	if err != nil {
		return db.AuditLog{}, mapErr(op, err)
	}
	return auditLogOf(row), nil
}

// InsertBatch stores the batch with one COPY. COPY has no ON CONFLICT, so a
// batch that holds an event stored already (a retry after an ambiguous
// failure) is refused whole with a unique violation; only then is it
// copied again into a temporary table and moved from there with one
// INSERT ... ON CONFLICT (event_id) DO NOTHING, which skips the stored
// events. The common case pays nothing for exactly-once, and either way
// one statement writes audit_logs, so its trigger (migration 00004) takes
// the locks of the hourly counts in its own order.
func (r auditLogs) InsertBatch(ctx context.Context, in []db.AuditLogCreate) (int64, error) {
	const op = "AuditLogs.InsertBatch"
	if len(in) == 0 {
		return 0, nil
	}
	rows := make([]db.AuditLogCreate, len(in))
	now := time.Now().UTC().Truncate(time.Microsecond)
	for i, e := range in {
		e, err := e.Checked()
		if err != nil {
			return 0, mapErr(op, err)
		}
		if e.CreatedAt.IsZero() {
			e.CreatedAt = now
		}
		rows[i] = e
	}
	// In a transaction, a failed COPY would abort it: Begin makes a
	// savepoint there, and a transaction of its own on the pool.
	var n int64
	err := pgx.BeginFunc(ctx, r.c, func(tx pgx.Tx) error {
		var err error
		n, err = tx.CopyFrom(ctx, pgx.Identifier{"audit_logs"}, auditCopyColumns, &auditCopySource{rows: rows})
		return err
	})
	if err == nil {
		return n, nil
	}
	if mapped := mapErr(op, err); !errors.Is(mapped, db.ErrConflict) {
		return 0, mapped
	}
	err = pgx.BeginFunc(ctx, r.c, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, stageCreate); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{auditStage}, auditCopyColumns, &auditCopySource{rows: rows}); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, stageInsert)
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		_, err = tx.Exec(ctx, "DROP TABLE "+auditStage) // InsertBatch may run again in this transaction
		return err
	})
	if err != nil {
		return 0, mapErr(op, err)
	}
	return n, nil
}

// The retry path's statements, written here rather than in queries/: sqlc
// cannot know a temporary table. They name the columns of auditCopyColumns.
const auditStage = "mcpstore_audit_stage"

var (
	stageCreate = "CREATE TEMPORARY TABLE " + auditStage + " ON COMMIT DROP AS SELECT " +
		strings.Join(auditCopyColumns, ", ") + " FROM audit_logs WITH NO DATA"
	stageInsert = "INSERT INTO audit_logs (" + strings.Join(auditCopyColumns, ", ") + ") SELECT " +
		strings.Join(auditCopyColumns, ", ") + " FROM " + auditStage + " ON CONFLICT (event_id) DO NOTHING"
)

// auditCopyColumns are the columns InsertBatch copies, those of the
// AuditLogInsertBatch query (queries/postgres/audit_logs.sql), in its
// order; TestAuditCopyColumns holds them to it.
var auditCopyColumns = []string{
	"event_id", "request_id", "client_request_id", "trace_id", "user_id", "api_key_id", "client_ip", "action", "resource_type",
	"resource_id", "request_data", "response_data", "status", "error_message", "duration_ms", "created_at",
}

// auditCopySource feeds checked events to COPY without allocating per row,
// unlike the code sqlc generates for AuditLogInsertBatch (which boxes every
// value, makes a slice per row, and sends the event id through
// driver.Valuer as text): Values fills one reused slice, and each value is
// a struct of one pointer into the event, which an interface holds without
// allocating and pgx encodes through pgtype's valuer interfaces straight
// into the COPY buffer. Only the JSON documents are boxed.
type auditCopySource struct {
	rows []db.AuditLogCreate
	i    int // 1 + the index of the current row
	vals [16]any
}

func (s *auditCopySource) Next() bool {
	s.i++
	return s.i <= len(s.rows)
}

func (s *auditCopySource) Values() ([]any, error) {
	e := &s.rows[s.i-1]
	s.vals = [16]any{
		uuidCol{&e.EventID}, textCol{&e.RequestID}, nullTextCol{&e.ClientRequestID}, nullTextCol{&e.TraceID}, nullTextCol{&e.UserID},
		nullTextCol{&e.APIKeyID}, nullTextCol{&e.ClientIP}, textCol{&e.Action}, textCol{&e.ResourceType},
		nullTextCol{&e.ResourceID}, []byte(e.RequestData), []byte(e.ResponseData), textCol{&e.Status},
		nullTextCol{&e.ErrorMessage}, floatCol{e.DurationMS}, timeCol{&e.CreatedAt},
	}
	return s.vals[:], nil
}

func (s *auditCopySource) Err() error { return nil }

type uuidCol struct{ p *uuid.UUID }

func (c uuidCol) UUIDValue() (pgtype.UUID, error) { return pgtype.UUID{Bytes: *c.p, Valid: true}, nil }

type textCol struct{ p *string }

func (c textCol) TextValue() (pgtype.Text, error) { return pgtype.Text{String: *c.p, Valid: true}, nil }

// nullTextCol is NULL for "", as nullStr makes it for the other queries.
type nullTextCol struct{ p *string }

func (c nullTextCol) TextValue() (pgtype.Text, error) {
	return pgtype.Text{String: *c.p, Valid: *c.p != ""}, nil
}

type floatCol struct{ p *float64 }

func (c floatCol) Float64Value() (pgtype.Float8, error) {
	if c.p == nil {
		return pgtype.Float8{}, nil
	}
	return pgtype.Float8{Float64: *c.p, Valid: true}, nil
}

type timeCol struct{ p *time.Time }

func (c timeCol) TimestamptzValue() (pgtype.Timestamptz, error) {
	return pgtype.Timestamptz{Time: *c.p, Valid: true}, nil
}

func (r auditLogs) Get(ctx context.Context, id int64) (db.AuditLog, error) {
	row, err := r.q.AuditLogGetByID(ctx, id)
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
	out, err := auditLogsOf(r.q.AuditLogList(ctx, pgdb.AuditLogListParams{Off: off, Lim: lim}))
	return out, mapErr(op, err)
}

func (r auditLogs) ListByRequestID(ctx context.Context, requestID string) ([]db.AuditLog, error) {
	const op = "AuditLogs.ListByRequestID"
	if err := db.CheckText("request_id", requestID, 1, db.MaxShortLen); err != nil {
		return nil, mapErr(op, err)
	}
	out, err := auditLogsOf(r.q.AuditLogListByRequestID(ctx, requestID))
	return out, mapErr(op, err)
}

func (r auditLogs) ListByClientRequestID(ctx context.Context, clientRequestID string) ([]db.AuditLog, error) {
	const op = "AuditLogs.ListByClientRequestID"
	if err := db.CheckText("client_request_id", clientRequestID, 1, db.MaxShortLen); err != nil {
		return nil, mapErr(op, err)
	}
	out, err := auditLogsOf(r.q.AuditLogListByClientRequestID(ctx, &clientRequestID))
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
	out, err := auditLogsOf(r.q.AuditLogListByUser(ctx, pgdb.AuditLogListByUserParams{UserID: &userID, Off: off, Lim: lim}))
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
	out, err := auditLogsOf(r.q.AuditLogListByDateRange(ctx, pgdb.AuditLogListByDateRangeParams{
		FromTime: from, ToTime: to, Action: nullStr(action), Off: off, Lim: lim,
	}))
	return out, mapErr(op, err)
}

func (r auditLogs) ListByDateRangeAfter(ctx context.Context, from, to time.Time, action string, after db.AuditCursor, limit int) ([]db.AuditLog, error) {
	const op = "AuditLogs.ListByDateRangeAfter"
	from, to, after, limit, err := db.CheckAfter(from, to, action, after, limit)
	if err != nil {
		return nil, mapErr(op, err)
	}
	out, err := auditLogsOf(r.q.AuditLogListByDateRangeAfter(ctx, pgdb.AuditLogListByDateRangeAfterParams{
		FromTime: from, ToTime: to, AfterTime: after.CreatedAt, AfterID: after.ID, Action: nullStr(action), Lim: int32(limit),
	}))
	return out, mapErr(op, err)
}

func (r auditLogs) Statistics(ctx context.Context, from, to time.Time) (db.AuditStatistics, error) {
	const op = "AuditLogs.Statistics"
	from, to, err := db.CheckRange(from, to)
	if err != nil {
		return db.AuditStatistics{}, mapErr(op, err)
	}
	fullFrom, fullTo := wholeHours(from, to)
	rows, err := r.q.AuditLogStatistics(ctx, pgdb.AuditLogStatisticsParams{
		FromTime: from, ToTime: to, FullFrom: fullFrom, FullTo: fullTo,
	})
	if err != nil {
		return db.AuditStatistics{}, mapErr(op, err)
	}
	st := db.NewAuditStatistics()
	for _, row := range rows {
		st.Add(row.Status, row.Action, row.N)
	}
	if len(rows) > 0 {
		st.SetPercentiles(rows[0].Nd, rows[0].P50, rows[0].P95, rows[0].P99)
	}
	return st, nil
}

// wholeHours returns the whole UTC hours [fullFrom, fullTo) inside [from,
// to), whose counts AuditLogStatistics reads from audit_log_hourly; when
// none fits, both are to, and the whole window is counted from the events.
// Time.Truncate works on absolute time, so its hours are the UTC hours of
// the migration's date_trunc('hour', created_at, 'UTC') whatever the
// times' locations.
func wholeHours(from, to time.Time) (fullFrom, fullTo time.Time) {
	fullFrom = from.Truncate(time.Hour)
	if fullFrom.Before(from) {
		fullFrom = fullFrom.Add(time.Hour)
	}
	fullTo = to.Truncate(time.Hour)
	if !fullFrom.Before(fullTo) {
		return to, to
	}
	return fullFrom, fullTo
}

func (r auditLogs) Complete(ctx context.Context, id int64, c db.AuditLogComplete) (db.AuditLog, error) {
	const op = "AuditLogs.Complete"
	c, err := c.Checked()
	if err != nil {
		return db.AuditLog{}, mapErr(op, err)
	}
	row, err := r.q.AuditLogComplete(ctx, pgdb.AuditLogCompleteParams{
		ID:           id,
		Status:       c.Status,
		ResponseData: c.ResponseData,
		ErrorMessage: nullStr(c.ErrorMessage),
		DurationMs:   c.DurationMS,
	})
	if err != nil {
		return db.AuditLog{}, mapErr(op, err)
	}
	return auditLogOf(row), nil
}

func (r auditLogs) Delete(ctx context.Context, id int64) error {
	n, err := r.q.AuditLogDelete(ctx, id)
	return mapErr("AuditLogs.Delete", db.OneRow(n, err))
}

// Prune runs AuditLogPrune until a batch deletes fewer than batchSize rows.
func (r auditLogs) Prune(ctx context.Context, before time.Time, batchSize int) (int64, error) {
	n, err := db.PruneInBatches(before, batchSize, func(before time.Time, lim int) (int64, error) {
		return r.q.AuditLogPrune(ctx, pgdb.AuditLogPruneParams{Before: before, Lim: int32(lim)})
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
	out, err := auditLogsOf(r.q.AuditLogListNewest(ctx, pgdb.AuditLogListNewestParams{Off: off, Lim: lim}))
	return out, mapErr(op, err)
}

func (r auditLogs) ListAfterID(ctx context.Context, afterID int64, p db.Page) ([]db.AuditLog, error) {
	const op = "AuditLogs.ListAfterID"
	p, err := p.Checked()
	if err != nil {
		return nil, mapErr(op, err)
	}
	off, lim := limits(p)
	out, err := auditLogsOf(r.q.AuditLogListAfterID(ctx, pgdb.AuditLogListAfterIDParams{AfterID: afterID, Off: off, Lim: lim}))
	return out, mapErr(op, err)
}
