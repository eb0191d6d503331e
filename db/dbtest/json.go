package dbtest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
)

// jsonCases pairs input documents with the bytes both engines must return:
// mcpstore's canonical form (db.CanonicalJSON), which is jsonb's, compact.
var jsonCases = []struct{ name, in, want string }{
	{"Empty", `{}`, `{}`},
	{"Canonical", `{"a":1,"bb":[1,2.50,"x"],"ccc":{"d":null,"e":true}}`, `{"a":1,"bb":[1,2.50,"x"],"ccc":{"d":null,"e":true}}`},
	{"KeyOrder", `{"b":1,"a":2,"aa":3}`, `{"a":2,"b":1,"aa":3}`},
	{"Spaces", "{ \"b\" : [ 1 , 2 ] ,\n\t\"a\" : { } }", `{"a":{},"b":[1,2]}`},
	{"Numbers", `{"e":1e2,"f":1.50e1,"g":-0,"h":1E-2,"i":1.0,"j":-1.5e-3,"k":123456789012345678901234567890}`,
		`{"e":100,"f":15.0,"g":0,"h":0.01,"i":1.0,"j":-0.0015,"k":123456789012345678901234567890}`},
	{"Strings", `{"u":"\u00e9\u2028<>&","t":"tab\there","q":"quote\"back\\slash","c":"\u001f\b\f"}`,
		"{\"c\":\"\\u001f\\b\\f\",\"q\":\"quote\\\"back\\\\slash\",\"t\":\"tab\\there\",\"u\":\"é\u2028<>&\"}"},
	{"DuplicateKeys", `{"a":1,"a":2}`, `{"a":2}`},
	{"Nested", `{"o":{"y":[{"b":true,"a":null}],"x":"1"}}`, `{"o":{"x":"1","y":[{"a":null,"b":true}]}}`},
}

func exerciseJSON(t *testing.T, e Engine) {
	// Every case through every JSON column kind: an API key's metadata, a
	// tool's schema, an audit event's request data.
	t.Run("RoundTrip", func(t *testing.T) {
		ctx, s := setup(t, e)
		for i, c := range jsonCases {
			want, err := db.CanonicalJSON([]byte(c.in))
			require.NoError(t, err, c.name)
			require.Equal(t, c.want, string(want), "%s: CanonicalJSON", c.name)

			k := NewKey(i)
			k.Metadata = json.RawMessage(c.in)
			key, err := s.APIKeys().Create(ctx, k)
			require.NoError(t, err, c.name)
			key, err = s.APIKeys().Get(ctx, key.ID)
			require.NoError(t, err, c.name)
			assert.Equal(t, c.want, string(key.Metadata), "%s: api key metadata", c.name)

			tool := newTool("srv", fmt.Sprintf("t%d", i))
			tool.InputSchema = json.RawMessage(c.in)
			created, err := s.Tools().Create(ctx, tool)
			require.NoError(t, err, c.name)
			got, err := s.Tools().Get(ctx, created.ID)
			require.NoError(t, err, c.name)
			assert.Equal(t, c.want, string(got.InputSchema), "%s: tool input schema", c.name)

			ev := newEvent(c.name, baseTime)
			ev.RequestData = json.RawMessage(c.in)
			_, err = s.AuditLogs().InsertBatch(ctx, []db.AuditLogCreate{ev})
			require.NoError(t, err, c.name)
			evs, err := s.AuditLogs().ListByRequestID(ctx, c.name)
			require.NoError(t, err, c.name)
			require.Len(t, evs, 1)
			assert.Equal(t, c.want, string(evs[0].RequestData), "%s: audit request data", c.name)

			// What comes back, stored again, comes back byte for byte.
			k2 := NewKey(100 + i)
			k2.Metadata = key.Metadata
			again, err := s.APIKeys().Create(ctx, k2)
			require.NoError(t, err, c.name)
			assert.Equal(t, string(key.Metadata), string(again.Metadata), "%s: second round trip", c.name)
		}
	})
}

// nested returns a JSON object nested depth deep: {} is 1 deep.
func nested(depth int) json.RawMessage {
	return json.RawMessage(strings.Repeat(`{"a":`, depth-1) + "{}" + strings.Repeat("}", depth-1))
}

