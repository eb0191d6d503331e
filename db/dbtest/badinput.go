package dbtest

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
)

// exerciseBadInput sends input that must be refused with ErrInvalid, naming
// the field, and checks that nothing at all was written.
func exerciseBadInput(t *testing.T, e Engine) {
	long := strings.Repeat("x", 10_000)
	key := func(f func(*db.APIKeyCreate)) func(context.Context, db.Store) error {
		return func(ctx context.Context, s db.Store) error {
			k := NewKey(1)
			f(&k)
			_, err := s.APIKeys().Create(ctx, k)
			return err
		}
	}
	tool := func(f func(*db.ToolCreate)) func(context.Context, db.Store) error {
		return func(ctx context.Context, s db.Store) error {
			tc := newTool("srv", "t")
			f(&tc)
			_, err := s.Tools().Create(ctx, tc)
			if err == nil {
				return nil
			}
			_, err2 := s.Tools().Upsert(ctx, tc)
			if err2 == nil {
				return err2 // Upsert must refuse what Create refuses
			}
			return err
		}
	}
	event := func(f func(*db.AuditLogCreate)) func(context.Context, db.Store) error {
		return func(ctx context.Context, s db.Store) error {
			ev := newEvent("r", baseTime)
			f(&ev)
			_, err := s.AuditLogs().Insert(ctx, ev)
			if err == nil {
				return nil
			}
			_, err2 := s.AuditLogs().InsertBatch(ctx, []db.AuditLogCreate{newEvent("ok", baseTime), ev})
			if err2 == nil {
				return err2 // the batch path must refuse it too
			}
			return err
		}
	}
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }

	cases := []struct {
		name  string
		field string
		run   func(context.Context, db.Store) error
	}{
		{"KeyEmptyName", "name", key(func(k *db.APIKeyCreate) { k.Name = "" })},
		{"KeyLongName", "name", key(func(k *db.APIKeyCreate) { k.Name = long })},
		{"KeyNULInName", "name", key(func(k *db.APIKeyCreate) { k.Name = "a\x00b" })},
		{"KeyBadUTF8", "name", key(func(k *db.APIKeyCreate) { k.Name = "a\xffb" })},
		{"KeyEmptyHash", "key_hash", key(func(k *db.APIKeyCreate) { k.KeyHash = "" })},
		{"KeyNULInUser", "user_id", key(func(k *db.APIKeyCreate) { k.UserID = "\x00" })},
		{"KeyEmptyRole", "roles", key(func(k *db.APIKeyCreate) { k.Roles = []string{"ok", ""} })},
		{"KeyNULInPermission", "permissions", key(func(k *db.APIKeyCreate) { k.Permissions = []string{"a\x00"} })},
		{"KeyMetadataNUL", "metadata", key(func(k *db.APIKeyCreate) { k.Metadata = raw(`{"a":"\u0000"}`) })},
		{"KeyMetadataNULKey", "metadata", key(func(k *db.APIKeyCreate) { k.Metadata = raw(`{"\u0000":1}`) })},
		{"KeyMetadataArray", "metadata", key(func(k *db.APIKeyCreate) { k.Metadata = raw(`[1,2]`) })},
		{"KeyMetadataNull", "metadata", key(func(k *db.APIKeyCreate) { k.Metadata = raw(`null`) })},
		{"KeyMetadataInvalid", "metadata", key(func(k *db.APIKeyCreate) { k.Metadata = raw(`{"a":`) })},
		{"KeyMetadataTrailing", "metadata", key(func(k *db.APIKeyCreate) { k.Metadata = raw(`{} {}`) })},
		{"KeyMetadataHugeNumber", "metadata", key(func(k *db.APIKeyCreate) { k.Metadata = raw(`{"n":1e999999}`) })},
		{"ToolEmptyName", "name", tool(func(c *db.ToolCreate) { c.Name = "" })},
		{"ToolLongName", "name", tool(func(c *db.ToolCreate) { c.Name = long })},
		{"ToolNULInDescription", "description", tool(func(c *db.ToolCreate) { c.Description = "x\x00" })},
		{"ToolNoInputSchema", "input_schema", tool(func(c *db.ToolCreate) { c.InputSchema = nil })},
		{"ToolInputSchemaString", "input_schema", tool(func(c *db.ToolCreate) { c.InputSchema = raw(`"object"`) })},
		{"ToolAnnotationsArray", "annotations", tool(func(c *db.ToolCreate) { c.Annotations = raw(`[]`) })},
		{"ToolLongServer", "server_id", tool(func(c *db.ToolCreate) { c.ServerID = long })},
		{"EventEmptyAction", "action", event(func(ev *db.AuditLogCreate) { ev.Action = "" })},
		{"EventNULInRequestID", "request_id", event(func(ev *db.AuditLogCreate) { ev.RequestID = "r\x00" })},
		{"EventRequestDataNumber", "request_data", event(func(ev *db.AuditLogCreate) { ev.RequestData = raw(`42`) })},
		{"EventResponseDataNUL", "response_data", event(func(ev *db.AuditLogCreate) { ev.ResponseData = raw(`{"x":["\u0000"]}`) })},
		{"EventDurationNaN", "duration_ms", event(func(ev *db.AuditLogCreate) { ev.DurationMS = ms(math.NaN()) })},
		{"EventDurationNegative", "duration_ms", event(func(ev *db.AuditLogCreate) { ev.DurationMS = ms(-1) })},
		{"EventLongStatus", "status", event(func(ev *db.AuditLogCreate) { ev.Status = long })},
		{"EventBadUTF8ClientRequestID", "client_request_id", event(func(ev *db.AuditLogCreate) { ev.ClientRequestID = "\xff" })},
		{"EventLongClientRequestID", "client_request_id", event(func(ev *db.AuditLogCreate) { ev.ClientRequestID = long })},
		{"EventRequestDataTooDeep", "request_data", event(func(ev *db.AuditLogCreate) { ev.RequestData = nested(db.MaxJSONDepth + 1) })},
		{"EventResponseDataHugeExponent", "response_data", event(func(ev *db.AuditLogCreate) { ev.ResponseData = raw(`{"n":1e401}`) })},
		{"ToolInputSchemaTooDeep", "input_schema", tool(func(c *db.ToolCreate) { c.InputSchema = nested(1001) })},
		{"ToolOutputSchemaTooLarge", "output_schema", tool(func(c *db.ToolCreate) { c.OutputSchema = sized(db.MaxJSONBytes + 1) })},
		{"KeyMetadataTooManyDigits", "metadata", key(func(k *db.APIKeyCreate) {
			k.Metadata = raw(`{"n":1` + strings.Repeat("0", 131_072) + `}`)
		})},
		{"LookupEmptyClientRequestID", "client_request_id", func(ctx context.Context, s db.Store) error {
			_, err := s.AuditLogs().ListByClientRequestID(ctx, "")
			return err
		}},
		{"NegativeLimit", "limit", func(ctx context.Context, s db.Store) error {
			_, err := s.APIKeys().List(ctx, db.Page{Limit: -1})
			return err
		}},
		{"NegativeOffset", "offset", func(ctx context.Context, s db.Store) error {
			_, err := s.AuditLogs().ListByUser(ctx, "u", db.Page{Offset: -1})
			return err
		}},
		{"LimitTooLarge", "limit", func(ctx context.Context, s db.Store) error {
			_, err := s.Tools().List(ctx, db.Page{Limit: db.MaxLimit + 1})
			return err
		}},
		{"EmptyUserLookup", "user_id", func(ctx context.Context, s db.Store) error {
			_, err := s.APIKeys().ListByUser(ctx, "", false, db.Page{})
			return err
		}},
		{"NULInLookup", "id", func(ctx context.Context, s db.Store) error {
			_, err := s.APIKeys().Get(ctx, "a\x00")
			return err
		}},
		{"NULInLockedLookup", "id", func(ctx context.Context, s db.Store) error {
			_, err := s.APIKeys().GetForUpdate(ctx, "a\x00")
			return err
		}},
		{"RangeBackwards", "range", func(ctx context.Context, s db.Store) error {
			_, err := s.AuditLogs().ListByDateRange(ctx, baseTime, baseTime.Add(-time.Hour), "", db.Page{})
			return err
		}},
		{"CursorRangeBackwards", "range", func(ctx context.Context, s db.Store) error {
			_, err := s.AuditLogs().ListByDateRangeAfter(ctx, baseTime, baseTime.Add(-time.Hour), "", db.AuditCursor{}, 0)
			return err
		}},
		{"CursorNegativeLimit", "limit", func(ctx context.Context, s db.Store) error {
			_, err := s.AuditLogs().ListByDateRangeAfter(ctx, baseTime, baseTime.Add(time.Hour), "", db.AuditCursor{}, -1)
			return err
		}},
		{"CursorNULInAction", "action", func(ctx context.Context, s db.Store) error {
			_, err := s.AuditLogs().ListByDateRangeAfter(ctx, baseTime, baseTime.Add(time.Hour), "a\x00", db.AuditCursor{}, 0)
			return err
		}},
		{"CursorLimitTooLarge", "limit", func(ctx context.Context, s db.Store) error {
			_, err := s.AuditLogs().ListByDateRangeAfter(ctx, baseTime, baseTime.Add(time.Hour), "", db.AuditCursor{}, db.MaxLimit+1)
			return err
		}},
		{"StatisticsNoRange", "range", func(ctx context.Context, s db.Store) error {
			_, err := s.AuditLogs().Statistics(ctx, time.Time{}, baseTime)
			return err
		}},
		{"UpdateEmptyName", "name", func(ctx context.Context, s db.Store) error {
			_, err := s.APIKeys().Update(ctx, "any", db.APIKeyUpdate{Name: db.Set("")})
			return err
		}},
		{"ToolUpdateDropsInputSchema", "input_schema", func(ctx context.Context, s db.Store) error {
			_, err := s.Tools().Update(ctx, 1, db.ToolUpdate{InputSchema: db.Set[json.RawMessage](nil)})
			return err
		}},
		{"CompleteEmptyStatus", "status", func(ctx context.Context, s db.Store) error {
			_, err := s.AuditLogs().Complete(ctx, 1, db.AuditLogComplete{})
			return err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, s := setup(t, e)
			err := c.run(ctx, s)
			require.ErrorIs(t, err, db.ErrInvalid)
			var dbErr *db.Error
			require.ErrorAs(t, err, &dbErr)
			assert.Equal(t, c.field, dbErr.Field)
			assert.NotEmpty(t, dbErr.Op)
			assert.NotContains(t, err.Error(), "\x00")
			assert.NotContains(t, err.Error(), long[:100], "errors never echo the input")
			for _, table := range []string{"api_keys", "tool_registrations", "audit_logs"} {
				assert.EqualValues(t, 0, count(t, e, s, table, ""), "%s: nothing written", table)
			}
		})
	}
}
