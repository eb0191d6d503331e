package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpstore/mcpstore/db"
)

// ErrInvalidKey is what Verify returns, through a *KeyError, for every key
// that grants no access: malformed, unknown, revoked, expired or inactive.
// Tell the client only this; the reason is in the KeyError, for the audit
// log.
var ErrInvalidKey = errors.New("invalid API key")

// KeyRefusal says why Verify refused a key. It is for the audit log and
// the operator, never for the client.
type KeyRefusal string

// The reasons Verify refuses a key.
const (
	KeyMalformed KeyRefusal = "malformed" // wrong length, prefix, alphabet or checksum
	KeyUnknown   KeyRefusal = "unknown"   // well formed, but no such key is stored
	KeyRevoked   KeyRefusal = "revoked"   // revoked, or rotated and past its grace period
	KeyExpired   KeyRefusal = "expired"   // past its expiry
	KeyInactive  KeyRefusal = "inactive"  // deactivated
)

// KeyError is the error of a refused key. Its Error text is always
// "invalid API key" and errors.Is(err, ErrInvalidKey) holds, so that it
// can be handed to a client as it is; Reason and KeyID are for the audit
// log. It never holds the raw key.
type KeyError struct {
	Reason KeyRefusal
	// KeyID is the id of the stored key, when there is one (revoked,
	// expired, inactive); "" otherwise.
	KeyID string
}

func (e *KeyError) Error() string { return ErrInvalidKey.Error() }

// Is makes errors.Is(err, ErrInvalidKey) true.
func (e *KeyError) Is(target error) bool { return target == ErrInvalidKey }

// Principal is who a verified key speaks for. Its slices are shared with
// Keys' cache: read them, do not modify them.
type Principal struct {
	KeyID       string
	KeyName     string
	Owner       string // the user id owning the key; "" for none
	Roles       []string
	Permissions []string
	ExpiresAt   time.Time // zero: never expires
	// ValidUntil is when the key stops working unless something changes
	// first: the earlier of its expiry and a revocation set for later (a
	// rotation's grace period). Zero: no end is known.
	ValidUntil time.Time
	// Grants are Permissions compiled for matching, shared by every
	// request of the key while it is cached.
	Grants *Grants

	// read is when the key was read from the database (monotonic):
	// KeySessions tells by it whether a change it heard of came after.
	read time.Time
}

// KeyInfo is a stored key as Keys shows it: everything but the hash.
type KeyInfo struct {
	ID           string
	Name         string
	Prefix       string // the display prefix, such as "mcp_a1B2c3"
	Owner        string
	Roles        []string
	Permissions  []string
	Active       bool
	CreatedAt    time.Time
	ExpiresAt    time.Time // zero: never expires
	LastUsedAt   time.Time // zero: never used (written at most once per LastUsedInterval)
	RevokedAt    time.Time // zero: not revoked; in the future during a rotation's grace period
	RevokeReason string
	Metadata     json.RawMessage
}

// IssueOptions describes a key to issue.
type IssueOptions struct {
	Name        string // required
	Owner       string // the user id owning the key; "" for none
	Roles       []string
	Permissions []string
	// ExpiresAt is when the key stops working; zero for never, or, when
	// KeysOptions.MaxLifetime is set, for the longest lifetime allowed.
	// A time in the past, or beyond MaxLifetime, is refused.
	ExpiresAt time.Time
	Metadata  json.RawMessage // a JSON object, or nil
}

