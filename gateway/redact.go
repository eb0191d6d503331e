package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mcpstore/mcpstore/db"
)

// RedactedMarker replaces the value of every field whose name looks secret.
const RedactedMarker = "[REDACTED]"

// DefaultRedactKeys returns the field names Redactor hides by default.
// Names match case-insensitively and whatever their separators: "api_key"
// also hides "apiKey", "API-Key" and "apikey".
func DefaultRedactKeys() []string {
	return []string{
		"authorization", "proxy-authorization", "cookie", "set-cookie",
		"password", "passwd", "passphrase", "secret", "client_secret", "secret_key",
		"token", "access_token", "refresh_token", "id_token", "auth_token", "session_token", "jwt",
		"api_key", "x-api-key", "access_key", "private_key", "credentials",
	}
}

// Redactor hides secrets in JSON documents and caps their size, as an
// Auditor does to request_data and response_data before storing them.
//
// A field is secret when its name, lowercased and without '-', '_', '.' or
// spaces, is one of the keys (so "Set-Cookie" matches "set-cookie"), or when
// the last word of its name is (so "db_password" and "githubToken" match
// "password" and "token", while "max_tokens" does not match "token"). Its
// value, whatever its type, becomes RedactedMarker, at any depth, inside
// objects and arrays alike.
//
// A document longer than the byte limit, after redaction, is replaced by
// the object {"_size":N,"_preview":"...","_truncated":true}: N is the size
// in bytes of the redacted document in the canonical form it would have
// been stored in (db.CanonicalJSON), and the preview its first bytes as a
// JSON string (cut on a character boundary), so that the whole object stays
// within the limit (when the limit leaves room for the object around the
// preview, about 45 bytes) and the stored value is still a JSON object. A
// Redactor is safe for concurrent use.
type Redactor struct {
	keys     map[string]struct{}
	maxBytes int
	// needles are the keys mayHoldSecret looks for: those that contain no
	// other key ("token" finds "accesstoken" too).
	needles [][]byte
}

// NewRedactor returns a Redactor hiding the given field names (nil:
// DefaultRedactKeys) and truncating documents longer than maxBytes (0 or
// less: never).
func NewRedactor(keys []string, maxBytes int) *Redactor {
	if keys == nil {
		keys = DefaultRedactKeys()
	}
	r := &Redactor{keys: make(map[string]struct{}, len(keys)), maxBytes: maxBytes}
	for _, k := range keys {
		if n := normalizeKey(k); n != "" {
			r.keys[n] = struct{}{}
		}
	}
	for k := range r.keys {
		covered := false
		for other := range r.keys {
			if other != k && strings.Contains(k, other) {
				covered = true
				break
			}
		}
		if !covered {
			r.needles = append(r.needles, []byte(k))
		}
	}
	return r
}

// Redact returns raw with its secret fields hidden and its size capped. A
// nil document stays nil. It returns an error, and raw unchanged, when raw
// is not valid JSON. raw itself is never modified; the result may share its
// bytes when nothing had to change.
func (r *Redactor) Redact(raw json.RawMessage) (json.RawMessage, error) {
	return r.apply(raw, true)
}

