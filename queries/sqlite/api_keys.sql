-- name: APIKeyCreate :one
INSERT INTO api_keys (id, name, prefix, key_hash, user_id, roles, permissions, is_active, expires_at, metadata)
VALUES (@id, @name, @prefix, @key_hash, sqlc.narg('user_id'), @roles, @permissions, @is_active, sqlc.narg('expires_at'), sqlc.narg('metadata'))
RETURNING *;

-- name: APIKeyGetByID :one
SELECT * FROM api_keys WHERE id = @id;

-- name: APIKeyGetByIDForUpdate :one
-- APIKeys.GetForUpdate: no lock of its own on SQLite, whose transactions
-- take the database's one write lock when they begin (BEGIN IMMEDIATE),
-- across processes too, so no other transaction writes the key until it
-- ends.
SELECT * FROM api_keys WHERE id = @id;

-- name: APIKeyGetByHash :one
SELECT * FROM api_keys WHERE key_hash = @key_hash;

-- The lists of keys, each oldest first and after a cursor, the position
-- (@after_time, @after_id) of the last key of the page before (the caller
-- passes one before every key for the first page).

-- name: APIKeyList :many
SELECT * FROM api_keys
WHERE (is_active OR NOT CAST(@active_only AS BOOLEAN))
  AND (created_at > @after_time OR (created_at = @after_time AND id > CAST(@after_id AS TEXT)))
ORDER BY created_at, id LIMIT @lim OFFSET @off;

-- name: APIKeyListByOwner :many
SELECT * FROM api_keys
WHERE user_id = CAST(@owner AS TEXT) AND (is_active OR NOT CAST(@active_only AS BOOLEAN))
  AND (created_at > @after_time OR (created_at = @after_time AND id > CAST(@after_id AS TEXT)))
ORDER BY created_at, id LIMIT @lim OFFSET @off;

-- name: APIKeyListByPrefix :many
SELECT * FROM api_keys
WHERE prefix = CAST(@prefix AS TEXT) AND (is_active OR NOT CAST(@active_only AS BOOLEAN))
  AND (created_at > @after_time OR (created_at = @after_time AND id > CAST(@after_id AS TEXT)))
ORDER BY created_at, id LIMIT @lim OFFSET @off;

-- name: APIKeyUpdate :one
-- Each column changes only when its set_ flag is true, in one statement, so
-- concurrent updates of different columns never undo each other.
UPDATE api_keys SET
    name        = CASE WHEN CAST(@set_name AS BOOLEAN) THEN CAST(@name AS TEXT) ELSE name END,
    user_id     = CASE WHEN CAST(@set_user_id AS BOOLEAN) THEN sqlc.narg('user_id') ELSE user_id END,
    roles       = CASE WHEN CAST(@set_roles AS BOOLEAN) THEN sqlc.arg('roles') ELSE roles END,
    permissions = CASE WHEN CAST(@set_permissions AS BOOLEAN) THEN sqlc.arg('permissions') ELSE permissions END,
    is_active   = CASE WHEN CAST(@set_is_active AS BOOLEAN) THEN CAST(@is_active AS BOOLEAN) ELSE is_active END,
    expires_at  = CASE WHEN CAST(@set_expires_at AS BOOLEAN) THEN sqlc.narg('expires_at') ELSE expires_at END,
    metadata    = CASE WHEN CAST(@set_metadata AS BOOLEAN) THEN sqlc.narg('metadata') ELSE metadata END
WHERE id = @id
RETURNING *;

-- name: APIKeyDelete :execrows
DELETE FROM api_keys WHERE id = @id;

-- name: APIKeyDeactivate :execrows
UPDATE api_keys SET is_active = 0 WHERE id = @id;

-- name: APIKeyUpdateLastUsed :execrows
-- Never moves last_used_at backwards, so late or repeated writes are harmless.
UPDATE api_keys SET last_used_at = @used_at
WHERE id = @id AND (last_used_at IS NULL OR last_used_at < @used_at);

-- name: APIKeyRevoke :one
-- Sets when the key stops working and why. A revocation is never postponed:
-- a key revoked already keeps the earlier time and its reason.
UPDATE api_keys SET
    revoked_at    = CASE WHEN revoked_at IS NOT NULL AND revoked_at <= @revoked_at THEN revoked_at ELSE @revoked_at END,
    revoke_reason = CASE WHEN revoked_at IS NOT NULL AND revoked_at <= @revoked_at THEN revoke_reason ELSE sqlc.narg('revoke_reason') END
WHERE id = @id
RETURNING *;

-- APIKeys.UpdateLastUsedBatch is one UPDATE ... FROM, which sqlc's SQLite
-- parser does not take: its statement is in db/sqlite/apikeys.go.

-- name: APIKeyChangeLast :one
-- The number of the last change logged (0 for none): where a reader of the
-- change log starts. SQLite only: PostgreSQL notifies instead.
SELECT CAST(COALESCE(max(seq), 0) AS INTEGER) AS seq FROM api_key_changes;

-- name: APIKeyChangesAfter :many
-- The changes logged after change @after, oldest first. SQLite only.
SELECT seq, key_id FROM api_key_changes WHERE seq > @after ORDER BY seq LIMIT @lim;
