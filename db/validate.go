package db

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Length limits, in characters. Both engines enforce them here, before a
// statement runs, so that they refuse the same input.
const (
	MaxIDLen          = 64
	MaxNameLen        = 200
	MaxToolNameLen    = 128 // the MCP specification's limit
	MaxShortLen       = 200 // user ids, server ids, request ids, prefixes, roles...
	MaxListLen        = 256 // entries in roles or permissions
	MaxDescriptionLen = 65_536
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

// Time stores at PostgreSQL's precision, microseconds, in UTC.
func normTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Microsecond)
}

// Checked returns c validated and normalized for storing: an ID generated
// when empty, JSON in canonical form, times in UTC at microsecond precision.
func (c APIKeyCreate) Checked() (APIKeyCreate, error) {
	var ch checker
	if c.ID == "" {
		c.ID = uuid.Must(uuid.NewV7()).String()
	}
	ch.text("id", c.ID, 1, MaxIDLen)
	ch.text("name", c.Name, 1, MaxNameLen)
	ch.text("prefix", c.Prefix, 1, MaxShortLen)
	ch.text("key_hash", c.KeyHash, 1, MaxShortLen)
	ch.text("user_id", c.UserID, 0, MaxShortLen)
	c.Roles = ch.list("roles", c.Roles)
	c.Permissions = ch.list("permissions", c.Permissions)
	c.ExpiresAt = normTime(c.ExpiresAt)
	c.Metadata = ch.object("metadata", c.Metadata, false)
	return c, errOrNil(ch.err)
}

// Checked returns u validated and normalized for storing.
func (u APIKeyUpdate) Checked() (APIKeyUpdate, error) {
	var ch checker
	if u.Name.Set {
		ch.text("name", u.Name.Value, 1, MaxNameLen)
	}
	if u.UserID.Set {
		ch.text("user_id", u.UserID.Value, 0, MaxShortLen)
	}
	if u.Roles.Set {
		u.Roles.Value = ch.list("roles", u.Roles.Value)
	}
	if u.Permissions.Set {
		u.Permissions.Value = ch.list("permissions", u.Permissions.Value)
	}
	u.ExpiresAt.Value = normTime(u.ExpiresAt.Value)
	if u.Metadata.Set {
		u.Metadata.Value = ch.object("metadata", u.Metadata.Value, false)
	}
	return u, errOrNil(ch.err)
}

// Checked returns c validated and normalized for storing.
func (c ToolCreate) Checked() (ToolCreate, error) {
	var ch checker
	ch.text("server_id", c.ServerID, 0, MaxShortLen)
	ch.text("name", c.Name, 1, MaxToolNameLen)
	ch.text("title", c.Title, 0, MaxNameLen)
	ch.text("description", c.Description, 0, MaxDescriptionLen)
	c.InputSchema = ch.object("input_schema", c.InputSchema, true)
	c.OutputSchema = ch.object("output_schema", c.OutputSchema, false)
	c.Annotations = ch.object("annotations", c.Annotations, false)
	c.Metadata = ch.object("metadata", c.Metadata, false)
	return c, errOrNil(ch.err)
}

// Checked returns u validated and normalized for storing.
func (u ToolUpdate) Checked() (ToolUpdate, error) {
	var ch checker
	if u.Title.Set {
		ch.text("title", u.Title.Value, 0, MaxNameLen)
	}
	if u.Description.Set {
		ch.text("description", u.Description.Value, 0, MaxDescriptionLen)
	}
	if u.InputSchema.Set {
		u.InputSchema.Value = ch.object("input_schema", u.InputSchema.Value, true)
	}
	if u.OutputSchema.Set {
		u.OutputSchema.Value = ch.object("output_schema", u.OutputSchema.Value, false)
	}
	if u.Annotations.Set {
		u.Annotations.Value = ch.object("annotations", u.Annotations.Value, false)
	}
	if u.Metadata.Set {
		u.Metadata.Value = ch.object("metadata", u.Metadata.Value, false)
	}
	return u, errOrNil(ch.err)
}

// jsonMark identifies one document by where its bytes are and how many
// there are: a document put in a field afterwards has other bytes, or is
// nil, and does not match.
type jsonMark struct {
	p *byte
	n int
}

func markOf(raw json.RawMessage) jsonMark {
	if len(raw) == 0 {
		return jsonMark{}
	}
	return jsonMark{&raw[0], len(raw)}
}

func (m jsonMark) holds(raw json.RawMessage) bool {
	return len(raw) > 0 && m.p == &raw[0] && m.n == len(raw)
}

// Checked returns c validated and normalized for storing: an event id
// generated when zero, JSON in canonical form, the time in UTC at
// microsecond precision.
//
// The result remembers which of its documents it checked: checking it
// again redoes the cheap checks of every field but skips the JSON work for
// a document still in its field, so that a value checked once (as the
// Auditor does before handing a batch to InsertBatch) costs little the
// second time. A document replaced after Checked is checked again; the
// bytes of a checked document must not be modified in place.
func (c AuditLogCreate) Checked() (AuditLogCreate, error) {
	var ch checker
	if c.EventID == (uuid.UUID{}) {
		c.EventID = uuid.Must(uuid.NewV7())
	}
	for i := range NumAuditText {
		f, p := c.TextField(i)
		ch.text(f.Name, *p, boolInt(f.Required), f.Max)
	}
	for i := range NumAuditJSON {
		field, p := c.JSONField(i)
		if !c.canon[i].holds(*p) {
			*p = ch.object(field, *p, false)
		}
	}
	ch.duration("duration_ms", c.DurationMS)
	c.CreatedAt = normTime(c.CreatedAt)
	if ch.err != nil {
		c.canon = [NumAuditJSON]jsonMark{}
		return c, ch.err
	}
	for i := range NumAuditJSON {
		_, p := c.JSONField(i)
		c.canon[i] = markOf(*p)
	}
	return c, nil
}

