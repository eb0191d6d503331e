-- name: AuditLogInsert :one
INSERT INTO audit_logs (event_id, request_id, client_request_id, trace_id, user_id, api_key_id, client_ip, action, resource_type, resource_id,
                        request_data, response_data, status, error_message, duration_ms, created_at)
VALUES (@event_id, @request_id, sqlc.narg('client_request_id'), sqlc.narg('trace_id'), sqlc.narg('user_id'), sqlc.narg('api_key_id'), sqlc.narg('client_ip'),
        @action, @resource_type, sqlc.narg('resource_id'), sqlc.narg('request_data'), sqlc.narg('response_data'), @status,
        sqlc.narg('error_message'), sqlc.narg('duration_ms'), COALESCE(sqlc.narg('created_at')::timestamptz, now()))
RETURNING *;

-- name: AuditLogInsertBatch :copyfrom
INSERT INTO audit_logs (event_id, request_id, client_request_id, trace_id, user_id, api_key_id, client_ip, action, resource_type, resource_id,
                        request_data, response_data, status, error_message, duration_ms, created_at)
VALUES (@event_id, @request_id, @client_request_id, @trace_id, @user_id, @api_key_id, @client_ip, @action, @resource_type, @resource_id,
        @request_data, @response_data, @status, @error_message, @duration_ms, @created_at);

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
  AND (sqlc.narg('action')::text IS NULL OR action = sqlc.narg('action'))
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
  AND (sqlc.narg('action')::text IS NULL OR action = sqlc.narg('action'))
ORDER BY created_at, id LIMIT @lim;

-- name: AuditLogStatistics :many
-- One statement: the few (status, action) pairs with their counts, which
-- the caller sums both ways, each row carrying the same latency percentiles
-- of the window (percentile_cont skips NULL durations). The counts of the
-- whole hours [@full_from, @full_to) come from audit_log_hourly (migration
-- 00004), those of the partial hours at either edge from the events; the
-- caller sets full_from = full_to = to_time when no whole hour fits. The
-- edges' events and every duration of the window, for the percentiles,
-- are read from the created_at index, which carries duration_ms, status
-- and action (migration 00005). nd is the number of measured events: when
-- it is 0 the percentiles mean nothing.
WITH g AS (
    SELECT c.status, c.action, sum(c.n)::bigint AS n
    FROM (
        SELECT h.status, h.action, h.n FROM audit_log_hourly AS h
        WHERE h.hour >= @full_from AND h.hour < @full_to
        UNION ALL
        SELECT e.status, e.action, 1::bigint FROM audit_logs AS e
        WHERE e.created_at >= @from_time AND e.created_at < @full_from
        UNION ALL
        SELECT e.status, e.action, 1::bigint FROM audit_logs AS e
        WHERE e.created_at >= @full_to AND e.created_at < @to_time
    ) AS c
    GROUP BY c.status, c.action
), p AS (
    SELECT count(duration_ms) AS nd,
           COALESCE(percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms), 0)::float8 AS p50,
           COALESCE(percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms), 0)::float8 AS p95,
           COALESCE(percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms), 0)::float8 AS p99
    FROM audit_logs
    WHERE created_at >= @from_time AND created_at < @to_time
)
SELECT g.status, g.action, g.n, p.nd, p.p50, p.p95, p.p99
FROM g CROSS JOIN p;

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
-- statement that never holds the table for long. The caller repeats it.
DELETE FROM audit_logs
WHERE id IN (SELECT o.id FROM audit_logs AS o WHERE o.created_at < @before ORDER BY o.created_at, o.id LIMIT @lim);

-- name: AuditLogListNewest :many
-- The events stored last, newest first: the start of `mcpstore audit tail`.
SELECT * FROM audit_logs ORDER BY id DESC LIMIT @lim OFFSET @off;

-- name: AuditLogListAfterID :many
-- The events stored after the event @after_id, in the order they were
-- stored: what `mcpstore audit tail -f` polls for.
SELECT * FROM audit_logs WHERE id > @after_id ORDER BY id LIMIT @lim OFFSET @off;
