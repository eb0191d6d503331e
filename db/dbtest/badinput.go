package dbtest

import (
	"context"
	"encoding/json"
	"iter"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
)

// exerciseBadInput sends input that must be refused with ErrInvalid, naming
// the field, and checks that nothing at all was written. Every repository
// method has a case here (EveryMethod checks that each was refused once).
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
	// Beyond SQLite's INTEGER microseconds, which wrapped it to year
	// -284555; outside the years both engines store.
	farFuture := time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC)

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
		{"KeyNULInOwner", "owner", key(func(k *db.APIKeyCreate) { k.Owner = "\x00" })},
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
		{"EventFarFuture", "created_at", event(func(ev *db.AuditLogCreate) { ev.CreatedAt = farFuture })},
		{"KeyExpiryFarFuture", "expires_at", key(func(k *db.APIKeyCreate) { k.ExpiresAt = farFuture })},
		{"ToolNameWithSlash", "name", tool(func(c *db.ToolCreate) { c.Name = "fs/read" })},
		{"ToolNameWithNewline", "name", tool(func(c *db.ToolCreate) { c.Name = "a\nb" })},
		{"ToolNameWithSpace", "name", tool(func(c *db.ToolCreate) { c.Name = "read file" })},
		{"EventBadUTF8ClientRequestID", "client_request_id", event(func(ev *db.AuditLogCreate) { ev.ClientRequestID = "\xff" })},
		{"EventLongClientRequestID", "client_request_id", event(func(ev *db.AuditLogCreate) { ev.ClientRequestID = long })},
		{"EventRequestDataTooDeep", "request_data", event(func(ev *db.AuditLogCreate) { ev.RequestData = nested(db.MaxJSONDepth + 1) })},
		{"EventResponseDataHugeExponent", "response_data", event(func(ev *db.AuditLogCreate) { ev.ResponseData = raw(`{"n":1e401}`) })},
		{"ToolInputSchemaTooDeep", "input_schema", tool(func(c *db.ToolCreate) { c.InputSchema = nested(1001) })},
		{"ToolOutputSchemaTooLarge", "output_schema", tool(func(c *db.ToolCreate) { c.OutputSchema = sized(db.MaxJSONBytes + 1) })},
		{"KeyMetadataTooManyDigits", "metadata", key(func(k *db.APIKeyCreate) {
			k.Metadata = raw(`{"n":1` + strings.Repeat("0", 131_072) + `}`)
		})},
		{"ClientRequestNUL", "client_request_id", func(ctx context.Context, s db.Store) error {
			_, err := s.AuditLogs().List(ctx, db.AuditQuery{ClientRequestID: "c\x00"})
			return err
		}},
		{"ClientRequestAndUser", "user_id", func(ctx context.Context, s db.Store) error {
			_, err := s.AuditLogs().List(ctx, db.AuditQuery{ClientRequestID: "c", UserID: "u"})
			return err
		}},
		{"NegativeLimit", "limit", func(ctx context.Context, s db.Store) error {
			_, err := s.APIKeys().List(ctx, db.KeyQuery{Limit: -1})
			return err
		}},
		{"NegativeOffset", "offset", func(ctx context.Context, s db.Store) error {
			_, err := s.AuditLogs().List(ctx, db.AuditQuery{UserID: "u", Offset: -1})
			return err
		}},
		{"OffsetBeyondInt32", "offset", func(ctx context.Context, s db.Store) error {
			_, err := s.Tools().List(ctx, db.ToolQuery{Offset: 1 << 32})
			return err
		}},
		{"LimitTooLarge", "limit", func(ctx context.Context, s db.Store) error {
			_, err := s.Tools().List(ctx, db.ToolQuery{Limit: db.MaxLimit + 1})
			return err
		}},
		{"OwnerAndPrefix", "prefix", func(ctx context.Context, s db.Store) error {
			_, err := s.APIKeys().List(ctx, db.KeyQuery{Owner: "alice", Prefix: "mcp_"})
			return err
		}},
		{"KeysAllNegativeLimit", "limit", allErr(func(ctx context.Context, s db.Store) iter.Seq2[db.APIKey, error] {
			return s.APIKeys().All(ctx, db.KeyQuery{Limit: -1})
		})},
		{"ToolsAllNegativeAfter", "after_id", allErr(func(ctx context.Context, s db.Store) iter.Seq2[db.Tool, error] {
			return s.Tools().All(ctx, db.ToolQuery{AfterID: -1})
		})},
		{"AuditAllRangeBackwards", "range", allErr(func(ctx context.Context, s db.Store) iter.Seq2[db.AuditLog, error] {
			return s.AuditLogs().All(ctx, db.AuditQuery{From: baseTime, To: baseTime.Add(-time.Second)})
		})},
		{"AuditRequestAndUser", "user_id", func(ctx context.Context, s db.Store) error {
			_, err := s.AuditLogs().List(ctx, db.AuditQuery{RequestID: "r", UserID: "u"})
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
		{"EmptyHashLookup", "key_hash", func(ctx context.Context, s db.Store) error {
			_, err := s.APIKeys().GetByHash(ctx, "")
			return err
		}},
		{"DeleteKeyNoID", "id", func(ctx context.Context, s db.Store) error {
			return s.APIKeys().Delete(ctx, "")
		}},
		{"DeactivateLongID", "id", func(ctx context.Context, s db.Store) error {
			return s.APIKeys().Deactivate(ctx, long)
		}},
		{"LastUsedZeroTime", "at", func(ctx context.Context, s db.Store) error {
			return s.APIKeys().UpdateLastUsed(ctx, "k", time.Time{})
		}},
		{"LastUsedBatchNoID", "id", func(ctx context.Context, s db.Store) error {
			_, err := s.APIKeys().UpdateLastUsedBatch(ctx, []db.KeyUse{{ID: "", At: baseTime}})
			return err
		}},
		{"RevokeFarFuture", "at", func(ctx context.Context, s db.Store) error {
			_, err := s.APIKeys().Revoke(ctx, "k", farFuture, "")
			return err
		}},
		{"ToolGetZeroID", "id", func(ctx context.Context, s db.Store) error {
			_, err := s.Tools().Get(ctx, 0)
			return err
		}},
		{"ToolGetByNameWithSlash", "name", func(ctx context.Context, s db.Store) error {
			_, err := s.Tools().GetByName(ctx, "srv", "fs/read")
			return err
		}},
		{"ToolDeleteNegativeID", "id", func(ctx context.Context, s db.Store) error {
			return s.Tools().Delete(ctx, -1)
		}},
		{"DeactivateServerNUL", "server_id", func(ctx context.Context, s db.Store) error {
			_, err := s.Tools().DeactivateByServer(ctx, "s\x00")
			return err
		}},
		{"LockServerLong", "server_id", func(ctx context.Context, s db.Store) error {
			return s.Tools().LockServer(ctx, long)
		}},
		{"EventGetZeroID", "id", func(ctx context.Context, s db.Store) error {
			_, err := s.AuditLogs().Get(ctx, 0)
			return err
		}},
		{"EventDeleteZeroID", "id", func(ctx context.Context, s db.Store) error {
			return s.AuditLogs().Delete(ctx, 0)
		}},
		{"PruneBatchZero", "batch_size", func(ctx context.Context, s db.Store) error {
			_, err := s.AuditLogs().Prune(ctx, baseTime, 0)
			return err
		}},
		{"ListNewestNegativeLimit", "limit", func(ctx context.Context, s db.Store) error {
			_, err := s.AuditLogs().ListNewest(ctx, db.Page{Limit: -1})
			return err
		}},
		{"ListAfterNegativeID", "after_id", func(ctx context.Context, s db.Store) error {
			_, err := s.AuditLogs().ListAfterID(ctx, -1, db.Page{})
			return err
		}},
		{"RangeBackwards", "range", func(ctx context.Context, s db.Store) error {
			_, err := s.AuditLogs().ListByDateRange(ctx, baseTime, baseTime.Add(-time.Hour), "", db.Page{})
			return err
		}},
		{"CursorRangeBackwards", "range", func(ctx context.Context, s db.Store) error {
			_, err := s.AuditLogs().List(ctx, db.AuditQuery{From: baseTime, To: baseTime.Add(-time.Hour)})
			return err
		}},
		{"CursorNULInAction", "action", func(ctx context.Context, s db.Store) error {
			_, err := s.AuditLogs().List(ctx, db.AuditQuery{From: baseTime, Action: "a\x00"})
			return err
		}},
		{"StatisticsNoRange", "range", func(ctx context.Context, s db.Store) error {
			_, err := s.AuditLogs().Statistics(ctx, time.Time{}, baseTime)
			return err
		}},
		{"StatisticsFarEnd", "range", func(ctx context.Context, s db.Store) error {
			_, err := s.AuditLogs().Statistics(ctx, baseTime, farFuture)
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

// allErr runs an All iterator and returns the first error it yields.
func allErr[T any](all func(context.Context, db.Store) iter.Seq2[T, error]) func(context.Context, db.Store) error {
	return func(ctx context.Context, s db.Store) error {
		_, err := collectErr(all(ctx, s))
		return err
	}
}
