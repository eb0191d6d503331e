package sqlite_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/db/sqlite"
)

// Open a SQLite file, create the tables, and use the three repositories.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "mcpstore-example")
	defer os.RemoveAll(dir)

	store, err := sqlite.Open(ctx, "sqlite:"+filepath.Join(dir, "mcpstore.db"), sqlite.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()
	if err := store.MigrateUp(ctx); err != nil {
		fmt.Println(err)
		return
	}

	tool, _ := store.Tools().Upsert(ctx, db.ToolCreate{
		ServerID:    "files",
		Name:        "read_file",
		InputSchema: json.RawMessage(`{"type": "object", "properties": {"path": {"type": "string"}}}`),
	})
	fmt.Println(tool.ServerID, tool.Name, string(tool.InputSchema))

	_, err = store.Tools().Create(ctx, db.ToolCreate{ServerID: "files", Name: "read_file", InputSchema: tool.InputSchema})
	fmt.Println(err)
	// Output:
	// files read_file {"type":"object","properties":{"path":{"type":"string"}}}
	// mcpstore: Tools.Create: conflict: tool_registrations_server_id_name_key: duplicate
}