// KeysOptions tunes Keys. Zero fields take the defaults.
type KeysOptions struct {
	// CacheSize bounds the cache of verified keys. Default 10,000;
	// negative disables caching (every Verify reads the database).
	CacheSize int
	// CacheTTL is how long a verified key is trusted without reading the
	// database again: the longest a key revoked or changed elsewhere may
	// still be accepted when the change does not reach this process (its
	// listener reconnecting, or a Store that is no db.KeyChangeListener).
	// Default 30s.
	CacheTTL time.Duration
	// UnknownSize and UnknownTTL bound the cache of unknown keys, which
	// blunts floods of well-formed made-up keys. Defaults 10,000 and 5s;
	// a negative size disables it.
	UnknownSize int
	UnknownTTL  time.Duration
	// LastUsedInterval: last_used_at is written at most once per key per
	// interval. Default one minute.
	LastUsedInterval time.Duration
	// FlushEvery is how often recorded uses are written, in one statement
	// per batch. Default 10s. Close writes what is left.
	FlushEvery time.Duration
	// MaxLifetime, when positive, caps the lifetime of issued keys: an
	// explicit expiry beyond it is refused with db.ErrInvalid (nothing is
	// shortened behind the caller's back), and a key issued without an
	// expiry gets now+MaxLifetime. A rotated key inherits the lifetime of
	// the key it replaces, capped at MaxLifetime.
	MaxLifetime time.Duration
	// ListenWait bounds how long NewKeys waits for the key change listener
	// (on a store that is a db.KeyChangeListener: both engines) to start;
	// it keeps trying after. Default 5s.
	ListenWait time.Duration
	// Logger receives refusals (at Debug, with the reason and key id),
	// flush failures and listener trouble. Nil discards. Raw keys are
	// never logged.
	Logger *slog.Logger
	// Now is the clock; nil for time.Now.
	Now func() time.Time
}