// TextField describes a text field of AuditLogCreate.
type TextField struct {
	Name     string // its column
	Max      int    // its limit in characters
	Required bool   // whether it must not be empty
}

// The fields of AuditLogCreate that Checked validates, by index: text
// fields 0 to NumAuditText-1 (TextField), JSON fields 0 to NumAuditJSON-1
// (JSONField). A caller that repairs an event field by field, as the
// Auditor does, walks these and so covers every field an event has, one
// added later included (TestAuditFieldsCoverTheStruct holds the lists to
// the struct).
const (
	NumAuditText = 11
	NumAuditJSON = 2
)

// TextField returns text field i of c (0 <= i < NumAuditText): what it is,
// and where.
func (c *AuditLogCreate) TextField(i int) (TextField, *string) {
	switch i {
	case 0:
		return TextField{"request_id", MaxShortLen, true}, &c.RequestID
	case 1:
		return TextField{"client_request_id", MaxShortLen, false}, &c.ClientRequestID
	case 2:
		return TextField{"trace_id", MaxShortLen, false}, &c.TraceID
	case 3:
		return TextField{"user_id", MaxShortLen, false}, &c.UserID
	case 4:
		return TextField{"api_key_id", MaxShortLen, false}, &c.APIKeyID
	case 5:
		return TextField{"client_ip", MaxShortLen, false}, &c.ClientIP
	case 6:
		return TextField{"action", MaxShortLen, true}, &c.Action
	case 7:
		return TextField{"resource_type", MaxShortLen, true}, &c.ResourceType
	case 8:
		return TextField{"resource_id", MaxShortLen, false}, &c.ResourceID
	case 9:
		return TextField{"status", MaxShortLen, true}, &c.Status
	case 10:
		return TextField{"error_message", MaxDescriptionLen, false}, &c.ErrorMessage
	}
	panic(fmt.Sprintf("db: no audit text field %d", i))
}

// JSONField returns JSON field i of c (0 <= i < NumAuditJSON): its column
// and where it is. Each holds a JSON object under the JSON rule, or nil.
func (c *AuditLogCreate) JSONField(i int) (string, *json.RawMessage) {
	switch i {
	case 0:
		return "request_data", &c.RequestData
	case 1:
		return "response_data", &c.ResponseData
	}
	panic(fmt.Sprintf("db: no audit JSON field %d", i))
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Checked returns c validated and normalized for storing.
func (c AuditLogComplete) Checked() (AuditLogComplete, error) {
	var ch checker
	ch.text("status", c.Status, 1, MaxShortLen)
	c.ResponseData = ch.object("response_data", c.ResponseData, false)
	ch.text("error_message", c.ErrorMessage, 0, MaxDescriptionLen)
	ch.duration("duration_ms", c.DurationMS)
	return c, errOrNil(ch.err)
}

// Checked returns p with the default limit filled in, or ErrInvalid for a
// negative offset or a limit outside 0..MaxLimit.
func (p Page) Checked() (Page, error) {
	switch {
	case p.Limit < 0:
		return p, invalid("", "limit", "must not be negative")
	case p.Limit > MaxLimit:
		return p, invalid("", "limit", fmt.Sprintf("must be at most %d", MaxLimit))
	case p.Offset < 0:
		return p, invalid("", "offset", "must not be negative")
	}
	if p.Limit == 0 {
		p.Limit = DefaultLimit
	}
	return p, nil
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

// CheckRange validates a half-open time window [from, to) and returns it in
// UTC at microsecond precision.
func CheckRange(from, to time.Time) (time.Time, time.Time, error) {
	if from.IsZero() || to.IsZero() {
		return from, to, invalid("", "range", "from and to are required")
	}
	if to.Before(from) {
		return from, to, invalid("", "range", "to is before from")
	}
	return normTime(from), normTime(to), nil
}

// CheckAfter validates the arguments of ListByDateRangeAfter. It returns
// the window in UTC at microsecond precision, its start moved up to the
// cursor's time so that the created_at index starts at the cursor, the
// cursor (the zero one placed before every event at from) and the limit
// with its default.
func CheckAfter(from, to time.Time, action string, after AuditCursor, limit int) (start, end time.Time, c AuditCursor, lim int, err error) {
	p, err := Page{Limit: limit}.Checked()
	if err == nil {
		err = CheckText("action", action, 0, MaxShortLen)
	}
	if err != nil {
		return from, to, after, limit, err
	}
	if from, to, err = CheckRange(from, to); err != nil {
		return from, to, after, limit, err
	}
	if after.CreatedAt.IsZero() {
		return from, to, AuditCursor{CreatedAt: from, ID: math.MinInt64}, p.Limit, nil
	}
	c = AuditCursor{CreatedAt: normTime(after.CreatedAt), ID: after.ID}
	if c.CreatedAt.Before(after.CreatedAt) {
		// Between two stored times: after every event of the one below.
		c = AuditCursor{CreatedAt: c.CreatedAt.Add(time.Microsecond), ID: math.MinInt64}
	}
	return latest(from, c.CreatedAt), to, c, p.Limit, nil
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// errOrNil avoids returning a typed nil inside a non-nil error interface.
func errOrNil(e *Error) error {
	if e == nil {
		return nil
	}
	return e
}
