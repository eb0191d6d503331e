-- Every change to what a verified key is (the columns gateway.Keys caches)
-- tells the processes sharing the database, whoever makes it: mcpstore's
-- Revoke, Deactivate, Update and Delete, or an operator's own UPDATE or
-- DELETE in psql. The trigger sends the key's id (never its hash) on the
-- channel db/postgres listens to; a notification is delivered at commit,
-- and only if the transaction commits. Writes of last_used_at (the frequent
-- ones), metadata or the revocation reason alone send nothing. TRUNCATE
-- fires no row trigger: after one, caches forget keys within their TTL.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION mcpstore_notify_api_key_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('mcpstore_api_keys', OLD.id);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER api_keys_notify_update
    AFTER UPDATE ON api_keys
    FOR EACH ROW
    WHEN ((OLD.id, OLD.key_hash, OLD.name, OLD.user_id, OLD.roles, OLD.permissions, OLD.is_active, OLD.expires_at, OLD.revoked_at)
          IS DISTINCT FROM
          (NEW.id, NEW.key_hash, NEW.name, NEW.user_id, NEW.roles, NEW.permissions, NEW.is_active, NEW.expires_at, NEW.revoked_at))
    EXECUTE FUNCTION mcpstore_notify_api_key_change();

CREATE TRIGGER api_keys_notify_delete
    AFTER DELETE ON api_keys
    FOR EACH ROW
    EXECUTE FUNCTION mcpstore_notify_api_key_change();

-- +goose Down
DROP TRIGGER api_keys_notify_delete ON api_keys;
DROP TRIGGER api_keys_notify_update ON api_keys;
DROP FUNCTION mcpstore_notify_api_key_change();
