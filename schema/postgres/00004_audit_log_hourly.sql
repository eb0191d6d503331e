-- Hourly counts of the audit log by status and action, kept by triggers in
-- the statement that changes the log: AuditLogStatistics reads one row per
-- whole hour of its window and (status, action) pair instead of every event,
-- and only the events of the partial hours at its edges. The triggers are
-- per statement, over transition tables, so a COPY of thousands of events
-- costs one grouped upsert, not one per row. Every write to audit_logs
-- through SQL keeps the counts right, mcpstore's or not; rows whose count
-- reaches 0 go. A role that writes audit_logs needs the same rights on
-- audit_log_hourly. Writes that fire no trigger (triggers disabled,
-- session_replication_role = replica, a logical replication subscriber)
-- leave the counts behind: rebuild them as Up does below.
--
-- The price: writes of events of the same hour, status and action update
-- the same row, so concurrent single-event writes to it wait for each
-- other's commits (the Auditor's batches barely notice). Each statement
-- upserts in key order (text in byte order, COLLATE "C", whatever the
-- database's collation), so two statements never lock rows in opposite
-- orders; a transaction of several statements may, and then PostgreSQL
-- aborts one of two such transactions as a deadlock.
--
-- Hours are UTC hours whatever the session's TimeZone (date_trunc at
-- 'UTC'); Go's Time.Truncate(time.Hour) gives the same ones.
--
-- Up blocks writes to audit_logs (not reads) until it commits, so that no
-- write slips between the count of the events stored already and the
-- triggers; on a large log that takes as long as one GROUP BY of it.

-- +goose Up
LOCK TABLE audit_logs IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE audit_log_hourly (
    hour   timestamptz NOT NULL,
    status text        NOT NULL,
    action text        NOT NULL,
    n      bigint      NOT NULL,
    PRIMARY KEY (hour, status, action)
);

-- +goose StatementBegin
CREATE FUNCTION mcpstore_audit_log_hourly() RETURNS trigger
LANGUAGE plpgsql
-- The writer's search_path may not find audit_log_hourly; the migration's does.
SET search_path FROM CURRENT
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO audit_log_hourly AS h (hour, status, action, n)
        SELECT date_trunc('hour', created_at, 'UTC'), status, action, count(*)
        FROM new_rows
        GROUP BY 1, 2, 3 ORDER BY 1, status COLLATE "C", action COLLATE "C"
        ON CONFLICT (hour, status, action) DO UPDATE SET n = h.n + EXCLUDED.n;
        RETURN NULL;
    ELSIF TG_OP = 'TRUNCATE' THEN
        TRUNCATE audit_log_hourly;
        RETURN NULL;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO audit_log_hourly AS h (hour, status, action, n)
        SELECT date_trunc('hour', created_at, 'UTC'), status, action, -count(*)
        FROM old_rows
        GROUP BY 1, 2, 3 ORDER BY 1, status COLLATE "C", action COLLATE "C"
        ON CONFLICT (hour, status, action) DO UPDATE SET n = h.n + EXCLUDED.n;
    ELSE
        -- An UPDATE moves an event only if it changes its hour, status or
        -- action (AuditLogComplete sets the status); the others cancel out.
        INSERT INTO audit_log_hourly AS h (hour, status, action, n)
        SELECT hour, status, action, sum(d)
        FROM (SELECT date_trunc('hour', created_at, 'UTC') AS hour, status, action, -1 AS d FROM old_rows
              UNION ALL
              SELECT date_trunc('hour', created_at, 'UTC'), status, action, 1 FROM new_rows) AS moved
        GROUP BY 1, 2, 3 HAVING sum(d) <> 0 ORDER BY 1, status COLLATE "C", action COLLATE "C"
        ON CONFLICT (hour, status, action) DO UPDATE SET n = h.n + EXCLUDED.n;
    END IF;
    -- Only the keys of removed or moved events can have reached 0.
    DELETE FROM audit_log_hourly AS h
    USING (SELECT DISTINCT date_trunc('hour', created_at, 'UTC') AS hour, status, action FROM old_rows) AS o
    WHERE h.hour = o.hour AND h.status = o.status AND h.action = o.action AND h.n = 0;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_logs_hourly_insert
    AFTER INSERT ON audit_logs REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mcpstore_audit_log_hourly();
CREATE TRIGGER audit_logs_hourly_update
    AFTER UPDATE ON audit_logs REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mcpstore_audit_log_hourly();
CREATE TRIGGER audit_logs_hourly_delete
    AFTER DELETE ON audit_logs REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mcpstore_audit_log_hourly();
CREATE TRIGGER audit_logs_hourly_truncate
    AFTER TRUNCATE ON audit_logs
    FOR EACH STATEMENT EXECUTE FUNCTION mcpstore_audit_log_hourly();

INSERT INTO audit_log_hourly (hour, status, action, n)
SELECT date_trunc('hour', created_at, 'UTC'), status, action, count(*)
FROM audit_logs
GROUP BY 1, 2, 3;

-- +goose Down
DROP TRIGGER audit_logs_hourly_truncate ON audit_logs;
DROP TRIGGER audit_logs_hourly_delete ON audit_logs;
DROP TRIGGER audit_logs_hourly_update ON audit_logs;
DROP TRIGGER audit_logs_hourly_insert ON audit_logs;
DROP FUNCTION mcpstore_audit_log_hourly();
DROP TABLE audit_log_hourly;
