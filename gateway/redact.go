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

// RedactedMarker replaces the value of every field whose name looks secret,
// and every secret found inside a value.
const RedactedMarker = "[REDACTED]"

// DefaultRedactKeys returns the words that make a field name secret when
// it ends in one of them, once lowercased and without separators: "token"
// hides "access_token", "githubToken" and "X-Auth-Token"; "apikey" hides
// "OPENAI_API_KEY" and "x-api-key"; "accesskey" hides
// "aws_secret_access_key" and "SecretAccessKey".
func DefaultRedactKeys() []string {
	return []string{
		"authorization", "cookie", "cookies", "bearer",
		"password", "passwords", "passwd", "pwd", "passphrase",
		"secret", "secrets", "secretkey", "token", "jwt", "sessionid",
		"apikey", "apikeys", "accesskey", "accesskeys", "accountkey", "privatekey", "privatekeys",
		"signingkey", "encryptionkey", "masterkey", "pem",
		"credential", "credentials", "dsn", "connectionstring",
	}
}

// Redactor hides secrets in JSON documents and caps their size, as an
// Auditor does to request_data and response_data before storing them.
//
// A field is secret when its name, lowercased and without '-', '_', '.'
// or spaces, ends in one of the keys: "db_password" and "OPENAI_API_KEY"
// are secret for the keys "password" and "apikey", "max_tokens" and
// "tokenizer" are not for "token". Its value, whatever its type, becomes
// RedactedMarker, at any depth, inside objects and arrays alike. So does
// the "value" of an object that names a secret in its "name", "key",
// "header" or "field" ({"name":"Authorization","value":"Bearer ..."}, the
// way header and environment lists are written).
//
// Every string is searched too, the text content of tool results
// included: mcpstore keys (KeyPattern), the token after "Bearer", the
// credentials after "Basic", the password in a URL
// (postgres://admin:hunter2@host), and the value after a secret name and
// '=' or ':' (OPENAI_API_KEY=sk-..., "password: x") become RedactedMarker;
// a string that holds a JSON document is redacted as one.
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
	keys     []string // normalized
	maxBytes int
	// needles are what mayHoldSecret looks for in a normalized document:
	// the keys that contain no other key ("token" finds "accesstoken"
	// too), and the words that start a credential in a value. byBigram
	// finds them in one pass: for the two bytes a needle starts with, the
	// index+1 in starts of the needles that do (0: none).
	needles  [][]byte
	byBigram *[1 << 16]uint8
	starts   [][][]byte
	short    bool // a needle of one byte: byBigram cannot find it
}

// NewRedactor returns a Redactor hiding fields whose names end in the given
// keys (nil: DefaultRedactKeys; an empty, non-nil list hides nothing, not
// even secrets inside values) and truncating documents longer than
// maxBytes (0 or less: never).
func NewRedactor(keys []string, maxBytes int) *Redactor {
	if keys == nil {
		keys = DefaultRedactKeys()
	}
	r := &Redactor{maxBytes: maxBytes}
	seen := map[string]bool{}
	for _, k := range keys {
		if n := normalizeKey(k); n != "" && !seen[n] {
			seen[n] = true
			r.keys = append(r.keys, n)
		}
	}
	if len(r.keys) == 0 {
		return r
	}
	for _, k := range append(slicesClone(r.keys), valueWords...) {
		covered := false
		for _, other := range r.keys {
			if other != k && strings.Contains(k, other) {
				covered = true
				break
			}
		}
		if !covered {
			r.needles = append(r.needles, []byte(k))
		}
	}
	r.byBigram = new([1 << 16]uint8)
	for _, nd := range r.needles {
		if len(nd) < 2 || len(r.starts) >= 255 {
			r.short = true
			continue
		}
		k := uint16(nd[0])<<8 | uint16(nd[1])
		if r.byBigram[k] == 0 {
			r.starts = append(r.starts, nil)
			r.byBigram[k] = uint8(len(r.starts))
		}
		r.starts[r.byBigram[k]-1] = append(r.starts[r.byBigram[k]-1], nd)
	}
	return r
}

// valueWords start the credentials searched for inside values.
var valueWords = []string{"bearer", "basic"}

func slicesClone(s []string) []string { return append([]string(nil), s...) }

// Redact returns raw with its secrets hidden and its size capped. A nil
// document stays nil. It returns an error, and raw unchanged, when raw is
// not valid JSON. raw itself is never modified; the result may share its
// bytes when nothing had to change.
func (r *Redactor) Redact(raw json.RawMessage) (json.RawMessage, error) {
	if raw == nil {
		return nil, nil
	}
	// Go's JSON decoder would quietly turn invalid UTF-8 into U+FFFD; the
	// store refuses it (PostgreSQL cannot hold it), so refuse it here too.
	if !utf8.Valid(raw) {
		return raw, fmt.Errorf("not valid UTF-8")
	}
	out, decoded, err := r.redact(raw, false)
	if err != nil {
		return raw, err
	}
	if !decoded && !json.Valid(raw) {
		return raw, fmt.Errorf("not valid JSON")
	}
	return r.capSize(out), nil
}

