package dbtest

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mcpstore/mcpstore/db"
)

// Bench runs the repository benchmarks against e: the operations on the
// hot paths of a gateway (a key look-up per request, audit writes, audit
// statistics) and the seed-style write of one audit row per statement.
func Bench(b *testing.B, e Engine) {
	b.Run("APIKeyGetByHash", func(b *testing.B) {
		ctx, s := b.Context(), e.NewStore(b)
		for i := range 1000 {
			if _, err := s.APIKeys().Create(ctx, NewKey(i)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			if _, err := s.APIKeys().GetByHash(ctx, NewKey(i%1000).KeyHash); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("ToolUpsert", func(b *testing.B) {
		ctx, s := b.Context(), e.NewStore(b)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			tc := newTool("srv", fmt.Sprintf("t%d", i%100))
			tc.Description = fmt.Sprint(i)
			if _, err := s.Tools().Upsert(ctx, tc); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("ToolList100", func(b *testing.B) {
		ctx, s := b.Context(), e.NewStore(b)
		for i := range 100 {
			if _, err := s.Tools().Create(ctx, newTool("srv", fmt.Sprintf("t%d", i))); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		for b.Loop() {
			if l, err := s.Tools().List(ctx, db.ToolQuery{Limit: 100}); err != nil || len(l) != 100 {
				b.Fatal(len(l), err)
			}
		}
	})

	b.Run("AuditInsertOneByOne", func(b *testing.B) {
		ctx, s := b.Context(), e.NewStore(b)
		ev := benchEvent()
		b.ReportAllocs()
		for b.Loop() {
			ev.EventID = uuid.Must(uuid.NewV7())
			if _, err := s.AuditLogs().Insert(ctx, ev); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})

	b.Run("AuditInsertBatch1000", func(b *testing.B) {
		ctx, s := b.Context(), e.NewStore(b)
		batch := make([]db.AuditLogCreate, 1000)
		b.ReportAllocs()
		for b.Loop() {
			for i := range batch {
				batch[i] = benchEvent()
				batch[i].EventID = uuid.Must(uuid.NewV7())
			}
			if _, err := s.AuditLogs().InsertBatch(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "rows/s")
	})

	b.Run("AuditStatistics10k", func(b *testing.B) {
		ctx, s := b.Context(), e.NewStore(b)
		batch := make([]db.AuditLogCreate, 10_000)
		for i := range batch {
			batch[i] = benchEvent()
			batch[i].CreatedAt = baseTime.Add(time.Duration(i) * time.Second)
			batch[i].Status = []string{"success", "error", "denied"}[i%3]
			batch[i].Action = []string{"tool_call", "tools_list"}[i%2]
		}
		if _, err := s.AuditLogs().InsertBatch(ctx, batch); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if _, err := s.AuditLogs().Statistics(ctx, baseTime, baseTime.Add(24*time.Hour)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func benchEvent() db.AuditLogCreate {
	return db.AuditLogCreate{
		RequestID: uuid.NewString(), UserID: "alice", APIKeyID: "key-1", ClientIP: "127.0.0.1",
		Action: "tool_call", ResourceType: "tool", ResourceID: "search", Status: "success",
		RequestData: []byte(`{"arguments":{"q":"hello","limit":10}}`), DurationMS: ms(1.5),
	}
}