// Keys issues API keys and verifies them on every request: from a bounded
// in-memory cache in well under a microsecond, with no database write per
// request (last_used_at is written in batches, at most once per key per
// LastUsedInterval). A revocation, and any other change to a key
// (deactivated, deleted, new roles, permissions or expiry, through mcpstore
// or not), reaches every process's cache within milliseconds: on
// PostgreSQL through LISTEN/NOTIFY, on SQLite by polling a change log
// (sqlite.KeyPollInterval).
//
// Keys is safe for concurrent use. Close it to write the pending uses and
// stop its goroutines.
type Keys struct {
	store    db.Store
	opts     KeysOptions
	log      *slog.Logger
	now      func() time.Time
	known    *keyCache // nil when disabled
	unknown  *keyCache // nil when disabled
	uses     *useTracker
	flightMu sync.Mutex
	flights  map[[sha256.Size]byte]*flight // key look-ups in progress, by key hash

	watchMu  sync.Mutex
	watchers map[int]func(keyID string)
	watchSeq int

	stop      context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// keyEntry is a stored key as Verify needs it.
type keyEntry struct {
	active    bool
	revokedAt time.Time
	principal Principal // its KeyID and ExpiresAt too
	// lastUse is the unix time in nanoseconds of the last use recorded
	// for writing (or read from the database): Verify skips the tracker
	// while it is recent, without taking a lock.
	lastUse atomic.Int64
}

// NewKeys returns Keys on store, which the caller keeps open until Keys is
// closed. On a store that is a db.KeyChangeListener it starts listening for
// key changes, and waits up to ListenWait (or ctx) for the listener to
// start.
func NewKeys(ctx context.Context, store db.Store, opts KeysOptions) (*Keys, error) {
	if store == nil {
		return nil, errors.New("gateway: NewKeys: nil store")
	}
	if opts.CacheSize == 0 {
		opts.CacheSize = 10_000
	}
	if opts.CacheTTL <= 0 {
		opts.CacheTTL = 30 * time.Second
	}
	if opts.UnknownSize == 0 {
		opts.UnknownSize = 10_000
	}
	if opts.UnknownTTL <= 0 {
		opts.UnknownTTL = 5 * time.Second
	}
	if opts.LastUsedInterval <= 0 {
		opts.LastUsedInterval = time.Minute
	}
	if opts.FlushEvery <= 0 {
		opts.FlushEvery = 10 * time.Second
	}
	if opts.ListenWait <= 0 {
		opts.ListenWait = 5 * time.Second
	}
	if opts.MaxLifetime < 0 {
		return nil, &db.Error{Op: "NewKeys", Kind: db.ErrInvalid, Field: "max_lifetime", Msg: "must not be negative"}
	}
	k := &Keys{
		store:   store,
		opts:    opts,
		log:     opts.Logger,
		now:     opts.Now,
		uses:    newUseTracker(opts.LastUsedInterval),
		flights: map[[sha256.Size]byte]*flight{},
	}
	if k.log == nil {
		k.log = slog.New(slog.DiscardHandler)
	}
	if k.now == nil {
		k.now = time.Now
	}
	if opts.CacheSize > 0 {
		k.known = newKeyCache(opts.CacheSize, opts.CacheTTL)
	}
	if opts.UnknownSize > 0 {
		k.unknown = newKeyCache(opts.UnknownSize, opts.UnknownTTL)
	}

	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	k.stop = stop
	k.wg.Add(1)
	go k.flushLoop(bg)
	if l, ok := store.(db.KeyChangeListener); ok {
		k.listen(ctx, bg, l)
	}
	return k, nil
}

// listen starts the key change listener and waits for it to start.
func (k *Keys) listen(ctx, bg context.Context, l db.KeyChangeListener) {
	ready := make(chan struct{})
	var once sync.Once
	k.wg.Add(1)
	go func() {
		defer k.wg.Done()
		_ = l.ListenKeyChanges(bg,
			func() {
				// Changes made while not listening were missed.
				if k.known != nil {
					k.known.purge()
				}
				k.notify("")
				once.Do(func() { close(ready) })
			},
			k.forget)
	}()
	timer := time.NewTimer(k.opts.ListenWait)
	defer timer.Stop()
	select {
	case <-ready:
		return
	case <-ctx.Done():
	case <-timer.C:
	}
	k.log.WarnContext(ctx, "gateway: key change listener not started yet; changes made by other processes reach this cache within CacheTTL until it does")
}

// Watch calls fn with a key's id whenever this process learns that the key
// changed (revoked, rotated, deactivated, deleted, given new permissions,
// by this process or another sharing the database), and with "" when
// changes may have been missed (the listener started or reconnected). fn
// runs on the listener's goroutine: it must return quickly. The returned
// function stops the calls.
func (k *Keys) Watch(fn func(keyID string)) (stop func()) {
	k.watchMu.Lock()
	defer k.watchMu.Unlock()
	if k.watchers == nil {
		k.watchers = map[int]func(string){}
	}
	k.watchSeq++
	id := k.watchSeq
	k.watchers[id] = fn
	return func() {
		k.watchMu.Lock()
		defer k.watchMu.Unlock()
		delete(k.watchers, id)
	}
}

func (k *Keys) notify(keyID string) {
	k.watchMu.Lock()
	fns := make([]func(string), 0, len(k.watchers))
	for _, fn := range k.watchers {
		fns = append(fns, fn)
	}
	k.watchMu.Unlock()
	for _, fn := range fns {
		fn(keyID)
	}
}

// Status reads the key with this id from the database and says whether it
// still grants access: its principal, or a *KeyError (errors.Is
// ErrInvalidKey; KeyUnknown when it was deleted) when it does not. Any
// other error means the database could not be asked. Unlike Verify it
// takes an id, not a raw key, and records no use: it is for re-checking
// keys with open sessions after Watch reports a change.
func (k *Keys) Status(ctx context.Context, id string) (Principal, error) {
	row, err := k.store.APIKeys().Get(ctx, id)
	switch {
	case errors.Is(err, db.ErrNotFound):
		return Principal{}, k.refuse(ctx, KeyUnknown, id)
	case err != nil:
		return Principal{}, fmt.Errorf("gateway: key status: %w", err)
	}
	e := k.entryOf(row)
	if reason := k.refusal(e, k.now()); reason != "" {
		return Principal{}, k.refuse(ctx, reason, id)
	}
	return e.principal, nil
}

// Close stops the listener and the background writer, then writes the
// uses recorded but not yet written. Keys must not be used after.
func (k *Keys) Close(ctx context.Context) error {
	var err error
	k.closeOnce.Do(func() {
		k.stop()
		k.wg.Wait()
		err = k.Flush(ctx)
	})
	return err
}

// Issue creates a key and returns it raw, once, with its record. Only the
// key's SHA-256 and display prefix are stored: the raw key cannot be shown
// again.
func (k *Keys) Issue(ctx context.Context, in IssueOptions) (string, KeyInfo, error) {
	const op = "Keys.Issue"
	for i, p := range in.Permissions {
		if err := ValidatePermission(p); err != nil {
			return "", KeyInfo{}, &db.Error{Op: op, Kind: db.ErrInvalid, Field: "permissions",
				Msg: fmt.Sprintf("entry %d: %v", i, err)}
		}
	}
	now := k.now()
	exp, err := k.expiry(op, now, in.ExpiresAt)
	if err != nil {
		return "", KeyInfo{}, err
	}
	raw, err := newRawKey()
	if err != nil {
		return "", KeyInfo{}, err
	}
	row, err := k.store.APIKeys().Create(ctx, db.APIKeyCreate{
		Name:        in.Name,
		Prefix:      raw[:KeyDisplayLen],
		KeyHash:     hashHex(keyHash(raw)),
		Owner:       in.Owner,
		Roles:       in.Roles,
		Permissions: in.Permissions,
		ExpiresAt:   exp,
		Metadata:    in.Metadata,
	})
	if err != nil {
		return "", KeyInfo{}, fmt.Errorf("gateway: issue API key: %w", err)
	}
	k.log.InfoContext(ctx, "gateway: API key issued", "key_id", row.ID, "prefix", row.Prefix, "owner", row.Owner)
	return raw, keyInfoOf(row), nil
}

// expiry applies MaxLifetime to a requested expiry.
func (k *Keys) expiry(op string, now, exp time.Time) (time.Time, error) {
	limit := k.opts.MaxLifetime
	switch {
	case !exp.IsZero() && !exp.After(now):
		return exp, &db.Error{Op: op, Kind: db.ErrInvalid, Field: "expires_at", Msg: "must be in the future"}
	case limit > 0 && exp.IsZero():
		return now.Add(limit), nil
	case limit > 0 && exp.After(now.Add(limit)):
		return exp, &db.Error{Op: op, Kind: db.ErrInvalid, Field: "expires_at",
			Msg: fmt.Sprintf("beyond the maximum lifetime of %s", limit)}
	}
	return exp, nil
}

// Verify returns the principal of a raw key, or a *KeyError (errors.Is
// ErrInvalidKey) when the key grants no access: answer 401. Any other
// error means the database could not be asked (answer 503, not 401).
// Malformed keys are refused without touching the database; verified keys
// come from the cache, their expiry and revocation time checked against
// the clock on every call.
func (k *Keys) Verify(ctx context.Context, raw string) (Principal, error) {
	if !wellFormed(raw) {
		return Principal{}, k.refuse(ctx, KeyMalformed, "")
	}
	h := keyHash(raw)
	now := k.now()
	var gen uint64 // of the known cache when it missed; see keyCache.add
	if k.known != nil {
		e, g, ok := k.known.get(h, now)
		if ok {
			return k.check(ctx, e, now)
		}
		gen = g
	}
	if k.unknown != nil {
		// Nothing invalidates the cache of unknown keys: generation 0.
		if _, _, ok := k.unknown.get(h, now); ok {
			return Principal{}, k.refuse(ctx, KeyUnknown, "")
		}
	}

	e, err := k.lookup(ctx, h, gen)
	switch {
	case errors.Is(err, db.ErrNotFound):
		return Principal{}, k.refuse(ctx, KeyUnknown, "")
	case err != nil:
		return Principal{}, fmt.Errorf("gateway: verify API key: %w", err)
	}
	return k.check(ctx, e, now)
}

// Cached reports whether raw is a key this process verified recently and
// that still grants access: Verify will answer it from memory. A limiter of
// failed verifications lets such keys through without counting them.
func (k *Keys) Cached(raw string) bool {
	if k.known == nil || !wellFormed(raw) {
		return false
	}
	now := k.now()
	e, _, ok := k.known.get(keyHash(raw), now)
	return ok && e != nil && k.refusal(e, now) == ""
}

// lookupResult is what one database read of a key hash yields to every
// caller waiting on it.
type lookupResult struct {
	entry *keyEntry
	gen   uint64 // of the known cache when the read began
}

// flight is one database read of a key hash in progress; done is closed
// when res and err are set.
type flight struct {
	done chan struct{}
	res  lookupResult
	err  error
}

// lookup reads the key with hash h from the database and caches what it
// finds. However many callers miss the cache for one hash at once, one
// query is in flight for it: the first caller runs it, the others wait for
// its answer (a flood of one made-up key, or a popular key just evicted,
// costs one query), each as long as its own context lets it. When the
// first caller's context ends its query, the others try again themselves.
// gen is the caller's generation of the known cache: a caller that missed
// after an invalidation the running query began before does not take its
// answer, and reads again. The first caller runs the query on its own
// goroutine, so that a look-up nobody else waits for costs what it did
// before coalescing.
func (k *Keys) lookup(ctx context.Context, h [sha256.Size]byte, gen uint64) (*keyEntry, error) {
	for {
		k.flightMu.Lock()
		f, waiting := k.flights[h]
		if !waiting {
			f = &flight{done: make(chan struct{})}
			k.flights[h] = f
		}
		k.flightMu.Unlock()
		if !waiting {
			f.res, f.err = k.load(ctx, h)
			k.flightMu.Lock()
			delete(k.flights, h)
			k.flightMu.Unlock()
			close(f.done)
		} else {
			select {
			case <-f.done:
			case <-ctx.Done():
				return nil, &db.Error{Op: "Keys.Verify", Kind: db.ErrUnavailable,
					Msg: "gave up waiting for the key look-up", Cause: ctx.Err()}
			}
			if f.err != nil && ctx.Err() == nil &&
				(errors.Is(f.err, context.Canceled) || errors.Is(f.err, context.DeadlineExceeded)) {
				continue // the first caller left; this one has time to ask
			}
			if f.err == nil && f.res.gen < gen {
				continue // the query began before an invalidation this caller saw
			}
		}
		switch {
		case f.err != nil:
			return nil, f.err
		case f.res.entry == nil:
			return nil, &db.Error{Op: "Keys.Verify", Kind: db.ErrNotFound}
		}
		return f.res.entry, nil
	}
}

// load is the one query of lookup: it reads the key and caches the answer.
func (k *Keys) load(ctx context.Context, h [sha256.Size]byte) (lookupResult, error) {
	var gen uint64
	if k.known != nil {
		gen = k.known.generation()
	}
	now := k.now()
	row, err := k.store.APIKeys().GetByHash(ctx, hashHex(h))
	switch {
	case errors.Is(err, db.ErrNotFound):
		if k.unknown != nil {
			k.unknown.add(h, nil, now, 0)
		}
		return lookupResult{gen: gen}, nil
	case err != nil:
		return lookupResult{}, err
	}
	e := k.entryOf(row)
	if k.known != nil {
		k.known.add(h, e, now, gen)
	}
	return lookupResult{entry: e, gen: gen}, nil
}

// check decides on a stored key at now, and records its use.
func (k *Keys) check(ctx context.Context, e *keyEntry, now time.Time) (Principal, error) {
	if reason := k.refusal(e, now); reason != "" {
		return Principal{}, k.refuse(ctx, reason, e.principal.KeyID)
	}
	ns := now.UnixNano()
	if last := e.lastUse.Load(); ns-last >= int64(k.opts.LastUsedInterval) && e.lastUse.CompareAndSwap(last, ns) {
		k.uses.record(e.principal.KeyID, now)
	}
	return e.principal, nil
}

// refusal says why a stored key grants no access at now, or "".
func (k *Keys) refusal(e *keyEntry, now time.Time) KeyRefusal {
	switch {
	case !e.active:
		return KeyInactive
	case !e.revokedAt.IsZero() && !now.Before(e.revokedAt):
		return KeyRevoked
	case !e.principal.ExpiresAt.IsZero() && !now.Before(e.principal.ExpiresAt):
		return KeyExpired
	}
	return ""
}

func (k *Keys) refuse(ctx context.Context, reason KeyRefusal, id string) error {
	if k.log.Enabled(ctx, slog.LevelDebug) {
		k.log.DebugContext(ctx, "gateway: API key refused", "reason", string(reason), "key_id", id)
	}
	return &KeyError{Reason: reason, KeyID: id}
}

// earliest returns the earlier of two times, a zero one standing for
// never.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

func (k *Keys) entryOf(r db.APIKey) *keyEntry {
	e := &keyEntry{
		active:    r.IsActive,
		revokedAt: r.RevokedAt,
		principal: Principal{
			KeyID:       r.ID,
			KeyName:     r.Name,
			Owner:       r.Owner,
			Roles:       r.Roles,
			Permissions: r.Permissions,
			ExpiresAt:   r.ExpiresAt,
			ValidUntil:  earliest(r.ExpiresAt, r.RevokedAt),
			Grants:      NewGrants(r.Permissions),
			read:        time.Now(),
		},
	}
	last := r.LastUsedAt
	if t, ok := k.uses.last(r.ID); ok && t.After(last) {
		last = t
	}
	if !last.IsZero() {
		e.lastUse.Store(last.UnixNano())
	} else {
		e.lastUse.Store(-1 << 62) // long ago
	}
	return e
}

// Revoke makes the key stop working now and records why. This process's
// cache drops it at once; every other process's too, within milliseconds
// of the commit (see NewKeys).
func (k *Keys) Revoke(ctx context.Context, id, reason string) error {
	if _, err := k.store.APIKeys().Revoke(ctx, id, k.now(), reason); err != nil {
		return fmt.Errorf("gateway: revoke API key: %w", err)
	}
	k.forget(id)
	k.log.InfoContext(ctx, "gateway: API key revoked", "key_id", id, "reason", reason)
	return nil
}

// Rotate issues a new key with the old one's name, owner, roles,
// permissions, metadata and lifetime, and revokes the old one from now +
// grace (0 for at once), in one transaction. It returns the new raw key,
// once. A key that is inactive, expired, revoked or rotated already cannot
// be rotated (db.ErrConflict).
func (k *Keys) Rotate(ctx context.Context, id string, grace time.Duration) (string, KeyInfo, error) {
	const op = "Keys.Rotate"
	if grace < 0 {
		return "", KeyInfo{}, &db.Error{Op: op, Kind: db.ErrInvalid, Field: "grace", Msg: "must not be negative"}
	}
	raw, err := newRawKey()
	if err != nil {
		return "", KeyInfo{}, err
	}
	now := k.now()
	var created db.APIKey
	err = k.store.InTx(ctx, func(tx db.Repositories) error {
		// Locked until the transaction ends: of two rotations of one key
		// at once, the second reads it revoked and fails with ErrConflict.
		old, err := tx.APIKeys().GetForUpdate(ctx, id)
		if err != nil {
			return err
		}
		switch {
		case !old.IsActive:
			return &db.Error{Op: op, Kind: db.ErrConflict, Msg: "the key is inactive"}
		case !old.RevokedAt.IsZero():
			return &db.Error{Op: op, Kind: db.ErrConflict, Msg: "the key is revoked or rotated already"}
		case !old.ExpiresAt.IsZero() && !now.Before(old.ExpiresAt):
			return &db.Error{Op: op, Kind: db.ErrConflict, Msg: "the key has expired"}
		}
		var exp time.Time
		if !old.ExpiresAt.IsZero() {
			exp = now.Add(old.ExpiresAt.Sub(old.CreatedAt))
		}
		if limit := k.opts.MaxLifetime; limit > 0 && (exp.IsZero() || exp.After(now.Add(limit))) {
			exp = now.Add(limit)
		}
		created, err = tx.APIKeys().Create(ctx, db.APIKeyCreate{
			Name:        old.Name,
			Prefix:      raw[:KeyDisplayLen],
			KeyHash:     hashHex(keyHash(raw)),
			Owner:       old.Owner,
			Roles:       old.Roles,
			Permissions: old.Permissions,
			ExpiresAt:   exp,
			Metadata:    old.Metadata,
		})
		if err != nil {
			return err
		}
		_, err = tx.APIKeys().Revoke(ctx, old.ID, now.Add(grace), "rotated: replaced by "+created.ID)
		return err
	})
	if err != nil {
		return "", KeyInfo{}, fmt.Errorf("gateway: rotate API key: %w", err)
	}
	k.forget(id)
	k.log.InfoContext(ctx, "gateway: API key rotated", "key_id", id, "new_key_id", created.ID, "grace", grace)
	return raw, keyInfoOf(created), nil
}

// forget drops a key from this process's cache and tells the watchers.
func (k *Keys) forget(id string) {
	if k.known != nil {
		k.known.removeID(id)
	}
	k.notify(id)
}

// Get returns the key with this id, without its hash.
func (k *Keys) Get(ctx context.Context, id string) (KeyInfo, error) {
	row, err := k.store.APIKeys().Get(ctx, id)
	if err != nil {
		return KeyInfo{}, fmt.Errorf("gateway: get API key: %w", err)
	}
	return keyInfoOf(row), nil
}

// List returns a page of all keys, oldest first, without their hashes.
func (k *Keys) List(ctx context.Context, p db.Page) ([]KeyInfo, error) {
	return keyInfosOf(k.store.APIKeys().List(ctx, db.KeyQuery{Limit: p.Limit, Offset: p.Offset}))
}

// ListByOwner returns a page of the keys of one owner, oldest first,
// without their hashes; only the active ones when activeOnly (those not
// deactivated: revoked or expired keys count as active until deactivated).
func (k *Keys) ListByOwner(ctx context.Context, owner string, activeOnly bool, p db.Page) ([]KeyInfo, error) {
	if err := db.CheckText("owner", owner, 1, db.MaxShortLen); err != nil {
		return nil, err
	}
	q := db.KeyQuery{Owner: owner, ActiveOnly: activeOnly, Limit: p.Limit, Offset: p.Offset}
	return keyInfosOf(k.store.APIKeys().List(ctx, q))
}

func keyInfosOf(rows []db.APIKey, err error) ([]KeyInfo, error) {
	if err != nil {
		return nil, fmt.Errorf("gateway: list API keys: %w", err)
	}
	out := make([]KeyInfo, len(rows))
	for i, r := range rows {
		out[i] = keyInfoOf(r)
	}
	return out, nil
}

func keyInfoOf(r db.APIKey) KeyInfo {
	return KeyInfo{
		ID:           r.ID,
		Name:         r.Name,
		Prefix:       r.Prefix,
		Owner:        r.Owner,
		Roles:        r.Roles,
		Permissions:  r.Permissions,
		Active:       r.IsActive,
		CreatedAt:    r.CreatedAt,
		ExpiresAt:    r.ExpiresAt,
		LastUsedAt:   r.LastUsedAt,
		RevokedAt:    r.RevokedAt,
		RevokeReason: r.RevokeReason,
		Metadata:     r.Metadata,
	}
}

// Flush writes the uses recorded so far, in one statement. The background
// writer calls it every FlushEvery, and Close once more.
func (k *Keys) Flush(ctx context.Context) error {
	uses := k.uses.take()
	if len(uses) == 0 {
		return nil
	}
	if _, err := k.store.APIKeys().UpdateLastUsedBatch(ctx, uses); err != nil {
		k.uses.putBack(uses) // written with the next batch
		return fmt.Errorf("gateway: write last use of API keys: %w", err)
	}
	return nil
}

func (k *Keys) flushLoop(ctx context.Context) {
	defer k.wg.Done()
	t := time.NewTicker(k.opts.FlushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := k.Flush(ctx); err != nil && ctx.Err() == nil {
				k.log.WarnContext(ctx, "gateway: last use of API keys not written; retrying with the next batch", "error", err)
			}
		}
	}
}

