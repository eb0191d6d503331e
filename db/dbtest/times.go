package dbtest

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
)

var baseTime = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func exerciseTimes(t *testing.T, e Engine) {
	kolkata := time.FixedZone("IST", 5*3600+1800)
	pacific := time.FixedZone("PST", -8*3600)

	t.Run("NonUTCRoundTrip", func(t *testing.T) {
		ctx, s := setup(t, e)
		exp := time.Date(2031, 7, 4, 23, 30, 0, 123456789, kolkata)
		k := NewKey(1)
		k.ExpiresAt = exp
		key, err := s.APIKeys().Create(ctx, k)
		require.NoError(t, err)
		key, err = s.APIKeys().Get(ctx, key.ID)
		require.NoError(t, err)
		assert.Equal(t, time.UTC, key.ExpiresAt.Location(), "times come back in UTC")
		assert.True(t, exp.Truncate(time.Microsecond).Equal(key.ExpiresAt), "same instant at microsecond precision: %v", key.ExpiresAt)
		assert.Equal(t, 123456000, key.ExpiresAt.Nanosecond())
		assert.Equal(t, time.UTC, key.CreatedAt.Location())
	})

	// Rows stamped by the database's default (a row written by plain SQL)
	// and rows stamped by Go in other zones must sort and filter as one
	// timeline.
	t.Run("RangeOverDefaultAndGoTimes", func(t *testing.T) {
		ctx, s := setup(t, e)
		now := time.Now()
		early := newEvent("go-early", now.Add(-10*time.Minute).In(kolkata))
		late := newEvent("go-late", now.Add(10*time.Minute).In(pacific))
		_, err := s.AuditLogs().Insert(ctx, late)
		require.NoError(t, err)
		e.QueryInt(t, s, "INSERT INTO audit_logs (event_id, request_id, action, resource_type, status)"+
			" VALUES ('"+uuid.NewString()+"', 'db-default', 'tool_call', 'tool', 'success') RETURNING 1")
		_, err = s.AuditLogs().Insert(ctx, early)
		require.NoError(t, err)
		near, err := s.AuditLogs().ListByDateRange(ctx, now.Add(-5*time.Minute).In(pacific), now.Add(5*time.Minute).In(kolkata), "", db.Page{})
		require.NoError(t, err)
		assert.Equal(t, []string{"db-default"}, reqIDs(near))
		wide, err := s.AuditLogs().ListByDateRange(ctx, now.Add(-15*time.Minute), now.Add(15*time.Minute), "", db.Page{})
		require.NoError(t, err)
		assert.Equal(t, []string{"go-early", "db-default", "go-late"}, reqIDs(wide))
		st, err := s.AuditLogs().Statistics(ctx, now.Add(-11*time.Minute).In(kolkata), now.Add(time.Minute).In(pacific))
		require.NoError(t, err)
		assert.EqualValues(t, 2, st.Total)
	})
}
