package db

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"math"
	"time"

	"github.com/google/uuid"
)

// AuditLogRepository stores audit events.
type AuditLogRepository interface {
	// Insert stores one event. ErrConflict when its event id is stored.
	Insert(ctx context.Context, in AuditLogCreate) (AuditLog, error)
	// InsertBatch stores many events at once (COPY on PostgreSQL, one
	// transaction on SQLite) and returns how many it stored. Events whose
	// event id is stored already are skipped, so a batch retried after an
	// ambiguous failure is stored once. All or nothing: when it fails,
	// none of the batch is stored. It keeps nothing of in once it returns:
	// the caller may reuse the slice (the Auditor does).
	InsertBatch(ctx context.Context, in []AuditLogCreate) (int64, error)
	// Get returns the event with this id, or ErrNotFound.
	Get(ctx context.Context, id int64) (AuditLog, error)
	// List returns one page of the events q selects: oldest first (by
	// created_at, then id), or newest first with q.Newest.
	List(ctx context.Context, q AuditQuery) ([]AuditLog, error)
	// All returns every event q selects, in List's order, reading q.Limit
	// at a time (DefaultLimit for 0) and continuing each page after the
	// last event of the one before (see AuditQuery.After): every event of
	// a window needs no paging code. It stops at the first error, which it
	// yields.
	All(ctx context.Context, q AuditQuery) iter.Seq2[AuditLog, error]
	// ListByDateRange returns one page of the events in [from, to), both
	// required, oldest first; only those of action when action is not "".
	// It is List with an AuditQuery of From, To, Action and the page: at
	// most p.Limit events (DefaultLimit for 0), never all of a large
	// window. All returns them all.
	ListByDateRange(ctx context.Context, from, to time.Time, action string, p Page) ([]AuditLog, error)
	// Statistics counts the events in [from, to): in total, by status and
	// by action, in one query.
	Statistics(ctx context.Context, from, to time.Time) (AuditStatistics, error)
	// Complete writes the outcome of an event and returns it, or
	// ErrNotFound. It is the only update of an audit event.
	Complete(ctx context.Context, id int64, c AuditLogComplete) (AuditLog, error)
	// Delete removes one event, or returns ErrNotFound.
	Delete(ctx context.Context, id int64) error
	// Prune deletes every event created before before and returns how
	// many. It deletes the oldest first, at most batchSize (1 to MaxLimit)
	// per statement, each statement on its own, so that it never holds the
	// table for long; inside InTx all batches share the transaction.
	Prune(ctx context.Context, before time.Time, batchSize int) (int64, error)
	// ListNewest returns a page of the events stored last, newest (highest
	// id) first.
	ListNewest(ctx context.Context, p Page) ([]AuditLog, error)
	// ListAfterID returns a page of the events whose id is above afterID,
	// in id order (the order they were stored in). On PostgreSQL ids are
	// taken before commit, so an event may become visible after one with a
	// higher id: a reader polling with the last id it saw looks back a
	// little (mcpstore audit tail -f does).
	ListAfterID(ctx context.Context, afterID int64, p Page) ([]AuditLog, error)
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
	UserID          string // who acted: for a call made with an API key, the key's Owner
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

// Cursor returns the position of e, from which an AuditQuery with After
// continues.
func (e AuditLog) Cursor() AuditCursor { return AuditCursor{CreatedAt: e.CreatedAt, ID: e.ID} }

// AuditCursor is a position in the order of AuditQuery: an event's time,
// then its id. The zero AuditCursor is before every event.
type AuditCursor struct {
	CreatedAt time.Time
	ID        int64
}

// AuditLogCreate is one event to store.
type AuditLogCreate struct {
	// EventID makes the event unique: a batch stored twice keeps one copy.
	// The zero UUID has one generated (a UUIDv7).
	EventID uuid.UUID
	// RequestID names the request; the server generates it, so that no
	// client can file events under another request's id.
	RequestID string
	// ClientRequestID is the request id the client sent, if any (an
	// X-Request-Id header): searchable with AuditQuery.ClientRequestID,
	// never in RequestID's place.
	ClientRequestID string
	TraceID         string
	UserID          string // who acted: for a call made with an API key, the key's Owner
	APIKeyID        string
	ClientIP        string
	Action          string
	ResourceType    string
	ResourceID      string
	RequestData     json.RawMessage // a JSON object, or nil
	ResponseData    json.RawMessage // a JSON object, or nil
	Status          string
	ErrorMessage    string
	DurationMS      *float64 // nil: not measured; DurationMS(d) makes one
	// CreatedAt is when the event happened. Zero: now, by this process's
	// clock (read once for a whole InsertBatch), as the Auditor's Record
	// stamps events; the column's default, the database's clock, is for
	// rows written by other means.
	CreatedAt time.Time

	// canon marks the documents Checked returned in canonical form, so
	// that checking the event again (the Auditor checks each event, then
	// InsertBatch checks the batch) does not redo that work.
	canon [NumAuditJSON]jsonMark
}

// DurationMS returns d in milliseconds, for AuditLogCreate.DurationMS and
// AuditLogComplete.DurationMS.
func DurationMS(d time.Duration) *float64 {
	ms := float64(d) / float64(time.Millisecond)
	return &ms
}

// AuditLogComplete fills in the outcome of an audit entry written when a call
// started. Every field is written.
type AuditLogComplete struct {
	Status       string
	ResponseData json.RawMessage
	ErrorMessage string
	DurationMS   *float64
}

// AuditQuery selects audit events for AuditLogRepository.List and All. The
// zero AuditQuery selects every event, oldest first.
type AuditQuery struct {
	// From and To select the events of [From, To); a zero From starts at
	// the first event, a zero To runs to the last.
	From, To  time.Time
	Action    string // only the events of this action
	UserID    string // only the events of this user
	RequestID string // only the events of this request
	// ClientRequestID selects only the events a client sent under this
	// request id of its own; a query selects by at most one of RequestID,
	// ClientRequestID and UserID.
	ClientRequestID string
	// Newest returns the newest first (by created_at, then id, descending).
	Newest bool
	// After, when set, selects only the events after this position in the
	// query's order: the Cursor of the last event of the previous page.
	// Unlike an Offset, a page does not cost more the deeper it is, and an
	// event committed meanwhile cannot shift a later page: one that sorts
	// before the cursor is not returned, none is returned twice.
	After AuditCursor
	// Limit is how many List returns at most (0: DefaultLimit), and how
	// many All reads at a time.
	Limit int
	// Offset skips this many events first.
	Offset int
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
// microsecond precision. The Store checks every event it is given; the
// Auditor checks each as it arrives, to keep a bad one out of its batches.
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
	c.CreatedAt = ch.time("created_at", c.CreatedAt, false)
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

// check returns c validated and normalized for storing.
func (c AuditLogComplete) check() (AuditLogComplete, error) {
	var ch checker
	ch.text("status", c.Status, 1, MaxShortLen)
	c.ResponseData = ch.object("response_data", c.ResponseData, false)
	ch.text("error_message", c.ErrorMessage, 0, MaxDescriptionLen)
	ch.duration("duration_ms", c.DurationMS)
	return c, errOrNil(ch.err)
}

// check returns q validated and normalized for an engine: its limit filled
// in, From and To set (MinTime, and just after MaxTime, for none), and its
// cursor set: the zero one before every event of the window in the query's
// order. The window is narrowed to start at the cursor, so that the
// created_at index starts there too (a page reads only the events sharing
// the cursor's time before it again, none earlier).
func (q AuditQuery) check() (AuditQuery, error) {
	var ch checker
	ch.text("action", q.Action, 0, MaxShortLen)
	ch.text("user_id", q.UserID, 0, MaxShortLen)
	ch.text("request_id", q.RequestID, 0, MaxShortLen)
	ch.text("client_request_id", q.ClientRequestID, 0, MaxShortLen)
	if n := boolInt(q.RequestID != "") + boolInt(q.ClientRequestID != "") + boolInt(q.UserID != ""); n > 1 {
		ch.fail("user_id", "select by one of request, client request and user")
	}
	q.From = ch.time("range", q.From, false)
	q.To = ch.time("range", q.To, false)
	if q.To.IsZero() {
		q.To = MaxTime.Add(time.Microsecond)
	}
	if q.To.Before(q.From) {
		ch.fail("range", "to is before from")
	}
	p := ch.page(Page{Limit: q.Limit, Offset: q.Offset})
	q.Limit = p.Limit
	c := q.After
	switch t, next := ch.cursorTime("after", c.CreatedAt); {
	case c.CreatedAt.IsZero() && q.Newest:
		c = AuditCursor{CreatedAt: q.To, ID: math.MinInt64}
	case c.CreatedAt.IsZero():
		c = AuditCursor{CreatedAt: q.From, ID: math.MinInt64}
	case next && q.Newest:
		// Between two microseconds: every event of the one below sorts
		// after it, newest first.
		c = AuditCursor{CreatedAt: t.Add(-time.Microsecond), ID: math.MaxInt64}
	case next:
		c = AuditCursor{CreatedAt: t, ID: math.MinInt64}
	default:
		c.CreatedAt = t
	}
	q.After = c
	q.narrow()
	return q, errOrNil(ch.err)
}

// narrow makes the window start at the cursor, in the query's order.
func (q *AuditQuery) narrow() {
	if c := q.After.CreatedAt; q.Newest && c.Before(q.To) {
		q.To = c.Add(time.Microsecond)
	} else if !q.Newest && c.After(q.From) {
		q.From = c
	}
}

func (q *AuditQuery) pageSize() int { return q.Limit }

// next moves a checked query past its page, whose last event is last.
func (q *AuditQuery) next(last AuditLog) {
	q.After, q.Offset = last.Cursor(), 0
	q.narrow()
}
