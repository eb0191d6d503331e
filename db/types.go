package db

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// APIKey is a stored API key. The raw key is never stored: only its SHA-256
// (KeyHash) and a short prefix for people to recognise it by.
type APIKey struct {
	ID          string
	Name        string
	Prefix      string
	KeyHash     string
	UserID      string // the owner; "" for none
	Roles       []string
	Permissions []string
	IsActive    bool
	CreatedAt   time.Time
	ExpiresAt   time.Time // zero: never expires
	LastUsedAt  time.Time // zero: never used
	Metadata    json.RawMessage
	// RevokedAt is when the key stops working: zero when it is not
	// revoked, in the future for a key rotated with a grace period.
	RevokedAt    time.Time
	RevokeReason string // why it was revoked; "" for no reason given
}

// APIKeyCreate is the input of APIKeyRepository.Create.
type APIKeyCreate struct {
	ID          string // "" to have one generated
	Name        string
	Prefix      string
	KeyHash     string
	UserID      string
	Roles       []string
	Permissions []string
	// Inactive creates the key deactivated; keys are active by default.
	Inactive  bool
	ExpiresAt time.Time
	Metadata  json.RawMessage // a JSON object, or nil
}

// APIKeyUpdate lists the columns APIKeyRepository.Update changes; fields
// left as the zero Field keep their value.
type APIKeyUpdate struct {
	Name        Field[string]
	UserID      Field[string] // Set("") clears the owner
	Roles       Field[[]string]
	Permissions Field[[]string]
	IsActive    Field[bool]
	ExpiresAt   Field[time.Time] // Set(time.Time{}) removes the expiry
	Metadata    Field[json.RawMessage]
}

// KeyUse is one use of an API key, for APIKeyRepository.UpdateLastUsedBatch.
type KeyUse struct {
	ID string
	At time.Time
}

