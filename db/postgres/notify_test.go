package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/db/postgres"
	"github.com/mcpstore/mcpstore/internal/testdb"
)

// A listener on one Store hears of every change to a key that can make a
// cached key wrong, made through another Store or by plain SQL, and of
// nothing else: a write of last_used_at or the metadata stays quiet, and so
// does a statement that changes nothing or a transaction rolled back.
func TestListenKeyChanges(t *testing.T) {
	ctx := t.Context()
	url := testdb.PostgresURL(t)
	listener, writer := open(t, url).(*postgres.Store), open(t, url)
	keys := writer.APIKeys()

	heard := make(chan string, 64)
	listening := make(chan struct{}, 1)
	lctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- listener.ListenKeyChanges(lctx,
			func() { listening <- struct{}{} },
			func(id string) { heard <- id })
	}()
	t.Cleanup(func() { stop(); <-done })
	select {
	case <-listening:
	case <-time.After(10 * time.Second):
		t.Fatal("not listening after 10s")
	}

	n := 0
	newKey := func(t *testing.T) string {
		t.Helper()
		n++
		k, err := keys.Create(ctx, db.APIKeyCreate{Name: "k", Prefix: "mcp_test", KeyHash: fmt.Sprintf("%064x", n)})
		require.NoError(t, err)
		return k.ID
	}
	// expect runs change on a new key and checks what the listener hears
	// within a second: the key's id once, or nothing.
	expect := func(name string, notifies bool, change func(t *testing.T, id string) error) {
		t.Run(name, func(t *testing.T) {
			id := newKey(t)
			require.NoError(t, change(t, id))
			// A marker change after it: once the marker arrives, anything
			// the change sent has arrived too (notifications keep commit
			// order).
			marker := newKey(t)
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
	expect("UpdatePermissions", true, func(t *testing.T, id string) error {
		_, err := keys.Update(ctx, id, db.APIKeyUpdate{Permissions: db.Set([]string{"tools:call:search"})})
		return err
	})
	expect("UpdateRoles", true, func(t *testing.T, id string) error {
		_, err := keys.Update(ctx, id, db.APIKeyUpdate{Roles: db.Set([]string{"admin"})})
		return err
	})
	expect("UpdateOwner", true, func(t *testing.T, id string) error {
		_, err := keys.Update(ctx, id, db.APIKeyUpdate{UserID: db.Set("bob")})
		return err
	})
	expect("UpdateExpiry", true, func(t *testing.T, id string) error {
		_, err := keys.Update(ctx, id, db.APIKeyUpdate{ExpiresAt: db.Set(time.Now().Add(time.Hour))})
		return err
	})
	expect("PlainSQL", true, func(t *testing.T, id string) error {
		_, err := listener.Pool().Exec(ctx, "UPDATE api_keys SET is_active = false WHERE id = $1", id)
		return err
	})
	expect("LastUsed", false, func(t *testing.T, id string) error { return keys.UpdateLastUsed(ctx, id, time.Now()) })
	expect("UpdateName", true, func(t *testing.T, id string) error {
		_, err := keys.Update(ctx, id, db.APIKeyUpdate{Name: db.Set("renamed")})
		return err
	})
	expect("Metadata", false, func(t *testing.T, id string) error {
		_, err := keys.Update(ctx, id, db.APIKeyUpdate{Metadata: db.Set(json.RawMessage(`{"team":"a"}`))})
		return err
	})
	expect("PlainSQLDelete", true, func(t *testing.T, id string) error {
		_, err := listener.Pool().Exec(ctx, "DELETE FROM api_keys WHERE id = $1", id)
		return err
	})
	expect("SamePermissions", false, func(t *testing.T, id string) error {
		_, err := keys.Update(ctx, id, db.APIKeyUpdate{Permissions: db.Set([]string{})})
		return err
	})
	expect("RolledBack", false, func(t *testing.T, id string) error {
		err := writer.InTx(ctx, func(tx db.Repositories) error {
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

	// Revoke notifies by itself on a database whose migrations stop before
	// the trigger's (a new binary on a database not migrated yet).
	t.Run("RevokeWithoutTrigger", func(t *testing.T) {
		id := newKey(t)
		require.NoError(t, writer.MigrateDown(ctx))
		_, err := keys.Revoke(ctx, id, time.Now(), "test")
		require.NoError(t, err)
		select {
		case h := <-heard:
			assert.Equal(t, id, h)
		case <-time.After(5 * time.Second):
			t.Fatal("revocation not heard within 5s")
		}
	})
}

var errRollback = errors.New("roll back")
