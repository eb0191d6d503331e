package main

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mcpstore/mcpstore/db/postgres"
)

// throughput runs op from clients goroutines for d and returns operations
// per second. Client i passes i to op. The first error stops it.
func throughput(ctx context.Context, clients int, d time.Duration, op func(ctx context.Context, client int) error) (float64, error) {
	var n atomic.Int64
	var first error
	var once sync.Once
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for c := range clients {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				if err := op(ctx, c); err != nil {
					once.Do(func() { first = err; cancel() })
					return
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	if first != nil {
		return 0, first
	}
	return float64(n.Load()) / time.Since(start).Seconds(), nil
}

// database is a fresh PostgreSQL database on the server of the report,
// dropped by drop.
type database struct {
	url  string
	drop func()
}

// newDatabase creates database name (dropping one left by an earlier run)
// and, when migrate, applies mcpstore's migrations to it.
func newDatabase(ctx context.Context, base, name string, migrate bool) (*database, error) {
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	defer admin.Close(ctx)
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
		return nil, fmt.Errorf("drop %s: %w", name, err)
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		return nil, fmt.Errorf("create %s: %w", name, err)
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	u.Path = "/" + name
	d := &database{url: u.String(), drop: func() {
		c, err := pgx.Connect(context.Background(), base)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)")
	}}
	if migrate {
		s, err := postgres.Open(ctx, d.url, postgres.Options{})
		if err != nil {
			return nil, err
		}
		defer s.Close()
		if err := s.MigrateUp(ctx); err != nil {
			d.drop()
			return nil, fmt.Errorf("migrate %s: %w", name, err)
		}
	}
	return d, nil
}

// freshStore creates database name with mcpstore's migrations and opens a
// Store on it with room for maxConns connections; done closes the Store
// and drops the database.
func freshStore(ctx context.Context, r *report, name string, maxConns int32) (d *database, s *postgres.Store, done func(), err error) {
	d, err = newDatabase(ctx, r.cfg.pgURL, name, true)
	if err != nil {
		return nil, nil, nil, err
	}
	s, err = postgres.Open(ctx, d.url, postgres.Options{MaxConns: maxConns, MinConns: min(maxConns, 4)})
	if err != nil {
		d.drop()
		return nil, nil, nil, err
	}
	return d, s, func() { s.Close(); d.drop() }, nil
}
