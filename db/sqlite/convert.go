package sqlite

import (
	"encoding/json"
	"time"

	"github.com/mcpstore/mcpstore/db"
)

// Times are stored as INTEGER microseconds since the Unix epoch, UTC (see
// schema/sqlite). "" and the zero time are NULL, and so is a nil JSON
// document.

func micros(t time.Time) int64 { return t.UnixMicro() }

func timeOf(us int64) time.Time { return time.UnixMicro(us).UTC() }

func nullMicros(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	us := t.UnixMicro()
	return &us
}

func nullTimeOf(p *int64) time.Time {
	if p == nil {
		return time.Time{}
	}
	return timeOf(*p)
}

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

// JSON is stored as the canonical text db.CanonicalJSON made, and read back
// as it is.
func nullJSON(b json.RawMessage) *string {
	if b == nil {
		return nil
	}
	s := string(b)
	return &s
}

func jsonOf(p *string) json.RawMessage {
	if p == nil {
		return nil
	}
	return json.RawMessage(*p)
}

// Lists of names are JSON arrays of strings.
func listJSON(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(l) // a []string always marshals
	return string(b)
}

func listOf(s string) []string {
	var l []string
	if err := json.Unmarshal([]byte(s), &l); err != nil || l == nil {
		return []string{}
	}
	return l
}

func limits(p db.Page) (off, lim int64) { return int64(p.Offset), int64(p.Limit) }
