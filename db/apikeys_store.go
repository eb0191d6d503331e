package db

import (
	"context"
	"iter"
	"time"
)

// apiKeys is the Store's APIKeyRepository: it checks, calls the engine and
// maps errors.
type apiKeys struct {
	e Engine
	r APIKeyEngine
}

func (r *apiKeys) Create(ctx context.Context, in APIKeyCreate) (APIKey, error) {
	in, err := in.check()
	var k APIKey
	if err == nil {
		k, err = r.r.Create(ctx, in)
	}
	return k, mapError("APIKeys.Create", r.e, err)
}

func (r *apiKeys) Get(ctx context.Context, id string) (APIKey, error) {
	return r.byID(ctx, "APIKeys.Get", id, r.r.Get)
}

func (r *apiKeys) GetForUpdate(ctx context.Context, id string) (APIKey, error) {
	return r.byID(ctx, "APIKeys.GetForUpdate", id, r.r.GetForUpdate)
}

func (r *apiKeys) GetByHash(ctx context.Context, keyHash string) (APIKey, error) {
	if err := CheckText("key_hash", keyHash, 1, MaxShortLen); err != nil {
		return APIKey{}, mapError("APIKeys.GetByHash", r.e, err)
	}
	k, err := r.r.GetByHash(ctx, keyHash)
	return k, mapError("APIKeys.GetByHash", r.e, err)
}

func (r *apiKeys) byID(ctx context.Context, op, id string, get func(context.Context, string) (APIKey, error)) (APIKey, error) {
	var ch checker
	if ch.id("id", id); ch.err != nil {
		return APIKey{}, mapError(op, r.e, ch.err)
	}
	k, err := get(ctx, id)
	return k, mapError(op, r.e, err)
}

func (r *apiKeys) List(ctx context.Context, q KeyQuery) ([]APIKey, error) {
	return list(ctx, r.e, "APIKeys.List", q, r.r.List)
}

func (r *apiKeys) All(ctx context.Context, q KeyQuery) iter.Seq2[APIKey, error] {
	return all(ctx, r.e, "APIKeys.All", q, r.r.List)
}

func (r *apiKeys) Update(ctx context.Context, id string, u APIKeyUpdate) (APIKey, error) {
	const op = "APIKeys.Update"
	u, err := u.check()
	if err == nil {
		err = CheckText("id", id, 1, MaxIDLen)
	}
	var k APIKey
	if err == nil {
		k, err = r.r.Update(ctx, id, u)
	}
	return k, mapError(op, r.e, err)
}

func (r *apiKeys) Delete(ctx context.Context, id string) error {
	return r.change(ctx, "APIKeys.Delete", id, r.r.Delete)
}

func (r *apiKeys) Deactivate(ctx context.Context, id string) error {
	return r.change(ctx, "APIKeys.Deactivate", id, r.r.Deactivate)
}

// change runs a statement that changes the key with this id.
func (r *apiKeys) change(ctx context.Context, op, id string, run func(context.Context, string) (int64, error)) error {
	var ch checker
	if ch.id("id", id); ch.err != nil {
		return mapError(op, r.e, ch.err)
	}
	n, err := run(ctx, id)
	return mapError(op, r.e, oneRow(n, err))
}

func (r *apiKeys) UpdateLastUsed(ctx context.Context, id string, at time.Time) error {
	var ch checker
	ch.id("id", id)
	at = ch.time("at", at, true)
	if ch.err != nil {
		return mapError("APIKeys.UpdateLastUsed", r.e, ch.err)
	}
	return mapError("APIKeys.UpdateLastUsed", r.e, r.r.UpdateLastUsed(ctx, id, at))
}

func (r *apiKeys) Revoke(ctx context.Context, id string, at time.Time, reason string) (APIKey, error) {
	var ch checker
	ch.id("id", id)
	ch.text("reason", reason, 0, MaxShortLen)
	at = ch.time("at", at, true)
	if ch.err != nil {
		return APIKey{}, mapError("APIKeys.Revoke", r.e, ch.err)
	}
	k, err := r.r.Revoke(ctx, id, at, reason)
	return k, mapError("APIKeys.Revoke", r.e, err)
}

func (r *apiKeys) UpdateLastUsedBatch(ctx context.Context, uses []KeyUse) (int64, error) {
	const op = "APIKeys.UpdateLastUsedBatch"
	uses, err := checkUses(uses)
	if err != nil || len(uses) == 0 {
		return 0, mapError(op, r.e, err)
	}
	n, err := r.r.UpdateLastUsedBatch(ctx, uses)
	return n, mapError(op, r.e, err)
}
