package db

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// Length limits, in characters. The Store enforces them before a statement
// runs, so that both engines refuse the same input.
const (
	MaxIDLen          = 64
	MaxNameLen        = 200
	MaxToolNameLen    = 128 // the MCP specification's limit
	MaxShortLen       = 200 // user ids, server ids, request ids, prefixes, roles...
	MaxListLen        = 256 // entries in roles or permissions
	MaxDescriptionLen = 65_536
)

// The times both engines store: years 1 to 9999 in UTC, the years RFC 3339
// (and so JSON) can write. PostgreSQL's timestamptz reaches further, but
// SQLite's INTEGER microseconds wrap beyond about year 294,000, so a time
// outside is refused with ErrInvalid rather than stored as another. The
// zero time.Time is MinTime: where a time is optional, zero means "none".
var (
	MinTime = time.Time{}.UTC()
	MaxTime = time.Date(9999, 12, 31, 23, 59, 59, 999_999_000, time.UTC)
)

// Page selects part of a list: Limit rows after skipping Offset. A zero
// Limit means DefaultLimit. Deep pages cost more the deeper they are: to
// read a whole list, use the repository's All, which pages by cursor.
type Page struct {
	Limit  int
	Offset int
}

// Paging limits. MaxOffset is the deepest offset both engines take alike.
const (
	DefaultLimit = 100
	MaxLimit     = 10_000
	MaxOffset    = math.MaxInt32
)

// The JSON rule, the same on both engines and checked here before a
// statement runs: every JSON field (an API key's metadata; a tool's input
// schema, output schema, annotations and metadata; an audit event's request
// and response data) holds one JSON object of at most MaxJSONBytes bytes,
// both as given and in the canonical form stored (CanonicalJSON), nested at
// most MaxJSONDepth deep (an object or array inside another counts one
// more: {} is 1 deep, {"a":[1]} 2), in valid UTF-8 without the NUL
// character, whose numbers PostgreSQL's numeric can hold (see
// CanonicalJSON). SQLite would refuse documents nested more than 1000 deep
// and PostgreSQL stores them; both refuse what breaks this rule, with
// ErrInvalid naming the field.
const (
	MaxJSONDepth = 128
	MaxJSONBytes = 1 << 20 // 1 MiB
)

// checker collects the first validation failure of one input.
type checker struct{ err *Error }

func (c *checker) fail(field, msg string) {
	if c.err == nil {
		c.err = invalid("", field, msg)
	}
}

// text checks a string that must hold between min and max characters.
func (c *checker) text(field, s string, min, max int) {
	if !utf8.ValidString(s) {
		c.fail(field, "not valid UTF-8")
		return
	}
	if strings.IndexByte(s, 0) >= 0 {
		c.fail(field, "contains the NUL character")
		return
	}
	n := utf8.RuneCountInString(s)
	switch {
	case n < min && min == 1:
		c.fail(field, "must not be empty")
	case n < min || n > max:
		c.fail(field, fmt.Sprintf("must be %d to %d characters, got %d", min, max, n))
	}
}

// id checks the id of an API key.
func (c *checker) id(field, id string) { c.text(field, id, 1, MaxIDLen) }

// rowID checks the id of a row numbered by the database, which starts at 1.
func (c *checker) rowID(field string, id int64) {
	if id < 1 {
		c.fail(field, "must be positive")
	}
}

func (c *checker) list(field string, l []string) []string {
	if len(l) > MaxListLen {
		c.fail(field, fmt.Sprintf("must have at most %d entries", MaxListLen))
	}
	for _, s := range l {
		c.text(field, s, 1, MaxShortLen)
	}
	if l == nil {
		return []string{}
	}
	return l
}

// object checks that raw is a JSON object a field may hold (or nil when
// optional) and returns it in canonical form.
func (c *checker) object(field string, raw json.RawMessage, required bool) json.RawMessage {
	if raw == nil {
		if required {
			c.fail(field, "required")
		}
		return nil
	}
	out, err := CheckObject(raw)
	if err != nil {
		c.fail(field, err.Error())
		return nil
	}
	return out
}

// CheckObject returns raw in canonical form when a JSON field may hold it,
// under the JSON rule above (a JSON object, MaxJSONBytes, MaxJSONDepth,
// what CanonicalJSON refuses), or an error saying, in words safe to log,
// why not: the words with which a repository refuses the field. Like
// CanonicalJSON, it returns raw itself for a document already canonical.
func CheckObject(raw []byte) (json.RawMessage, error) {
	if len(raw) > MaxJSONBytes {
		return nil, errJSONTooLarge
	}
	out, err := CanonicalJSON(raw)
	switch {
	case err != nil:
		return nil, err
	case len(out) > MaxJSONBytes:
		return nil, errJSONTooLarge
	case out[0] != '{':
		return nil, errors.New("must be a JSON object")
	}
	return out, nil
}

var errJSONTooLarge = fmt.Errorf("larger than %d bytes", MaxJSONBytes)

func (c *checker) duration(field string, d *float64) {
	if d != nil && (math.IsNaN(*d) || math.IsInf(*d, 0) || *d < 0) {
		c.fail(field, "must be a finite number of milliseconds, not negative")
	}
}

// time returns t in UTC at microsecond precision, PostgreSQL's, checking
// that both engines can store it; the zero time is refused when required
// and kept (meaning none) otherwise.
func (c *checker) time(field string, t time.Time, required bool) time.Time {
	if t.IsZero() {
		if required {
			c.fail(field, "required")
		}
		return t
	}
	t = t.UTC().Truncate(time.Microsecond)
	if t.Before(MinTime) || t.After(MaxTime) {
		c.fail(field, "must be within the years 1 to 9999")
	}
	return t
}

// window checks a half-open time window [from, to) with both ends given.
func (c *checker) window(from, to time.Time) (time.Time, time.Time) {
	if from.IsZero() || to.IsZero() {
		c.fail("range", "from and to are required")
		return from, to
	}
	from, to = c.time("range", from, true), c.time("range", to, true)
	if to.Before(from) {
		c.fail("range", "to is before from")
	}
	return from, to
}

// page checks p and fills in the default limit.
func (c *checker) page(p Page) Page {
	switch {
	case p.Limit < 0:
		c.fail("limit", "must not be negative")
	case p.Limit > MaxLimit:
		c.fail("limit", fmt.Sprintf("must be at most %d", MaxLimit))
	case p.Offset < 0:
		c.fail("offset", "must not be negative")
	case p.Offset > MaxOffset:
		c.fail("offset", fmt.Sprintf("must be at most %d", MaxOffset))
	}
	if p.Limit == 0 {
		p.Limit = DefaultLimit
	}
	return p
}

// Checked returns p with the default limit filled in, or ErrInvalid for a
// limit outside 0 to MaxLimit or an offset outside 0 to MaxOffset.
func (p Page) Checked() (Page, error) {
	var ch checker
	p = ch.page(p)
	return p, errOrNil(ch.err)
}

// CheckText validates a string used to look rows up (an id, a hash, a
// name): text without NUL of min to max characters. An impossible key is
// ErrInvalid rather than ErrNotFound, so that both engines answer the same
// (PostgreSQL cannot even receive a NUL).
func CheckText(field, s string, min, max int) error {
	var ch checker
	ch.text(field, s, min, max)
	return errOrNil(ch.err)
}

// errOrNil avoids returning a typed nil inside a non-nil error interface.
func errOrNil(e *Error) error {
	if e == nil {
		return nil
	}
	return e
}
