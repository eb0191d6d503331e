package dbtest

import (
	"context"
	"errors"
	"iter"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/mcpstore/mcpstore/db"
)

// Counter counts the calls of every repository method made through the
// Stores it wraps, and the calls refused as bad input (db.ErrInvalid), the
// way Coder's dbauthz suite accounts for every method of its store. The
// suite wraps every Store it makes and, at its end, fails for each method
// of the repository interfaces that was never called or never refused: a
// method added to an interface must be exercised, bad input included,
// before the suite passes again. It is safe for concurrent use.
type Counter struct {
	mu      sync.Mutex
	calls   map[string]int
	refused map[string]int
}

// NewCounter returns a Counter with nothing counted.
func NewCounter() *Counter {
	return &Counter{calls: map[string]int{}, refused: map[string]int{}}
}

// Methods lists every method of the repository interfaces as the Store
// names them ("APIKeys.Create", ...), read from the interfaces themselves,
// so that a method added to one is in the list.
func Methods() []string {
	return slices.Concat(
		methodsOf("APIKeys", reflect.TypeFor[db.APIKeyRepository]()),
		methodsOf("Tools", reflect.TypeFor[db.ToolRepository]()),
		methodsOf("AuditLogs", reflect.TypeFor[db.AuditLogRepository]()),
	)
}

func methodsOf(repo string, iface reflect.Type) []string {
	out := make([]string, iface.NumMethod())
	for i := range out {
		out[i] = repo + "." + iface.Method(i).Name
	}
	return out
}

// Missing returns, of methods, those never called through the Counter's
// Stores and those never refused as bad input.
func (c *Counter) Missing(methods []string) (unexercised, noBadInput []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range methods {
		if c.calls[m] == 0 {
			unexercised = append(unexercised, m)
		}
		if c.refused[m] == 0 {
			noBadInput = append(noBadInput, m)
		}
	}
	return unexercised, noBadInput
}

// count records a call of op and, when err is db.ErrInvalid, its refusal.
func (c *Counter) count(op string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[op]++
	if errors.Is(err, db.ErrInvalid) {
		c.refused[op]++
	}
}

// countSeq counts a call of an All method, and its refusal when the
// iterator yields db.ErrInvalid.
func countSeq[T any](c *Counter, op string, seq iter.Seq2[T, error]) iter.Seq2[T, error] {
	c.count(op, nil)
	return func(yield func(T, error) bool) {
		for v, err := range seq {
			if errors.Is(err, db.ErrInvalid) {
				c.mu.Lock()
				c.refused[op]++
				c.mu.Unlock()
			}
			if !yield(v, err) {
				return
			}
		}
	}
}

// Wrap returns s with every repository call counted, in its transactions
// too. The result is a db.KeyChangeListener when s is one.
func (c *Counter) Wrap(s db.Store) db.Store {
	w := &countingStore{Store: s, c: c}
	w.repos = countingRepos{r: s, c: c}
	if l, ok := s.(db.KeyChangeListener); ok {
		return &countingListener{countingStore: w, l: l}
	}
	return w
}

// Unwrap returns the Store a Counter wrapped, or s itself.
func Unwrap(s db.Store) db.Store {
	switch w := s.(type) {
	case *countingStore:
		return w.Store
	case *countingListener:
		return w.Store
	}
	return s
}

type countingStore struct {
	db.Store
	repos countingRepos
	c     *Counter
}

func (s *countingStore) APIKeys() db.APIKeyRepository     { return s.repos.APIKeys() }
func (s *countingStore) Tools() db.ToolRepository         { return s.repos.Tools() }
func (s *countingStore) AuditLogs() db.AuditLogRepository { return s.repos.AuditLogs() }

func (s *countingStore) InTx(ctx context.Context, fn func(tx db.Repositories) error) error {
	return s.Store.InTx(ctx, func(tx db.Repositories) error { return fn(countingRepos{r: tx, c: s.c}) })
}

type countingListener struct {
	*countingStore
	l db.KeyChangeListener
}

func (s *countingListener) ListenKeyChanges(ctx context.Context, onListen func(), onChange func(keyID string)) error {
	return s.l.ListenKeyChanges(ctx, onListen, onChange)
}

type countingRepos struct {
	r db.Repositories
	c *Counter
}

