package sqlcrepo

import (
	"bytes"
	"encoding/json"
	"testing"
)

// jsonOf drops exactly the white space json.Compact drops, never a byte of
// a string, on the forms jsonb prints and on any other valid JSON.
func TestJSONOfMatchesCompact(t *testing.T) {
	for _, in := range []string{
		`{}`, `[]`, `null`, `"x"`, `1.50`,
		`{"a": 1, "bb": [1, 2, {"c": null}]}`,
		`{"s": "a, b: c", "t": "\" , : \\", "u": "\\\\\" x"}`,
		`{"sp": "  two  spaces ", "nl": "a\nb", "esc": "\u00e9 \"q\""}`,
		" {\n\t\"x\" :\r\n [ 1 , 2 ] } ",
		`{"": "", "\\": "\\", "q": "\\\"", "k": ["a b", "\\\\"]}`,
		`["\u0022 ", "tab\t, ", "", " "]`,
	} {
		var want bytes.Buffer
		if err := json.Compact(&want, []byte(in)); err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if got := jsonOf(json.RawMessage(in)); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("jsonOf(%q) = %q, want %q", in, got, want.Bytes())
		}
	}
	if jsonOf(json.RawMessage(nil)) != nil {
		t.Error("nil became non-nil")
	}
}
