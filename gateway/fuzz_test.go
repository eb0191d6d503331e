package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/big"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/db/sqlite"
)

// The fuzz targets below run their seed corpus (testdata/fuzz/<name>) as
// ordinary tests; `make fuzz` runs each for a bounded time.

// keyFromSecret builds a raw key from 32 secret bytes, as newRawKey does
// from random ones.
func keyFromSecret(secret []byte) string {
	digits := new(big.Int).SetBytes(secret).Text(62)
	buf := []byte(KeyPrefix + strings.Repeat("0", keySecretLen-len(digits)) + digits)
	return string(appendChecksum(buf, crcString(string(buf[len(KeyPrefix):]))))
}

// FuzzKeyFormat: any string given as a key is refused or accepted without
// panicking; a malformed one is refused as malformed (that this needs no
// query is TestKeysMalformedNeverQuery's), a well-formed one that was
// never issued does not verify, and a key built from any 32 bytes is well formed, matches
// KeyPattern and gives its bytes back.
func FuzzKeyFormat(f *testing.F) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, "sqlite:"+filepath.Join(f.TempDir(), "keys.db"), sqlite.Options{})
	if err != nil {
		f.Fatal(err)
	}
	if err := s.MigrateUp(ctx); err != nil {
		f.Fatal(err)
	}
	k, err := NewKeys(ctx, s, KeysOptions{})
	if err != nil {
		f.Fatal(err)
	}
	issued, _, err := k.Issue(ctx, IssueOptions{Name: "fuzz"})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { k.Close(ctx); s.Close() })
	whole := regexp.MustCompile(`^` + KeyPattern + `$`)

	f.Add(issued, []byte("0123456789abcdef0123456789abcdef"))
	f.Fuzz(func(t *testing.T, raw string, secret []byte) {
		// An issued key verifies; everything else given is refused.
		p, err := k.Verify(ctx, raw)
		switch {
		case raw == issued:
			if err != nil {
				t.Fatalf("the issued key was refused: %v", err)
			}
			if p.KeyName != "fuzz" {
				t.Fatalf("the issued key verified as %q", p.KeyName)
			}
		case err == nil:
			t.Fatalf("a key never issued verified: %q", raw)
		default:
			var ke *KeyError
			if !errors.As(err, &ke) || !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("refusal is not a KeyError: %v", err)
			}
			want := KeyUnknown
			if !wellFormed(raw) {
				want = KeyMalformed
			}
			if ke.Reason != want {
				t.Fatalf("refused as %s, want %s", ke.Reason, want)
			}
			if err.Error() != ErrInvalidKey.Error() {
				t.Fatalf("the refusal says more than %q: %v", ErrInvalidKey, err)
			}
		}
		if wellFormed(raw) && !whole.MatchString(raw) {
			t.Fatalf("well formed but not matching KeyPattern: %q", raw)
		}

		// Round trip: 32 bytes make a well-formed key that decodes back.
		var b [keySecretBytes]byte
		copy(b[:], secret)
		key := keyFromSecret(b[:])
		if len(key) != KeyLen || !wellFormed(key) || !whole.MatchString(key) {
			t.Fatalf("key from %x is not well formed: %q", b, key)
		}
		n, ok := new(big.Int).SetString(key[len(KeyPrefix):len(KeyPrefix)+keySecretLen], 62)
		if !ok {
			t.Fatalf("secret of %q does not parse", key)
		}
		var back [keySecretBytes]byte
		n.FillBytes(back[:])
		if back != b {
			t.Fatalf("round trip: %x became %x", b, back)
		}
		// Any single change of a character breaks the key.
		if len(secret) > 0 {
			i := len(KeyPrefix) + int(secret[0])%(KeyLen-len(KeyPrefix))
			c := base62[(digit(key[i])+1+int(secret[len(secret)-1])%61)%62]
			changed := key[:i] + string(c) + key[i+1:]
			if wellFormed(changed) {
				t.Fatalf("changed at %d and still well formed: %q", i, changed)
			}
		}
	})
}

// toolNameRE is the MCP specification's rule for tool names.
var toolNameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)

// FuzzToolName: ValidateToolName accepts exactly the names of the
// specification, and ParseQualifiedName inverts QualifiedName.
func FuzzToolName(f *testing.F) {
	f.Add("read_file", "files")
	f.Fuzz(func(t *testing.T, name, server string) {
		err := ValidateToolName(name)
		if ok := toolNameRE.MatchString(name); ok != (err == nil) {
			t.Fatalf("ValidateToolName(%q) = %v, the rule says valid=%v", name, err, ok)
		}
		if err != nil {
			var te *ToolError
			if !errors.As(err, &te) || !errors.Is(err, db.ErrInvalid) || te.Field != "name" {
				t.Fatalf("not a ToolError on name: %#v", err)
			}
		}
		srv, tool, perr := ParseQualifiedName(QualifiedName(server, name))
		if perr == nil && err == nil {
			if srv != server || tool != name {
				t.Fatalf("ParseQualifiedName(QualifiedName(%q, %q)) = %q, %q", server, name, srv, tool)
			}
		}
		if perr != nil && err == nil && validateServerID(server) == nil {
			t.Fatalf("QualifiedName(%q, %q) does not parse: %v", server, name, perr)
		}
		if perr == nil && !toolNameRE.MatchString(tool) {
			t.Fatalf("qualified name accepted with tool %q", tool)
		}
		if perr != nil && !errors.Is(perr, db.ErrInvalid) {
			t.Fatalf("ParseQualifiedName error is not ErrInvalid: %v", perr)
		}
	})
}

