package postgres

import (
	"context"
	"time"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gen/pgdb"
)

type apiKeys repos

func apiKeyOf(r *pgdb.ApiKey) db.APIKey {
	return db.APIKey{
		ID:          r.ID,
		Name:        r.Name,
		Prefix:      r.Prefix,
		KeyHash:     r.KeyHash,
		UserID:      str(r.UserID),
		Roles:       r.Roles,
		Permissions: r.Permissions,
		IsActive:    r.IsActive,
		CreatedAt:   r.CreatedAt.UTC(),
		ExpiresAt:   timeOf(r.ExpiresAt),
		LastUsedAt:  timeOf(r.LastUsedAt),
		Metadata:    jsonOf(r.Metadata),

		RevokedAt:    timeOf(r.RevokedAt),
		RevokeReason: str(r.RevokeReason),
	}
}

func apiKeysOf(rows []*pgdb.ApiKey, err error) ([]db.APIKey, error) {
	if err != nil {
		return nil, err
	}
	out := make([]db.APIKey, len(rows))
	for i, r := range rows {
		out[i] = apiKeyOf(r)
	}
	return out, nil
}

func (r apiKeys) Create(ctx context.Context, in db.APIKeyCreate) (db.APIKey, error) {
	const op = "APIKeys.Create"
	in, err := in.Checked()
	if err != nil {
		return db.APIKey{}, mapErr(op, err)
	}
	row, err := r.q.APIKeyCreate(ctx, pgdb.APIKeyCreateParams{
		ID:          in.ID,
		Name:        in.Name,
		Prefix:      in.Prefix,
		KeyHash:     in.KeyHash,
		UserID:      nullStr(in.UserID),
		Roles:       in.Roles,
		Permissions: in.Permissions,
		IsActive:    !in.Inactive,
		ExpiresAt:   nullTime(in.ExpiresAt),
		Metadata:    in.Metadata,
	})
	if err != nil {
		return db.APIKey{}, mapErr(op, err)
	}
	return apiKeyOf(row), nil
}

func (r apiKeys) Get(ctx context.Context, id string) (db.APIKey, error) {
	return r.get(ctx, "APIKeys.Get", id, r.q.APIKeyGetByID)
}

func (r apiKeys) GetForUpdate(ctx context.Context, id string) (db.APIKey, error) {
	return r.get(ctx, "APIKeys.GetForUpdate", id, r.q.APIKeyGetByIDForUpdate)
}

func (r apiKeys) get(ctx context.Context, op, id string, query func(context.Context, string) (*pgdb.ApiKey, error)) (db.APIKey, error) {
	if err := db.CheckText("id", id, 1, db.MaxIDLen); err != nil {
		return db.APIKey{}, mapErr(op, err)
	}
	row, err := query(ctx, id)
	if err != nil {
		return db.APIKey{}, mapErr(op, err)
	}
	return apiKeyOf(row), nil
}

func (r apiKeys) GetByHash(ctx context.Context, keyHash string) (db.APIKey, error) {
	const op = "APIKeys.GetByHash"
	if err := db.CheckText("key_hash", keyHash, 1, db.MaxShortLen); err != nil {
		return db.APIKey{}, mapErr(op, err)
	}
	row, err := r.q.APIKeyGetByHash(ctx, keyHash)
	if err != nil {
		return db.APIKey{}, mapErr(op, err)
	}
	return apiKeyOf(row), nil
}

func (r apiKeys) ListByPrefix(ctx context.Context, prefix string) ([]db.APIKey, error) {
	const op = "APIKeys.ListByPrefix"
	if err := db.CheckText("prefix", prefix, 1, db.MaxShortLen); err != nil {
		return nil, mapErr(op, err)
	}
	out, err := apiKeysOf(r.q.APIKeyListByPrefix(ctx, prefix))
	return out, mapErr(op, err)
}

func (r apiKeys) List(ctx context.Context, p db.Page) ([]db.APIKey, error) {
	const op = "APIKeys.List"
	p, err := p.Checked()
	if err != nil {
		return nil, mapErr(op, err)
	}
	off, lim := limits(p)
	out, err := apiKeysOf(r.q.APIKeyList(ctx, pgdb.APIKeyListParams{Off: off, Lim: lim}))
	return out, mapErr(op, err)
}

func (r apiKeys) ListActive(ctx context.Context, p db.Page) ([]db.APIKey, error) {
	const op = "APIKeys.ListActive"
	p, err := p.Checked()
	if err != nil {
		return nil, mapErr(op, err)
	}
	off, lim := limits(p)
	out, err := apiKeysOf(r.q.APIKeyListActive(ctx, pgdb.APIKeyListActiveParams{Off: off, Lim: lim}))
	return out, mapErr(op, err)
}

