package dbtest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
)

// The seed's create_tables and drop_tables, as migrations up and down.
func exerciseMigrations(t *testing.T, e Engine) {
	t.Run("UpDownStatus", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		s := e.NewEmptyStore(t)

		st, err := s.MigrationStatus(ctx)
		require.NoError(t, err)
		require.NotEmpty(t, st)
		for _, m := range st {
			assert.False(t, m.Applied, m.Source)
		}
		_, err = s.APIKeys().List(ctx, db.KeyQuery{})
		assert.Error(t, err, "no tables before MigrateUp")

		require.NoError(t, s.MigrateUp(ctx))
		require.NoError(t, s.MigrateUp(ctx), "MigrateUp twice is harmless")
		st, err = s.MigrationStatus(ctx)
		require.NoError(t, err)
		for _, m := range st {
			assert.True(t, m.Applied, m.Source)
			assert.False(t, m.AppliedAt.IsZero())
		}
		_, err = s.APIKeys().Create(ctx, NewKey(1))
		require.NoError(t, err)

		for range st {
			require.NoError(t, s.MigrateDown(ctx))
		}
		err = s.MigrateDown(ctx)
		assert.ErrorIs(t, err, db.ErrNotFound, "nothing left to roll back")
		_, err = s.APIKeys().List(ctx, db.KeyQuery{})
		assert.ErrorIs(t, err, db.ErrDatabase, "tables dropped")
		for _, driverText := range []string{"api_keys", "exist", "no such"} {
			assert.NotContains(t, err.Error(), driverText, "the engine's words, not the driver's")
		}

		require.NoError(t, s.MigrateUp(ctx))
		keys, err := s.APIKeys().List(ctx, db.KeyQuery{})
		require.NoError(t, err)
		assert.Empty(t, keys, "a fresh schema after down and up")
	})

	t.Run("Ping", func(t *testing.T) {
		ctx, s := setup(t, e)
		assert.NoError(t, s.Ping(ctx))
		assert.Equal(t, e.Name, s.Engine())
	})
}
