package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mcpstore/mcpstore/db/sqlite"
	"github.com/mcpstore/mcpstore/gateway"
)

// Issue a key, verify it on a request, revoke it.
func ExampleKeys() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "mcpstore-example")
	defer os.RemoveAll(dir)
	store, err := sqlite.Open(ctx, "sqlite:"+filepath.Join(dir, "keys.db"), sqlite.Options{})
	if err != nil {
		panic(err)
	}
	defer store.Close()
	if err := store.MigrateUp(ctx); err != nil {
		panic(err)
	}

	keys, err := gateway.NewKeys(ctx, store, gateway.KeysOptions{})
	if err != nil {
		panic(err)
	}
	defer keys.Close(ctx) // writes the last uses

	raw, info, err := keys.Issue(ctx, gateway.IssueOptions{Name: "ci", Owner: "alice", Roles: []string{"agent"}})
	if err != nil {
		panic(err)
	}
	// Show raw to its owner once; it cannot be shown again.

	p, err := keys.Verify(ctx, raw) // on every request
	fmt.Println(p.Owner, p.Roles, err)

	_ = keys.Revoke(ctx, info.ID, "no longer needed")
	_, err = keys.Verify(ctx, raw)
	var ke *gateway.KeyError
	if errors.As(err, &ke) {
		fmt.Println(err, "/", ke.Reason) // the client gets the first part only
	}
	_, err = keys.Verify(ctx, "mcp_typo")
	fmt.Println(errors.Is(err, gateway.ErrInvalidKey))
	// Output:
	// alice [agent] <nil>
	// invalid API key / revoked
	// true
}
