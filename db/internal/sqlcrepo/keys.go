package sqlcrepo

import (
	"context"
	"time"

	"github.com/mcpstore/mcpstore/db"
)

// KeyRow is a row of api_keys, in the field order of the table.
type KeyRow[T Time, L List, J JSON] = struct {
	ID           string
	Name         string
	Prefix       string
	KeyHash      string
	UserID       *string
	Roles        L
	Permissions  L
	IsActive     bool
	CreatedAt    T
	ExpiresAt    *T
	LastUsedAt   *T
	Metadata     J
	RevokedAt    *T
	RevokeReason *string
}

// KeyQueries are the api_keys queries both engines generate.
type KeyQueries[R ~KeyRow[T, L, J], T Time, L List, J JSON] interface {
	APIKeyCreate(ctx context.Context, id, name, prefix, keyHash string, owner *string, roles, permissions L, isActive bool, expiresAt *T, metadata J) (*R, error)
	APIKeyGetByID(ctx context.Context, id string) (*R, error)
	APIKeyGetByIDForUpdate(ctx context.Context, id string) (*R, error)
	APIKeyGetByHash(ctx context.Context, keyHash string) (*R, error)
	APIKeyList(ctx context.Context, activeOnly bool, afterTime T, afterID string, off, lim int64) ([]*R, error)
	APIKeyListByOwner(ctx context.Context, owner string, activeOnly bool, afterTime T, afterID string, off, lim int64) ([]*R, error)
	APIKeyListByPrefix(ctx context.Context, prefix string, activeOnly bool, afterTime T, afterID string, off, lim int64) ([]*R, error)
	APIKeyUpdate(ctx context.Context, setName bool, name string, setOwner bool, owner *string, setRoles bool, roles L,
		setPermissions bool, permissions L, setIsActive, isActive, setExpiresAt bool, expiresAt *T,
		setMetadata bool, metadata J, id string) (*R, error)
	APIKeyDelete(ctx context.Context, id string) (int64, error)
	APIKeyDeactivate(ctx context.Context, id string) (int64, error)
	APIKeyUpdateLastUsed(ctx context.Context, usedAt *T, id string) (int64, error)
	APIKeyRevoke(ctx context.Context, revokedAt *T, reason *string, id string) (*R, error)
}

// Keys is a db.APIKeyEngine. Reads run on Read, writes and GetForUpdate on
// Write: the same queries on PostgreSQL, and inside a transaction.
type Keys[R ~KeyRow[T, L, J], T Time, L List, J JSON] struct {
	Read, Write KeyQueries[R, T, L, J]
	// LastUsedBatch is UpdateLastUsedBatch, which each engine writes its
	// own way.
	LastUsedBatch func(ctx context.Context, uses []db.KeyUse) (int64, error)
}

func keyOf[R ~KeyRow[T, L, J], T Time, L List, J JSON](r *R) db.APIKey {
	k := KeyRow[T, L, J](*r)
	return db.APIKey{
		ID:          k.ID,
		Name:        k.Name,
		Prefix:      k.Prefix,
		KeyHash:     k.KeyHash,
		Owner:       str(k.UserID),
		Roles:       []string(k.Roles),
		Permissions: []string(k.Permissions),
		IsActive:    k.IsActive,
		CreatedAt:   timeOf(k.CreatedAt),
		ExpiresAt:   nullTimeOf(k.ExpiresAt),
		LastUsedAt:  nullTimeOf(k.LastUsedAt),
		Metadata:    jsonOf(k.Metadata),

		RevokedAt:    nullTimeOf(k.RevokedAt),
		RevokeReason: str(k.RevokeReason),
	}
}

func key[R ~KeyRow[T, L, J], T Time, L List, J JSON](r *R, err error) (db.APIKey, error) {
	if err != nil {
		return db.APIKey{}, err
	}
	return keyOf(r), nil
}

func (r Keys[R, T, L, J]) Create(ctx context.Context, in db.APIKeyCreate) (db.APIKey, error) {
	return key(r.Write.APIKeyCreate(ctx, in.ID, in.Name, in.Prefix, in.KeyHash, nullStr(in.Owner),
		L(in.Roles), L(in.Permissions), !in.Inactive, nullTime[T](in.ExpiresAt), J(in.Metadata)))
}

func (r Keys[R, T, L, J]) Get(ctx context.Context, id string) (db.APIKey, error) {
	return key(r.Read.APIKeyGetByID(ctx, id))
}

func (r Keys[R, T, L, J]) GetForUpdate(ctx context.Context, id string) (db.APIKey, error) {
	return key(r.Write.APIKeyGetByIDForUpdate(ctx, id))
}

func (r Keys[R, T, L, J]) GetByHash(ctx context.Context, keyHash string) (db.APIKey, error) {
	return key(r.Read.APIKeyGetByHash(ctx, keyHash))
}

func (r Keys[R, T, L, J]) List(ctx context.Context, q db.KeyQuery) ([]db.APIKey, error) {
	after, id, off, lim := T(q.After.CreatedAt), q.After.ID, int64(q.Offset), int64(q.Limit)
	var rows []*R
	var err error
	switch {
	case q.Owner != "":
		rows, err = r.Read.APIKeyListByOwner(ctx, q.Owner, q.ActiveOnly, after, id, off, lim)
	case q.Prefix != "":
		rows, err = r.Read.APIKeyListByPrefix(ctx, q.Prefix, q.ActiveOnly, after, id, off, lim)
	default:
		rows, err = r.Read.APIKeyList(ctx, q.ActiveOnly, after, id, off, lim)
	}
	return mapRows(rows, err, keyOf[R])
}

func (r Keys[R, T, L, J]) Update(ctx context.Context, id string, u db.APIKeyUpdate) (db.APIKey, error) {
	return key(r.Write.APIKeyUpdate(ctx, u.Name.Set, u.Name.Value, u.Owner.Set, nullStr(u.Owner.Value),
		u.Roles.Set, L(u.Roles.Value), u.Permissions.Set, L(u.Permissions.Value), u.IsActive.Set, u.IsActive.Value,
		u.ExpiresAt.Set, nullTime[T](u.ExpiresAt.Value), u.Metadata.Set, J(u.Metadata.Value), id))
}

func (r Keys[R, T, L, J]) Delete(ctx context.Context, id string) (int64, error) {
	return r.Write.APIKeyDelete(ctx, id)
}

func (r Keys[R, T, L, J]) Deactivate(ctx context.Context, id string) (int64, error) {
	return r.Write.APIKeyDeactivate(ctx, id)
}

func (r Keys[R, T, L, J]) UpdateLastUsed(ctx context.Context, id string, at time.Time) error {
	_, err := r.Write.APIKeyUpdateLastUsed(ctx, nullTime[T](at), id)
	return err
}

func (r Keys[R, T, L, J]) Revoke(ctx context.Context, id string, at time.Time, reason string) (db.APIKey, error) {
	return key(r.Write.APIKeyRevoke(ctx, nullTime[T](at), nullStr(reason), id))
}

func (r Keys[R, T, L, J]) UpdateLastUsedBatch(ctx context.Context, uses []db.KeyUse) (int64, error) {
	return r.LastUsedBatch(ctx, uses)
}
