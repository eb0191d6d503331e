package gateway_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gateway"
	"github.com/mcpstore/mcpstore/internal/testdb"
)

// gatedStore counts the key look-ups by hash a real Store receives, and
// holds each until released, so that callers pile up behind it.
type gatedStore struct {
	db.Store
	lookups atomic.Int64
	release chan struct{}
}

func (g *gatedStore) APIKeys() db.APIKeyRepository { return gatedKeys{g.Store.APIKeys(), g} }

type gatedKeys struct {
	db.APIKeyRepository
	g *gatedStore
}

func (r gatedKeys) GetByHash(ctx context.Context, hash string) (db.APIKey, error) {
	r.g.lookups.Add(1)
	select {
	case <-r.g.release:
	case <-ctx.Done(): // as a driver does
		return db.APIKey{}, &db.Error{Op: "APIKeys.GetByHash", Kind: db.ErrUnavailable, Cause: ctx.Err()}
	}
	return r.APIKeyRepository.GetByHash(ctx, hash)
}

// 1,000 concurrent Verify calls of one key not in the cache, unknown or
// valid, make one database query: the others wait for its answer.
func TestKeysLookupsCoalesce(t *testing.T) {
	testdb.EachEngine(t, func(t *testing.T, s db.Store) {
		ctx := t.Context()
		issuer := newKeys(t, s, gateway.KeysOptions{})
		valid, _, err := issuer.Issue(ctx, gateway.IssueOptions{Name: "k"})
		require.NoError(t, err)
		unknown := issueOffline(t)

		for name, raw := range map[string]string{"unknown": unknown, "valid": valid} {
			g := &gatedStore{Store: s, release: make(chan struct{})}
			k := newKeys(t, g, gateway.KeysOptions{})
			var started, done sync.WaitGroup
			var refused, ok atomic.Int64
			for range 1000 {
				started.Add(1)
				done.Go(func() {
					started.Done()
					_, err := k.Verify(ctx, raw)
					switch {
					case err == nil:
						ok.Add(1)
					case assert.ErrorIs(t, err, gateway.ErrInvalidKey):
						refused.Add(1)
					}
				})
			}
			started.Wait()
			// Let the callers reach the look-up: without coalescing, each
			// would be waiting in a query of its own by now.
			time.Sleep(200 * time.Millisecond)
			close(g.release)
			done.Wait()
			assert.EqualValues(t, 1, g.lookups.Load(), "%s key: database queries for 1,000 concurrent Verify calls", name)
			if name == "valid" {
				assert.EqualValues(t, 1000, ok.Load())
			} else {
				assert.EqualValues(t, 1000, refused.Load())
			}
		}
	})
}

// A caller that gives up waiting for a shared look-up gets ErrUnavailable,
// at its own deadline; when the caller running the query gives up, the
// others ask again themselves.
func TestKeysLookupWaitHonoursContext(t *testing.T) {
	testdb.EachEngine(t, func(t *testing.T, s db.Store) {
		g := &gatedStore{Store: s, release: make(chan struct{})}
		k := newKeys(t, g, gateway.KeysOptions{})
		raw := issueOffline(t)
		short, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		waiter := make(chan error, 1)
		go func() {
			time.Sleep(20 * time.Millisecond) // after the first caller started the query
			_, err := k.Verify(t.Context(), raw)
			waiter <- err
		}()
		_, err := k.Verify(short, raw)
		assert.ErrorIs(t, err, db.ErrUnavailable)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.NotErrorIs(t, err, gateway.ErrInvalidKey)
		time.Sleep(50 * time.Millisecond) // the waiter asks again, and waits for the gate
		close(g.release)
		assert.ErrorIs(t, <-waiter, gateway.ErrInvalidKey, "the waiter's own query found the key unknown")
		assert.EqualValues(t, 2, g.lookups.Load(), "the query the first caller left, then the waiter's")
	})
}
