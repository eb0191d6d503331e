package postgres

import (
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
// orders keys and prints numbers that way, and only the spaces it prints
// after ',' and ':' go. b is a fresh copy of the column, made for this row
// alone (by RegisterTypes' codec, or by json.Unmarshal on a pool without
// it), so the spaces are removed in place, at no allocation.
func jsonOf(b []byte) json.RawMessage {
	if b == nil {
		return nil
	}
	n, inStr := 0, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case inStr:
			if c == '\\' && i+1 < len(b) {
				b[n] = c
				n++
				i++
				c = b[i]
			} else if c == '"' {
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == ' ' || c == '\n' || c == '\t' || c == '\r':
			continue
		}
		b[n] = c
		n++
	}
	return b[:n:n]
}

func limits(p db.Page) (off, lim int32) { return int32(p.Offset), int32(p.Limit) }