// sized returns a canonical JSON object of exactly n bytes (n >= 8).
func sized(n int) json.RawMessage {
	return json.RawMessage(`{"s":"` + strings.Repeat("x", n-8) + `"}`)
}

// jsonWriter writes one document into one JSON field through one
// repository method and returns what the database stored.
type jsonWriter struct {
	field string
	write func(ctx context.Context, s db.Store, i int, doc json.RawMessage) (json.RawMessage, error)
}

// jsonWriters reach every JSON field of every table, through every method
// that writes one.
func jsonWriters() map[string]jsonWriter {
	tool := func(set func(*db.ToolCreate, json.RawMessage), get func(db.Tool) json.RawMessage) func(context.Context, db.Store, int, json.RawMessage) (json.RawMessage, error) {
		return func(ctx context.Context, s db.Store, i int, doc json.RawMessage) (json.RawMessage, error) {
			tc := newTool("srv", fmt.Sprintf("t%d", i))
			set(&tc, doc)
			got, err := s.Tools().Create(ctx, tc)
			return get(got), err
		}
	}
	event := func(ctx context.Context, s db.Store, i int) (db.AuditLog, error) {
		return s.AuditLogs().Insert(ctx, newEvent(fmt.Sprintf("e%d", i), baseTime))
	}
	return map[string]jsonWriter{
		"APIKeys.Create": {"metadata", func(ctx context.Context, s db.Store, i int, doc json.RawMessage) (json.RawMessage, error) {
			k := NewKey(i)
			k.Metadata = doc
			got, err := s.APIKeys().Create(ctx, k)
			return got.Metadata, err
		}},
		"APIKeys.Update": {"metadata", func(ctx context.Context, s db.Store, i int, doc json.RawMessage) (json.RawMessage, error) {
			k, err := s.APIKeys().Create(ctx, NewKey(i))
			if err != nil {
				return nil, err
			}
			got, err := s.APIKeys().Update(ctx, k.ID, db.APIKeyUpdate{Metadata: db.Set(doc)})
			return got.Metadata, err
		}},
		"Tools.Create/input_schema":  {"input_schema", tool(func(c *db.ToolCreate, d json.RawMessage) { c.InputSchema = d }, func(t db.Tool) json.RawMessage { return t.InputSchema })},
		"Tools.Create/output_schema": {"output_schema", tool(func(c *db.ToolCreate, d json.RawMessage) { c.OutputSchema = d }, func(t db.Tool) json.RawMessage { return t.OutputSchema })},
		"Tools.Create/annotations":   {"annotations", tool(func(c *db.ToolCreate, d json.RawMessage) { c.Annotations = d }, func(t db.Tool) json.RawMessage { return t.Annotations })},
		"Tools.Create/metadata":      {"metadata", tool(func(c *db.ToolCreate, d json.RawMessage) { c.Metadata = d }, func(t db.Tool) json.RawMessage { return t.Metadata })},
		"Tools.Upsert": {"input_schema", func(ctx context.Context, s db.Store, i int, doc json.RawMessage) (json.RawMessage, error) {
			tc := newTool("srv", fmt.Sprintf("t%d", i))
			tc.InputSchema = doc
			got, err := s.Tools().Upsert(ctx, tc)
			return got.InputSchema, err
		}},
		"Tools.Update": {"annotations", func(ctx context.Context, s db.Store, i int, doc json.RawMessage) (json.RawMessage, error) {
			t, err := s.Tools().Create(ctx, newTool("srv", fmt.Sprintf("t%d", i)))
			if err != nil {
				return nil, err
			}
			got, err := s.Tools().Update(ctx, t.ID, db.ToolUpdate{Annotations: db.Set(doc)})
			return got.Annotations, err
		}},
		"AuditLogs.Insert": {"request_data", func(ctx context.Context, s db.Store, i int, doc json.RawMessage) (json.RawMessage, error) {
			ev := newEvent(fmt.Sprintf("e%d", i), baseTime)
			ev.RequestData = doc
			got, err := s.AuditLogs().Insert(ctx, ev)
			return got.RequestData, err
		}},
		"AuditLogs.InsertBatch": {"response_data", func(ctx context.Context, s db.Store, i int, doc json.RawMessage) (json.RawMessage, error) {
			ev := newEvent(fmt.Sprintf("e%d", i), baseTime)
			ev.ResponseData = doc
			if _, err := s.AuditLogs().InsertBatch(ctx, []db.AuditLogCreate{ev}); err != nil {
				return nil, err
			}
			got, err := s.AuditLogs().ListByRequestID(ctx, ev.RequestID)
			if err != nil || len(got) != 1 {
				return nil, fmt.Errorf("read back: %d events, %w", len(got), err)
			}
			return got[0].ResponseData, nil
		}},
		"AuditLogs.Complete": {"response_data", func(ctx context.Context, s db.Store, i int, doc json.RawMessage) (json.RawMessage, error) {
			ev, err := event(ctx, s, i)
			if err != nil {
				return nil, err
			}
			got, err := s.AuditLogs().Complete(ctx, ev.ID, db.AuditLogComplete{Status: "success", ResponseData: doc})
			return got.ResponseData, err
		}},
	}
}

