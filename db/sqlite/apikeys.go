package sqlite

import (
	"context"
	"encoding/json"

	"github.com/mcpstore/mcpstore/db"
)

// updateLastUsedBatch writes many uses in one statement: ?1 is a JSON
// array of [id, microseconds] pairs, one per key, read once by an
// UPDATE ... FROM (SQLite 3.33). It is written here, not in queries/sqlite,
// because sqlc's SQLite parser does not take UPDATE ... FROM. Like
// APIKeyUpdateLastUsed it never moves last_used_at backwards, and unknown
// ids change nothing.
const updateLastUsedBatch = `UPDATE api_keys SET last_used_at = u.used_at
FROM (SELECT json_extract(value, '$[0]') AS id, CAST(json_extract(value, '$[1]') AS INTEGER) AS used_at
      FROM json_each(?1)) AS u
WHERE api_keys.id = u.id AND (api_keys.last_used_at IS NULL OR api_keys.last_used_at < u.used_at)`

func (c conns) updateLastUsedBatch(ctx context.Context, uses []db.KeyUse) (int64, error) {
	pairs := make([][2]any, len(uses))
	for i, u := range uses {
		pairs[i] = [2]any{u.ID, u.At.UnixMicro()}
	}
	b, err := json.Marshal(pairs)
	if err != nil {
		return 0, err
	}
	res, err := c.w.ExecContext(ctx, updateLastUsedBatch, string(b))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
