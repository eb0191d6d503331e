package gateway_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/db/postgres"
	"github.com/mcpstore/mcpstore/db/sqlite"
	"github.com/mcpstore/mcpstore/gateway"
)

// clock is a settable clock for Keys.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().UTC().Truncate(time.Microsecond)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newKeys returns Keys on s, closed when the test ends.
func newKeys(t *testing.T, s db.Store, opts gateway.KeysOptions) *gateway.Keys {
	t.Helper()
	k, err := gateway.NewKeys(t.Context(), s, opts)
	require.NoError(t, err)
	t.Cleanup(func() { k.Close(context.Background()) })
	return k
}

// refusal returns the reason of a refused key, failing when err is not one.
func refusal(t *testing.T, err error) gateway.KeyRefusal {
	t.Helper()
	require.ErrorIs(t, err, gateway.ErrInvalidKey)
	assert.Equal(t, "invalid API key", err.Error(), "the client is told nothing more")
	var ke *gateway.KeyError
	require.ErrorAs(t, err, &ke)
	return ke.Reason
}

func TestKeysIssueVerify(t *testing.T) {
	eachEngine(t, func(t *testing.T, s db.Store) {
		ctx := t.Context()
		k := newKeys(t, s, gateway.KeysOptions{})
		exp := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
		raw, info, err := k.Issue(ctx, gateway.IssueOptions{
			Name: "agent", Owner: "alice", Roles: []string{"agent"}, Permissions: []string{"tools:call:*"},
			ExpiresAt: exp, Metadata: json.RawMessage(`{"team":"core"}`),
		})
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(raw, gateway.KeyPrefix))
		assert.Len(t, raw, gateway.KeyLen)
		assert.Equal(t, raw[:gateway.KeyDisplayLen], info.Prefix)
		assert.Equal(t, "agent", info.Name)
		assert.Equal(t, "alice", info.Owner)
		assert.True(t, info.Active)
		assert.True(t, exp.Equal(info.ExpiresAt))
		assert.Equal(t, `{"team":"core"}`, string(info.Metadata))

		p, err := k.Verify(ctx, raw)
		require.NoError(t, err)
		assert.Equal(t, info.ID, p.KeyID)
		assert.Equal(t, "agent", p.KeyName)
		assert.Equal(t, "alice", p.Owner)
		assert.Equal(t, []string{"agent"}, p.Roles)
		assert.Equal(t, []string{"tools:call:*"}, p.Permissions)
		assert.True(t, exp.Equal(p.ExpiresAt))
		assert.True(t, exp.Equal(p.ValidUntil), "no revocation set: valid until it expires")
		assert.Equal(t, gateway.NewGrants([]string{"tools:call:*"}), p.Grants)
		p2, err := k.Verify(ctx, raw) // from the cache
		require.NoError(t, err)
		assert.Equal(t, p, p2)

		// Stored: the SHA-256 and the display prefix, nothing else of the key.
		row, err := s.APIKeys().Get(ctx, info.ID)
		require.NoError(t, err)
		assert.Equal(t, info.Prefix, row.Prefix)
		sum := sha256.Sum256([]byte(raw))
		assert.Equal(t, hex.EncodeToString(sum[:]), row.KeyHash, "the documented form")
		assert.Equal(t, gateway.HashKey(raw), row.KeyHash)
		byHash, err := s.APIKeys().GetByHash(ctx, gateway.HashKey(raw))
		require.NoError(t, err)
		assert.Equal(t, info.ID, byHash.ID)

		// Two keys differ.
		raw2, _, err := k.Issue(ctx, gateway.IssueOptions{Name: "other"})
		require.NoError(t, err)
		assert.NotEqual(t, raw, raw2)

		got, err := k.Get(ctx, info.ID)
		require.NoError(t, err)
		assert.Equal(t, info.ID, got.ID)
		list, err := k.List(ctx, db.Page{})
		require.NoError(t, err)
		assert.Len(t, list, 2)
		mine, err := k.ListByOwner(ctx, "alice", false, db.Page{})
		require.NoError(t, err)
		require.Len(t, mine, 1)
		assert.Equal(t, info.ID, mine[0].ID)
		require.NoError(t, s.APIKeys().Deactivate(ctx, info.ID))
		active, err := k.ListByOwner(ctx, "alice", true, db.Page{})
		require.NoError(t, err)
		assert.Empty(t, active, "only the active keys")
		mine, err = k.ListByOwner(ctx, "alice", false, db.Page{})
		require.NoError(t, err)
		assert.Len(t, mine, 1)
	})
}

