// Package baseline holds what mcpstore's benchmarks measure it against and
// the events they store, so that the Go benchmarks (gateway) and the report
// (bench/cmd/report) measure the same things: the seed design's key check
// per request, its three statistics queries, and a typical tool call.
package baseline

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/mcpstore/mcpstore/db"
)

// Base is the time benchmark events are stored around.
var Base = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// AuditEvent is a typical tool call, number i, at the time at: a few ids
// (50 users, 20 keys), small JSON arguments and result, one of three
// actions and three statuses, and a duration of 0 to 49.9 ms.
func AuditEvent(i int, at time.Time) db.AuditLogCreate {
	d := float64(i%500) / 10
	return db.AuditLogCreate{
		EventID:      uuid.Must(uuid.NewV7()),
		RequestID:    "req-" + strconv.Itoa(i),
		UserID:       "user-" + strconv.Itoa(i%50),
		APIKeyID:     "key-" + strconv.Itoa(i%20),
		ClientIP:     "192.0.2.7",
		Action:       []string{"tool_call", "tools_list", "resource_read"}[i%3],
		ResourceType: "tool",
		ResourceID:   "search",
		RequestData:  json.RawMessage(`{"arguments":{"query":"weather in Paris","limit":10}}`),
		ResponseData: json.RawMessage(`{"content":[{"type":"text","text":"sunny"}],"isError":false}`),
		Status:       []string{"success", "success", "error", "denied"}[i%4],
		DurationMS:   &d,
		CreatedAt:    at,
	}
}

// SeedVerify is what the seed design did on every request: look the key
// up by hash, UPDATE last_used_at, commit.
func SeedVerify(ctx context.Context, s db.Store, hash string) error {
	return s.InTx(ctx, func(tx db.Repositories) error {
		k, err := tx.APIKeys().GetByHash(ctx, hash)
		if err != nil {
			return err
		}
		return tx.APIKeys().UpdateLastUsed(ctx, k.ID, time.Now())
	})
}

// The seed design's get_statistics: three queries over [$1, $2), the total
// first, then the counts by status and by action.
const (
	SeedCount    = "SELECT count(*) FROM audit_logs WHERE created_at >= $1 AND created_at < $2"
	SeedByStatus = "SELECT status, count(*) FROM audit_logs WHERE created_at >= $1 AND created_at < $2 GROUP BY status"
	SeedByAction = "SELECT action, count(*) FROM audit_logs WHERE created_at >= $1 AND created_at < $2 GROUP BY action"
)
