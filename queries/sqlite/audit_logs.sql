-- name: AuditLogInsert :one
INSERT INTO audit_logs (event_id, request_id, trace_id, user_id, api_key_id, client_ip, action, resource_type, resource_id,
                        request_data, response_data, status, error_message, duration_ms, created_at)
VALUES (@event_id, @request_id, sqlc.narg('trace_id'), sqlc.narg('user_id'), sqlc.narg('api_key_id'), sqlc.narg('client_ip'),
        @action, @resource_type, sqlc.narg('resource_id'), sqlc.narg('request_data'), sqlc.narg('response_data'), @status,
        sqlc.narg('error_message'), sqlc.narg('duration_ms'), COALESCE(CAST(sqlc.narg('created_at') AS INTEGER), CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER) * 1000))
RETURNING *;

-- name: AuditLogInsertIgnore :execrows
-- AuditLogInsertBatch runs this for each event of a batch, in one
-- transaction; an event stored already (a retried batch) is skipped.
INSERT INTO audit_logs (event_id, request_id, trace_id, user_id, api_key_id, client_ip, action, resource_type, resource_id,
                        request_data, response_data, status, error_message, duration_ms, created_at)
VALUES (@event_id, @request_id, sqlc.narg('trace_id'), sqlc.narg('user_id'), sqlc.narg('api_key_id'), sqlc.narg('client_ip'),
        @action, @resource_type, sqlc.narg('resource_id'), sqlc.narg('request_data'), sqlc.narg('response_data'), @status,
        sqlc.narg('error_message'), sqlc.narg('duration_ms'), @created_at)
ON CONFLICT (event_id) DO NOTHING;

-- name: AuditLogGetByID :one
SELECT * FROM audit_logs WHERE id = @id;

-- name: AuditLogList :many
SELECT * FROM audit_logs ORDER BY created_at, id LIMIT @lim OFFSET @off;

-- name: AuditLogListByRequestID :many
SELECT * FROM audit_logs WHERE request_id = @request_id ORDER BY created_at, id;

-- name: AuditLogListByUser :many
SELECT * FROM audit_logs WHERE user_id = @user_id ORDER BY created_at DESC, id DESC LIMIT @lim OFFSET @off;

-- name: AuditLogListByDateRange :many
-- The range is half-open, [from, to), so adjacent windows never count a row twice.
SELECT * FROM audit_logs
WHERE created_at >= @from_time AND created_at < @to_time
  AND (sqlc.narg('action') IS NULL OR action = sqlc.narg('action'))
ORDER BY created_at, id LIMIT @lim OFFSET @off;

-- name: AuditLogStatistics :many
-- One statement: the few (status, action) pairs of the window, which the
-- caller sums both ways, each row carrying the same latency percentiles.
-- SQLite has no percentile function: d numbers the measured durations in
-- order (i from 0, n of them), and q picks the two neighbours of rank
-- p*(n-1) and interpolates between them, as PostgreSQL's percentile_cont
-- does, in the same floating-point steps. nd is the number of measured
-- events: when it is 0 the percentiles mean nothing.
WITH w AS (
    SELECT status, action, duration_ms FROM audit_logs
    WHERE created_at >= @from_time AND created_at < @to_time
), d AS (
    SELECT duration_ms AS v,
           row_number() OVER (ORDER BY duration_ms) - 1 AS i,
           count(*) OVER () AS n
    FROM w WHERE duration_ms IS NOT NULL
), q AS (
    SELECT count(*) AS nd,
           max(CASE WHEN i = CAST(0.5 * (n - 1) AS INTEGER) THEN v END) AS lo50,
           max(CASE WHEN i = CAST(0.5 * (n - 1) AS INTEGER) + 1 THEN v END) AS hi50,
           max(0.5 * (n - 1) - CAST(0.5 * (n - 1) AS INTEGER)) AS f50,
           max(CASE WHEN i = CAST(0.95 * (n - 1) AS INTEGER) THEN v END) AS lo95,
           max(CASE WHEN i = CAST(0.95 * (n - 1) AS INTEGER) + 1 THEN v END) AS hi95,
           max(0.95 * (n - 1) - CAST(0.95 * (n - 1) AS INTEGER)) AS f95,
           max(CASE WHEN i = CAST(0.99 * (n - 1) AS INTEGER) THEN v END) AS lo99,
           max(CASE WHEN i = CAST(0.99 * (n - 1) AS INTEGER) + 1 THEN v END) AS hi99,
           max(0.99 * (n - 1) - CAST(0.99 * (n - 1) AS INTEGER)) AS f99
    FROM d
)
SELECT g.status, g.action, g.n, q.nd,
       CAST(COALESCE(q.lo50 + (COALESCE(q.hi50, q.lo50) - q.lo50) * q.f50, 0) AS REAL) AS p50,
       CAST(COALESCE(q.lo95 + (COALESCE(q.hi95, q.lo95) - q.lo95) * q.f95, 0) AS REAL) AS p95,
       CAST(COALESCE(q.lo99 + (COALESCE(q.hi99, q.lo99) - q.lo99) * q.f99, 0) AS REAL) AS p99
FROM (SELECT status, action, count(*) AS n FROM w GROUP BY status, action) AS g
CROSS JOIN q;

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
