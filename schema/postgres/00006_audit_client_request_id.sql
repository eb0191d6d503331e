-- The request id a client sent (an X-Request-Id header), kept beside the
-- request_id the server generates, never in its place: a client cannot
-- file events under another request's id, and the events of its own ids
-- stay searchable (AuditLogListByClientRequestID). NULL when the client
-- sent none.
--
-- The index is partial: events without a client id, most of them, cost
-- no index write. A query of client_request_id = $1 implies IS NOT NULL,
-- so the planner uses it. Built and dropped CONCURRENTLY, outside a
-- transaction, so that writes go on while it builds (see 00005 about a
-- build that fails). Adding a nullable column without a default changes
-- only the catalog.

-- +goose NO TRANSACTION
-- +goose Up
ALTER TABLE audit_logs ADD COLUMN IF NOT EXISTS client_request_id text;
CREATE INDEX CONCURRENTLY IF NOT EXISTS audit_logs_client_request_id_idx ON audit_logs (client_request_id)
    WHERE client_request_id IS NOT NULL;

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS audit_logs_client_request_id_idx;
ALTER TABLE audit_logs DROP COLUMN IF EXISTS client_request_id;
