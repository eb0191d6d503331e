package db_test

import (
	"bytes"
	"encoding/json"
	"math/big"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpstore/mcpstore/db"
)

func TestCanonicalJSON(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"b":1,"a":2}`, `{"a":2,"b":1}`},
		{`{"ccc":1,"bb":2,"a":3}`, `{"a":3,"bb":2,"ccc":1}`},
		{`[1, 2 ,3]`, `[1,2,3]`},
		{`"x"`, `"x"`},
		{`1e2`, `100`},
		{`1.5e3`, `1500`},
		{`1.50e1`, `15.0`},
		{`12.345e1`, `123.45`},
		{`1e-2`, `0.01`},
		{`-1.5e-3`, `-0.0015`},
		{`0.5e1`, `5`},
		{`-0`, `0`},
		{`-0.0`, `0.0`},
		{`-0e5`, `0`},
		{`1E+2`, `100`},
		{`123`, `123`},
		{`-12.50`, `-12.50`},
		{`1e400`, "1" + strings.Repeat("0", 400)},
		{`"\u00e9\ud83d\ude00"`, `"é😀"`},
		{`"\u007f\u0001"`, "\"\x7f\\u0001\""},
		{`"</script>"`, `"</script>"`},
	} {
		got, err := db.CanonicalJSON([]byte(c.in))
		require.NoError(t, err, c.in)
		assert.Equal(t, c.want, string(got), c.in)
	}
}

func TestCanonicalJSONRefuses(t *testing.T) {
	for _, in := range []string{``, `{`, `{"a":1}x`, `{"a":"\u0000"}`, "\"\xff\"", `{"a":1e401}`, `{"a":1e-401}`, `nul`,
		"1" + strings.Repeat("0", 131_072), "0." + strings.Repeat("0", 16_384), "1e300" + strings.Repeat("0", 16_100),
		strings.Repeat("[", db.MaxJSONDepth+1) + strings.Repeat("]", db.MaxJSONDepth+1),
		`{"a":` + strings.Repeat(`[{"b":`, db.MaxJSONDepth/2) + `1` + strings.Repeat(`}]`, db.MaxJSONDepth/2) + `}`,
	} {
		_, err := db.CanonicalJSON([]byte(in))
		assert.Error(t, err, "%.40q", in)
	}
	// Brackets inside strings do not count.
	deepText := `{"a":"` + strings.Repeat(`[{\"`, 500) + `"}`
	_, err := db.CanonicalJSON([]byte(deepText))
	assert.NoError(t, err)
}

// TestCheckObject holds CheckObject to the JSON rule: an object of at most
// MaxJSONBytes as given and as stored.
func TestCheckObject(t *testing.T) {
	for _, c := range []struct {
		in  string
		err string
	}{
		{`{"b":1, "a":2}`, ""},
		{`[1]`, "must be a JSON object"},
		{`null`, "must be a JSON object"},
		{`{"s":"` + strings.Repeat("x", db.MaxJSONBytes-8) + `"}`, ""},
		{`{"s":"` + strings.Repeat("x", db.MaxJSONBytes-7) + `"}`, "larger than 1048576 bytes"},
		{`{"n":[` + strings.Repeat("1e400,", 3000) + `0]}`, "larger than 1048576 bytes"},
		{`{"n":1e401}`, "number out of range"},
		{strings.Repeat(`{"a":`, 200) + `{}` + strings.Repeat(`}`, 200), "nested deeper than 128"},
		{"{\"a\":\"\xff\"}", "not valid UTF-8"},
	} {
		out, err := db.CheckObject([]byte(c.in))
		if c.err == "" {
			require.NoError(t, err, "%.40s", c.in)
			want, _ := db.CanonicalJSON([]byte(c.in))
			assert.Equal(t, string(want), string(out))
			continue
		}
		require.Error(t, err, "%.40s", c.in)
		assert.Equal(t, c.err, err.Error(), "%.40s", c.in)
	}
}

// TestAuditFieldsCoverTheStruct holds TextField and JSONField to
// AuditLogCreate: every string field is a text field and every
// json.RawMessage a JSON field, each once, so that whoever repairs an event
// field by field (the Auditor) misses none.
func TestAuditFieldsCoverTheStruct(t *testing.T) {
	var ev db.AuditLogCreate
	seen := map[uintptr]string{}
	base := reflect.ValueOf(&ev).Pointer()
	for i := range db.NumAuditText {
		f, p := ev.TextField(i)
		off := reflect.ValueOf(p).Pointer() - base
		require.NotContains(t, seen, off, f.Name)
		seen[off] = f.Name
		assert.Positive(t, f.Max, f.Name)
	}
	for i := range db.NumAuditJSON {
		name, p := ev.JSONField(i)
		off := reflect.ValueOf(p).Pointer() - base
		require.NotContains(t, seen, off, name)
		seen[off] = name
	}
	typ := reflect.TypeOf(ev)
	raw := reflect.TypeOf(json.RawMessage(nil))
	for i := range typ.NumField() {
		f := typ.Field(i)
		if !f.IsExported() || f.Type.Kind() != reflect.String && f.Type != raw {
			continue
		}
		assert.Contains(t, seen, f.Offset, "%s is neither a text nor a JSON field", f.Name)
		delete(seen, f.Offset)
	}
	assert.Empty(t, seen, "fields listed that the struct does not have")
}

func TestPageChecked(t *testing.T) {
	p, err := db.Page{}.Checked()
	require.NoError(t, err)
	assert.Equal(t, db.Page{Limit: db.DefaultLimit}, p)
	for _, bad := range []db.Page{{Limit: -1}, {Offset: -1}, {Limit: db.MaxLimit + 1}} {
		_, err := bad.Checked()
		assert.ErrorIs(t, err, db.ErrInvalid)
	}
}

func TestErrorMessage(t *testing.T) {
	_, err := db.APIKeyCreate{Name: "n", Prefix: "p", KeyHash: "h", UserID: "secret\x00value"}.Checked()
	require.ErrorIs(t, err, db.ErrInvalid)
	assert.Equal(t, "mcpstore: invalid input: user_id: contains the NUL character", err.Error())
	assert.NotContains(t, err.Error(), "secret", "an error never quotes the input")
}

// FuzzCanonicalJSON checks that the canonical form is valid JSON, means the
// same as the input, and is its own canonical form.
func FuzzCanonicalJSON(f *testing.F) {
	for _, s := range []string{`{"b":1,"a":[1e2,-0,"x\u2028"]}`, `[{"aa":null,"b":true}]`, `1.50E+3`, `"\u001f"`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := db.CanonicalJSON(in)
		if err != nil {
			return
		}
		require.True(t, json.Valid(out), "%q -> %q", in, out)
		again, err := db.CanonicalJSON(out)
		require.NoError(t, err)
		require.Equal(t, string(out), string(again), "canonical form of %q is not stable", in)
		require.Equal(t, meaning(t, in), meaning(t, out), "%q -> %q changed meaning", in, out)
	})
}

// meaning decodes a JSON document with numbers as exact rationals, so that
// 1e2 and 100 mean the same and nothing is rounded.
func meaning(t *testing.T, doc []byte) any {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	require.NoError(t, dec.Decode(&v))
	var norm func(any) any
	norm = func(v any) any {
		switch v := v.(type) {
		case json.Number:
			r, ok := new(big.Rat).SetString(string(v))
			require.True(t, ok, v)
			return r.RatString()
		case []any:
			for i := range v {
				v[i] = norm(v[i])
			}
		case map[string]any:
			for k := range v {
				v[k] = norm(v[k])
			}
		}
		return v
	}
	return norm(v)
}
