package sqlite

import (
	"context"
	"encoding/json"
	"time"

	"github.com/mcpstore/mcpstore/db"
	"github.com/mcpstore/mcpstore/gen/sqlitedb"
)

type apiKeys repos

func apiKeyOf(r sqlitedb.ApiKey) db.APIKey {
	return db.APIKey{
		ID:          r.ID,
		Name:        r.Name,
		Prefix:      r.Prefix,
		KeyHash:     r.KeyHash,
		UserID:      str(r.UserID),
		Roles:       listOf(r.Roles),
		Permissions: listOf(r.Permissions),
		IsActive:    r.IsActive,
		CreatedAt:   timeOf(r.CreatedAt),
		ExpiresAt:   nullTimeOf(r.ExpiresAt),
		LastUsedAt:  nullTimeOf(r.LastUsedAt),
		Metadata:    jsonOf(r.Metadata),

		RevokedAt:    nullTimeOf(r.RevokedAt),
		RevokeReason: str(r.RevokeReason),
	}
}

func apiKeysOf(rows []sqlitedb.ApiKey, err error) ([]db.APIKey, error) {
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
	row, err := r.w.APIKeyCreate(ctx, sqlitedb.APIKeyCreateParams{
		ID:          in.ID,
		Name:        in.Name,
		Prefix:      in.Prefix,
		KeyHash:     in.KeyHash,
		UserID:      nullStr(in.UserID),
		Roles:       listJSON(in.Roles),
		Permissions: listJSON(in.Permissions),
		IsActive:    !in.Inactive,
		ExpiresAt:   nullMicros(in.ExpiresAt),
		Metadata:    nullJSON(in.Metadata),
	})
	if err != nil {
		return db.APIKey{}, mapErr(op, err)
	}
	return apiKeyOf(row), nil
}

func (r apiKeys) Get(ctx context.Context, id string) (db.APIKey, error) {
	return r.get(ctx, "APIKeys.Get", id)
}

func (r apiKeys) get(ctx context.Context, op, id string) (db.APIKey, error) {
	if err := db.CheckText("id", id, 1, db.MaxIDLen); err != nil {
		return db.APIKey{}, mapErr(op, err)
	}
	row, err := r.r.APIKeyGetByID(ctx, id)
	if err != nil {
		return db.APIKey{}, mapErr(op, err)
	}
	return apiKeyOf(row), nil
}

// GetForUpdate needs no lock of its own on SQLite: a transaction takes the
// database's one write lock when it begins (BEGIN IMMEDIATE), across
// processes too, so no other transaction writes the key until it ends.
func (r apiKeys) GetForUpdate(ctx context.Context, id string) (db.APIKey, error) {
	return r.get(ctx, "APIKeys.GetForUpdate", id)
}

func (r apiKeys) GetByHash(ctx context.Context, keyHash string) (db.APIKey, error) {
	const op = "APIKeys.GetByHash"
	if err := db.CheckText("key_hash", keyHash, 1, db.MaxShortLen); err != nil {
		return db.APIKey{}, mapErr(op, err)
	}
	row, err := r.r.APIKeyGetByHash(ctx, keyHash)
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
	out, err := apiKeysOf(r.r.APIKeyListByPrefix(ctx, prefix))
	return out, mapErr(op, err)
}

func (r apiKeys) List(ctx context.Context, p db.Page) ([]db.APIKey, error) {
	const op = "APIKeys.List"
	p, err := p.Checked()
	if err != nil {
		return nil, mapErr(op, err)
	}
	off, lim := limits(p)
	out, err := apiKeysOf(r.r.APIKeyList(ctx, sqlitedb.APIKeyListParams{Off: off, Lim: lim}))
	return out, mapErr(op, err)
}

func (r apiKeys) ListActive(ctx context.Context, p db.Page) ([]db.APIKey, error) {
	const op = "APIKeys.ListActive"
	p, err := p.Checked()
	if err != nil {
		return nil, mapErr(op, err)
	}
	off, lim := limits(p)
	out, err := apiKeysOf(r.r.APIKeyListActive(ctx, sqlitedb.APIKeyListActiveParams{Off: off, Lim: lim}))
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
	out, err := apiKeysOf(r.r.APIKeyListByUser(ctx, sqlitedb.APIKeyListByUserParams{
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
	row, err := r.w.APIKeyUpdate(ctx, sqlitedb.APIKeyUpdateParams{
		ID:             id,
		SetName:        u.Name.Set,
		Name:           u.Name.Value,
		SetUserID:      u.UserID.Set,
		UserID:         nullStr(u.UserID.Value),
		SetRoles:       u.Roles.Set,
		Roles:          listJSON(u.Roles.Value),
		SetPermissions: u.Permissions.Set,
		Permissions:    listJSON(u.Permissions.Value),
		SetIsActive:    u.IsActive.Set,
		IsActive:       u.IsActive.Value,
		SetExpiresAt:   u.ExpiresAt.Set,
		ExpiresAt:      nullMicros(u.ExpiresAt.Value),
		SetMetadata:    u.Metadata.Set,
		Metadata:       nullJSON(u.Metadata.Value),
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
	n, err := r.w.APIKeyDelete(ctx, id)
	return mapErr(op, db.OneRow(n, err))
}

func (r apiKeys) Deactivate(ctx context.Context, id string) error {
	const op = "APIKeys.Deactivate"
	if err := db.CheckText("id", id, 1, db.MaxIDLen); err != nil {
		return mapErr(op, err)
	}
	n, err := r.w.APIKeyDeactivate(ctx, id)
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
	_, err := r.w.APIKeyUpdateLastUsed(ctx, sqlitedb.APIKeyUpdateLastUsedParams{ID: id, UsedAt: nullMicros(at)})
	return mapErr(op, err)
}

// Revoke writes the revocation; the change log's trigger records it for
// the other processes' listeners (see notify.go).
func (r apiKeys) Revoke(ctx context.Context, id string, at time.Time, reason string) (db.APIKey, error) {
	const op = "APIKeys.Revoke"
	at, err := db.CheckRevoke(id, at, reason)
	if err != nil {
		return db.APIKey{}, mapErr(op, err)
	}
	row, err := r.w.APIKeyRevoke(ctx, sqlitedb.APIKeyRevokeParams{
		ID:           id,
		RevokedAt:    nullMicros(at),
		RevokeReason: nullStr(reason),
	})
	if err != nil {
		return db.APIKey{}, mapErr(op, err)
	}
	return apiKeyOf(row), nil
}

// UpdateLastUsedBatch writes the whole batch with one UPDATE, the uses
// passed as one JSON array of [id, microseconds] pairs.
func (r apiKeys) UpdateLastUsedBatch(ctx context.Context, uses []db.KeyUse) (int64, error) {
	const op = "APIKeys.UpdateLastUsedBatch"
	uses, err := db.CheckUses(uses)
	if err != nil || len(uses) == 0 {
		return 0, mapErr(op, err)
	}
	pairs := make([][2]any, len(uses))
	for i, u := range uses {
		pairs[i] = [2]any{u.ID, micros(u.At)}
	}
	b, err := json.Marshal(pairs)
	if err != nil {
		return 0, mapErr(op, err)
	}
	n, err := r.w.APIKeyUpdateLastUsedBatch(ctx, string(b))
	return n, mapErr(op, err)
}
