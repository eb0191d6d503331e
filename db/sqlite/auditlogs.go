package sqlite

import (
	"context"
	"math"
	"slices"
	"time"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gen/sqlitedb"
	"github.com/mcpstore/mcpstore/internal/sqlitecol"
)

// insertBatch stores a batch in one transaction, one prepared INSERT ...
// ON CONFLICT (event_id) DO NOTHING per event, so events stored already (a
// retried batch) are skipped.
func (c conns) insertBatch(ctx context.Context, rows []db.AuditLogCreate) (int64, error) {
	var n int64
	err := c.inTx(ctx, func(q *sqlitedb.Queries) error {
		n = 0
		for i := range rows {
			e := &rows[i]
			k, err := q.AuditLogInsertIgnore(ctx, e.EventID, e.RequestID, nullStr(e.ClientRequestID), nullStr(e.TraceID), nullStr(e.UserID),
				nullStr(e.APIKeyID), nullStr(e.ClientIP), e.Action, e.ResourceType, nullStr(e.ResourceID),
				sqlitecol.JSON(e.RequestData), sqlitecol.JSON(e.ResponseData), e.Status, nullStr(e.ErrorMessage),
				e.DurationMS, sqlitecol.Time(e.CreatedAt))
			if err != nil {
				return err
			}
			n += k
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

func nullStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// statistics reads a window in one scan. The measured durations come
// back to memory to be sorted, 8 bytes each (a few copies of that while
// they are read), and one (status, action) pair's durations travel as one
// blob, which SQLite caps at 1 GB: about 125 million measured events of one
// pair in one window.
func statistics(q *sqlitedb.Queries) func(context.Context, time.Time, time.Time) (db.AuditStatistics, error) {
	return func(ctx context.Context, from, to time.Time) (db.AuditStatistics, error) {
		return readStatistics(ctx, q, from, to)
	}
}

func readStatistics(ctx context.Context, q *sqlitedb.Queries, from, to time.Time) (db.AuditStatistics, error) {
	rows, err := q.AuditLogStatistics(ctx, sqlitecol.Time(from), sqlitecol.Time(to))
	if err != nil {
		return db.AuditStatistics{}, err
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
			return db.AuditStatistics{}, err
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
