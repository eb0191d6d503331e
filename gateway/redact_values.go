package gateway

import (
	"encoding/base64"
	"slices"
	"strings"
)

// walker hides the secrets of one decoded document.
type walker struct {
	r        *Redactor
	stripNUL bool
}

// maxInnerJSON bounds how many JSON documents inside strings inside one
// another a walker opens.
const maxInnerJSON = 4

// value returns v with its secrets hidden, changing maps and slices in
// place, and whether anything changed.
func (w walker) value(v any, inner int) (any, bool) {
	switch v := v.(type) {
	case map[string]any:
		return w.object(v, inner)
	case []any:
		changed := false
		for i, e := range v {
			if ne, ch := w.value(e, inner); ch {
				v[i], changed = ne, true
			}
		}
		return v, changed
	case string:
		return w.str(v, inner)
	}
	return v, false
}

func (w walker) object(m map[string]any, inner int) (any, bool) {
	changed := false
	if w.stripNUL {
		for k, e := range m {
			if strings.IndexByte(k, 0) >= 0 {
				delete(m, k)
				m[strings.ReplaceAll(k, "\x00", "")] = e
				changed = true
			}
		}
	}
	pair := w.namesSecret(m)
	for k, e := range m {
		if w.r.secret(k) || pair && isValueKey(k) {
			if e != RedactedMarker {
				m[k], changed = RedactedMarker, true
			}
			continue
		}
		if ne, ch := w.value(e, inner); ch {
			m[k], changed = ne, true
		}
	}
	return m, changed
}

// namesSecret reports whether m is a name/value pair naming a secret:
// {"name":"Authorization","value":"..."}, {"key":"API_KEY","value":"..."}.
func (w walker) namesSecret(m map[string]any) bool {
	for k, e := range m {
		s, ok := e.(string)
		if !ok {
			continue
		}
		switch strings.ToLower(k) {
		case "name", "key", "header", "field":
			if w.r.secret(s) {
				return true
			}
		}
	}
	return false
}

func isValueKey(k string) bool {
	switch strings.ToLower(k) {
	case "value", "values", "val":
		return true
	}
	return false
}

// str hides the secrets of one string: a JSON document inside it is
// redacted as a document; any other text is searched (redactText).
func (w walker) str(s string, inner int) (any, bool) {
	changed := false
	if w.stripNUL && strings.IndexByte(s, 0) >= 0 {
		s, changed = strings.ReplaceAll(s, "\x00", ""), true
	}
	if inner < maxInnerJSON && looksLikeJSON(s) {
		if v, err := decodeJSON([]byte(s)); err == nil {
			if v, ch := w.value(v, inner+1); ch {
				if b, err := encodeJSON(v); err == nil {
					return string(b), true
				}
				return RedactedMarker, true // cannot happen: v was decoded from JSON
			}
			return s, changed
		}
	}
	if t, ch := w.r.redactText(s); ch {
		return t, true
	}
	return s, changed
}

// looksLikeJSON reports whether s could be a JSON object or array.
func looksLikeJSON(s string) bool {
	s = strings.TrimSpace(s)
	return len(s) >= 2 && (s[0] == '{' && s[len(s)-1] == '}' || s[0] == '[' && s[len(s)-1] == ']')
}

// redactText hides the credentials written inside text: mcpstore keys,
// Bearer tokens, Basic credentials, passwords in URLs, and values after a
// secret name and '=' or ':'. It returns s itself when there are none.
func (r *Redactor) redactText(s string) (string, bool) {
	if len(r.keys) == 0 {
		return s, false
	}
	changed := false
	for _, f := range []func(string) (string, bool){redactKeys, redactAuthSchemes, redactURLPasswords, r.redactAssignments} {
		if t, ch := f(s); ch {
			s, changed = t, true
		}
	}
	return s, changed
}

// spans collects the parts of a string to replace by RedactedMarker, in
// order and apart, and writes the result.
type spans struct {
	s    string
	cuts [][2]int
}

// add marks s[from:to] for replacement, unless it is empty or redacted
// already.
func (p *spans) add(from, to int) {
	if to > from && !strings.HasPrefix(p.s[from:], RedactedMarker) {
		p.cuts = append(p.cuts, [2]int{from, to})
	}
}

// result writes s with the spans replaced; of overlapping spans, the one
// that starts first.
func (p *spans) result() (string, bool) {
	if len(p.cuts) == 0 {
		return p.s, false
	}
	slices.SortFunc(p.cuts, func(a, b [2]int) int { return a[0] - b[0] })
	var b strings.Builder
	b.Grow(len(p.s))
	last := 0
	for _, c := range p.cuts {
		if c[0] < last {
			continue
		}
		b.WriteString(p.s[last:c[0]])
		b.WriteString(RedactedMarker)
		last = c[1]
	}
	b.WriteString(p.s[last:])
	return b.String(), true
}