func (r countingRepos) APIKeys() db.APIKeyRepository { return countingKeys{r.r.APIKeys(), r.c} }
func (r countingRepos) Tools() db.ToolRepository     { return countingTools{r.r.Tools(), r.c} }
func (r countingRepos) AuditLogs() db.AuditLogRepository {
	return countingAudit{r.r.AuditLogs(), r.c}
}

// counted counts a call of op returning (v, err) and returns them.
func counted[T any](c *Counter, op string, v T, err error) (T, error) {
	c.count(op, err)
	return v, err
}

var (
	_ db.APIKeyRepository   = countingKeys{}
	_ db.ToolRepository     = countingTools{}
	_ db.AuditLogRepository = countingAudit{}
)

type countingKeys struct {
	r db.APIKeyRepository
	c *Counter
}

func (r countingKeys) Create(ctx context.Context, in db.APIKeyCreate) (db.APIKey, error) {
	k, err := r.r.Create(ctx, in)
	return counted(r.c, "APIKeys.Create", k, err)
}

func (r countingKeys) Get(ctx context.Context, id string) (db.APIKey, error) {
	k, err := r.r.Get(ctx, id)
	return counted(r.c, "APIKeys.Get", k, err)
}

func (r countingKeys) GetForUpdate(ctx context.Context, id string) (db.APIKey, error) {
	k, err := r.r.GetForUpdate(ctx, id)
	return counted(r.c, "APIKeys.GetForUpdate", k, err)
}

func (r countingKeys) GetByHash(ctx context.Context, keyHash string) (db.APIKey, error) {
	k, err := r.r.GetByHash(ctx, keyHash)
	return counted(r.c, "APIKeys.GetByHash", k, err)
}

func (r countingKeys) List(ctx context.Context, q db.KeyQuery) ([]db.APIKey, error) {
	l, err := r.r.List(ctx, q)
	return counted(r.c, "APIKeys.List", l, err)
}

func (r countingKeys) All(ctx context.Context, q db.KeyQuery) iter.Seq2[db.APIKey, error] {
	return countSeq(r.c, "APIKeys.All", r.r.All(ctx, q))
}

func (r countingKeys) Update(ctx context.Context, id string, u db.APIKeyUpdate) (db.APIKey, error) {
	k, err := r.r.Update(ctx, id, u)
	return counted(r.c, "APIKeys.Update", k, err)
}

func (r countingKeys) Delete(ctx context.Context, id string) error {
	_, err := counted(r.c, "APIKeys.Delete", 0, r.r.Delete(ctx, id))
	return err
}

func (r countingKeys) Deactivate(ctx context.Context, id string) error {
	_, err := counted(r.c, "APIKeys.Deactivate", 0, r.r.Deactivate(ctx, id))
	return err
}

func (r countingKeys) UpdateLastUsed(ctx context.Context, id string, at time.Time) error {
	_, err := counted(r.c, "APIKeys.UpdateLastUsed", 0, r.r.UpdateLastUsed(ctx, id, at))
	return err
}

func (r countingKeys) Revoke(ctx context.Context, id string, at time.Time, reason string) (db.APIKey, error) {
	k, err := r.r.Revoke(ctx, id, at, reason)
	return counted(r.c, "APIKeys.Revoke", k, err)
}

func (r countingKeys) UpdateLastUsedBatch(ctx context.Context, uses []db.KeyUse) (int64, error) {
	n, err := r.r.UpdateLastUsedBatch(ctx, uses)
	return counted(r.c, "APIKeys.UpdateLastUsedBatch", n, err)
}

type countingTools struct {
	r db.ToolRepository
	c *Counter
}

func (r countingTools) Create(ctx context.Context, in db.ToolCreate) (db.Tool, error) {
	t, err := r.r.Create(ctx, in)
	return counted(r.c, "Tools.Create", t, err)
}

func (r countingTools) Get(ctx context.Context, id int64) (db.Tool, error) {
	t, err := r.r.Get(ctx, id)
	return counted(r.c, "Tools.Get", t, err)
}

func (r countingTools) GetByName(ctx context.Context, serverID, name string) (db.Tool, error) {
	t, err := r.r.GetByName(ctx, serverID, name)
	return counted(r.c, "Tools.GetByName", t, err)
}

func (r countingTools) List(ctx context.Context, q db.ToolQuery) ([]db.Tool, error) {
	l, err := r.r.List(ctx, q)
	return counted(r.c, "Tools.List", l, err)
}

