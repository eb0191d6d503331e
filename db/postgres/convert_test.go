package postgres

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
		if got := jsonOf([]byte(in)); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("jsonOf(%q) = %q, want %q", in, got, want.Bytes())
		}
	}
	if jsonOf(nil) != nil {
		t.Error("nil became non-nil")
	}
}

// rawMessageScan copies, drops the binary format's version byte, refuses
// another version, and reads SQL NULL as nil.
func TestRawMessageScan(t *testing.T) {
	var got json.RawMessage
	src := []byte{1, '{', '}'}
	if err := (rawMessageScan{binary: true}).Scan(src, &got); err != nil || string(got) != "{}" {
		t.Fatalf("binary: %q, %v", got, err)
	}
	src[1] = '['
	if string(got) != "{}" {
		t.Error("the value shares the read buffer")
	}
	if err := (rawMessageScan{binary: true}).Scan([]byte{2, '{', '}'}, &got); err == nil {
		t.Error("version 2 accepted")
	}
	if err := (rawMessageScan{}).Scan([]byte(`{"a": 1}`), &got); err != nil || string(got) != `{"a": 1}` {
		t.Errorf("text: %q, %v", got, err)
	}
	if err := (rawMessageScan{}).Scan(nil, &got); err != nil || got != nil {
		t.Errorf("NULL: %q, %v", got, err)
	}
}
