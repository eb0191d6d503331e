package dbtest

import (
	"encoding/json"
	"fmt"
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
			evs, err := collectErr(s.AuditLogs().All(ctx, db.AuditQuery{RequestID: c.name}))
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
