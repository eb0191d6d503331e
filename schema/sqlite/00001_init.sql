-- The three tables of an MCP gateway, for SQLite. Same tables, columns and
-- nullability as schema/postgres (a test holds them equal), with SQLite types:
--   * times are INTEGER microseconds since the Unix epoch, UTC. One canonical
--     form, so range queries compare numbers, never text in mixed formats,
--     and Go times round-trip at PostgreSQL's precision;
--   * JSON is TEXT checked by json_valid; lists of names are JSON arrays;
--   * booleans are 0 or 1.
-- updated_at is set by the queries that change a row (queries/sqlite), only
-- when a value really changes, as PostgreSQL's trigger does.

-- +goose Up
CREATE TABLE api_keys (
    id           TEXT    NOT NULL PRIMARY KEY,
    name         TEXT    NOT NULL,
    prefix       TEXT    NOT NULL,
    key_hash     TEXT    NOT NULL,
    user_id      TEXT,
    roles        TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(roles) AND json_type(roles) = 'array'),
    permissions  TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(permissions) AND json_type(permissions) = 'array'),
    is_active    BOOLEAN NOT NULL DEFAULT 1,
    created_at   INTEGER NOT NULL DEFAULT (CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER) * 1000),
    expires_at   INTEGER,
    last_used_at INTEGER,
    metadata     TEXT    CHECK (metadata IS NULL OR json_valid(metadata)),
    CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash)
);
CREATE INDEX api_keys_prefix_idx ON api_keys (prefix);
CREATE INDEX api_keys_user_id_idx ON api_keys (user_id, created_at);

CREATE TABLE tool_registrations (
    id            INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    server_id     TEXT    NOT NULL DEFAULT '',
    name          TEXT    NOT NULL,
    title         TEXT,
    description   TEXT    NOT NULL DEFAULT '',
    input_schema  TEXT    NOT NULL CHECK (json_valid(input_schema)),
    output_schema TEXT    CHECK (output_schema IS NULL OR json_valid(output_schema)),
    annotations   TEXT    CHECK (annotations IS NULL OR json_valid(annotations)),
    is_active     BOOLEAN NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL DEFAULT (CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER) * 1000),
    updated_at    INTEGER NOT NULL DEFAULT (CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER) * 1000),
    metadata      TEXT    CHECK (metadata IS NULL OR json_valid(metadata)),
    CONSTRAINT tool_registrations_server_id_name_key UNIQUE (server_id, name)
);
CREATE INDEX tool_registrations_active_idx ON tool_registrations (id) WHERE is_active;

CREATE TABLE audit_logs (
    id            INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    event_id      TEXT    NOT NULL,
    request_id    TEXT    NOT NULL,
    trace_id      TEXT,
    user_id       TEXT,
    api_key_id    TEXT,
    client_ip     TEXT,
    action        TEXT    NOT NULL,
    resource_type TEXT    NOT NULL,
    resource_id   TEXT,
    request_data  TEXT    CHECK (request_data IS NULL OR json_valid(request_data)),
    response_data TEXT    CHECK (response_data IS NULL OR json_valid(response_data)),
    status        TEXT    NOT NULL,
    error_message TEXT,
    duration_ms   REAL,
    created_at    INTEGER NOT NULL DEFAULT (CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER) * 1000)
);
-- The same indexes as on PostgreSQL, for the same queries (see there).
CREATE UNIQUE INDEX audit_logs_event_id_key ON audit_logs (event_id);
CREATE INDEX audit_logs_request_id_idx ON audit_logs (request_id);
CREATE INDEX audit_logs_user_id_created_at_idx ON audit_logs (user_id, created_at);
CREATE INDEX audit_logs_created_at_idx ON audit_logs (created_at);

-- +goose Down
DROP TABLE audit_logs;
DROP TABLE tool_registrations;
DROP TABLE api_keys;
