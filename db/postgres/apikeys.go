package postgres

import (
	"context"
	"time"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gen/pgdb"
)

// lastUsedBatch writes a batch of uses with one UPDATE ... FROM
// unnest(ids, times).
func lastUsedBatch(q *pgdb.Queries) func(context.Context, []db.KeyUse) (int64, error) {
	return func(ctx context.Context, uses []db.KeyUse) (int64, error) {
		ids, at := make([]string, len(uses)), make([]time.Time, len(uses))
		for i, u := range uses {
			ids[i], at[i] = u.ID, u.At
		}
		return q.APIKeyUpdateLastUsedBatch(ctx, ids, at)
	}
}