// apply is Redact; without validate, a document it has no need to decode
// (small enough, and holding no secret field name) comes back unchanged
// without being proven valid JSON: for callers that validate it next.
func (r *Redactor) apply(raw json.RawMessage, validate bool) (json.RawMessage, error) {
	if raw == nil {
		return nil, nil
	}
	if r.maxBytes <= 0 || len(raw) <= r.maxBytes {
		if !r.mayHoldSecret(raw) {
			// Returned as it is: the store checks UTF-8 and JSON when it
			// canonicalises it, so only Redact checks here.
			if validate && (!utf8.Valid(raw) || !json.Valid(raw)) {
				return raw, errInvalid(raw)
			}
			return raw, nil
		}
	}
	// Go's JSON decoder would quietly turn invalid UTF-8 into U+FFFD; the
	// store refuses it (PostgreSQL cannot hold it), so refuse it here too.
	if !utf8.Valid(raw) {
		return raw, fmt.Errorf("not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // numbers pass through exactly as written
	var v any
	if err := dec.Decode(&v); err != nil {
		return raw, fmt.Errorf("not valid JSON")
	}
	if len(bytes.TrimLeft(raw[dec.InputOffset():], " \t\r\n")) > 0 {
		return raw, fmt.Errorf("not valid JSON: data after the value")
	}
	out := raw
	if r.redact(v) {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return raw, fmt.Errorf("encode redacted JSON: %w", err)
		}
		out = bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	}
	if r.maxBytes > 0 && len(out) > r.maxBytes {
		// Measured and previewed in the form it would be stored in, so
		// that the figure and the preview are the same on every engine.
		if c, err := db.CanonicalJSON(out); err == nil {
			out = c
		}
		if len(out) > r.maxBytes {
			out = truncated(out, r.maxBytes)
		}
	}
	return out, nil
}

// errInvalid says why raw, which is not valid JSON or not UTF-8, is refused.
func errInvalid(raw []byte) error {
	if !utf8.Valid(raw) {
		return fmt.Errorf("not valid UTF-8")
	}
	return fmt.Errorf("not valid JSON")
}

// mayHoldSecret reports whether raw could hold a secret field name, by a
// scan much cheaper than decoding it: a field matches only when its name,
// lowercased and without separators, contains a key, so a document that
// does not, lowercased and without separators as a whole, holds none. Text
// with escapes or non-ASCII characters (whose lowercase may be ASCII) is
// decoded to be sure.
func (r *Redactor) mayHoldSecret(raw []byte) bool {
	if len(r.keys) == 0 {
		return false
	}
	var small [512]byte // most documents fit: no allocation
	buf := small[:0]
	for _, c := range raw {
		switch {
		case c == '\\' || c >= utf8.RuneSelf:
			return true
		case isSeparator(rune(c)):
		case 'A' <= c && c <= 'Z':
			buf = append(buf, c+'a'-'A')
		default:
			buf = append(buf, c)
		}
	}
	for _, k := range r.needles {
		if bytes.Contains(buf, k) {
			return true
		}
	}
	return false
}

// redact hides the secret fields of v in place and reports whether it
// hid any.
func (r *Redactor) redact(v any) bool {
	changed := false
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if r.secret(k) {
				v[k] = RedactedMarker
				changed = true
			} else if r.redact(e) {
				changed = true
			}
		}
	case []any:
		for _, e := range v {
			if r.redact(e) {
				changed = true
			}
		}
	}
	return changed
}

func (r *Redactor) secret(name string) bool {
	if len(r.keys) == 0 {
		return false
	}
	if _, ok := r.keys[normalizeKey(name)]; ok {
		return true
	}
	_, ok := r.keys[lastWord(name)]
	return ok
}

// normalizeKey lowercases name and drops its separators.
func normalizeKey(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	for _, c := range name {
		if isSeparator(c) {
			continue
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}

func isSeparator(c rune) bool { return c == '-' || c == '_' || c == '.' || c == ' ' }

// lastWord returns the last word of name, lowercased: the part after the
// last separator or the last lower-to-upper case change ("dbPassword" ->
// "password", "x-auth-token" -> "token").
func lastWord(name string) string {
	name = strings.TrimRightFunc(name, isSeparator)
	start := 0
	var prev rune
	for i, c := range name {
		switch {
		case isSeparator(c):
			start = i + utf8.RuneLen(c)
		case unicode.IsUpper(c) && unicode.IsLower(prev):
			start = i
		}
		prev = c
	}
	return strings.ToLower(name[start:])
}

// truncated returns the stand-in object for doc, at most max bytes long
// when max leaves room for the envelope.
func truncated(doc []byte, max int) json.RawMessage {
	size := strconv.Itoa(len(doc))
	head := `{"_size":` + size + `,"_preview":"`
	const tail = `","_truncated":true}`
	budget := max - len(head) - len(tail)
	var b bytes.Buffer
	b.Grow(max)
	b.WriteString(head)
	for i := 0; i < len(doc); {
		c, n := utf8.DecodeRune(doc[i:])
		var esc string
		switch {
		case c == '"':
			esc = `\"`
		case c == '\\':
			esc = `\\`
		case c < 0x20:
			esc = fmt.Sprintf(`\u%04x`, c)
		default: // doc is valid UTF-8: apply refuses anything else
			esc = string(doc[i : i+n])
		}
		if len(esc) > budget {
			break
		}
		budget -= len(esc)
		b.WriteString(esc)
		i += n
	}
	b.WriteString(tail)
	return b.Bytes()
}
