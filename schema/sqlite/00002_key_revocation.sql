-- Revocation of API keys, as on PostgreSQL (see there). revoked_at is INTEGER
-- microseconds since the Unix epoch, UTC, like every time here.

-- +goose Up
ALTER TABLE api_keys ADD COLUMN revoked_at INTEGER;
ALTER TABLE api_keys ADD COLUMN revoke_reason TEXT;

-- +goose Down
ALTER TABLE api_keys DROP COLUMN revoke_reason;
ALTER TABLE api_keys DROP COLUMN revoked_at;
