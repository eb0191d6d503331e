package postgres

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/mcpstore/mcpstore/gen/pgdb"
)

// copyRecorder stands for a connection only to note which columns the code
// sqlc generates for AuditLogInsertBatch would copy; it sends nothing.
type copyRecorder struct {
	pgdb.DBTX
	columns []string
}

func (c *copyRecorder) CopyFrom(_ context.Context, _ pgx.Identifier, columns []string, _ pgx.CopyFromSource) (int64, error) {
	c.columns = columns
	return 0, nil
}

// TestAuditCopyColumns holds InsertBatch's COPY to the columns of the
// AuditLogInsertBatch query, in their order.
func TestAuditCopyColumns(t *testing.T) {
	rec := &copyRecorder{}
	if _, err := pgdb.New(rec).AuditLogInsertBatch(context.Background(), []pgdb.AuditLogInsertBatchParams{{}}); err != nil {
		t.Fatal(err)
	}
	if len(rec.columns) != len(auditCopyColumns) {
		t.Fatalf("the query copies %v, InsertBatch %v", rec.columns, auditCopyColumns)
	}
	for i := range rec.columns {
		if rec.columns[i] != auditCopyColumns[i] {
			t.Fatalf("the query copies %v, InsertBatch %v", rec.columns, auditCopyColumns)
		}
	}
	if n := len((&auditCopySource{}).vals); n != len(auditCopyColumns) {
		t.Fatalf("auditCopySource gives %d values for %d columns", n, len(auditCopyColumns))
	}
}