// FuzzCheckTool: the registry's per-tool checks never panic, refuse with a
// ToolError (db.ErrInvalid), and what they accept has a valid name and
// canonical JSON objects, the input schema of type "object".
func FuzzCheckTool(f *testing.F) {
	f.Add("search", "Search", "finds things", []byte(`{"type":"object"}`), []byte(``), []byte(`{"readOnlyHint":true}`), []byte(`null`))
	f.Fuzz(func(t *testing.T, name, title, desc string, in, out, ann, meta []byte) {
		tool := Tool{Name: name, Title: title, Description: desc, InputSchema: in, OutputSchema: out, Annotations: ann, Meta: meta}
		got, err := checkTool(tool)
		if err != nil {
			var te *ToolError
			if !errors.As(err, &te) || !errors.Is(err, db.ErrInvalid) || te.Field == "" || te.Msg == "" {
				t.Fatalf("refusal is not a clear ToolError: %#v", err)
			}
			return
		}
		if !toolNameRE.MatchString(got.Name) {
			t.Fatalf("accepted tool name %q", got.Name)
		}
		var schema struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(got.InputSchema, &schema); err != nil || schema.Type != "object" {
			t.Fatalf("accepted input schema %s", got.InputSchema)
		}
		for field, v := range map[string]json.RawMessage{"outputSchema": got.OutputSchema, "annotations": got.Annotations, "_meta": got.Metadata} {
			if v == nil {
				continue
			}
			c, err := db.CanonicalJSON(v)
			if err != nil || !bytes.Equal(c, v) || v[0] != '{' {
				t.Fatalf("%s accepted as %s, not a canonical object", field, v)
			}
		}
		// Accepted in a list, the tool is accepted again by the same checks.
		if _, err := NewRegistry(nil, RegistryOptions{}).checkList("s", []Tool{tool}); err != nil {
			t.Fatalf("checkTool accepted what checkList refuses: %v", err)
		}
	})
}

// FuzzRedact: Redact returns valid JSON or an error; an object stays an
// object; no field named like a secret keeps its value, at any depth, and
// no string value holds an mcpstore key; the size bound holds; a truncated
// document previews the redacted one.
func FuzzRedact(f *testing.F) {
	f.Add([]byte(`{"user":"alice","password":"hunter2","nested":[{"apiKey":"k"}]}`), 64)
	f.Add([]byte(`{"note":"`+testKey+`","h":[{"name":"Authorization","value":"Bearer x"}],"u":"postgres://a:b@h","j":"{\"token\":1}"}`), 0)
	f.Fuzz(func(t *testing.T, doc []byte, max int) {
		max = max % (1 << 16)
		r := NewRedactor(nil, max)
		out, err := r.Redact(doc)
		if err != nil {
			if json.Valid(doc) && utf8.Valid(doc) {
				t.Fatalf("valid JSON refused: %v", err)
			}
			if !bytes.Equal(out, doc) || err.Error() == "" {
				t.Fatalf("refusal changed the input or says nothing: %v", err)
			}
			return
		}
		if doc == nil {
			if out != nil {
				t.Fatalf("nil became %s", out)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("output is not JSON: %q", out)
		}
		// An unchanged document keeps its surrounding white space.
		trimmed := bytes.TrimLeft(doc, " \t\r\n")
		if len(trimmed) > 0 && trimmed[0] == '{' && bytes.TrimLeft(out, " \t\r\n")[0] != '{' {
			t.Fatalf("an object became %s", out)
		}
		if max >= 64 && len(out) > max {
			t.Fatalf("output of %d bytes over the limit of %d", len(out), max)
		}
		dec := json.NewDecoder(bytes.NewReader(out))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		if path, bad := secretLeft(r, v, "$"); bad {
			t.Fatalf("secret field %s kept its value in %s", path, out)
		}
		if path, bad := keyLeft(v, "$"); bad {
			t.Fatalf("an mcpstore key kept in the value at %s of %s", path, out)
		}
		m, ok := v.(map[string]any)
		if !ok || m["_truncated"] != true || max <= 0 || len(doc) <= max {
			return
		}
		// Truncated: the preview is the start of the whole redacted
		// document, and _size its size.
		full, err := NewRedactor(nil, 0).Redact(doc)
		if err != nil {
			t.Fatal(err)
		}
		if c, err := db.CanonicalJSON(full); err == nil {
			full = c
		}
		preview, _ := m["_preview"].(string)
		if !strings.HasPrefix(strings.ToValidUTF8(string(full), "\uFFFD"), preview) && !strings.HasPrefix(string(full), preview) {
			t.Fatalf("preview %q is not the start of %q", preview, full)
		}
		if size, _ := m["_size"].(json.Number); size.String() != itoa(len(full)) {
			t.Fatalf("_size %s, the redacted document has %d bytes", size, len(full))
		}
	})
}

func itoa(n int) string { return big.NewInt(int64(n)).String() }

// secretLeft finds a field named like a secret whose value is not the
// marker.
func secretLeft(r *Redactor, v any, path string) (string, bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if r.secret(k) && e != RedactedMarker {
				return path + "." + k, true
			}
			if p, bad := secretLeft(r, e, path+"."+k); bad {
				return p, true
			}
		}
	case []any:
		for _, e := range v {
			if p, bad := secretLeft(r, e, path+"[]"); bad {
				return p, true
			}
		}
	}
	return "", false
}

var keyRE = regexp.MustCompile(KeyPattern)

// keyLeft finds a string value that holds an mcpstore key.
func keyLeft(v any, path string) (string, bool) {
	switch v := v.(type) {
	case string:
		return path, keyRE.MatchString(v)
	case map[string]any:
		for k, e := range v {
			if p, bad := keyLeft(e, path+"."+k); bad {
				return p, true
			}
		}
	case []any:
		for _, e := range v {
			if p, bad := keyLeft(e, path+"[]"); bad {
				return p, true
			}
		}
	}
	return "", false
}
