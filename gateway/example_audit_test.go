package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/db/sqlite"
	"github.com/mcpstore/mcpstore/gateway"
)

// An Auditor records tool calls without waiting for the database, hides
// secrets in their data, and stores everything by Close.
func ExampleAuditor() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "mcpstore-example")
	defer os.RemoveAll(dir)
	store, err := sqlite.Open(ctx, "sqlite:"+filepath.Join(dir, "audit.db"), sqlite.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()
	if err := store.MigrateUp(ctx); err != nil {
		fmt.Println(err)
		return
	}

	auditor := gateway.NewAuditor(store, gateway.AuditorOptions{})
	err = auditor.Record(ctx, db.AuditLogCreate{
		RequestID: "req-1", UserID: "alice", Action: "tool_call", ResourceType: "tool", ResourceID: "search",
		RequestData: json.RawMessage(`{"arguments":{"q":"weather"},"api_key":"sk-live-123"}`),
		Status:      "success",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// Close with a context of its own: one that shutdown already cancelled
	// would store nothing.
	closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := auditor.Close(closeCtx); err != nil { // stores what is buffered
		fmt.Println(err)
		return
	}

	events, _ := auditor.ListByRequestID(ctx, "req-1")
	fmt.Println(string(events[0].RequestData))
	fmt.Printf("%+v\n", auditor.Stats())
	// Output:
	// {"api_key":"[REDACTED]","arguments":{"q":"weather"}}
	// {Recorded:1 Repaired:0 Aggregated:0 AggregateRows:0 Recovered:0 Stored:1 Duplicates:0 Dropped:0 Invalid:0 Failed:0 Left:0 SpoolCorrupt:0 Retries:0}
}