// useTracker coalesces uses of keys: at most one per key per interval is
// recorded for writing.
type useTracker struct {
	interval time.Duration
	mu       sync.Mutex
	recent   map[string]time.Time // last use recorded, per key, within about an interval
	pending  map[string]time.Time // recorded, not yet written
}

func newUseTracker(interval time.Duration) *useTracker {
	return &useTracker{interval: interval, recent: map[string]time.Time{}, pending: map[string]time.Time{}}
}

// record records a use of id at now, unless one was recorded less than an
// interval before.
func (u *useTracker) record(id string, now time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if t, ok := u.recent[id]; ok && now.Sub(t) < u.interval {
		return
	}
	u.recent[id] = now
	u.pending[id] = now
}

// last returns the last use of id recorded within about an interval.
func (u *useTracker) last(id string) (time.Time, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	t, ok := u.recent[id]
	return t, ok
}

// take returns the pending uses and forgets them, and forgets the recent
// uses older than an interval.
func (u *useTracker) take() []db.KeyUse {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make([]db.KeyUse, 0, len(u.pending))
	for id, at := range u.pending {
		out = append(out, db.KeyUse{ID: id, At: at})
	}
	clear(u.pending)
	var newest time.Time
	for _, t := range u.recent {
		if t.After(newest) {
			newest = t
		}
	}
	for id, t := range u.recent {
		if newest.Sub(t) >= u.interval {
			delete(u.recent, id)
		}
	}
	return out
}

// putBack returns uses that could not be written to the pending ones.
func (u *useTracker) putBack(uses []db.KeyUse) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, use := range uses {
		if t, ok := u.pending[use.ID]; !ok || use.At.After(t) {
			u.pending[use.ID] = use.At
		}
	}
}
