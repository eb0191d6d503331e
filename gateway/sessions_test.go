package gateway_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gateway"
	"github.com/mcpstore/mcpstore/internal/testdb"
)

// fakeSession counts its closes.
type fakeSession struct{ closed atomic.Int32 }

func (f *fakeSession) Close() error { f.closed.Add(1); return nil }

func closedWithin(t *testing.T, s *fakeSession, d time.Duration, msg string) {
	t.Helper()
	require.Eventually(t, func() bool { return s.closed.Load() > 0 }, d, 5*time.Millisecond, msg)
}

func TestKeySessions(t *testing.T) {
	testdb.EachEngine(t, func(t *testing.T, s db.Store) {
		ctx := t.Context()
		k := newKeys(t, s, gateway.KeysOptions{})
		ks := gateway.NewKeySessions(k, nil)
		defer ks.Close()
		issue := func(perms ...string) (string, gateway.Principal) {
			raw, _, err := k.Issue(ctx, gateway.IssueOptions{Name: "k", Permissions: perms})
			require.NoError(t, err)
			p, err := k.Verify(ctx, raw)
			require.NoError(t, err)
			return raw, p
		}

		t.Run("RevokedInTheDatabase", func(t *testing.T) {
			_, p := issue("*")
			_, other := issue("*")
			a, b, c := &fakeSession{}, &fakeSession{}, &fakeSession{}
			ks.Add(p, a)
			ks.Add(p, b)
			removeC := ks.Add(other, c)
			defer removeC()
			_, err := s.APIKeys().Revoke(ctx, p.KeyID, time.Now(), "leaked")
			require.NoError(t, err)
			closedWithin(t, a, time.Second, "a revoked key's session ends")
			closedWithin(t, b, time.Second, "every one of them")
			time.Sleep(50 * time.Millisecond)
			assert.Zero(t, c.closed.Load(), "another key's session stays")
		})

		t.Run("AddedAfterTheChange", func(t *testing.T) {
			// A request verified before the revocation opens its session
			// after KeySessions heard of it.
			_, p := issue("*")
			heard := make(chan string, 16)
			stop := k.Watch(func(id string) { heard <- id })
			defer stop()
			_, err := s.APIKeys().Revoke(ctx, p.KeyID, time.Now(), "leaked")
			require.NoError(t, err)
			for id := range heard {
				if id == p.KeyID {
					break
				}
			}
			time.Sleep(50 * time.Millisecond) // the other watchers, KeySessions among them, heard it too
			sess := &fakeSession{}
			ks.Add(p, sess)
			closedWithin(t, sess, time.Second, "a session opened with a principal older than its key's revocation ends")
		})

		t.Run("PermissionsChanged", func(t *testing.T) {
			_, p := issue("resources:read:*")
			sess := &fakeSession{}
			ks.Add(p, sess)
			_, err := s.APIKeys().Update(ctx, p.KeyID, db.APIKeyUpdate{Permissions: db.Set([]string{"tools:call:*"})})
			require.NoError(t, err)
			closedWithin(t, sess, time.Second, "sessions opened under other permissions end")
		})

		t.Run("OtherChangesKeepSessions", func(t *testing.T) {
			_, p := issue("*")
			sess := &fakeSession{}
			remove := ks.Add(p, sess)
			_, err := s.APIKeys().Update(ctx, p.KeyID, db.APIKeyUpdate{Name: db.Set("renamed")})
			require.NoError(t, err)
			time.Sleep(300 * time.Millisecond)
			assert.Zero(t, sess.closed.Load(), "a new name changes nothing the session relies on")
			n := ks.Len()
			remove()
			assert.Equal(t, n-1, ks.Len(), "a removed session is forgotten")
		})

		t.Run("Expiry", func(t *testing.T) {
			raw, _, err := k.Issue(ctx, gateway.IssueOptions{Name: "k", ExpiresAt: time.Now().Add(200 * time.Millisecond)})
			require.NoError(t, err)
			p, err := k.Verify(ctx, raw)
			require.NoError(t, err)
			sess := &fakeSession{}
			ks.Add(p, sess)
			closedWithin(t, sess, 2*time.Second, "a session ends when its key expires")
		})
	})
}
