-- The created_at index carries duration_ms, so that AuditLogStatistics
-- reads the durations of its window (for exact percentiles) from the index
-- alone wherever the visibility map lets it (pages not changed since the
-- last vacuum), instead of visiting every event's row. It replaces the
-- plain created_at index, which served AuditLogListByDateRange and pruning
-- by age as this one does.
--
-- Built and dropped CONCURRENTLY, outside a transaction, so that writes go
-- on while it builds. If the build fails, PostgreSQL leaves an INVALID
-- index of that name, which IF NOT EXISTS would keep: drop it before
-- migrating again.

-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY IF NOT EXISTS audit_logs_created_at_duration_idx ON audit_logs (created_at) INCLUDE (duration_ms);
DROP INDEX CONCURRENTLY IF EXISTS audit_logs_created_at_idx;

-- +goose Down
CREATE INDEX CONCURRENTLY IF NOT EXISTS audit_logs_created_at_idx ON audit_logs (created_at);
DROP INDEX CONCURRENTLY IF EXISTS audit_logs_created_at_duration_idx;