// KeyInfo, what List and Get return, has no field that could carry a hash.
func TestKeyInfoHasNoHash(t *testing.T) {
	ty := reflect.TypeFor[gateway.KeyInfo]()
	for i := range ty.NumField() {
		assert.NotContains(t, strings.ToLower(ty.Field(i).Name), "hash")
	}
	ty = reflect.TypeFor[gateway.Principal]()
	for i := range ty.NumField() {
		assert.NotContains(t, strings.ToLower(ty.Field(i).Name), "hash")
	}
}

func TestKeysIssueBadInput(t *testing.T) {
	eachEngine(t, func(t *testing.T, s db.Store) {
		ctx := t.Context()
		clk := newClock()
		k := newKeys(t, s, gateway.KeysOptions{MaxLifetime: 24 * time.Hour, Now: clk.Now})
		for name, in := range map[string]gateway.IssueOptions{
			"NoName":       {},
			"PastExpiry":   {Name: "k", ExpiresAt: clk.Now().Add(-time.Second)},
			"BeyondMax":    {Name: "k", ExpiresAt: clk.Now().Add(25 * time.Hour)},
			"BadMetadata":  {Name: "k", Metadata: json.RawMessage(`[1]`)},
			"NULInOwner":   {Name: "k", Owner: "a\x00"},
			"EmptyRole":    {Name: "k", Roles: []string{""}},
			"LongName":     {Name: strings.Repeat("n", db.MaxNameLen+1)},
			"BadJSONMetad": {Name: "k", Metadata: json.RawMessage(`{`)},
		} {
			raw, _, err := k.Issue(ctx, in)
			assert.ErrorIs(t, err, db.ErrInvalid, name)
			assert.Empty(t, raw, name)
		}
		keys, err := k.List(ctx, db.Page{})
		require.NoError(t, err)
		assert.Empty(t, keys, "nothing written")

		// No expiry under a maximum lifetime: the maximum.
		_, info, err := k.Issue(ctx, gateway.IssueOptions{Name: "k"})
		require.NoError(t, err)
		assert.True(t, clk.Now().Add(24*time.Hour).Equal(info.ExpiresAt), "expires %v", info.ExpiresAt)
		_, info, err = k.Issue(ctx, gateway.IssueOptions{Name: "k", ExpiresAt: clk.Now().Add(time.Hour)})
		require.NoError(t, err)
		assert.True(t, clk.Now().Add(time.Hour).Equal(info.ExpiresAt))

		// Without a maximum, a key may live forever.
		k2 := newKeys(t, s, gateway.KeysOptions{})
		_, info, err = k2.Issue(ctx, gateway.IssueOptions{Name: "forever"})
		require.NoError(t, err)
		assert.True(t, info.ExpiresAt.IsZero())
		_, err = gateway.NewKeys(ctx, s, gateway.KeysOptions{MaxLifetime: -1})
		assert.ErrorIs(t, err, db.ErrInvalid)
	})
}

// malformedKeys returns keys refused by their shape alone.
func malformedKeys(t *testing.T, k *gateway.Keys) map[string]string {
	raw, _, err := k.Issue(t.Context(), gateway.IssueOptions{Name: "shape"})
	require.NoError(t, err)
	typo := []byte(raw)
	typo[20] ^= 'a' ^ 'b'
	if typo[20] == raw[20] {
		typo[20] = 'c'
	}
	return map[string]string{
		"WrongPrefix": "mcx_" + raw[4:],
		"BadChecksum": string(typo),
		"Short":       raw[:len(raw)-1],
		"Long":        raw + "a",
		"NonBase62":   raw[:20] + "-" + raw[21:],
		"Empty":       "",
		"Bearer":      "Bearer " + raw,
	}
}

func TestKeysMalformedNeverQuery(t *testing.T) {
	eachEngine(t, func(t *testing.T, s db.Store) {
		ctx := t.Context()
		k := newKeys(t, s, gateway.KeysOptions{})
		bad := malformedKeys(t, k)
		fresh := issueOffline(t)

		// With the database gone, malformed keys are still refused as
		// invalid: no query was made.
		require.NoError(t, s.Close())
		for name, raw := range bad {
			_, err := k.Verify(ctx, raw)
			assert.Equal(t, gateway.KeyMalformed, refusal(t, err), name)
		}
		// Whereas a well-formed key needs the database, and its failure
		// is not "invalid key" (503, not 401).
		_, err := k.Verify(ctx, fresh)
		require.Error(t, err)
		assert.NotErrorIs(t, err, gateway.ErrInvalidKey)
		var ke *gateway.KeyError
		assert.False(t, errors.As(err, &ke))
		var dbErr *db.Error
		assert.ErrorAs(t, err, &dbErr, "the store's own error")
	})
}