// capSize replaces doc, valid JSON, by the truncation marker when it is
// longer than the limit in the form it would be stored in.
func (r *Redactor) capSize(doc []byte) json.RawMessage {
	if r.maxBytes <= 0 || len(doc) <= r.maxBytes {
		return doc
	}
	// Measured and previewed in the form it would be stored in, so that
	// the figure and the preview are the same on every engine.
	if c, err := db.CanonicalJSON(doc); err == nil {
		doc = c
	}
	if len(doc) > r.maxBytes {
		return truncated(doc, r.maxBytes)
	}
	return doc
}

// redact hides the secrets of raw, which must be valid UTF-8. A document
// mayHoldSecret clears comes back as it is, unchecked (decoded false);
// any other is decoded, and an error means it is not valid JSON. With
// stripNUL, the document is always decoded and the NUL characters of its
// strings and names dropped (PostgreSQL cannot store them).
func (r *Redactor) redact(raw []byte, stripNUL bool) (out []byte, decoded bool, err error) {
	if !stripNUL && !r.mayHoldSecret(raw) {
		return raw, false, nil
	}
	v, err := decodeJSON(raw)
	if err != nil {
		return raw, true, err
	}
	w := walker{r: r, stripNUL: stripNUL}
	v, changed := w.value(v, 0)
	if !changed {
		return raw, true, nil
	}
	out, err = encodeJSON(v)
	if err != nil {
		return raw, true, fmt.Errorf("encode redacted JSON: %w", err)
	}
	return out, true, nil
}

// decodeJSON decodes one JSON value, numbers kept as written.
func decodeJSON(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("not valid JSON")
	}
	if len(bytes.TrimLeft(raw[dec.InputOffset():], " \t\r\n")) > 0 {
		return nil, fmt.Errorf("not valid JSON: data after the value")
	}
	return v, nil
}

func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// mayHoldSecret reports whether raw could hold a secret, by a scan much
// cheaper than decoding it: a field matches only when its name, lowercased
// and without separators, contains a key, so a document that does not,
// lowercased and without separators as a whole, holds no secret field.
// Values are looked at the same way for the words that start credentials
// ("bearer", "basic"), and in raw for an mcpstore key's prefix and for a
// URL with user information (a "://" and an '@'). Text with escapes or
// non-ASCII characters (whose lowercase may be ASCII; a JSON document
// inside a string) is decoded to be sure.
func (r *Redactor) mayHoldSecret(raw []byte) bool {
	if len(r.keys) == 0 {
		return false
	}
	if bytes.Contains(raw, []byte(KeyPrefix)) ||
		bytes.Contains(raw, []byte("://")) && bytes.IndexByte(raw, '@') >= 0 {
		return true // an mcpstore key, or a URL with user information
	}
	var small [512]byte // most documents fit: no allocation
	buf := small[:0]
	// Where a needle may start, found as the normalized text is written:
	// checked once it is whole.
	var at [32]int32
	cands := at[:0]
	var prev byte
	for _, c := range raw {
		switch n := normalized[c]; n {
		case 0: // a separator
		case 0xff: // an escape, or a byte of a non-ASCII character
			return true
		default:
			if r.byBigram[uint16(prev)<<8|uint16(n)] != 0 && len(buf) > 0 {
				if len(cands) == cap(cands) {
					return true // a document full of near misses: decode it
				}
				cands = append(cands, int32(len(buf)-1))
			}
			buf = append(buf, n)
			prev = n
		}
	}
	if r.short {
		for _, k := range r.needles {
			if bytes.Contains(buf, k) {
				return true
			}
		}
		return false
	}
	for _, i := range cands {
		for _, nd := range r.starts[r.byBigram[uint16(buf[i])<<8|uint16(buf[i+1])]-1] {
			if bytes.HasPrefix(buf[i:], nd) {
				return true
			}
		}
	}
	return false
}

// normalized maps each byte of a document to what mayHoldSecret keeps of
// it: ASCII lowercased, 0 for the separators a name may hold, 0xff for a
// backslash and for the bytes of non-ASCII characters.
var normalized = func() (t [256]byte) {
	for c := range 256 {
		switch {
		case c == '\\' || c >= utf8.RuneSelf:
			t[c] = 0xff
		case isSeparator(rune(c)):
			t[c] = 0
		case 'A' <= c && c <= 'Z':
			t[c] = byte(c) + 'a' - 'A'
		default:
			t[c] = byte(c)
		}
	}
	return t
}()

// secret reports whether a field of this name holds a secret.
func (r *Redactor) secret(name string) bool {
	if len(r.keys) == 0 || name == "" {
		return false
	}
	var small [64]byte
	n := appendNormalized(small[:0], name)
	for _, k := range r.keys {
		if bytes.HasSuffix(n, []byte(k)) {
			return true
		}
	}
	return false
}

// normalizeKey lowercases name and drops its separators.
func normalizeKey(name string) string { return string(appendNormalized(nil, name)) }

func appendNormalized(dst []byte, name string) []byte {
	for _, c := range name {
		switch {
		case isSeparator(c):
		case c < utf8.RuneSelf:
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, byte(c))
		default:
			dst = utf8.AppendRune(dst, unicode.ToLower(c))
		}
	}
	return dst
}

func isSeparator(c rune) bool { return c == '-' || c == '_' || c == '.' || c == ' ' }

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
	return bytes.Clone(b.Bytes())
}
