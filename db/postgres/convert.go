package postgres

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/mcpstore/mcpstore/db"
)

// Conversions between the domain's zero values and SQL NULL: "" and the zero
// time are NULL, and so is a nil JSON document.

func nullStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func timeOf(p *time.Time) time.Time {
	if p == nil {
		return time.Time{}
	}
	return p.UTC()
}

// jsonOf returns a jsonb value in mcpstore's canonical form: jsonb already
// orders keys and prints numbers that way, and only the white space outside
// strings (jsonb prints a space after ',' and ':') goes. b is a fresh copy
// of the column, made for this row alone (by RegisterTypes' codec, or by
// json.Unmarshal on a pool without it), so the spaces are removed in place,
// at no allocation.
func jsonOf(b []byte) json.RawMessage {
	if b == nil {
		return nil
	}
	n := 0
	for i := 0; i < len(b); {
		switch c := b[i]; c {
		case ' ', '\n', '\t', '\r':
			i++
		case '"':
			j := stringEnd(b, i)
			n += copy(b[n:], b[i:j])
			i = j
		default:
			b[n] = c
			n++
			i++
		}
	}
	return b[:n:n]
}

// stringEnd returns the index just past the string that opens at b[i],
// found a quote at a time (bytes.IndexByte) rather than a byte at a time:
// a quote ends it unless an odd run of backslashes precedes it.
func stringEnd(b []byte, i int) int {
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return len(b) // not JSON: keep the rest as it is
		}
		j += k
		backslashes := 0
		for p := j - 1; p > i && b[p] == '\\'; p-- {
			backslashes++
		}
		j++
		if backslashes%2 == 0 {
			return j
		}
	}
}

func limits(p db.Page) (off, lim int32) { return int32(p.Offset), int32(p.Limit) }
