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
// orders keys and prints numbers that way, and only its spaces go.
func jsonOf(b []byte) json.RawMessage {
	if b == nil {
		return nil
	}
	var out bytes.Buffer
	out.Grow(len(b))
	if err := json.Compact(&out, b); err != nil {
		return json.RawMessage(b) // PostgreSQL only returns valid JSON
	}
	return out.Bytes()
}

func limits(p db.Page) (off, lim int32) { return int32(p.Offset), int32(p.Limit) }