func isBase62(c byte) bool { return digit(c) >= 0 }

// redactKeys hides every mcpstore key (KeyPattern) in s, checksum or not:
// a look-alike is hidden too.
func redactKeys(s string) (string, bool) {
	p := spans{s: s}
	for i := 0; ; {
		j := strings.Index(s[i:], KeyPrefix)
		if j < 0 {
			break
		}
		start := i + j
		end := start + len(KeyPrefix)
		for end < len(s) && isBase62(s[end]) {
			end++
		}
		if end-start >= KeyLen {
			p.add(start, end)
		}
		i = end
	}
	return p.result()
}

// b64token reports whether c may appear in an RFC 6750 token (and in
// base64 of either alphabet).
func b64token(c byte) bool {
	return isBase62(c) || strings.IndexByte("-._~+/=", c) >= 0
}

// redactAuthSchemes hides the token after "Bearer" and the credentials
// after "Basic" (base64 of user:password), in any case.
func redactAuthSchemes(s string) (string, bool) {
	p := spans{s: s}
	lower := asciiLower(s)
	for _, scheme := range []string{"bearer", "basic"} {
		for i := 0; ; {
			j := strings.Index(lower[i:], scheme)
			if j < 0 {
				break
			}
			k := i + j + len(scheme)
			i = k
			if j := i - len(scheme) - 1; j >= 0 && isBase62(s[j]) {
				continue // inside a word
			}
			sp := k
			for sp < len(s) && (s[sp] == ' ' || s[sp] == '\t') {
				sp++
			}
			if sp == k {
				continue
			}
			end := sp
			for end < len(s) && b64token(s[end]) {
				end++
			}
			if end == sp || scheme == "basic" && !basicCredentials(s[sp:end]) {
				continue
			}
			p.add(sp, end)
			i = end
		}
	}
	return p.result()
}

// basicCredentials reports whether tok is base64 of "user:password".
func basicCredentials(tok string) bool {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(tok); err == nil && strings.IndexByte(string(b), ':') > 0 {
			return true
		}
	}
	return false
}

// redactURLPasswords hides the password of every URL with user
// information: scheme://user:password@host.
func redactURLPasswords(s string) (string, bool) {
	p := spans{s: s}
	for i := 0; ; {
		j := strings.Index(s[i:], "://")
		if j < 0 {
			break
		}
		start := i + j + 3
		i = start
		end := start
		for end < len(s) && strings.IndexByte("@/?# \t\r\n\"'<>", s[end]) < 0 {
			end++
		}
		if end == len(s) || s[end] != '@' {
			continue
		}
		if colon := strings.IndexByte(s[start:end], ':'); colon >= 0 {
			p.add(start+colon+1, end)
		}
		i = end
	}
	return p.result()
}

// redactAssignments hides the value after a secret name and '=' or ':',
// as in environment files, configuration, query strings and headers
// written as text: OPENAI_API_KEY=sk-..., password: x, "token":"y",
// ?api_key=z&.
func (r *Redactor) redactAssignments(s string) (string, bool) {
	if strings.IndexAny(s, "=:") < 0 {
		return s, false
	}
	p := spans{s: s}
	for i := 0; i < len(s); i++ {
		if s[i] != '=' && s[i] != ':' {
			continue
		}
		// The name: to the left, past spaces and a closing quote.
		j := i
		for j > 0 && (s[j-1] == ' ' || s[j-1] == '\t') {
			j--
		}
		if j > 0 && (s[j-1] == '"' || s[j-1] == '\'') {
			j--
		}
		end := j
		for j > 0 && nameChar(s[j-1]) {
			j--
		}
		if j == end || !r.secret(s[j:end]) {
			continue
		}
		// The value: to the right, past spaces and an opening quote.
		k := i + 1
		if k < len(s) && s[k] == '=' { // ==, :=
			k++
		}
		for k < len(s) && (s[k] == ' ' || s[k] == '\t') {
			k++
		}
		var quote byte
		if k < len(s) && (s[k] == '"' || s[k] == '\'') {
			quote = s[k]
			k++
		}
		v := k
		for v < len(s) && valueChar(s[v], quote) {
			v++
		}
		if word := asciiLower(s[k:v]); word == "bearer" || word == "basic" {
			continue // redactAuthSchemes hides what follows
		}
		p.add(k, v)
		i = max(i, v-1)
	}
	return p.result()
}

func nameChar(c byte) bool { return isBase62(c) || c == '_' || c == '-' || c == '.' }

// valueChar reports whether c continues a value: up to the closing quote
// of a quoted one, up to a space or a separator of another.
func valueChar(c, quote byte) bool {
	if quote != 0 {
		return c != quote && c != '\n'
	}
	return strings.IndexByte(" \t\r\n,;&\"'}])<>", c) < 0
}

// asciiLower lowercases the ASCII letters of s, keeping its length.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
