package db

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// CanonicalJSON returns raw in the one form both engines store and return:
// compact, object keys in PostgreSQL jsonb's order (shorter keys first, then
// byte order; the last of duplicate keys wins), numbers in numeric's plain
// decimal form (1e2 is 100), and strings escaped as jsonb escapes them. jsonb
// rewrites documents into this form anyway; doing it before storing makes
// SQLite return the same bytes, and a document already in this form
// round-trips byte for byte on both engines.
//
// It refuses invalid JSON, invalid UTF-8, the NUL character (which
// PostgreSQL cannot store in jsonb), nesting deeper than MaxJSONDepth, and
// numbers that PostgreSQL's numeric cannot hold or that would grow to
// hundreds of bytes in plain form: an exponent beyond ±400, more than
// 131,072 digits before the decimal point or 16,383 after it. A document already in canonical form
// (the common case: one written by mcpstore, or a compact document with
// sorted keys) is returned as it is, sharing raw's bytes, after a scan that
// allocates nothing; a common one (keys in another order, whitespace) is
// rewritten in one pass over its bytes; any other is decoded and written
// anew.
func CanonicalJSON(raw []byte) (json.RawMessage, error) {
	if !utf8.Valid(raw) {
		return nil, fmt.Errorf("not valid UTF-8")
	}
	if isCanonical(raw) {
		return raw[:len(raw):len(raw)], nil // appending to the result must not write into raw
	}
	if out, ok := rewriteCanonical(raw); ok {
		return out, nil
	}
	return canonicalSlow(raw)
}

// canonicalSlow decodes raw and writes it anew in canonical form.
func canonicalSlow(raw []byte) (json.RawMessage, error) {
	if nestedDeeper(raw, MaxJSONDepth) {
		return nil, errTooDeep
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("not valid JSON")
	}
	if len(bytes.TrimLeft(raw[dec.InputOffset():], " \t\r\n")) > 0 {
		return nil, fmt.Errorf("not valid JSON: data after the value")
	}
	var b bytes.Buffer
	b.Grow(len(raw))
	if err := writeCanonical(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeCanonical(b *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if v {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case json.Number:
		n, err := plainNumber(string(v))
		if err != nil {
			return err
		}
		b.WriteString(n)
	case string:
		return writeString(b, v)
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeCanonical(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b string) int {
			if len(a) != len(b) {
				return len(a) - len(b)
			}
			return strings.Compare(a, b)
		})
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeString(b, k); err != nil {
				return err
			}
			b.WriteByte(':')
			if err := writeCanonical(b, v[k]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		return fmt.Errorf("unexpected JSON value %T", v)
	}
	return nil
}

// writeString escapes s as PostgreSQL's escape_json does: the quote, the
// backslash and control characters; everything else as it is.
func writeString(b *bytes.Buffer, s string) error {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case 0:
			return fmt.Errorf("contains the NUL character")
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if c < 0x20 {
				fmt.Fprintf(b, `\u%04x`, c)
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
	return nil
}

var errTooDeep = fmt.Errorf("nested deeper than %d", MaxJSONDepth)

// nestedDeeper reports whether raw opens more than max objects and arrays
// inside one another, by a scan of its brackets outside strings: decoding
// a document only to find it too deep would cost far more (and Go's
// decoder stops at 10,000 levels with an error that says less).
func nestedDeeper(raw []byte, max int) bool {
	depth := 0
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '{', '[':
			if depth++; depth > max {
				return true
			}
		case '}', ']':
			depth--
		case '"':
			for i++; i < len(raw) && raw[i] != '"'; i++ {
				if raw[i] == '\\' {
					i++
				}
			}
		}
	}
	return false
}

// Limits of a JSON number.
const (
	// maxExponent bounds the exponent.
	maxExponent = 400
	// maxNumericDigits and maxNumericScale are the most digits
	// PostgreSQL's numeric holds before and after the decimal point; it
	// refuses a jsonb number with more ("value overflows numeric format").
	maxNumericDigits = 131_072
	maxNumericScale  = 16_383
)

// plainNumber writes a JSON number as PostgreSQL's numeric type prints it: no
// exponent, the scale the literal implies, and no negative zero.
func plainNumber(n string) (string, error) {
	if !strings.ContainsAny(n, "eE") && !strings.HasPrefix(n, "-0") && len(n) <= maxNumericScale {
		return n, nil // the common case: already plain (and too short to overflow)
	}
	neg := strings.HasPrefix(n, "-")
	n = strings.TrimPrefix(n, "-")
	mant, exp := n, 0
	if i := strings.IndexAny(n, "eE"); i >= 0 {
		mant = n[:i]
		e, err := strconv.Atoi(strings.TrimPrefix(n[i+1:], "+"))
		// Plain decimal form expands an exponent into digits, so a few bytes
		// of input could become megabytes. Exponents beyond float64's range
		// (about 1e±308) are refused: no real tool argument needs them.
		if err != nil || e > maxExponent || e < -maxExponent {
			return "", fmt.Errorf("number out of range")
		}
		exp = e
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := intPart + frac
	point := len(intPart) + exp // position of the decimal point in digits
	scale := max(len(frac)-exp, 0)

	var ip, fp string
	switch {
	case point <= 0:
		ip, fp = "0", strings.Repeat("0", -point)+digits
	case point >= len(digits):
		ip, fp = digits+strings.Repeat("0", point-len(digits)), ""
	default:
		ip, fp = digits[:point], digits[point:]
	}
	ip = strings.TrimLeft(ip, "0")
	if ip == "" {
		ip = "0"
	}
	if len(fp) > scale {
		fp = fp[:scale] // only zeros beyond the scale
	} else {
		fp += strings.Repeat("0", scale-len(fp))
	}
	if len(ip) > maxNumericDigits || len(fp) > maxNumericScale {
		return "", fmt.Errorf("number out of range")
	}
	out := ip
	if fp != "" {
		out += "." + fp
	}
	if neg && strings.Trim(ip+fp, "0") != "" {
		out = "-" + out
	}
	return out, nil
}