// issueOffline returns a well-formed key that no store holds.
func issueOffline(t *testing.T) string {
	s := newStore(t, "sqlite")
	k := newKeys(t, s, gateway.KeysOptions{})
	raw, _, err := k.Issue(t.Context(), gateway.IssueOptions{Name: "elsewhere"})
	require.NoError(t, err)
	return raw
}

func TestKeysUnknownCachedBriefly(t *testing.T) {
	eachEngine(t, func(t *testing.T, s db.Store) {
		ctx := t.Context()
		clk := newClock()
		k := newKeys(t, s, gateway.KeysOptions{Now: clk.Now})
		raw := issueOffline(t)
		_, err := k.Verify(ctx, raw)
		assert.Equal(t, gateway.KeyUnknown, refusal(t, err))

		require.NoError(t, s.Close())
		_, err = k.Verify(ctx, raw)
		assert.Equal(t, gateway.KeyUnknown, refusal(t, err), "the unknown key is cached: no query")
		clk.Add(5 * time.Second)
		_, err = k.Verify(ctx, raw)
		assert.NotErrorIs(t, err, gateway.ErrInvalidKey, "after 5s the database is asked again")
	})
}

func TestKeysCachedAndExpiryChecked(t *testing.T) {
	eachEngine(t, func(t *testing.T, s db.Store) {
		ctx := t.Context()
		clk := newClock()
		k := newKeys(t, s, gateway.KeysOptions{Now: clk.Now, CacheTTL: 24 * time.Hour})
		raw, info, err := k.Issue(ctx, gateway.IssueOptions{Name: "k", ExpiresAt: clk.Now().Add(time.Hour)})
		require.NoError(t, err)
		_, err = k.Verify(ctx, raw)
		require.NoError(t, err)

		require.NoError(t, s.Close())
		clk.Add(59 * time.Minute)
		_, err = k.Verify(ctx, raw)
		require.NoError(t, err, "served from the cache with the database closed")
		clk.Add(time.Minute)
		_, err = k.Verify(ctx, raw)
		assert.Equal(t, gateway.KeyExpired, refusal(t, err), "expiry is checked even when cached")
		var ke *gateway.KeyError
		require.ErrorAs(t, err, &ke)
		assert.Equal(t, info.ID, ke.KeyID)
	})
}

// unlistened is a Store without its db.KeyChangeListener side.
type unlistened struct{ db.Store }

func TestKeysCacheTTL(t *testing.T) {
	eachEngine(t, func(t *testing.T, s db.Store) {
		ctx := t.Context()
		clk := newClock()
		// Without a change listener (a Store that is no
		// db.KeyChangeListener, or while a listener is reconnecting), the
		// TTL bounds how long a change made elsewhere goes unseen.
		k := newKeys(t, unlistened{s}, gateway.KeysOptions{Now: clk.Now})
		raw, info, err := k.Issue(ctx, gateway.IssueOptions{Name: "k"})
		require.NoError(t, err)
		_, err = k.Verify(ctx, raw)
		require.NoError(t, err)
		// Deactivated behind Keys' back: the cache answers for 30s.
		require.NoError(t, s.APIKeys().Deactivate(ctx, info.ID))
		clk.Add(29 * time.Second)
		_, err = k.Verify(ctx, raw)
		require.NoError(t, err)
		clk.Add(time.Second)
		_, err = k.Verify(ctx, raw)
		assert.Equal(t, gateway.KeyInactive, refusal(t, err))
	})
}

