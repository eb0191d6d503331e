package db

import (
	"testing"
	"unicode/utf8"
)

func TestIsCanonical(t *testing.T) {
	for _, in := range []string{
		`{}`, `[]`, `{"a":1}`, `{"b":1,"aa":2}`, `{"a":{"b":[1,2.50,-3,0,0.0]},"bb":null}`,
		`"x\"y\\z\n\t\r\b\f"`, `true`, `false`, `null`, `-12.5`, `"é😀"`, "\"\x7f\"",
		`{"arguments":{"limit":10,"query":"weather in Paris"}}`,
	} {
		if !isCanonical([]byte(in)) {
			t.Errorf("isCanonical(%s) = false, want true", in)
		}
		out, err := canonicalSlow([]byte(in))
		if err != nil || string(out) != in {
			t.Errorf("canonicalSlow(%s) = %s, %v: the test case is not canonical", in, out, err)
		}
	}
	for _, in := range []string{
		``, ` {}`, `{} `, `{"b":1,"a":2}`, `{"aa":1,"b":2}`, `{"a":1,"a":2}`, `[1, 2]`, `{"a" :1}`,
		`1e2`, `1E2`, `-0`, `-0.5`, `01`, `1.`, `.5`, `-`, `"\u0041"`, `"\/"`, `{"\n":1}`, "\"\x01\"",
		`{"a":1`, `[1,]`, `{,}`, `tru`, `nulls`, `"abc`, `{"a":1}x`, `[1 2]`,
	} {
		if isCanonical([]byte(in)) {
			t.Errorf("isCanonical(%q) = true, want false", in)
		}
	}
	deep := make([]byte, 0, 2*maxCanonDepth+2)
	for range maxCanonDepth + 1 {
		deep = append(deep, '[')
	}
	for range maxCanonDepth + 1 {
		deep = append(deep, ']')
	}
	if isCanonical(deep) {
		t.Errorf("isCanonical follows nesting deeper than %d", maxCanonDepth)
	}
}

// TestCanonicalJSONSharesCanonical checks the fast path: a canonical
// document comes back as the same bytes, with no room to append into.
func TestCanonicalJSONSharesCanonical(t *testing.T) {
	in := []byte(`{"a":1,"bb":[true]}xyz`)[:19]
	out, err := CanonicalJSON(in)
	if err != nil || string(out) != string(in) {
		t.Fatalf("CanonicalJSON(%s) = %s, %v", in, out, err)
	}
	if &out[0] != &in[0] || cap(out) != len(out) {
		t.Errorf("the canonical input was copied, or can be appended into")
	}
}

func TestRewriteCanonical(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"query":"weather", "limit":10}`, `{"limit":10,"query":"weather"}`},
		{` { "b" : [ 1 , {"d":1,"c":2} ] , "a" : "x\ty" } `, `{"a":"x\ty","b":[1,{"c":2,"d":1}]}`},
		{`{"type":"text","text":"sunny"}`, `{"text":"sunny","type":"text"}`},
		{`{"ccc":1,"bb":2,"a":3}`, `{"a":3,"bb":2,"ccc":1}`},
		{"[\n]", `[]`},
		{`{ }`, `{}`},
		{`{ "a" : 1 , "bb" : [ 2 , 3 ] }`, `{"a":1,"bb":[2,3]}`},
		{`{"b":{"x":1, "y":2},"a":0}`, `{"a":0,"b":{"x":1,"y":2}}`},
		{`{"a":{"y":1,"x":2}, "b":0}`, `{"a":{"x":2,"y":1},"b":0}`},
	} {
		out, ok := rewriteCanonical([]byte(c.in))
		if !ok || string(out) != c.want {
			t.Errorf("rewriteCanonical(%s) = %s, %v; want %s", c.in, out, ok, c.want)
		}
		slow, err := canonicalSlow([]byte(c.in))
		if err != nil || string(slow) != c.want {
			t.Errorf("canonicalSlow(%s) = %s, %v: the test case is wrong", c.in, slow, err)
		}
	}
	for _, in := range []string{`{"a":1,"a":2}`, `{"a":1e2}`, `{"a":"\u0041"}`, `{"\n":1}`, `{"a":-0}`, `{"a":1,}`, `{"a" 1}`, `[1 2]`, ``, ` `} {
		if out, ok := rewriteCanonical([]byte(in)); ok {
			t.Errorf("rewriteCanonical(%q) = %s, true; want false", in, out)
		}
	}
}

// FuzzCanonicalFastPath checks that the fast paths answer only for
// documents the decoding path accepts, and with its answer.
func FuzzCanonicalFastPath(f *testing.F) {
	for _, s := range []string{`{"b":1,"a":[1e2,-0,"x\u2028"]}`, `[{"aa":null,"b":true}]`, `{"a":"\n","bb":-1.50}`, `"\u001f"`, `{}`, `[0,1,-2]`,
		` {"b" : {"y":[true,null],"x":"\t"}, "a":1.5 } `, `{"a":1,"b":2,"a":3}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if !utf8.Valid(in) {
			return
		}
		if rewritten, ok := rewriteCanonical(in); ok {
			out, err := canonicalSlow(in)
			if err != nil {
				t.Fatalf("rewriteCanonical accepted %q, which the decoding path refuses: %v", in, err)
			}
			if string(out) != string(rewritten) {
				t.Fatalf("rewriteCanonical(%q) = %q, the decoding path %q", in, rewritten, out)
			}
		}
		if !isCanonical(in) {
			return
		}
		out, err := canonicalSlow(in)
		if err != nil {
			t.Fatalf("isCanonical accepted %q, which the decoding path refuses: %v", in, err)
		}
		if string(out) != string(in) {
			t.Fatalf("isCanonical accepted %q, whose canonical form is %q", in, out)
		}
	})
}

// TestRewriteCanonicalAllocs checks that a writer that has written a
// document writes the next, such as the two an audit event carries, with
// one allocation, its output: its buffers are reused (rewriteCanonical
// keeps writers in a sync.Pool).
func TestRewriteCanonicalAllocs(t *testing.T) {
	docs := [][]byte{
		[]byte(`{"arguments":{"query":"weather in Paris", "limit":10}}`),
		[]byte(`{"content":[{"type":"text","text":"sunny"}],"isError":false}`),
	}
	var w canonWriter
	for _, d := range docs {
		if _, ok := w.rewrite(d); !ok {
			t.Fatalf("rewrite(%s) refused", d)
		}
	}
	for _, d := range docs {
		allocs := testing.AllocsPerRun(100, func() {
			if _, ok := w.rewrite(d); !ok {
				t.Fatalf("rewrite(%s) refused", d)
			}
		})
		if allocs > 1 {
			t.Errorf("rewrite(%s): %.0f allocations, want 1 (the output)", d, allocs)
		}
	}
	w.release()
}