func (r countingTools) All(ctx context.Context, q db.ToolQuery) iter.Seq2[db.Tool, error] {
	return countSeq(r.c, "Tools.All", r.r.All(ctx, q))
}

func (r countingTools) Update(ctx context.Context, id int64, u db.ToolUpdate) (db.Tool, error) {
	t, err := r.r.Update(ctx, id, u)
	return counted(r.c, "Tools.Update", t, err)
}

func (r countingTools) Delete(ctx context.Context, id int64) error {
	_, err := counted(r.c, "Tools.Delete", 0, r.r.Delete(ctx, id))
	return err
}

func (r countingTools) DeactivateByServer(ctx context.Context, serverID string) (int64, error) {
	n, err := r.r.DeactivateByServer(ctx, serverID)
	return counted(r.c, "Tools.DeactivateByServer", n, err)
}

func (r countingTools) Upsert(ctx context.Context, in db.ToolCreate) (db.Tool, error) {
	t, err := r.r.Upsert(ctx, in)
	return counted(r.c, "Tools.Upsert", t, err)
}

func (r countingTools) LockServer(ctx context.Context, serverID string) error {
	_, err := counted(r.c, "Tools.LockServer", 0, r.r.LockServer(ctx, serverID))
	return err
}

type countingAudit struct {
	r db.AuditLogRepository
	c *Counter
}

func (r countingAudit) Insert(ctx context.Context, in db.AuditLogCreate) (db.AuditLog, error) {
	ev, err := r.r.Insert(ctx, in)
	return counted(r.c, "AuditLogs.Insert", ev, err)
}

func (r countingAudit) InsertBatch(ctx context.Context, in []db.AuditLogCreate) (int64, error) {
	n, err := r.r.InsertBatch(ctx, in)
	return counted(r.c, "AuditLogs.InsertBatch", n, err)
}

func (r countingAudit) Get(ctx context.Context, id int64) (db.AuditLog, error) {
	ev, err := r.r.Get(ctx, id)
	return counted(r.c, "AuditLogs.Get", ev, err)
}

func (r countingAudit) List(ctx context.Context, q db.AuditQuery) ([]db.AuditLog, error) {
	l, err := r.r.List(ctx, q)
	return counted(r.c, "AuditLogs.List", l, err)
}

func (r countingAudit) All(ctx context.Context, q db.AuditQuery) iter.Seq2[db.AuditLog, error] {
	return countSeq(r.c, "AuditLogs.All", r.r.All(ctx, q))
}

func (r countingAudit) ListByDateRange(ctx context.Context, from, to time.Time, action string, p db.Page) ([]db.AuditLog, error) {
	l, err := r.r.ListByDateRange(ctx, from, to, action, p)
	return counted(r.c, "AuditLogs.ListByDateRange", l, err)
}

func (r countingAudit) Statistics(ctx context.Context, from, to time.Time) (db.AuditStatistics, error) {
	st, err := r.r.Statistics(ctx, from, to)
	return counted(r.c, "AuditLogs.Statistics", st, err)
}

func (r countingAudit) Complete(ctx context.Context, id int64, c db.AuditLogComplete) (db.AuditLog, error) {
	ev, err := r.r.Complete(ctx, id, c)
	return counted(r.c, "AuditLogs.Complete", ev, err)
}

func (r countingAudit) Delete(ctx context.Context, id int64) error {
	_, err := counted(r.c, "AuditLogs.Delete", 0, r.r.Delete(ctx, id))
	return err
}

func (r countingAudit) Prune(ctx context.Context, before time.Time, batchSize int) (int64, error) {
	n, err := r.r.Prune(ctx, before, batchSize)
	return counted(r.c, "AuditLogs.Prune", n, err)
}

func (r countingAudit) ListNewest(ctx context.Context, p db.Page) ([]db.AuditLog, error) {
	l, err := r.r.ListNewest(ctx, p)
	return counted(r.c, "AuditLogs.ListNewest", l, err)
}

func (r countingAudit) ListAfterID(ctx context.Context, afterID int64, p db.Page) ([]db.AuditLog, error) {
	l, err := r.r.ListAfterID(ctx, afterID, p)
	return counted(r.c, "AuditLogs.ListAfterID", l, err)
}