func (r apiKeys) ListByUser(ctx context.Context, userID string, activeOnly bool, p db.Page) ([]db.APIKey, error) {
	const op = "APIKeys.ListByUser"
	p, err := p.Checked()
	if err == nil {
		err = db.CheckText("user_id", userID, 1, db.MaxShortLen)
	}
	if err != nil {
		return nil, mapErr(op, err)
	}
	off, lim := limits(p)
	out, err := apiKeysOf(r.q.APIKeyListByUser(ctx, pgdb.APIKeyListByUserParams{
		UserID: &userID, ActiveOnly: activeOnly, Off: off, Lim: lim,
	}))
	return out, mapErr(op, err)
}

func (r apiKeys) Update(ctx context.Context, id string, u db.APIKeyUpdate) (db.APIKey, error) {
	const op = "APIKeys.Update"
	u, err := u.Checked()
	if err == nil {
		err = db.CheckText("id", id, 1, db.MaxIDLen)
	}
	if err != nil {
		return db.APIKey{}, mapErr(op, err)
	}
	row, err := r.q.APIKeyUpdate(ctx, pgdb.APIKeyUpdateParams{
		ID:             id,
		SetName:        u.Name.Set,
		Name:           u.Name.Value,
		SetUserID:      u.UserID.Set,
		UserID:         nullStr(u.UserID.Value),
		SetRoles:       u.Roles.Set,
		Roles:          u.Roles.Value,
		SetPermissions: u.Permissions.Set,
		Permissions:    u.Permissions.Value,
		SetIsActive:    u.IsActive.Set,
		IsActive:       u.IsActive.Value,
		SetExpiresAt:   u.ExpiresAt.Set,
		ExpiresAt:      nullTime(u.ExpiresAt.Value),
		SetMetadata:    u.Metadata.Set,
		Metadata:       u.Metadata.Value,
	})
	if err != nil {
		return db.APIKey{}, mapErr(op, err)
	}
	return apiKeyOf(row), nil
}

func (r apiKeys) Delete(ctx context.Context, id string) error {
	const op = "APIKeys.Delete"
	if err := db.CheckText("id", id, 1, db.MaxIDLen); err != nil {
		return mapErr(op, err)
	}
	n, err := r.q.APIKeyDelete(ctx, id)
	return mapErr(op, db.OneRow(n, err))
}

func (r apiKeys) Deactivate(ctx context.Context, id string) error {
	const op = "APIKeys.Deactivate"
	if err := db.CheckText("id", id, 1, db.MaxIDLen); err != nil {
		return mapErr(op, err)
	}
	n, err := r.q.APIKeyDeactivate(ctx, id)
	return mapErr(op, db.OneRow(n, err))
}

func (r apiKeys) UpdateLastUsed(ctx context.Context, id string, at time.Time) error {
	const op = "APIKeys.UpdateLastUsed"
	if err := db.CheckText("id", id, 1, db.MaxIDLen); err != nil {
		return mapErr(op, err)
	}
	if at.IsZero() {
		return mapErr(op, &db.Error{Kind: db.ErrInvalid, Field: "at", Msg: "required"})
	}
	at = at.UTC().Truncate(time.Microsecond)
	_, err := r.q.APIKeyUpdateLastUsed(ctx, pgdb.APIKeyUpdateLastUsedParams{ID: id, UsedAt: &at})
	return mapErr(op, err)
}

func (r apiKeys) Revoke(ctx context.Context, id string, at time.Time, reason string) (db.APIKey, error) {
	const op = "APIKeys.Revoke"
	at, err := db.CheckRevoke(id, at, reason)
	if err != nil {
		return db.APIKey{}, mapErr(op, err)
	}
	row, err := r.q.APIKeyRevoke(ctx, pgdb.APIKeyRevokeParams{
		ID:           id,
		RevokedAt:    at,
		RevokeReason: nullStr(reason),
	})
	if err != nil {
		return db.APIKey{}, mapErr(op, err)
	}
	return apiKeyOf(row), nil
}

// UpdateLastUsedBatch writes the whole batch with one UPDATE ... FROM
// unnest(ids, times).
func (r apiKeys) UpdateLastUsedBatch(ctx context.Context, uses []db.KeyUse) (int64, error) {
	const op = "APIKeys.UpdateLastUsedBatch"
	uses, err := db.CheckUses(uses)
	if err != nil || len(uses) == 0 {
		return 0, mapErr(op, err)
	}
	p := pgdb.APIKeyUpdateLastUsedBatchParams{Ids: make([]string, len(uses)), UsedAt: make([]time.Time, len(uses))}
	for i, u := range uses {
		p.Ids[i], p.UsedAt[i] = u.ID, u.At
	}
	n, err := r.q.APIKeyUpdateLastUsedBatch(ctx, p)
	return n, mapErr(op, err)
}
