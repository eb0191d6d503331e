// Package sqlitecol holds the column types of the SQLite engine's generated
// code (gen/sqlitedb), named in sqlc.yaml's overrides. Each stores a Go
// value in SQLite's own types and reads it back: a time as INTEGER
// microseconds since the Unix epoch, JSON as TEXT, a list of names as a
// JSON array in TEXT. Each is defined on the type PostgreSQL's generated
// code uses for the same column (time.Time, json.RawMessage, []string), so
// that the rows of both engines convert to one another's shape and one
// mapping serves both (db/internal/sqlcrepo).
//
// It imports no driver: only database/sql's interfaces.
package sqlitecol

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"
)

// Time is a time stored as INTEGER microseconds since the Unix epoch, UTC:
// one canonical form, so that range queries compare numbers. A column that
// may be NULL is a *Time, nil for NULL.
type Time time.Time

// Value returns the time in microseconds.
func (t Time) Value() (driver.Value, error) { return time.Time(t).UnixMicro(), nil }

// Scan reads microseconds. NULL is refused: a nullable column is a *Time,
// which database/sql sets to nil for NULL without calling Scan.
func (t *Time) Scan(src any) error {
	us, ok := src.(int64)
	if !ok {
		return fmt.Errorf("sqlitecol: a time must be INTEGER microseconds, got %T", src)
	}
	*t = Time(time.UnixMicro(us).UTC())
	return nil
}

// JSON is a JSON document stored as TEXT; nil is NULL.
type JSON json.RawMessage

// Value returns the document as text, or NULL for nil.
func (j JSON) Value() (driver.Value, error) {
	if j == nil {
		return nil, nil
	}
	return string(j), nil
}

// Scan reads TEXT (or a BLOB) into a fresh copy, and NULL as nil.
func (j *JSON) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*j = nil
	case string:
		*j = JSON(v)
	case []byte:
		*j = append(JSON(nil), v...)
	default:
		return fmt.Errorf("sqlitecol: a JSON document must be TEXT, got %T", src)
	}
	return nil
}

// List is a list of names stored as a JSON array of strings in TEXT. nil
// and the empty list are both stored as [] and read back as an empty,
// non-nil list.
type List []string

// Value returns the list as a JSON array.
func (l List) Value() (driver.Value, error) {
	if len(l) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal([]string(l))
	return string(b), err
}

// Scan reads a JSON array of strings.
func (l *List) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("sqlitecol: a list must be a JSON array in TEXT, got %T", src)
	}
	out := []string{}
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Errorf("sqlitecol: a list must be a JSON array of strings: %w", err)
	}
	if out == nil { // the JSON null
		out = []string{}
	}
	*l = out
	return nil
}
