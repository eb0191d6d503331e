package sqlcrepo

import (
	"bytes"
	"encoding/json"
	"time"
)

// Conversions between the domain's zero values and SQL NULL: "" and the
// zero time are NULL, and so is a nil JSON document.

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

func nullTime[T Time](t time.Time) *T {
	if t.IsZero() {
		return nil
	}
	v := T(t)
	return &v
}

func timeOf[T Time](t T) time.Time { return time.Time(t).UTC() }

func nullTimeOf[T Time](p *T) time.Time {
	if p == nil {
		return time.Time{}
	}
	return timeOf(*p)
}

// jsonOf returns a stored document in mcpstore's canonical form: both
// engines store it canonical (db.CanonicalJSON), but PostgreSQL's jsonb
// prints a space after ',' and ':', and only that white space outside
// strings goes. The bytes are a fresh copy of the column made for this row
// alone (by db/postgres's jsonb codec, json.Unmarshal on a pool without it,
// or sqlitecol.JSON), so the spaces are removed in place, at no
// allocation.
func jsonOf[J JSON](j J) json.RawMessage {
	b := []byte(j)
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

// mapRows maps a page of generated rows to domain values.
func mapRows[R, D any](rows []*R, err error, one func(*R) D) ([]D, error) {
	if err != nil {
		return nil, err
	}
	out := make([]D, len(rows))
	for i, r := range rows {
		out[i] = one(r)
	}
	return out, nil
}