func TestKeysRefusals(t *testing.T) {
	eachEngine(t, func(t *testing.T, s db.Store) {
		ctx := t.Context()
		k := newKeys(t, s, gateway.KeysOptions{})
		issue := func() (string, gateway.KeyInfo) {
			raw, info, err := k.Issue(ctx, gateway.IssueOptions{Name: "k"})
			require.NoError(t, err)
			return raw, info
		}

		raw, info := issue()
		_, err := k.Verify(ctx, raw)
		require.NoError(t, err)
		require.NoError(t, k.Revoke(ctx, info.ID, "leaked"))
		_, err = k.Verify(ctx, raw)
		assert.Equal(t, gateway.KeyRevoked, refusal(t, err), "dropped from the cache at once")
		got, err := k.Get(ctx, info.ID)
		require.NoError(t, err)
		assert.Equal(t, "leaked", got.RevokeReason)
		assert.WithinDuration(t, time.Now(), got.RevokedAt, time.Minute)
		assert.ErrorIs(t, k.Revoke(ctx, "missing", "x"), db.ErrNotFound)

		raw, info = issue()
		require.NoError(t, s.APIKeys().Deactivate(ctx, info.ID))
		_, err = k.Verify(ctx, raw)
		assert.Equal(t, gateway.KeyInactive, refusal(t, err))

		// Expired in the database (written there directly: Issue refuses
		// a past expiry).
		raw, info = issue()
		_, err = s.APIKeys().Update(ctx, info.ID, db.APIKeyUpdate{ExpiresAt: db.Set(time.Now().Add(-time.Second))})
		require.NoError(t, err)
		_, err = k.Verify(ctx, raw)
		assert.Equal(t, gateway.KeyExpired, refusal(t, err))

		_, err = k.Verify(ctx, issueOffline(t))
		assert.Equal(t, gateway.KeyUnknown, refusal(t, err))
	})
}

func TestKeysRotate(t *testing.T) {
	eachEngine(t, func(t *testing.T, s db.Store) {
		ctx := t.Context()
		clk := newClock()
		k := newKeys(t, s, gateway.KeysOptions{Now: clk.Now})
		oldRaw, old, err := k.Issue(ctx, gateway.IssueOptions{
			Name: "agent", Owner: "alice", Roles: []string{"r"}, Permissions: []string{"p"},
			ExpiresAt: clk.Now().Add(48 * time.Hour), Metadata: json.RawMessage(`{"a":1}`),
		})
		require.NoError(t, err)
		_, err = k.Verify(ctx, oldRaw)
		require.NoError(t, err)

		clk.Add(time.Hour)
		newRaw, nu, err := k.Rotate(ctx, old.ID, 10*time.Minute)
		require.NoError(t, err)
		assert.NotEqual(t, oldRaw, newRaw)
		assert.NotEqual(t, old.ID, nu.ID)
		assert.Equal(t, []any{"agent", "alice", []string{"r"}, []string{"p"}, `{"a":1}`},
			[]any{nu.Name, nu.Owner, nu.Roles, nu.Permissions, string(nu.Metadata)})
		// The lifetime carries over (measured from created_at, the
		// database's clock, a moment after the test's clock started).
		assert.WithinDuration(t, clk.Now().Add(48*time.Hour), nu.ExpiresAt, 5*time.Second)

		p, err := k.Verify(ctx, newRaw)
		require.NoError(t, err)
		assert.Equal(t, nu.ID, p.KeyID)
		clk.Add(9 * time.Minute)
		p, err = k.Verify(ctx, oldRaw)
		require.NoError(t, err, "the old key works during the grace period")
		assert.Equal(t, old.ID, p.KeyID)
		clk.Add(time.Minute)
		_, err = k.Verify(ctx, oldRaw)
		assert.Equal(t, gateway.KeyRevoked, refusal(t, err), "and not after")
		_, err = k.Verify(ctx, newRaw)
		require.NoError(t, err)

		got, err := k.Get(ctx, old.ID)
		require.NoError(t, err)
		assert.Contains(t, got.RevokeReason, nu.ID)

		_, _, err = k.Rotate(ctx, old.ID, 0)
		assert.ErrorIs(t, err, db.ErrConflict, "rotated already")
		_, _, err = k.Rotate(ctx, nu.ID, -time.Second)
		assert.ErrorIs(t, err, db.ErrInvalid)
		_, _, err = k.Rotate(ctx, "missing", 0)
		assert.ErrorIs(t, err, db.ErrNotFound)

		// Without grace the old key stops at once.
		third, _, err := k.Rotate(ctx, nu.ID, 0)
		require.NoError(t, err)
		_, err = k.Verify(ctx, newRaw)
		assert.Equal(t, gateway.KeyRevoked, refusal(t, err))
		_, err = k.Verify(ctx, third)
		require.NoError(t, err)
	})
}

