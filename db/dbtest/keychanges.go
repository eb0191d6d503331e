package dbtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
)

// A Store that is a db.KeyChangeListener hears of every change to a key
// that can make a cached key wrong, made through the repository or by
// plain SQL, and of nothing else: a write of last_used_at or the metadata
// stays quiet, and so does a statement that changes nothing or a
// transaction rolled back.
func exerciseKeyChanges(t *testing.T, e Engine) {
	ctx, s := setup(t, e)
	l, ok := s.(db.KeyChangeListener)
	if !ok {
		t.Fatalf("the %s Store is not a db.KeyChangeListener", e.Name)
	}
	heard := Listen(t, l, 64).Heard
	keys := s.APIKeys()

	n := 0
	fresh := func(t *testing.T) string {
		t.Helper()
		n++
		k, err := keys.Create(ctx, NewKey(1000+n))
		require.NoError(t, err)
		return k.ID
	}
	// expect runs change on a new key and checks what the listener hears:
	// the key's id once, or nothing.
	expect := func(name string, notifies bool, change func(t *testing.T, id string) error) {
		t.Run(name, func(t *testing.T) {
			id := fresh(t)
			require.NoError(t, change(t, id))
			// A marker change after it: once the marker arrives, anything
			// the change sent has arrived too (changes keep commit order).
			marker := fresh(t)
			require.NoError(t, keys.Deactivate(ctx, marker))
			var got []string
			for {
				select {
				case h := <-heard:
					if h == marker {
						if notifies {
							assert.Equal(t, []string{id}, got)
						} else {
							assert.Empty(t, got)
						}
						return
					}
					got = append(got, h)
				case <-time.After(5 * time.Second):
					t.Fatalf("marker not heard within 5s; heard %v", got)
				}
			}
		})
	}
	expect("Revoke", true, func(t *testing.T, id string) error {
		_, err := keys.Revoke(ctx, id, time.Now(), "test")
		return err
	})
	expect("Deactivate", true, func(t *testing.T, id string) error { return keys.Deactivate(ctx, id) })
	expect("Delete", true, func(t *testing.T, id string) error { return keys.Delete(ctx, id) })
	for _, u := range []struct {
		name string
		u    db.APIKeyUpdate
	}{
		{"UpdatePermissions", db.APIKeyUpdate{Permissions: db.Set([]string{"tools:call:search"})}},
		{"UpdateRoles", db.APIKeyUpdate{Roles: db.Set([]string{"admin"})}},
		{"UpdateOwner", db.APIKeyUpdate{Owner: db.Set("bob")}},
		{"UpdateExpiry", db.APIKeyUpdate{ExpiresAt: db.Set(time.Now().Add(time.Hour))}},
		{"UpdateName", db.APIKeyUpdate{Name: db.Set("renamed")}},
		{"UpdateActive", db.APIKeyUpdate{IsActive: db.Set(false)}},
	} {
		expect(u.name, true, func(t *testing.T, id string) error {
			_, err := keys.Update(ctx, id, u.u)
			return err
		})
	}
	expect("PlainSQLUpdate", true, func(t *testing.T, id string) error {
		e.QueryInt(t, s, fmt.Sprintf("UPDATE api_keys SET is_active = false WHERE id = '%s' RETURNING 1", id))
		return nil
	})
	expect("PlainSQLDelete", true, func(t *testing.T, id string) error {
		e.QueryInt(t, s, fmt.Sprintf("DELETE FROM api_keys WHERE id = '%s' RETURNING 1", id))
		return nil
	})
	expect("LastUsed", false, func(t *testing.T, id string) error { return keys.UpdateLastUsed(ctx, id, time.Now()) })
	expect("Metadata", false, func(t *testing.T, id string) error {
		_, err := keys.Update(ctx, id, db.APIKeyUpdate{Metadata: db.Set(json.RawMessage(`{"team":"a"}`))})
		return err
	})
	expect("SamePermissions", false, func(t *testing.T, id string) error {
		_, err := keys.Update(ctx, id, db.APIKeyUpdate{Permissions: db.Set([]string{})})
		return err
	})
	errRollback := errors.New("roll back")
	expect("RolledBack", false, func(t *testing.T, id string) error {
		err := s.InTx(ctx, func(tx db.Repositories) error {
			if err := tx.APIKeys().Deactivate(ctx, id); err != nil {
				return err
			}
			return errRollback
		})
		if errors.Is(err, errRollback) {
			return nil
		}
		return fmt.Errorf("InTx returned %v", err)
	})
}

// Listener is a key change listener started for the rest of a test.
type Listener struct {
	// Heard receives the key ids the listener hears.
	Heard   <-chan string
	listens atomic.Int32
}

// Listens is how many times the listener has said it listens: once when it
// starts, and once more each time it may have missed changes.
func (l *Listener) Listens() int32 { return l.listens.Load() }

// Next returns the next key id heard, failing t after 5s of silence.
func (l *Listener) Next(t *testing.T) string {
	t.Helper()
	select {
	case id := <-l.Heard:
		return id
	case <-time.After(5 * time.Second):
		t.Fatal("nothing heard within 5s")
		return ""
	}
}

// Listen starts kl's listener for the rest of the test, with room for
// buffer ids not yet read, and waits until it listens. When the test ends
// it stops the listener and checks that it returned.
func Listen(t *testing.T, kl db.KeyChangeListener, buffer int) *Listener {
	t.Helper()
	heard := make(chan string, buffer)
	l := &Listener{Heard: heard}
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- kl.ListenKeyChanges(ctx, func() { l.listens.Add(1) }, func(id string) {
			select {
			case heard <- id:
			case <-ctx.Done(): // the test has ended; nobody reads
			}
		})
	}()
	t.Cleanup(func() {
		stop()
		select {
		case err := <-done:
			assert.ErrorIs(t, err, context.Canceled, "the listener returns its context's error")
		case <-time.After(10 * time.Second):
			t.Error("the listener did not stop within 10s of its context's end")
		}
	})
	require.Eventually(t, func() bool { return l.Listens() > 0 }, 10*time.Second, time.Millisecond, "not listening after 10s")
	return l
}
