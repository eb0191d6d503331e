package dbtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
)

// NewKey returns a valid APIKeyCreate whose name, prefix and hash derive
// from n.
func NewKey(n int) db.APIKeyCreate {
	return db.APIKeyCreate{
		Name:    fmt.Sprintf("key-%d", n),
		Prefix:  fmt.Sprintf("mcp_%04d", n),
		KeyHash: fmt.Sprintf("%064x", n),
	}
}

func exerciseAPIKeys(t *testing.T, e Engine) {
	t.Run("CreateGet", func(t *testing.T) {
		ctx, s := setup(t, e)
		exp := time.Date(2030, 1, 2, 3, 4, 5, 123456000, time.UTC)
		in := db.APIKeyCreate{
			ID: "key-1", Name: "agent", Prefix: "mcp_AbCd", KeyHash: fmt.Sprintf("%064x", 1),
			Owner: "alice", Roles: []string{"agent", "reader"}, Permissions: []string{"tools:call:*"},
			ExpiresAt: exp, Metadata: json.RawMessage(`{"team":"core"}`),
		}
		created, err := s.APIKeys().Create(ctx, in)
		require.NoError(t, err)
		assert.Equal(t, "key-1", created.ID)
		assert.Equal(t, "agent", created.Name)
		assert.Equal(t, "mcp_AbCd", created.Prefix)
		assert.Equal(t, in.KeyHash, created.KeyHash)
		assert.Equal(t, "alice", created.Owner)
		assert.Equal(t, []string{"agent", "reader"}, created.Roles)
		assert.Equal(t, []string{"tools:call:*"}, created.Permissions)
		assert.True(t, created.IsActive)
		assert.True(t, exp.Equal(created.ExpiresAt), "expires_at %v", created.ExpiresAt)
		assert.True(t, created.LastUsedAt.IsZero())
		assert.WithinDuration(t, time.Now(), created.CreatedAt, time.Minute)
		assert.Equal(t, `{"team":"core"}`, string(created.Metadata))

		got, err := s.APIKeys().Get(ctx, "key-1")
		require.NoError(t, err)
		assert.Equal(t, created, got)
		byHash, err := s.APIKeys().GetByHash(ctx, in.KeyHash)
		require.NoError(t, err)
		assert.Equal(t, created, byHash)
	})

	t.Run("CreateGeneratesID", func(t *testing.T) {
		ctx, s := setup(t, e)
		a, err := s.APIKeys().Create(ctx, NewKey(1))
		require.NoError(t, err)
		b, err := s.APIKeys().Create(ctx, NewKey(2))
		require.NoError(t, err)
		assert.NotEmpty(t, a.ID)
		assert.NotEqual(t, a.ID, b.ID)
		assert.Equal(t, []string{}, a.Roles, "no roles is an empty list, not nil")
	})

	t.Run("CreateConflict", func(t *testing.T) {
		ctx, s := setup(t, e)
		k, err := s.APIKeys().Create(ctx, NewKey(1))
		require.NoError(t, err)
		dupHash := NewKey(2)
		dupHash.KeyHash = k.KeyHash
		_, err = s.APIKeys().Create(ctx, dupHash)
		assert.ErrorIs(t, err, db.ErrConflict)
		dupID := NewKey(3)
		dupID.ID = k.ID
		_, err = s.APIKeys().Create(ctx, dupID)
		assert.ErrorIs(t, err, db.ErrConflict)
		assert.EqualValues(t, 1, count(t, e, s, "api_keys", ""))
	})

	t.Run("NotFound", func(t *testing.T) {
		ctx, s := setup(t, e)
		_, err := s.APIKeys().Get(ctx, "nope")
		assert.ErrorIs(t, err, db.ErrNotFound)
		_, err = s.APIKeys().GetByHash(ctx, "nope")
		assert.ErrorIs(t, err, db.ErrNotFound)
		_, err = s.APIKeys().GetForUpdate(ctx, "nope")
		assert.ErrorIs(t, err, db.ErrNotFound)
		_, err = s.APIKeys().Update(ctx, "nope", db.APIKeyUpdate{Name: db.Set("x")})
		assert.ErrorIs(t, err, db.ErrNotFound)
		assert.ErrorIs(t, s.APIKeys().Delete(ctx, "nope"), db.ErrNotFound)
		assert.ErrorIs(t, s.APIKeys().Deactivate(ctx, "nope"), db.ErrNotFound)
		var dbErr *db.Error
		require.ErrorAs(t, err, &dbErr)
		assert.Equal(t, "APIKeys.Update", dbErr.Op)
	})

	// GetForUpdate returns what Get does and, in a transaction, holds the
	// key: another transaction's GetForUpdate waits until the first ends
	// (here, until its own deadline). On SQLite the second transaction
	// already waits to begin, for the one write lock.
	t.Run("GetForUpdate", func(t *testing.T) {
		ctx, s := setup(t, e)
		k, err := s.APIKeys().Create(ctx, NewKey(1))
		require.NoError(t, err)
		got, err := s.APIKeys().GetForUpdate(ctx, k.ID)
		require.NoError(t, err)
		assert.Equal(t, k, got, "outside a transaction it is Get")

		require.NoError(t, s.InTx(ctx, func(tx db.Repositories) error {
			if _, err := tx.APIKeys().GetForUpdate(ctx, k.ID); err != nil {
				return err
			}
			short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
			defer cancel()
			err := s.InTx(short, func(tx db.Repositories) error {
				_, err := tx.APIKeys().GetForUpdate(short, k.ID)
				return err
			})
			assert.ErrorIs(t, err, context.DeadlineExceeded, "read the key while another transaction held it")
			return nil
		}))
		require.NoError(t, s.InTx(ctx, func(tx db.Repositories) error {
			_, err := tx.APIKeys().GetForUpdate(ctx, k.ID)
			return err
		}), "free again once the first transaction ended")
	})

	t.Run("FindByPrefix", func(t *testing.T) {
		ctx, s := setup(t, e)
		for i := range 3 {
			k := NewKey(i)
			if i < 2 {
				k.Prefix = "mcp_same"
			}
			_, err := s.APIKeys().Create(ctx, k)
			require.NoError(t, err)
		}
		got, err := s.APIKeys().List(ctx, db.KeyQuery{Prefix: "mcp_same"})
		require.NoError(t, err)
		require.Len(t, got, 2)
		assert.Equal(t, "key-0", got[0].Name)
		assert.Equal(t, "key-1", got[1].Name)
		none, err := s.APIKeys().List(ctx, db.KeyQuery{Prefix: "mcp_none"})
		require.NoError(t, err)
		assert.Empty(t, none)
	})

	t.Run("ListPaging", func(t *testing.T) {
		ctx, s := setup(t, e)
		for i := range 5 {
			_, err := s.APIKeys().Create(ctx, NewKey(i))
			require.NoError(t, err)
		}
		page, err := s.APIKeys().List(ctx, db.KeyQuery{Limit: 2, Offset: 2})
		require.NoError(t, err)
		require.Len(t, page, 2)
		assert.Equal(t, "key-2", page[0].Name)
		assert.Equal(t, "key-3", page[1].Name)
		all, err := s.APIKeys().List(ctx, db.KeyQuery{})
		require.NoError(t, err)
		assert.Len(t, all, 5, "a zero query lists up to DefaultLimit")
		past, err := s.APIKeys().List(ctx, db.KeyQuery{Limit: 10, Offset: 5})
		require.NoError(t, err)
		assert.Empty(t, past)
	})

	// All pages by (created_at, id): every key, each once, in order,
	// whatever the page size.
	t.Run("All", func(t *testing.T) {
		ctx, s := setup(t, e)
		var ids, alice []string
		for i := range 7 {
			in := NewKey(i)
			if i%2 == 0 {
				in.Owner = "alice"
			}
			k, err := s.APIKeys().Create(ctx, in)
			require.NoError(t, err)
			ids = append(ids, k.ID)
			if in.Owner == "alice" {
				alice = append(alice, k.ID)
			}
		}
		keyIDs := func(q db.KeyQuery) []string {
			return idsOf(t, s.APIKeys().All(ctx, q), func(k db.APIKey) string { return k.ID })
		}
		for _, limit := range []int{1, 2, 7, 0} {
			assert.Equal(t, ids, keyIDs(db.KeyQuery{Limit: limit}), "limit %d", limit)
			assert.Equal(t, alice, keyIDs(db.KeyQuery{Owner: "alice", Limit: limit}), "limit %d", limit)
		}
		first, err := s.APIKeys().Get(ctx, ids[2])
		require.NoError(t, err)
		assert.Equal(t, ids[3:], keyIDs(db.KeyQuery{After: first.Cursor(), Limit: 2}))
	})

	t.Run("FindActive", func(t *testing.T) {
		ctx, s := setup(t, e)
		var ids []string
		for i := range 4 {
			k, err := s.APIKeys().Create(ctx, NewKey(i))
			require.NoError(t, err)
			ids = append(ids, k.ID)
		}
		require.NoError(t, s.APIKeys().Deactivate(ctx, ids[1]))
		inactive := NewKey(9)
		inactive.Inactive = true
		_, err := s.APIKeys().Create(ctx, inactive)
		require.NoError(t, err)
		active, err := s.APIKeys().List(ctx, db.KeyQuery{ActiveOnly: true})
		require.NoError(t, err)
		require.Len(t, active, 3)
		for _, k := range active {
			assert.True(t, k.IsActive)
			assert.NotEqual(t, ids[1], k.ID)
		}
		got, err := s.APIKeys().Get(ctx, ids[1])
		require.NoError(t, err)
		assert.False(t, got.IsActive, "Deactivate")
	})

	// The seed's find_by_user ignored its argument and returned every key.
	t.Run("FindByUserFilters", func(t *testing.T) {
		ctx, s := setup(t, e)
		users := []string{"alice", "bob", "alice", "", "alice"}
		var aliceIDs []string
		for i, u := range users {
			k := NewKey(i)
			k.Owner = u
			created, err := s.APIKeys().Create(ctx, k)
			require.NoError(t, err)
			if u == "alice" {
				aliceIDs = append(aliceIDs, created.ID)
			}
		}
		require.NoError(t, s.APIKeys().Deactivate(ctx, aliceIDs[1]))

		all, err := s.APIKeys().List(ctx, db.KeyQuery{Owner: "alice"})
		require.NoError(t, err)
		require.Len(t, all, 3)
		for i, k := range all {
			assert.Equal(t, "alice", k.Owner)
			assert.Equal(t, aliceIDs[i], k.ID)
		}
		active, err := s.APIKeys().List(ctx, db.KeyQuery{Owner: "alice", ActiveOnly: true})
		require.NoError(t, err)
		assert.Len(t, active, 2)
		bob, err := s.APIKeys().List(ctx, db.KeyQuery{Owner: "bob", ActiveOnly: true})
		require.NoError(t, err)
		require.Len(t, bob, 1)
		assert.Equal(t, "bob", bob[0].Owner)
		nobody, err := s.APIKeys().List(ctx, db.KeyQuery{Owner: "carol"})
		require.NoError(t, err)
		assert.Empty(t, nobody)
		paged, err := s.APIKeys().List(ctx, db.KeyQuery{Owner: "alice", Limit: 1, Offset: 2})
		require.NoError(t, err)
		require.Len(t, paged, 1)
		assert.Equal(t, aliceIDs[2], paged[0].ID)
	})

	t.Run("Update", func(t *testing.T) {
		ctx, s := setup(t, e)
		in := NewKey(1)
		in.Owner = "alice"
		in.Roles = []string{"a"}
		in.ExpiresAt = time.Now().Add(time.Hour)
		in.Metadata = json.RawMessage(`{"x":1}`)
		k, err := s.APIKeys().Create(ctx, in)
		require.NoError(t, err)

		u, err := s.APIKeys().Update(ctx, k.ID, db.APIKeyUpdate{
			Name:        db.Set("renamed"),
			Permissions: db.Set([]string{"tools:call:search_*"}),
		})
		require.NoError(t, err)
		assert.Equal(t, "renamed", u.Name)
		assert.Equal(t, []string{"tools:call:search_*"}, u.Permissions)
		assert.Equal(t, "alice", u.Owner, "fields not set keep their value")
		assert.Equal(t, []string{"a"}, u.Roles)
		assert.True(t, k.ExpiresAt.Equal(u.ExpiresAt))
		assert.Equal(t, `{"x":1}`, string(u.Metadata))

		u, err = s.APIKeys().Update(ctx, k.ID, db.APIKeyUpdate{
			Owner:     db.Set(""),
			ExpiresAt: db.Set(time.Time{}),
			Metadata:  db.Set[json.RawMessage](nil),
			Roles:     db.Set[[]string](nil),
			IsActive:  db.Set(false),
		})
		require.NoError(t, err)
		assert.Equal(t, "", u.Owner)
		assert.True(t, u.ExpiresAt.IsZero())
		assert.Nil(t, u.Metadata)
		assert.Equal(t, []string{}, u.Roles)
		assert.False(t, u.IsActive)
		assert.EqualValues(t, 1, count(t, e, s, "api_keys", "user_id IS NULL AND expires_at IS NULL AND metadata IS NULL"))

		got, err := s.APIKeys().Get(ctx, k.ID)
		require.NoError(t, err)
		assert.Equal(t, u, got)
	})

	t.Run("Delete", func(t *testing.T) {
		ctx, s := setup(t, e)
		k, err := s.APIKeys().Create(ctx, NewKey(1))
		require.NoError(t, err)
		other, err := s.APIKeys().Create(ctx, NewKey(2))
		require.NoError(t, err)
		require.NoError(t, s.APIKeys().Delete(ctx, k.ID))
		_, err = s.APIKeys().Get(ctx, k.ID)
		assert.ErrorIs(t, err, db.ErrNotFound)
		_, err = s.APIKeys().Get(ctx, other.ID)
		assert.NoError(t, err)
	})

	t.Run("UpdateLastUsed", func(t *testing.T) {
		ctx, s := setup(t, e)
		k, err := s.APIKeys().Create(ctx, NewKey(1))
		require.NoError(t, err)
		t1 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
		require.NoError(t, s.APIKeys().UpdateLastUsed(ctx, k.ID, t1))
		got, err := s.APIKeys().Get(ctx, k.ID)
		require.NoError(t, err)
		assert.True(t, t1.Equal(got.LastUsedAt))
		// An older time never moves it backwards.
		require.NoError(t, s.APIKeys().UpdateLastUsed(ctx, k.ID, t1.Add(-time.Hour)))
		got, err = s.APIKeys().Get(ctx, k.ID)
		require.NoError(t, err)
		assert.True(t, t1.Equal(got.LastUsedAt))
		t2 := t1.Add(time.Minute)
		require.NoError(t, s.APIKeys().UpdateLastUsed(ctx, k.ID, t2))
		got, err = s.APIKeys().Get(ctx, k.ID)
		require.NoError(t, err)
		assert.True(t, t2.Equal(got.LastUsedAt))
		assert.NoError(t, s.APIKeys().UpdateLastUsed(ctx, "unknown", t2), "unknown ids are ignored")
	})

	t.Run("Nulls", func(t *testing.T) {
		ctx, s := setup(t, e)
		k, err := s.APIKeys().Create(ctx, NewKey(1))
		require.NoError(t, err)
		assert.Equal(t, "", k.Owner)
		assert.True(t, k.ExpiresAt.IsZero())
		assert.True(t, k.LastUsedAt.IsZero())
		assert.Nil(t, k.Metadata)
		assert.EqualValues(t, 1, count(t, e, s, "api_keys",
			"user_id IS NULL AND expires_at IS NULL AND last_used_at IS NULL AND metadata IS NULL"))
	})

	exerciseAPIKeyRevocation(t, e)
}

