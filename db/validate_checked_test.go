package db_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
)

// TestAuditLogCreateCheckedTwice checks that checking an event again skips
// the JSON work for the documents it checked, and only for those.
func TestAuditLogCreateCheckedTwice(t *testing.T) {
	ev := db.AuditLogCreate{
		EventID: uuid.Must(uuid.NewV7()), RequestID: "r", Action: "a", ResourceType: "tool", Status: "success",
		RequestData:  json.RawMessage(`{"query":"x", "limit":1}`),
		ResponseData: json.RawMessage(`{"b":[1e2],"a":true}`),
		CreatedAt:    time.Now(),
	}
	once, err := ev.Checked()
	require.NoError(t, err)
	assert.Equal(t, `{"limit":1,"query":"x"}`, string(once.RequestData))
	assert.Equal(t, `{"a":true,"b":[100]}`, string(once.ResponseData))

	twice, err := once.Checked()
	require.NoError(t, err)
	assert.Equal(t, once, twice)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := once.Checked(); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs, "a checked event is not decoded again")

	changed := once
	changed.RequestData = json.RawMessage(`{"a":`)
	_, err = changed.Checked()
	assert.ErrorIs(t, err, db.ErrInvalid, "a document replaced after Checked is checked")

	// The same bytes, one byte shorter: not the checked document.
	changed = once
	changed.RequestData = once.RequestData[:len(once.RequestData)-1]
	_, err = changed.Checked()
	assert.ErrorIs(t, err, db.ErrInvalid)

	changed = once
	changed.Status = ""
	_, err = changed.Checked()
	assert.ErrorIs(t, err, db.ErrInvalid, "text fields are checked every time")
}
