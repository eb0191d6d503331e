package db

import (
	"context"
	"encoding/json"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// APIKeyRepository stores API keys. It never sees a raw key.
type APIKeyRepository interface {
	// Create stores a key. ErrConflict when the id or hash exists.
	Create(ctx context.Context, in APIKeyCreate) (APIKey, error)
	// Get returns the key with this id, or ErrNotFound.
	Get(ctx context.Context, id string) (APIKey, error)
	// GetForUpdate is Get that, inside a transaction (Store.InTx), also
	// holds the key until the transaction ends: another transaction's
	// GetForUpdate or write of the key waits for it, so that reading a key,
	// checking it and writing from what was read (Keys.Rotate) cannot
	// interleave with another doing the same, even on several Stores
	// sharing one database. Outside a transaction it holds nothing: it
	// returns what Get does (once no transaction holds the key).
	GetForUpdate(ctx context.Context, id string) (APIKey, error)
	// GetByHash returns the key with this hash (see APIKey.KeyHash), or
	// ErrNotFound.
	GetByHash(ctx context.Context, keyHash string) (APIKey, error)
	// List returns one page of the keys q selects, oldest first.
	List(ctx context.Context, q KeyQuery) ([]APIKey, error)
	// All returns every key q selects, oldest first, reading q.Limit at a
	// time (DefaultLimit for 0) and continuing each page after the last key
	// of the one before. It stops at the first error, which it yields.
	All(ctx context.Context, q KeyQuery) iter.Seq2[APIKey, error]
	// Update changes the columns set in u and returns the key, or ErrNotFound.
	Update(ctx context.Context, id string, u APIKeyUpdate) (APIKey, error)
	// Delete removes the key, or returns ErrNotFound.
	Delete(ctx context.Context, id string) error
	// Deactivate marks the key inactive, or returns ErrNotFound.
	Deactivate(ctx context.Context, id string) error
	// UpdateLastUsed records a use at the given time. It never moves
	// last_used_at backwards, and ignores unknown ids.
	UpdateLastUsed(ctx context.Context, id string, at time.Time) error
	// Revoke makes the key stop working from at (now, or later for a
	// grace period) and records why, then returns the key, or ErrNotFound.
	// A revocation is never postponed: a key revoked at or before at keeps
	// its time and reason. On a Store that is a KeyChangeListener, every
	// listener hears of it when the write commits (as of Deactivate,
	// Delete, and an Update that changes what a verified key is).
	Revoke(ctx context.Context, id string, at time.Time, reason string) (APIKey, error)
	// UpdateLastUsedBatch records many uses in one statement and returns
	// how many keys it changed. Like UpdateLastUsed it never moves
	// last_used_at backwards and ignores unknown ids; of several uses of
	// one key, the latest counts.
	UpdateLastUsedBatch(ctx context.Context, uses []KeyUse) (int64, error)
}

// APIKey is a stored API key. The raw key is never stored: only its SHA-256
// (KeyHash) and a short prefix for people to recognise it by.
type APIKey struct {
	ID     string
	Name   string
	Prefix string
	// KeyHash is the SHA-256 of the raw key, in lowercase hex (64
	// characters): what GetByHash looks up. gateway.HashKey computes it.
	KeyHash     string
	Owner       string // the user id owning the key; "" for none
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

// Cursor returns the position of k in the order of KeyQuery, from which
// a KeyQuery with After continues.
func (k APIKey) Cursor() KeyCursor { return KeyCursor{CreatedAt: k.CreatedAt, ID: k.ID} }

// APIKeyCreate is the input of APIKeyRepository.Create.
type APIKeyCreate struct {
	ID          string // "" to have one generated
	Name        string
	Prefix      string
	KeyHash     string // see APIKey.KeyHash
	Owner       string // the user id owning the key; "" for none
	Roles       []string
	Permissions []string
	// Inactive creates the key deactivated; keys are active by default.
	Inactive  bool
	ExpiresAt time.Time       // zero: never expires
	Metadata  json.RawMessage // a JSON object, or nil
}

// APIKeyUpdate lists the columns APIKeyRepository.Update changes; fields
// left as the zero Field keep their value.
type APIKeyUpdate struct {
	Name        Field[string]
	Owner       Field[string] // Set("") clears the owner
	Roles       Field[[]string]
	Permissions Field[[]string]
	IsActive    Field[bool]
	ExpiresAt   Field[time.Time] // Set(time.Time{}) removes the expiry
	Metadata    Field[json.RawMessage]
}

// Field is one column of an update. The zero Field leaves the column alone.
type Field[T any] struct {
	Value T
	Set   bool
}

// Set returns a Field that sets its column to v.
func Set[T any](v T) Field[T] { return Field[T]{Value: v, Set: true} }

// KeyUse is one use of an API key, for APIKeyRepository.UpdateLastUsedBatch.
type KeyUse struct {
	ID string
	At time.Time
}

// KeyQuery selects API keys for APIKeyRepository.List and All, oldest
// first (by created_at, then id). The zero KeyQuery selects every key.
type KeyQuery struct {
	Owner      string // only the keys of this owner
	Prefix     string // only the keys with this display prefix (not with Owner)
	ActiveOnly bool   // only the active keys
	// After, when set, selects only the keys after this position: the
	// Cursor of the last key of the previous page.
	After KeyCursor
	// Limit is how many List returns at most (0: DefaultLimit), and how
	// many All reads at a time.
	Limit int
	// Offset skips this many keys first. Deep offsets cost more the deeper
	// they are; All and After do not.
	Offset int
}

// KeyCursor is a position in the order of KeyQuery: a key's creation time,
// then its id. The zero KeyCursor is before every key.
type KeyCursor struct {
	CreatedAt time.Time
	ID        string
}

// check returns c validated and normalized for storing: an ID generated
// when empty, JSON in canonical form, times in UTC at microsecond
// precision.
func (c APIKeyCreate) check() (APIKeyCreate, error) {
	var ch checker
	if c.ID == "" {
		c.ID = uuid.Must(uuid.NewV7()).String()
	}
	ch.id("id", c.ID)
	ch.text("name", c.Name, 1, MaxNameLen)
	ch.text("prefix", c.Prefix, 1, MaxShortLen)
	ch.text("key_hash", c.KeyHash, 1, MaxShortLen)
	ch.text("owner", c.Owner, 0, MaxShortLen)
	c.Roles = ch.list("roles", c.Roles)
	c.Permissions = ch.list("permissions", c.Permissions)
	c.ExpiresAt = ch.time("expires_at", c.ExpiresAt, false)
	c.Metadata = ch.object("metadata", c.Metadata, false)
	return c, errOrNil(ch.err)
}

// check returns u validated and normalized for storing.
func (u APIKeyUpdate) check() (APIKeyUpdate, error) {
	var ch checker
	if u.Name.Set {
		ch.text("name", u.Name.Value, 1, MaxNameLen)
	}
	if u.Owner.Set {
		ch.text("owner", u.Owner.Value, 0, MaxShortLen)
	}
	if u.Roles.Set {
		u.Roles.Value = ch.list("roles", u.Roles.Value)
	}
	if u.Permissions.Set {
		u.Permissions.Value = ch.list("permissions", u.Permissions.Value)
	}
	u.ExpiresAt.Value = ch.time("expires_at", u.ExpiresAt.Value, false)
	if u.Metadata.Set {
		u.Metadata.Value = ch.object("metadata", u.Metadata.Value, false)
	}
	return u, errOrNil(ch.err)
}

// checkUses validates a batch of uses and returns it ready for storing: one
// use per key (the latest), times in UTC at microsecond precision, in id
// order so that concurrent batches lock rows in the same order.
func checkUses(uses []KeyUse) ([]KeyUse, error) {
	var ch checker
	latest := make(map[string]time.Time, len(uses))
	for _, u := range uses {
		ch.id("id", u.ID)
		if at := ch.time("at", u.At, true); at.After(latest[u.ID]) {
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

// check returns q validated, with its defaults filled in: the limit, and
// for the zero cursor one before every key.
func (q KeyQuery) check() (KeyQuery, error) {
	var ch checker
	ch.text("owner", q.Owner, 0, MaxShortLen)
	ch.text("prefix", q.Prefix, 0, MaxShortLen)
	if q.Owner != "" && q.Prefix != "" {
		ch.fail("prefix", "select by owner or by prefix, not both")
	}
	p := ch.page(Page{Limit: q.Limit, Offset: q.Offset})
	q.Limit = p.Limit
	ch.text("after", q.After.ID, 0, MaxIDLen)
	var next bool
	q.After.CreatedAt, next = ch.cursorTime("after", q.After.CreatedAt)
	if next {
		q.After.ID = "" // before every key of the next microsecond
	}
	return q, errOrNil(ch.err)
}

func (q *KeyQuery) pageSize() int { return q.Limit }

// next moves a checked query past its page, whose last key is last.
func (q *KeyQuery) next(last APIKey) { q.After, q.Offset = last.Cursor(), 0 }

// cursorTime normalizes the time of a cursor, which the zero time leaves
// before every row. A time between two microseconds (not one read from the
// database) is after every row of the one below: it returns the next
// microsecond, and next, for the caller to put its cursor before every row
// of that one.
func (c *checker) cursorTime(field string, t time.Time) (time.Time, bool) {
	n := c.time(field, t, false)
	if n.IsZero() || !n.Before(t) {
		return n, false
	}
	return n.Add(time.Microsecond), true
}