// Revocation, batched last-use writes and change notifications.
func exerciseAPIKeyRevocation(t *testing.T, e Engine) {
	t.Run("Revoke", func(t *testing.T) {
		ctx, s := setup(t, e)
		k, err := s.APIKeys().Create(ctx, NewKey(1))
		require.NoError(t, err)
		other, err := s.APIKeys().Create(ctx, NewKey(2))
		require.NoError(t, err)
		assert.True(t, k.RevokedAt.IsZero())
		assert.EqualValues(t, 2, count(t, e, s, "api_keys", "revoked_at IS NULL AND revoke_reason IS NULL"))

		t1 := time.Date(2026, 5, 1, 12, 0, 0, 123456000, time.UTC)
		got, err := s.APIKeys().Revoke(ctx, k.ID, t1, "leaked in a log")
		require.NoError(t, err)
		assert.True(t, t1.Equal(got.RevokedAt), "revoked_at %v", got.RevokedAt)
		assert.Equal(t, "leaked in a log", got.RevokeReason)
		assert.True(t, got.IsActive, "revocation is not deactivation")
		read, err := s.APIKeys().Get(ctx, k.ID)
		require.NoError(t, err)
		assert.Equal(t, got, read)

		// Never postponed: a later revocation keeps the first time and reason.
		got, err = s.APIKeys().Revoke(ctx, k.ID, t1.Add(time.Hour), "again")
		require.NoError(t, err)
		assert.True(t, t1.Equal(got.RevokedAt))
		assert.Equal(t, "leaked in a log", got.RevokeReason)
		// An earlier one wins, with its reason.
		t0 := t1.Add(-time.Hour)
		got, err = s.APIKeys().Revoke(ctx, k.ID, t0, "")
		require.NoError(t, err)
		assert.True(t, t0.Equal(got.RevokedAt))
		assert.Equal(t, "", got.RevokeReason)
		assert.EqualValues(t, 1, count(t, e, s, "api_keys", "revoke_reason IS NULL AND revoked_at IS NOT NULL"))

		o, err := s.APIKeys().Get(ctx, other.ID)
		require.NoError(t, err)
		assert.True(t, o.RevokedAt.IsZero(), "other keys untouched")
	})

	t.Run("RevokeBadInput", func(t *testing.T) {
		ctx, s := setup(t, e)
		k, err := s.APIKeys().Create(ctx, NewKey(1))
		require.NoError(t, err)
		now := time.Now()
		_, err = s.APIKeys().Revoke(ctx, "nope", now, "x")
		assert.ErrorIs(t, err, db.ErrNotFound)
		for name, c := range map[string]struct {
			id, reason string
			at         time.Time
			field      string
		}{
			"NoID":       {"", "x", now, "id"},
			"ZeroTime":   {k.ID, "x", time.Time{}, "at"},
			"NULReason":  {k.ID, "a\x00b", now, "reason"},
			"LongReason": {k.ID, strings.Repeat("r", db.MaxShortLen+1), now, "reason"},
		} {
			_, err := s.APIKeys().Revoke(ctx, c.id, c.at, c.reason)
			var dbErr *db.Error
			require.ErrorAs(t, err, &dbErr, name)
			assert.ErrorIs(t, err, db.ErrInvalid, name)
			assert.Equal(t, c.field, dbErr.Field, name)
			assert.Equal(t, "APIKeys.Revoke", dbErr.Op, name)
		}
		assert.EqualValues(t, 0, count(t, e, s, "api_keys", "revoked_at IS NOT NULL"), "nothing written")
	})

	t.Run("RevokeRolledBack", func(t *testing.T) {
		ctx, s := setup(t, e)
		k, err := s.APIKeys().Create(ctx, NewKey(1))
		require.NoError(t, err)
		boom := errors.New("boom")
		err = s.InTx(ctx, func(tx db.Repositories) error {
			if _, err := tx.APIKeys().Revoke(ctx, k.ID, time.Now(), "x"); err != nil {
				return err
			}
			return boom
		})
		require.ErrorIs(t, err, boom)
		assert.EqualValues(t, 0, count(t, e, s, "api_keys", "revoked_at IS NOT NULL"))
	})

	t.Run("UpdateLastUsedBatch", func(t *testing.T) {
		ctx, s := setup(t, e)
		var ids []string
		for i := range 3 {
			k, err := s.APIKeys().Create(ctx, NewKey(i))
			require.NoError(t, err)
			ids = append(ids, k.ID)
		}
		t1 := time.Date(2026, 5, 1, 12, 0, 0, 654321000, time.UTC)
		require.NoError(t, s.APIKeys().UpdateLastUsed(ctx, ids[2], t1))

		n, err := s.APIKeys().UpdateLastUsedBatch(ctx, []db.KeyUse{
			{ID: ids[0], At: t1},
			{ID: ids[1], At: t1.Add(-time.Minute)},
			{ID: ids[1], At: t1.Add(time.Minute)}, // the latest use of a key counts
			{ID: ids[1], At: t1},
			{ID: ids[2], At: t1.Add(-time.Hour)}, // never backwards
			{ID: "unknown", At: t1},              // ignored
		})
		require.NoError(t, err)
		assert.EqualValues(t, 2, n)
		want := []time.Time{t1, t1.Add(time.Minute), t1}
		for i, id := range ids {
			k, err := s.APIKeys().Get(ctx, id)
			require.NoError(t, err)
			assert.True(t, want[i].Equal(k.LastUsedAt), "key %d: last_used_at %v, want %v", i, k.LastUsedAt, want[i])
		}

		n, err = s.APIKeys().UpdateLastUsedBatch(ctx, nil)
		require.NoError(t, err)
		assert.Zero(t, n)

		// Bad input writes nothing, not even the good uses of the batch.
		_, err = s.APIKeys().UpdateLastUsedBatch(ctx, []db.KeyUse{
			{ID: ids[0], At: t1.Add(time.Hour)},
			{ID: ids[1], At: time.Time{}},
		})
		assert.ErrorIs(t, err, db.ErrInvalid)
		k, err := s.APIKeys().Get(ctx, ids[0])
		require.NoError(t, err)
		assert.True(t, t1.Equal(k.LastUsedAt))
	})

	t.Run("UpdateLastUsedBatchMany", func(t *testing.T) {
		ctx, s := setup(t, e)
		var uses []db.KeyUse
		at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
		for i := range 500 {
			k, err := s.APIKeys().Create(ctx, NewKey(i))
			require.NoError(t, err)
			uses = append(uses, db.KeyUse{ID: k.ID, At: at.Add(time.Duration(i) * time.Microsecond)})
		}
		n, err := s.APIKeys().UpdateLastUsedBatch(ctx, uses)
		require.NoError(t, err)
		assert.EqualValues(t, 500, n)
		for _, i := range []int{0, 249, 499} {
			k, err := s.APIKeys().Get(ctx, uses[i].ID)
			require.NoError(t, err)
			assert.True(t, uses[i].At.Equal(k.LastUsedAt), "key %d", i)
		}
	})
}
