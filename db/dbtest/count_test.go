package dbtest

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/internal/testdb"
)

// TestCounterCounts shows the wrapper counting calls, refusals, calls in a
// transaction and through an iterator, and Missing reporting the rest.
func TestCounterCounts(t *testing.T) {
	ctx := t.Context()
	c := NewCounter()
	s := c.Wrap(testdb.Open(t, testdb.SQLiteURL(t)))
	_, ok := s.(db.KeyChangeListener)
	assert.True(t, ok, "a listener stays one")
	assert.NotSame(t, s, Unwrap(s))

	_, err := s.APIKeys().Get(ctx, "nope")
	require.ErrorIs(t, err, db.ErrNotFound)
	_, err = s.APIKeys().GetByHash(ctx, "")
	require.ErrorIs(t, err, db.ErrInvalid)
	require.NoError(t, s.InTx(ctx, func(tx db.Repositories) error {
		_, err := tx.Tools().Create(ctx, newTool("srv", "t"))
		return err
	}))
	_, err = collectErr(s.AuditLogs().All(ctx, db.AuditQuery{Limit: -1}))
	require.ErrorIs(t, err, db.ErrInvalid)

	unexercised, noBadInput := c.Missing(Methods())
	for _, m := range []string{"APIKeys.Get", "APIKeys.GetByHash", "Tools.Create", "AuditLogs.All"} {
		assert.NotContains(t, unexercised, m)
	}
	assert.Contains(t, unexercised, "APIKeys.Create")
	assert.Len(t, unexercised, len(Methods())-4)
	assert.Contains(t, noBadInput, "APIKeys.Get", "found nothing: not a refusal")
	assert.Contains(t, noBadInput, "Tools.Create")
	assert.NotContains(t, noBadInput, "APIKeys.GetByHash")
	assert.NotContains(t, noBadInput, "AuditLogs.All")
}

// TestCounterSeesNewMethods shows what makes the suite fail when a method
// is added to a repository interface: the methods accounted for are read
// from the interface, so a new one is missing until a test calls it, bad
// input included, even when every other method was.
func TestCounterSeesNewMethods(t *testing.T) {
	type grown interface {
		db.APIKeyRepository
		Rename(ctx context.Context, id, name string) (db.APIKey, error)
	}
	c := NewCounter()
	for _, m := range Methods() {
		c.count(m, &db.Error{Kind: db.ErrInvalid})
	}
	unexercised, noBadInput := c.Missing(Methods())
	assert.Empty(t, unexercised)
	assert.Empty(t, noBadInput)

	methods := slices.Concat(methodsOf("APIKeys", reflect.TypeFor[grown]()),
		methodsOf("Tools", reflect.TypeFor[db.ToolRepository]()),
		methodsOf("AuditLogs", reflect.TypeFor[db.AuditLogRepository]()))
	unexercised, noBadInput = c.Missing(methods)
	assert.Equal(t, []string{"APIKeys.Rename"}, unexercised)
	assert.Equal(t, []string{"APIKeys.Rename"}, noBadInput)

	c.count("APIKeys.Rename", nil)
	unexercised, noBadInput = c.Missing(methods)
	assert.Empty(t, unexercised)
	assert.Equal(t, []string{"APIKeys.Rename"}, noBadInput, "called, but never with bad input")
}
