-- Every change to what a verified key is (the columns gateway.Keys caches)
-- is logged, whoever makes it: mcpstore's Revoke, Deactivate, Update and
-- Delete, another process such as the mcpstore CLI, or an operator's own
-- UPDATE, DELETE or INSERT OR REPLACE in the sqlite3 shell. SQLite cannot notify other processes, so
-- each process that caches keys polls this log (db/sqlite/notify.go), as
-- PostgreSQL's processes LISTEN for the same changes. Writes of
-- last_used_at, metadata or the revocation reason alone log nothing. The
-- log keeps the last 1,000 changes: a reader that finds a gap drops its
-- whole cache. seq is AUTOINCREMENT so that a number is never used twice.

-- +goose Up
CREATE TABLE api_key_changes (
    seq    INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    key_id TEXT    NOT NULL
);

-- +goose StatementBegin
CREATE TRIGGER api_keys_log_update AFTER UPDATE ON api_keys
WHEN OLD.id IS NOT NEW.id OR OLD.key_hash IS NOT NEW.key_hash OR OLD.name IS NOT NEW.name
  OR OLD.user_id IS NOT NEW.user_id OR OLD.roles IS NOT NEW.roles OR OLD.permissions IS NOT NEW.permissions
  OR OLD.is_active IS NOT NEW.is_active OR OLD.expires_at IS NOT NEW.expires_at OR OLD.revoked_at IS NOT NEW.revoked_at
BEGIN
    INSERT INTO api_key_changes (key_id) VALUES (OLD.id);
    DELETE FROM api_key_changes WHERE seq <= (SELECT max(seq) FROM api_key_changes) - 1000;
END;
-- +goose StatementEnd

-- INSERT OR REPLACE deletes the row it replaces without firing delete
-- triggers (recursive_triggers is off): the replaced key is logged before.
-- When the insert fails instead, its statement takes the log row back too.
-- +goose StatementBegin
CREATE TRIGGER api_keys_log_replace BEFORE INSERT ON api_keys
BEGIN
    INSERT INTO api_key_changes (key_id)
    SELECT id FROM api_keys WHERE id = NEW.id OR key_hash = NEW.key_hash;
    DELETE FROM api_key_changes WHERE seq <= (SELECT max(seq) FROM api_key_changes) - 1000;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER api_keys_log_delete AFTER DELETE ON api_keys
BEGIN
    INSERT INTO api_key_changes (key_id) VALUES (OLD.id);
    DELETE FROM api_key_changes WHERE seq <= (SELECT max(seq) FROM api_key_changes) - 1000;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER api_keys_log_delete;
DROP TRIGGER api_keys_log_replace;
DROP TRIGGER api_keys_log_update;
DROP TABLE api_key_changes;