// Of 32 rotations of one key at once, exactly one replaces it and the
// others fail with ErrConflict: never two replacement keys (reading the key
// without APIKeys.GetForUpdate's lock, PostgreSQL made several).
func TestKeysRotateConcurrently(t *testing.T) {
	eachEngine(t, func(t *testing.T, s db.Store) {
		ctx := t.Context()
		k := newKeys(t, s, gateway.KeysOptions{})
		_, old, err := k.Issue(ctx, gateway.IssueOptions{Name: "k"})
		require.NoError(t, err)
		const n = 32
		errs := make(chan error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				<-start
				_, _, err := k.Rotate(ctx, old.ID, time.Minute)
				errs <- err
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		ok := 0
		for err := range errs {
			if err == nil {
				ok++
				continue
			}
			assert.ErrorIs(t, err, db.ErrConflict)
		}
		assert.Equal(t, 1, ok, "one rotation succeeds")
		keys, err := k.List(ctx, db.Page{})
		require.NoError(t, err)
		assert.Len(t, keys, 2, "the old key and one replacement")
	})
}

// The grace period on the real clock, with a short duration.
func TestKeysRotateGraceRealClock(t *testing.T) {
	eachEngine(t, func(t *testing.T, s db.Store) {
		ctx := t.Context()
		k := newKeys(t, s, gateway.KeysOptions{})
		oldRaw, old, err := k.Issue(ctx, gateway.IssueOptions{Name: "k"})
		require.NoError(t, err)
		const grace = 300 * time.Millisecond
		start := time.Now()
		_, _, err = k.Rotate(ctx, old.ID, grace)
		require.NoError(t, err)
		_, err = k.Verify(ctx, oldRaw)
		if time.Since(start) < grace { // a slow machine may be past it already
			require.NoError(t, err, "works within the grace period")
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			_, err = k.Verify(ctx, oldRaw)
			if err != nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		elapsed := time.Since(start)
		assert.Equal(t, gateway.KeyRevoked, refusal(t, err))
		assert.GreaterOrEqual(t, elapsed, grace, "refused only after the grace period")
		t.Logf("old key refused %v after a rotation with %v of grace", elapsed, grace)
	})
}

// countingStore counts the batched last-use writes of a real Store.
type countingStore struct {
	db.Store
	mu      sync.Mutex
	batches int
	uses    []db.KeyUse
}

func (c *countingStore) APIKeys() db.APIKeyRepository { return countingKeys{c.Store.APIKeys(), c} }

type countingKeys struct {
	db.APIKeyRepository
	c *countingStore
}

func (r countingKeys) UpdateLastUsedBatch(ctx context.Context, uses []db.KeyUse) (int64, error) {
	r.c.mu.Lock()
	r.c.batches++
	r.c.uses = append(r.c.uses, uses...)
	r.c.mu.Unlock()
	return r.APIKeyRepository.UpdateLastUsedBatch(ctx, uses)
}

func (c *countingStore) written() (int, []db.KeyUse) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.batches, append([]db.KeyUse(nil), c.uses...)
}

func TestKeysLastUsedCoalesced(t *testing.T) {
	for _, cache := range []int{0, -1} {
		t.Run(fmt.Sprintf("cache%d", cache), func(t *testing.T) {
			eachEngine(t, func(t *testing.T, s db.Store) {
				ctx := t.Context()
				clk := newClock()
				cs := &countingStore{Store: s}
				k, err := gateway.NewKeys(ctx, cs, gateway.KeysOptions{
					Now: clk.Now, CacheSize: cache, FlushEvery: time.Hour, LastUsedInterval: time.Minute,
				})
				require.NoError(t, err)
				rawA, a, err := k.Issue(ctx, gateway.IssueOptions{Name: "a"})
				require.NoError(t, err)
				rawB, b, err := k.Issue(ctx, gateway.IssueOptions{Name: "b"})
				require.NoError(t, err)

				t0 := clk.Now()
				for range 50 { // uses within one interval
					_, err := k.Verify(ctx, rawA)
					require.NoError(t, err)
					_, err = k.Verify(ctx, rawB)
					require.NoError(t, err)
					clk.Add(time.Second)
				}
				require.NoError(t, k.Flush(ctx))
				n, uses := cs.written()
				assert.Equal(t, 1, n, "one statement for the batch")
				assert.Len(t, uses, 2, "one use per key")
				for _, id := range []string{a.ID, b.ID} {
					got, err := k.Get(ctx, id)
					require.NoError(t, err)
					assert.True(t, t0.Equal(got.LastUsedAt), "last_used_at %v, want %v", got.LastUsedAt, t0)
				}

				// Still within the interval of the first use: nothing new.
				_, err = k.Verify(ctx, rawA)
				require.NoError(t, err)
				require.NoError(t, k.Flush(ctx))
				n, _ = cs.written()
				assert.Equal(t, 1, n, "nothing to write")

				// An interval later: one more write, done by Close.
				clk.Add(10 * time.Second)
				t1 := clk.Now()
				for range 3 {
					_, err = k.Verify(ctx, rawA)
					require.NoError(t, err)
				}
				require.NoError(t, k.Close(ctx))
				n, uses = cs.written()
				assert.Equal(t, 2, n)
				assert.Len(t, uses, 3)
				got, err := k.Get(ctx, a.ID)
				require.NoError(t, err)
				assert.True(t, t1.Equal(got.LastUsedAt), "written on Close: %v, want %v", got.LastUsedAt, t1)
			})
		})
	}
}

// The background writer flushes on its own.
func TestKeysLastUsedFlushedInBackground(t *testing.T) {
	eachEngine(t, func(t *testing.T, s db.Store) {
		ctx := t.Context()
		k := newKeys(t, s, gateway.KeysOptions{FlushEvery: 20 * time.Millisecond})
		raw, info, err := k.Issue(ctx, gateway.IssueOptions{Name: "k"})
		require.NoError(t, err)
		_, err = k.Verify(ctx, raw)
		require.NoError(t, err)
		deadline := time.Now().Add(10 * time.Second)
		for {
			got, err := k.Get(ctx, info.ID)
			require.NoError(t, err)
			if !got.LastUsedAt.IsZero() {
				break
			}
			require.True(t, time.Now().Before(deadline), "last_used_at not written after 10s")
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// twoReplicas opens two Stores on one new database of engine, as two
// gateway processes would, and a Keys on each; it returns the first Store
// too.
func twoReplicas(t *testing.T, engine string) (db.Store, *gateway.Keys, *gateway.Keys) {
	t.Helper()
	url := newURL(t, engine)
	s1, s2 := openURL(t, url), openURL(t, url)
	return s1, newKeys(t, s1, gateway.KeysOptions{}), newKeys(t, s2, gateway.KeysOptions{})
}

// Another Keys on another Store of the same database stops accepting a key
// revoked here within 100 ms: on PostgreSQL through LISTEN/NOTIFY, on
// SQLite through the change log it polls.
func TestKeysRevokeReachesOtherStores(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			ctx := t.Context()
			_, k1, k2 := twoReplicas(t, engine)
			raw, info, err := k1.Issue(ctx, gateway.IssueOptions{Name: "shared"})
			require.NoError(t, err)
			_, err = k2.Verify(ctx, raw) // cached in k2
			require.NoError(t, err)
			_, err = k2.Verify(ctx, raw)
			require.NoError(t, err)

			require.NoError(t, k1.Revoke(ctx, info.ID, "test"))
			start := time.Now()
			elapsed := pollRefused(t, k2, raw, start, gateway.KeyRevoked)
			t.Logf("revocation reached the other store's cache in %v", elapsed)
			assert.Less(t, elapsed, 100*time.Millisecond)
		})
	}
}

// A key deactivated, or given other permissions, through another Store
// (the repository, not Keys) reaches this Keys' cache within 100 ms too:
// the database itself records the change (a trigger), on both engines.
func TestKeysOtherChangesReachOtherStores(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			ctx := t.Context()
			s1, k1, k2 := twoReplicas(t, engine)
			raw, info, err := k1.Issue(ctx, gateway.IssueOptions{Name: "k", Permissions: []string{"tools:call:*"}})
			require.NoError(t, err)
			p, err := k2.Verify(ctx, raw) // cached in k2
			require.NoError(t, err)
			require.Equal(t, []string{"tools:call:*"}, p.Permissions)

			_, err = s1.APIKeys().Update(ctx, info.ID, db.APIKeyUpdate{Permissions: db.Set([]string{"tools:call:search"})})
			require.NoError(t, err)
			start := time.Now()
			for {
				p, err := k2.Verify(ctx, raw)
				require.NoError(t, err)
				if slices.Equal(p.Permissions, []string{"tools:call:search"}) {
					break
				}
				require.Less(t, time.Since(start), 10*time.Second, "new permissions not seen after 10s")
				time.Sleep(time.Millisecond)
			}
			elapsed := time.Since(start)
			t.Logf("new permissions reached the other store's cache in %v", elapsed)
			assert.Less(t, elapsed, 100*time.Millisecond)

			require.NoError(t, s1.APIKeys().Deactivate(ctx, info.ID))
			elapsed = pollRefused(t, k2, raw, time.Now(), gateway.KeyInactive)
			t.Logf("deactivation reached the other store's cache in %v", elapsed)
			assert.Less(t, elapsed, 100*time.Millisecond)
		})
	}
}

