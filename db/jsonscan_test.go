package db

import (
	"strings"
	"testing"
)

func TestScanObject(t *testing.T) {
	for _, in := range []string{
		`{}`, ` { "b" : [1, 2.50, -0, -0.0, 1e2, 1.5E-3, 0e5, 0.00e3, -0.10e1, 12345678901234567890] , "a":"x\u00e9\n\/"} `,
		`{"a":{"a":1,"a":2}}`, `{"n":1e400,"m":-1e-400}`, `{"s":"\ud83d\ude00\ud800"}`,
		`{"n":1` + strings.Repeat("0", 131_071) + `}`, `{"n":0.` + strings.Repeat("1", 16_383) + `}`,
		strings.Repeat(`{"a":`, MaxJSONDepth-1) + `{}` + strings.Repeat(`}`, MaxJSONDepth-1),
	} {
		bound, err := ScanObject([]byte(in))
		if err != nil {
			t.Fatalf("ScanObject(%.40q): %v", in, err)
		}
		c, err := CheckObject([]byte(in))
		if err != nil {
			t.Fatalf("CheckObject(%.40q): %v", in, err)
		}
		if len(c) > bound {
			t.Errorf("ScanObject(%.40q) = %d, the canonical form has %d bytes", in, bound, len(c))
		}
	}
	for in, want := range map[string]string{
		`[1]`: "must be a JSON object", `"x"`: "must be a JSON object", `{"a":`: "not valid JSON", `{"a":1} x`: "not valid JSON: data after the value",
		`{"a":"\u0000"}`: "contains the NUL character", `{"\u0000":1}`: "contains the NUL character", `{"n":1e401}`: "number out of range",
		`{"n":1` + strings.Repeat("0", 131_072) + `}`: "number out of range", `{"n":0.` + strings.Repeat("1", 16_384) + `}`: "number out of range",
		strings.Repeat(`[`, 200): "nested deeper than 128", "{\"a\":\"\xff\"}": "not valid UTF-8", `{"a":01}`: "not valid JSON",
		`{"a":"\x"}`: "not valid JSON", "{\"a\":\"\t\"}": "not valid JSON", `{"a":1.}`: "not valid JSON", `{"a":-}`: "not valid JSON",
		`{"a":tru}`: "not valid JSON", `{"a":1,}`: "not valid JSON", ``: "not valid JSON",
	} {
		_, err := ScanObject([]byte(in))
		if err == nil || err.Error() != want {
			t.Errorf("ScanObject(%.40q) = %v, want %q", in, err, want)
		}
	}
}

// FuzzScanObject: ScanObject accepts exactly what CheckObject accepts (but
// for size), with the same words when it refuses, and its bound is never
// below the size of the canonical form.
func FuzzScanObject(f *testing.F) {
	for _, s := range []string{`{"b":1,"a":[1e2,-0,"x\u2028"]}`, `{"a":"\n","bb":-1.50,"c":0.00e-3}`, `{"n":-12.5e-7}`, `[]`, `{"a":1,"b":2,"a":3}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		bound, serr := ScanObject(in)
		c, cerr := CheckObject(in)
		if cerr == errJSONTooLarge {
			return
		}
		switch {
		case (serr == nil) != (cerr == nil):
			t.Fatalf("ScanObject(%q): %v, CheckObject: %v", in, serr, cerr)
		case serr != nil && serr.Error() != cerr.Error():
			t.Fatalf("ScanObject(%q) says %q, CheckObject %q", in, serr, cerr)
		case serr == nil && len(c) > bound:
			t.Fatalf("ScanObject(%q) = %d, the canonical form %q has %d bytes", in, bound, c, len(c))
		}
	})
}
