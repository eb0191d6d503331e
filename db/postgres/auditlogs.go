package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gen/pgdb"
)

// copyBatch stores a batch with one COPY. COPY has no ON CONFLICT, so a
// batch that holds an event stored already (a retry after an ambiguous
// failure) is refused whole with a unique violation; only then is it
// copied again into a temporary table and moved from there with one
// INSERT ... ON CONFLICT (event_id) DO NOTHING, which skips the stored
// events. The common case pays nothing for exactly-once, and either way
// one statement writes audit_logs, so its trigger (migration 00004) takes
// the locks of the hourly counts in its own order.
func copyBatch(c conn) func(context.Context, []db.AuditLogCreate) (int64, error) {
	return func(ctx context.Context, rows []db.AuditLogCreate) (int64, error) { return insertBatch(ctx, c, rows) }
}

func insertBatch(ctx context.Context, c conn, rows []db.AuditLogCreate) (int64, error) {
	// In a transaction, a failed COPY would abort it: Begin makes a
	// savepoint there, and a transaction of its own on the pool.
	var n int64
	err := pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
		var err error
		n, err = tx.CopyFrom(ctx, pgx.Identifier{"audit_logs"}, auditCopyColumns, &auditCopySource{rows: rows})
		return err
	})
	if err == nil {
		return n, nil
	}
	if pgErr := (*pgconn.PgError)(nil); !errors.As(err, &pgErr) || pgErr.Code != "23505" {
		return 0, err // not a stored event: the unique violation of event_id
	}
	err = pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
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
		return 0, err
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
	"event_id", "request_id", "client_request_id", "trace_id", "user_id", "api_key_id", "client_ip", "action",
	"resource_type", "resource_id", "request_data", "response_data", "status", "error_message", "duration_ms", "created_at",
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

// statistics reads the whole hours of a window from audit_log_hourly and
// the rest from the events, in one statement.
func statistics(q *pgdb.Queries) func(context.Context, time.Time, time.Time) (db.AuditStatistics, error) {
	return func(ctx context.Context, from, to time.Time) (db.AuditStatistics, error) {
		return stats(ctx, q, from, to)
	}
}

func stats(ctx context.Context, q *pgdb.Queries, from, to time.Time) (db.AuditStatistics, error) {
	fullFrom, fullTo := wholeHours(from, to)
	rows, err := q.AuditLogStatistics(ctx, fullFrom, fullTo, from, to)
	if err != nil {
		return db.AuditStatistics{}, err
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