// pollRefused verifies raw until it is refused for the reason want, and
// returns how long after start that was.
func pollRefused(t *testing.T, k *gateway.Keys, raw string, start time.Time, want gateway.KeyRefusal) time.Duration {
	t.Helper()
	deadline := start.Add(10 * time.Second)
	for {
		_, err := k.Verify(t.Context(), raw)
		if err != nil {
			elapsed := time.Since(start)
			assert.Equal(t, want, refusal(t, err))
			return elapsed
		}
		require.True(t, time.Now().Before(deadline), "still accepted after 10s")
		time.Sleep(time.Millisecond)
	}
}

// The listener reconnects when its connection is lost, and revocations
// made after that still arrive.
func TestKeysListenerReconnects(t *testing.T) {
	ctx := t.Context()
	url := newURL(t, "postgres")
	s1, s2 := openURL(t, url), openURL(t, url)
	k1 := newKeys(t, s1, gateway.KeysOptions{})
	k2 := newKeys(t, s2, gateway.KeysOptions{})

	pool := s1.(*postgres.Store).Pool()
	listeners := func() (pids []int32) {
		rows, err := pool.Query(ctx, `SELECT pid FROM pg_stat_activity
			WHERE datname = current_database() AND state = 'idle' AND query LIKE 'LISTEN mcpstore_api_keys%'`)
		require.NoError(t, err)
		for rows.Next() {
			var pid int32
			require.NoError(t, rows.Scan(&pid))
			pids = append(pids, pid)
		}
		require.NoError(t, rows.Err())
		return pids
	}
	before := listeners()
	require.Len(t, before, 2, "both Keys listen")
	var killed int64
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM unnest($1::int[]) AS pid`, before).Scan(&killed))
	require.EqualValues(t, 2, killed)

	// Wait for both listeners to be back on new connections.
	deadline := time.Now().Add(10 * time.Second)
	for {
		now := listeners()
		if len(now) == 2 && !slices.Contains(before, now[0]) && !slices.Contains(before, now[1]) {
			break
		}
		require.True(t, time.Now().Before(deadline), "listeners not back within 10s: %v", now)
		time.Sleep(5 * time.Millisecond)
	}

	raw, info, err := k1.Issue(ctx, gateway.IssueOptions{Name: "k"})
	require.NoError(t, err)
	_, err = k2.Verify(ctx, raw)
	require.NoError(t, err)
	require.NoError(t, k1.Revoke(ctx, info.ID, "test"))
	start := time.Now()
	elapsed := pollRefused(t, k2, raw, start, gateway.KeyRevoked)
	t.Logf("revocation after reconnecting reached the other store's cache in %v", elapsed)
	assert.Less(t, elapsed, 100*time.Millisecond)
}

// A raw key never reaches the database or the logs, whatever happens to it.
func TestKeysRawKeyNeverStoredOrLogged(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			ctx := t.Context()
			url := newURL(t, engine)
			s := openURL(t, url)
			var logs bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			k := newKeys(t, s, gateway.KeysOptions{Logger: logger, CacheSize: -1})

			var raws []string
			raw, info, err := k.Issue(ctx, gateway.IssueOptions{Name: "a", Owner: "alice", Metadata: json.RawMessage(`{"x":1}`)})
			require.NoError(t, err)
			raws = append(raws, raw)
			_, err = k.Verify(ctx, raw)
			require.NoError(t, err)
			rotated, _, err := k.Rotate(ctx, info.ID, time.Minute)
			require.NoError(t, err)
			raws = append(raws, rotated)
			_, err = k.Verify(ctx, rotated)
			require.NoError(t, err)
			raw3, info3, err := k.Issue(ctx, gateway.IssueOptions{Name: "c"})
			require.NoError(t, err)
			raws = append(raws, raw3)
			require.NoError(t, k.Revoke(ctx, info3.ID, "done"))
			_, err = k.Verify(ctx, raw3)
			require.Error(t, err)
			for _, bad := range malformedKeys(t, k) {
				_, err = k.Verify(ctx, bad)
				require.Error(t, err)
			}
			_, _, err = k.Issue(ctx, gateway.IssueOptions{}) // refused
			require.Error(t, err)
			require.NoError(t, k.Flush(ctx))
			require.NotZero(t, logs.Len(), "the logger was used")

			dump := dumpDatabase(t, s, url)
			for _, r := range raws {
				secret := r[gateway.KeyDisplayLen:] // all but the display prefix
				for where, text := range map[string]string{"database": dump, "logs": logs.String()} {
					assert.NotContains(t, text, r, where)
					assert.NotContains(t, text, secret, where)
					assert.NotContains(t, text, secret[:20], where)
				}
			}
			assert.Contains(t, dump, info.Prefix, "the dump does hold the stored rows")
		})
	}
}

// dumpDatabase returns every row of every table as text, and on SQLite the
// bytes of the database files too.
func dumpDatabase(t *testing.T, s db.Store, url string) string {
	ctx := t.Context()
	var out strings.Builder
	switch st := s.(type) {
	case *postgres.Store:
		rows, err := st.Pool().Query(ctx, `SELECT quote_ident(table_schema) || '.' || quote_ident(table_name)
			FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')`)
		require.NoError(t, err)
		var tables []string
		for rows.Next() {
			var name string
			require.NoError(t, rows.Scan(&name))
			tables = append(tables, name)
		}
		require.NoError(t, rows.Err())
		require.NotEmpty(t, tables)
		for _, table := range tables {
			rows, err := st.Pool().Query(ctx, "SELECT t::text FROM "+table+" AS t")
			require.NoError(t, err)
			for rows.Next() {
				var row string
				require.NoError(t, rows.Scan(&row))
				out.WriteString(row + "\n")
			}
			require.NoError(t, rows.Err())
		}
	case *sqlite.Store:
		d := st.DB()
		rows, err := d.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table'`)
		require.NoError(t, err)
		var tables []string
		for rows.Next() {
			var name string
			require.NoError(t, rows.Scan(&name))
			tables = append(tables, name)
		}
		require.NoError(t, rows.Err())
		require.NoError(t, rows.Close())
		for _, table := range tables {
			cols, err := d.QueryContext(ctx, `SELECT name FROM pragma_table_info(?)`, table)
			require.NoError(t, err)
			var exprs []string
			for cols.Next() {
				var c string
				require.NoError(t, cols.Scan(&c))
				exprs = append(exprs, `coalesce(CAST("`+c+`" AS TEXT), '')`)
			}
			require.NoError(t, cols.Close())
			rows, err := d.QueryContext(ctx, `SELECT `+strings.Join(exprs, ` || '|' || `)+` FROM "`+table+`"`)
			require.NoError(t, err)
			for rows.Next() {
				var row string
				require.NoError(t, rows.Scan(&row))
				out.WriteString(row + "\n")
			}
			require.NoError(t, rows.Err())
			require.NoError(t, rows.Close())
		}
		path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite:"), "//")
		files, err := filepath.Glob(path + "*") // the database, its WAL and shared memory
		require.NoError(t, err)
		require.NotEmpty(t, files)
		for _, f := range files {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			out.Write(b)
		}
	default:
		t.Fatalf("unknown store %T", s)
	}
	return out.String()
}

// Verify races with revocations, rotations and flushes without a data race
// or a revoked key accepted after Revoke returned.
func TestKeysConcurrent(t *testing.T) {
	eachEngine(t, func(t *testing.T, s db.Store) {
		ctx := t.Context()
		k := newKeys(t, s, gateway.KeysOptions{LastUsedInterval: time.Nanosecond})
		var raws []string
		var ids []string
		for i := range 8 {
			raw, info, err := k.Issue(ctx, gateway.IssueOptions{Name: fmt.Sprint("k", i)})
			require.NoError(t, err)
			raws, ids = append(raws, raw), append(ids, info.ID)
		}
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for g := range 4 {
			wg.Go(func() {
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					_, err := k.Verify(ctx, raws[(g+i)%len(raws)])
					if err != nil && !errors.Is(err, gateway.ErrInvalidKey) {
						t.Errorf("verify: %v", err)
						return
					}
				}
			})
		}
		for i := range 4 {
			require.NoError(t, k.Revoke(ctx, ids[i], "race"))
			_, err := k.Verify(ctx, raws[i])
			assert.Equal(t, gateway.KeyRevoked, refusal(t, err))
			require.NoError(t, k.Flush(ctx))
		}
		close(stop)
		wg.Wait()
	})
}
