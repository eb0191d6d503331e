package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/mcpstore/mcpstore/db/sqlite"
	"github.com/mcpstore/mcpstore/gateway"
)

// A server's tools are synced each time it connects (from its tools/list
// result); the gateway then finds them by qualified name.
func ExampleRegistry_Sync() {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, "sqlite::memory:", sqlite.Options{})
	if err != nil {
		panic(err)
	}
	defer store.Close()
	if err := store.MigrateUp(ctx); err != nil {
		panic(err)
	}
	reg := gateway.NewRegistry(store, gateway.RegistryOptions{})

	var tools []gateway.Tool // as a tools/list result holds them
	if err := json.Unmarshal([]byte(`[
		{"name": "read_file", "description": "Reads a file",
		 "inputSchema": {"type": "object", "properties": {"path": {"type": "string"}}},
		 "annotations": {"readOnlyHint": true}},
		{"name": "write_file", "inputSchema": {"type": "object"}}
	]`), &tools); err != nil {
		panic(err)
	}
	rep, err := reg.Sync(ctx, "files", tools)
	if err != nil {
		panic(err)
	}
	fmt.Println("added:", rep.Added)

	// The server reconnects without write_file; read_file's schema is
	// spelled differently but means the same.
	tools = tools[:1]
	tools[0].InputSchema = json.RawMessage(`{"properties": {"path": {"type": "string"}}, "type": "object"}`)
	rep, err = reg.Sync(ctx, "files", tools)
	if err != nil {
		panic(err)
	}
	fmt.Println("removed:", rep.Removed, "unchanged:", rep.Unchanged)

	tool, err := reg.GetQualified(ctx, gateway.QualifiedName("files", "read_file"))
	if err != nil {
		panic(err)
	}
	fmt.Println(tool.QualifiedName, string(tool.Annotations))

	_, err = reg.Sync(ctx, "files", []gateway.Tool{{Name: "read file", InputSchema: json.RawMessage(`{"type":"object"}`)}})
	fmt.Println(err)
	// Output:
	// added: [read_file write_file]
	// removed: [write_file] unchanged: [read_file]
	// files/read_file {"readOnlyHint":true}
	// gateway: invalid tool "read file" (#0 of server "files"): name: character ' ' not allowed: use A-Z, a-z, 0-9, '_', '-' and '.'
}