// CheckUses validates a batch of uses and returns it ready for storing: one
// use per key (the latest), times in UTC at microsecond precision, in id
// order so that concurrent batches lock rows in the same order.
func CheckUses(uses []KeyUse) ([]KeyUse, error) {
	var ch checker
	latest := make(map[string]time.Time, len(uses))
	for _, u := range uses {
		ch.text("id", u.ID, 1, MaxIDLen)
		if u.At.IsZero() {
			ch.fail("at", "required")
		}
		if at := normTime(u.At); at.After(latest[u.ID]) {
			latest[u.ID] = at
		}
	}
	if ch.err != nil {
		return nil, ch.err
	}
	out := make([]KeyUse, 0, len(latest))
	for id, at := range latest {
		out = append(out, KeyUse{ID: id, At: at})
	}
	slices.SortFunc(out, func(a, b KeyUse) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// CheckRevoke validates the arguments of APIKeyRepository.Revoke and
// returns the time in UTC at microsecond precision.
func CheckRevoke(id string, at time.Time, reason string) (time.Time, error) {
	var ch checker
	ch.text("id", id, 1, MaxIDLen)
	ch.text("reason", reason, 0, MaxShortLen)
	if at.IsZero() {
		ch.fail("at", "required")
	}
	return normTime(at), errOrNil(ch.err)
}

// PruneInBatches is AuditLogRepository.Prune for an engine: it validates
// the arguments, then calls deleteBatch (one statement deleting at most
// batchSize of the oldest events created before before, returning how many
// it deleted) until a batch deletes fewer than batchSize.
func PruneInBatches(before time.Time, batchSize int, deleteBatch func(before time.Time, limit int) (int64, error)) (int64, error) {
	var ch checker
	if before.IsZero() {
		ch.fail("before", "required")
	}
	if batchSize < 1 || batchSize > MaxLimit {
		ch.fail("batch_size", fmt.Sprintf("must be 1 to %d", MaxLimit))
	}
	if ch.err != nil {
		return 0, ch.err
	}
	before = normTime(before)
	var total int64
	for {
		n, err := deleteBatch(before, batchSize)
		total += n
		if err != nil || n < int64(batchSize) {
			return total, err
		}
	}
}

// Field is one column of an update. The zero Field leaves the column alone.
type Field[T any] struct {
	Value T
	Set   bool
}

// Set returns a Field that sets its column to v.
func Set[T any](v T) Field[T] { return Field[T]{Value: v, Set: true} }

// Tool is a tool registration: a tool offered by an MCP server.
type Tool struct {
	ID           int64
	ServerID     string // "" for tools of no particular server
	Name         string
	Title        string
	Description  string
	InputSchema  json.RawMessage
	OutputSchema json.RawMessage
	Annotations  json.RawMessage
	IsActive     bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
	Metadata     json.RawMessage
}

// ToolCreate is the input of ToolRepository.Create and Upsert.
type ToolCreate struct {
	ServerID     string
	Name         string
	Title        string
	Description  string
	InputSchema  json.RawMessage // a JSON object; required
	OutputSchema json.RawMessage // a JSON object, or nil
	Annotations  json.RawMessage // a JSON object, or nil
	// Inactive stores the tool deactivated; tools are active by default.
	Inactive bool
	Metadata json.RawMessage // a JSON object, or nil
}

// ToolUpdate lists the columns ToolRepository.Update changes.
type ToolUpdate struct {
	Title        Field[string]
	Description  Field[string]
	InputSchema  Field[json.RawMessage]
	OutputSchema Field[json.RawMessage]
	Annotations  Field[json.RawMessage]
	IsActive     Field[bool]
	Metadata     Field[json.RawMessage]
}

// AuditLog is one stored audit event.
type AuditLog struct {
	ID        int64
	EventID   uuid.UUID
	RequestID string
	// ClientRequestID is the request id the client sent (an X-Request-Id
	// header), kept beside RequestID; "" for none.
	ClientRequestID string
	TraceID         string
	UserID          string
	APIKeyID        string
	ClientIP        string
	Action          string
	ResourceType    string
	ResourceID      string
	RequestData     json.RawMessage
	ResponseData    json.RawMessage
	Status          string
	ErrorMessage    string
	DurationMS      *float64 // nil: not measured
	CreatedAt       time.Time
}

// AuditCursor is a position in the order of ListByDateRange: an event's
// time, then its id. The zero AuditCursor is before every event.
type AuditCursor struct {
	CreatedAt time.Time
	ID        int64
}

// Cursor returns the position of e, from which ListByDateRangeAfter
// continues.
func (e AuditLog) Cursor() AuditCursor { return AuditCursor{CreatedAt: e.CreatedAt, ID: e.ID} }

// AuditLogCreate is one event to store.
type AuditLogCreate struct {
	// EventID makes the event unique: a batch stored twice keeps one copy.
	// The zero UUID has one generated (a UUIDv7).
	EventID uuid.UUID
	// RequestID names the request; the server generates it, so that no
	// client can file events under another request's id.
	RequestID string
	// ClientRequestID is the request id the client sent, if any (an
	// X-Request-Id header): searchable with ListByClientRequestID, never
	// in RequestID's place.
	ClientRequestID string
	TraceID         string
	UserID          string
	APIKeyID        string
	ClientIP        string
	Action          string
	ResourceType    string
	ResourceID      string
	RequestData     json.RawMessage // a JSON object, or nil
	ResponseData    json.RawMessage // a JSON object, or nil
	Status          string
	ErrorMessage    string
	DurationMS      *float64
	CreatedAt       time.Time // zero: the database's clock

	// canon marks the documents Checked returned in canonical form, so
	// that checking the event again (the Auditor checks each event, then
	// InsertBatch checks the batch) does not redo that work.
	canon [NumAuditJSON]jsonMark
}

// AuditLogComplete fills in the outcome of an audit entry written when a call
// started. Every field is written.
type AuditLogComplete struct {
	Status       string
	ResponseData json.RawMessage
	ErrorMessage string
	DurationMS   *float64
}

// AuditStatistics counts the audit events of a time window.
type AuditStatistics struct {
	Total    int64
	ByStatus map[string]int64
	ByAction map[string]int64
	// The latency percentiles of the window's events, in milliseconds,
	// interpolated between neighbouring values as PostgreSQL's
	// percentile_cont does. Events without a duration are left out; all
	// three are nil when no event of the window has one.
	DurationP50MS *float64
	DurationP95MS *float64
	DurationP99MS *float64
}

// Page selects part of a list: Limit rows after skipping Offset. A zero
// Limit means DefaultLimit.
type Page struct {
	Limit  int
	Offset int
}

// Paging limits.
const (
	DefaultLimit = 100
	MaxLimit     = 10_000
)

// MigrationState is the state of one migration.
type MigrationState struct {
	Version   int64
	Source    string // the migration's file name
	Applied   bool
	AppliedAt time.Time
}

// NewAuditStatistics returns empty statistics, ready for Add.
func NewAuditStatistics() AuditStatistics {
	return AuditStatistics{ByStatus: map[string]int64{}, ByAction: map[string]int64{}}
}

// Add counts n events of one status and action.
func (s *AuditStatistics) Add(status, action string, n int64) {
	s.Total += n
	s.ByStatus[status] += n
	s.ByAction[action] += n
}

// SetPercentiles records the latency percentiles of a window of which
// measured events had a duration; with none it leaves them nil.
func (s *AuditStatistics) SetPercentiles(measured int64, p50, p95, p99 float64) {
	if measured == 0 {
		return
	}
	s.DurationP50MS, s.DurationP95MS, s.DurationP99MS = &p50, &p95, &p99
}
