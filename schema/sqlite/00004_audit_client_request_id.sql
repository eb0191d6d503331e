-- The request id a client sent, kept beside the request_id the server
-- generates (see schema/postgres 00006). The index is partial, as on
-- PostgreSQL: events without a client id cost no index write, and a query
-- of client_request_id = ? implies IS NOT NULL, so SQLite uses it.

-- +goose Up
ALTER TABLE audit_logs ADD COLUMN client_request_id TEXT;
CREATE INDEX audit_logs_client_request_id_idx ON audit_logs (client_request_id) WHERE client_request_id IS NOT NULL;

-- +goose Down
DROP INDEX audit_logs_client_request_id_idx;
ALTER TABLE audit_logs DROP COLUMN client_request_id;
