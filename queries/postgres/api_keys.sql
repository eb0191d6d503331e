-- name: APIKeyCreate :one
INSERT INTO api_keys (id, name, prefix, key_hash, user_id, roles, permissions, is_active, expires_at, metadata)
VALUES (@id, @name, @prefix, @key_hash, sqlc.narg('user_id'), @roles, @permissions, @is_active, sqlc.narg('expires_at'), sqlc.narg('metadata'))
RETURNING *;

-- name: APIKeyGetByID :one
SELECT * FROM api_keys WHERE id = @id;

-- name: APIKeyGetByIDForUpdate :one
-- Locks the row until the transaction ends (APIKeys.GetForUpdate).
SELECT * FROM api_keys WHERE id = @id FOR UPDATE;

-- name: APIKeyGetByHash :one
SELECT * FROM api_keys WHERE key_hash = @key_hash;

-- The lists of keys, each oldest first and after a cursor, the position
-- (@after_time, @after_id) of the last key of the page before (the caller
-- passes one before every key for the first page).

-- name: APIKeyList :many
SELECT * FROM api_keys
WHERE (is_active OR NOT @active_only::boolean)
  AND (created_at > @after_time OR (created_at = @after_time AND id > @after_id::text))
ORDER BY created_at, id LIMIT @lim::bigint OFFSET @off::bigint;

-- name: APIKeyListByOwner :many
SELECT * FROM api_keys
WHERE user_id = @owner::text AND (is_active OR NOT @active_only::boolean)
  AND (created_at > @after_time OR (created_at = @after_time AND id > @after_id::text))
ORDER BY created_at, id LIMIT @lim::bigint OFFSET @off::bigint;

-- name: APIKeyListByPrefix :many
SELECT * FROM api_keys
WHERE prefix = @prefix::text AND (is_active OR NOT @active_only::boolean)
  AND (created_at > @after_time OR (created_at = @after_time AND id > @after_id::text))
ORDER BY created_at, id LIMIT @lim::bigint OFFSET @off::bigint;

-- name: APIKeyUpdate :one
-- Each column changes only when its set_ flag is true, in one statement, so
-- concurrent updates of different columns never undo each other.
UPDATE api_keys SET
    name        = CASE WHEN @set_name::boolean THEN @name::text ELSE name END,
    user_id     = CASE WHEN @set_user_id::boolean THEN sqlc.narg('user_id')::text ELSE user_id END,
    roles       = CASE WHEN @set_roles::boolean THEN @roles::text[] ELSE roles END,
    permissions = CASE WHEN @set_permissions::boolean THEN @permissions::text[] ELSE permissions END,
    is_active   = CASE WHEN @set_is_active::boolean THEN @is_active::boolean ELSE is_active END,
    expires_at  = CASE WHEN @set_expires_at::boolean THEN sqlc.narg('expires_at')::timestamptz ELSE expires_at END,
    metadata    = CASE WHEN @set_metadata::boolean THEN sqlc.narg('metadata')::jsonb ELSE metadata END
WHERE id = @id
RETURNING *;

-- name: APIKeyDelete :execrows
DELETE FROM api_keys WHERE id = @id;

-- name: APIKeyDeactivate :execrows
UPDATE api_keys SET is_active = false WHERE id = @id;

-- name: APIKeyUpdateLastUsed :execrows
-- Never moves last_used_at backwards, so late or repeated writes are harmless.
UPDATE api_keys SET last_used_at = @used_at
WHERE id = @id AND (last_used_at IS NULL OR last_used_at < @used_at);

-- name: APIKeyRevoke :one
-- Sets when the key stops working and why. A revocation is never postponed:
-- a key revoked already keeps the earlier time and its reason. Migration
-- 00003's trigger tells every listening process at commit.
UPDATE api_keys SET
    revoked_at    = CASE WHEN revoked_at IS NOT NULL AND revoked_at <= sqlc.narg('revoked_at')::timestamptz THEN revoked_at ELSE sqlc.narg('revoked_at')::timestamptz END,
    revoke_reason = CASE WHEN revoked_at IS NOT NULL AND revoked_at <= sqlc.narg('revoked_at')::timestamptz THEN revoke_reason ELSE sqlc.narg('revoke_reason')::text END
WHERE id = @id
RETURNING *;

-- name: APIKeyUpdateLastUsedBatch :execrows
-- Many uses in one statement, one (id, used_at) pair per key. Never moves
-- last_used_at backwards; unknown ids are ignored.
UPDATE api_keys AS k SET last_used_at = u.used_at
FROM (SELECT unnest(@ids::text[]) AS id, unnest(@used_at::timestamptz[]) AS used_at) AS u
WHERE k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < u.used_at);
