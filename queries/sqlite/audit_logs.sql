-- name: AuditLogInsert :one
INSERT INTO audit_logs (event_id, request_id, client_request_id, trace_id, user_id, api_key_id, client_ip, action, resource_type, resource_id,
                        request_data, response_data, status, error_message, duration_ms, created_at)
VALUES (@event_id, @request_id, sqlc.narg('client_request_id'), sqlc.narg('trace_id'), sqlc.narg('user_id'), sqlc.narg('api_key_id'), sqlc.narg('client_ip'),
        @action, @resource_type, sqlc.narg('resource_id'), sqlc.narg('request_data'), sqlc.narg('response_data'), @status,
        sqlc.narg('error_message'), sqlc.narg('duration_ms'), COALESCE(CAST(sqlc.narg('created_at') AS INTEGER), CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER) * 1000))
RETURNING *;

-- name: AuditLogInsertIgnore :execrows
-- AuditLogInsertBatch runs this for each event of a batch, in one
-- transaction; an event stored already (a retried batch) is skipped.
INSERT INTO audit_logs (event_id, request_id, client_request_id, trace_id, user_id, api_key_id, client_ip, action, resource_type, resource_id,
                        request_data, response_data, status, error_message, duration_ms, created_at)
VALUES (@event_id, @request_id, sqlc.narg('client_request_id'), sqlc.narg('trace_id'), sqlc.narg('user_id'), sqlc.narg('api_key_id'), sqlc.narg('client_ip'),
        @action, @resource_type, sqlc.narg('resource_id'), sqlc.narg('request_data'), sqlc.narg('response_data'), @status,
        sqlc.narg('error_message'), sqlc.narg('duration_ms'), @created_at)
ON CONFLICT (event_id) DO NOTHING;

-- name: AuditLogGetByID :one
SELECT * FROM audit_logs WHERE id = @id;

-- name: AuditLogList :many
SELECT * FROM audit_logs ORDER BY created_at, id LIMIT @lim OFFSET @off;

-- name: AuditLogListByRequestID :many
SELECT * FROM audit_logs WHERE request_id = @request_id ORDER BY created_at, id;

-- name: AuditLogListByClientRequestID :many
-- The events a client filed under its own request id (X-Request-Id), kept
-- apart from the server's request_id; the partial index on
-- client_request_id serves it.
SELECT * FROM audit_logs WHERE client_request_id = @client_request_id ORDER BY created_at, id;

-- name: AuditLogListByUser :many
SELECT * FROM audit_logs WHERE user_id = @user_id ORDER BY created_at DESC, id DESC LIMIT @lim OFFSET @off;

-- name: AuditLogListByDateRange :many
-- The range is half-open, [from, to), so adjacent windows never count a row twice.
SELECT * FROM audit_logs
WHERE created_at >= @from_time AND created_at < @to_time
  AND (sqlc.narg('action') IS NULL OR action = sqlc.narg('action'))
ORDER BY created_at, id LIMIT @lim OFFSET @off;

-- name: AuditLogListByDateRangeAfter :many
-- Keyset paging in the order of AuditLogListByDateRange: the events of
-- [@from_time, @to_time) after the position (@after_time, @after_id). The
-- caller sets from_time to at least after_time, so that the created_at
-- index starts at the cursor's time: a page reads the events of that time
-- before the cursor again, and none earlier.
SELECT * FROM audit_logs
WHERE created_at >= @from_time AND created_at < @to_time
  AND (created_at > @after_time OR (created_at = @after_time AND id > @after_id))
  AND (sqlc.narg('action') IS NULL OR action = sqlc.narg('action'))
ORDER BY created_at, id LIMIT @lim;

-- name: AuditLogStatistics :many
-- One scan of the window: the (status, action) pairs and their counts,
-- which the caller sums both ways, and each pair's measured durations as
-- one blob (mcpstore_durations, an aggregate of db/sqlite), which the
-- caller merges and sorts for the latency percentiles: SQLite has no
-- percentile function.
SELECT status, action, count(*) AS n,
       CAST(mcpstore_durations(duration_ms) AS BLOB) AS durations
FROM audit_logs
WHERE created_at >= @from_time AND created_at < @to_time
GROUP BY status, action;

-- name: AuditLogComplete :one
-- Fills in the outcome of an entry written when a call started.
UPDATE audit_logs SET
    status        = @status,
    response_data = sqlc.narg('response_data'),
    error_message = sqlc.narg('error_message'),
    duration_ms   = sqlc.narg('duration_ms')
WHERE id = @id
RETURNING *;

-- name: AuditLogDelete :execrows
DELETE FROM audit_logs WHERE id = @id;

-- name: AuditLogPrune :execrows
-- One bounded batch of the oldest events created before @before: a short
-- write transaction, so other writers wait little. The caller repeats it.
DELETE FROM audit_logs
WHERE id IN (SELECT o.id FROM audit_logs AS o WHERE o.created_at < @before ORDER BY o.created_at, o.id LIMIT @lim);

-- name: AuditLogListNewest :many
-- The events stored last, newest first: the start of `mcpstore audit tail`.
SELECT * FROM audit_logs ORDER BY id DESC LIMIT @lim OFFSET @off;

-- name: AuditLogListAfterID :many
-- The events stored after the event @after_id, in the order they were
-- stored: what `mcpstore audit tail -f` polls for.
SELECT * FROM audit_logs WHERE id > @after_id ORDER BY id LIMIT @lim OFFSET @off;
