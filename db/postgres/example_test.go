package postgres_test

import (
	"context"
	"errors"
	"log"
	"os"
	"time"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/db/postgres"
)

// Open a pool sized like the original pool_size=5, max_overflow=10,
// pool_pre_ping=True, migrate under the advisory lock, and look a key up.
func ExampleOpen() {
	ctx := context.Background()
	store, err := postgres.Open(ctx, os.Getenv("DATABASE_URL"), postgres.Options{
		MinConns:        5,
		MaxConns:        15,
		PingIdleAfter:   time.Second,
		MaxConnIdleTime: 5 * time.Minute,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	if err := store.MigrateUp(ctx); err != nil { // replicas may all call it
		log.Fatal(err)
	}
	_, err = store.APIKeys().GetByHash(ctx, "0f1e...")
	if errors.Is(err, db.ErrNotFound) {
		log.Print("unknown key")
	}
}
