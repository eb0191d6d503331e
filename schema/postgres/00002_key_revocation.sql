-- Revocation of API keys: when a key stops working and why. revoked_at is
-- the moment the key is refused from: now for a revoked key, later for a key
-- rotated with a grace period (the old key works until then).

-- +goose Up
ALTER TABLE api_keys ADD COLUMN revoked_at timestamptz;
ALTER TABLE api_keys ADD COLUMN revoke_reason text;

-- +goose Down
ALTER TABLE api_keys DROP COLUMN revoke_reason;
ALTER TABLE api_keys DROP COLUMN revoked_at;