// exerciseJSONRule holds both engines to one JSON rule (db.MaxJSONDepth,
// db.MaxJSONBytes, numbers numeric can hold): each document at a limit is
// stored and comes back in canonical form, each just past it is refused
// with ErrInvalid naming the field, through every method that writes a
// JSON field. SQLite alone would refuse a document 1001 deep and
// PostgreSQL alone a number of 131,073 digits.
func exerciseJSONRule(t *testing.T, e Engine) {
	// 1e400 is 401 bytes in plain form: a document of a few kilobytes
	// that grows past the limit when stored.
	expands := `{"n":[` + strings.Repeat("1e400,", db.MaxJSONBytes/401) + `0]}`
	docs := []struct {
		name string
		doc  json.RawMessage
		ok   bool
	}{
		{"DepthAtLimit", nested(db.MaxJSONDepth), true},
		{"DepthPastLimit", nested(db.MaxJSONDepth + 1), false},
		{"Depth1001", nested(1001), false},
		{"ArraysPastLimit", json.RawMessage(`{"a":` + strings.Repeat("[", db.MaxJSONDepth) + strings.Repeat("]", db.MaxJSONDepth) + `}`), false},
		{"SizeAtLimit", sized(db.MaxJSONBytes), true},
		{"SizePastLimit", sized(db.MaxJSONBytes + 1), false},
		{"SpacesPastLimit", json.RawMessage(`{"a":1}` + strings.Repeat(" ", db.MaxJSONBytes)), false},
		{"GrowsPastLimitWhenStored", json.RawMessage(expands), false},
		{"ExponentAtLimit", json.RawMessage(`{"n":1e400,"m":-1e-400}`), true},
		{"ExponentPastLimit", json.RawMessage(`{"n":1e401}`), false},
		{"DigitsAtLimit", json.RawMessage(`{"n":1` + strings.Repeat("0", 131_071) + `}`), true},
		{"DigitsPastLimit", json.RawMessage(`{"n":1` + strings.Repeat("0", 131_072) + `}`), false},
		{"ScaleAtLimit", json.RawMessage(`{"n":0.` + strings.Repeat("1", 16_383) + `}`), true},
		{"ScalePastLimit", json.RawMessage(`{"n":0.` + strings.Repeat("1", 16_384) + `}`), false},
	}
	for name, w := range jsonWriters() {
		t.Run(name, func(t *testing.T) {
			ctx, s := setup(t, e)
			for i, d := range docs {
				got, err := w.write(ctx, s, i, d.doc)
				if !d.ok {
					require.ErrorIs(t, err, db.ErrInvalid, d.name)
					var dbErr *db.Error
					require.ErrorAs(t, err, &dbErr, d.name)
					assert.Equal(t, w.field, dbErr.Field, d.name)
					assert.Less(t, len(err.Error()), 200, "%s: the error names the rule, never the document", d.name)
					continue
				}
				require.NoError(t, err, d.name)
				want, err := db.CanonicalJSON(d.doc)
				require.NoError(t, err, d.name)
				assert.True(t, string(want) == string(got), "%s: stored %d bytes, want %d", d.name, len(got), len(want))
			}
		})
	}
}
