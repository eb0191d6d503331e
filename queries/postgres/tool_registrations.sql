-- name: ToolCreate :one
INSERT INTO tool_registrations (server_id, name, title, description, input_schema, output_schema, annotations, is_active, metadata)
VALUES (@server_id, @name, sqlc.narg('title'), @description, @input_schema, sqlc.narg('output_schema'), sqlc.narg('annotations'), @is_active, sqlc.narg('metadata'))
RETURNING *;

-- name: ToolGetByID :one
SELECT * FROM tool_registrations WHERE id = @id;

-- name: ToolGetByName :one
SELECT * FROM tool_registrations WHERE server_id = @server_id AND name = @name;

-- The lists of tools, in id order, after the id @after_id of the last tool
-- of the page before (0 for the first page).

-- name: ToolList :many
-- A page of every tool, by offset: the common page, as cheap as the plain
-- statement it is (each condition ToolListFiltered adds costs PostgreSQL
-- planning time at every run).
SELECT * FROM tool_registrations ORDER BY id LIMIT @lim::bigint OFFSET @off::bigint;

-- name: ToolListFiltered :many
SELECT * FROM tool_registrations
WHERE (is_active OR NOT @active_only::boolean) AND (server_id <> '' OR NOT @has_server::boolean)
  AND id > @after_id
ORDER BY id LIMIT @lim::bigint OFFSET @off::bigint;

-- name: ToolListByServer :many
SELECT * FROM tool_registrations
WHERE server_id = @server_id AND (is_active OR NOT @active_only::boolean) AND id > @after_id
ORDER BY id LIMIT @lim::bigint OFFSET @off::bigint;

-- name: ToolUpdate :one
-- updated_at moves only when a value really changes (trigger in the schema).
UPDATE tool_registrations SET
    title         = CASE WHEN @set_title::boolean THEN sqlc.narg('title')::text ELSE title END,
    description   = CASE WHEN @set_description::boolean THEN @description::text ELSE description END,
    input_schema  = CASE WHEN @set_input_schema::boolean THEN @input_schema::jsonb ELSE input_schema END,
    output_schema = CASE WHEN @set_output_schema::boolean THEN sqlc.narg('output_schema')::jsonb ELSE output_schema END,
    annotations   = CASE WHEN @set_annotations::boolean THEN sqlc.narg('annotations')::jsonb ELSE annotations END,
    is_active     = CASE WHEN @set_is_active::boolean THEN @is_active::boolean ELSE is_active END,
    metadata      = CASE WHEN @set_metadata::boolean THEN sqlc.narg('metadata')::jsonb ELSE metadata END
WHERE id = @id
RETURNING *;

-- name: ToolDelete :execrows
DELETE FROM tool_registrations WHERE id = @id;

-- name: ToolDeactivateByServer :execrows
UPDATE tool_registrations SET is_active = false WHERE server_id = @server_id AND is_active;

-- name: ToolUpsert :one
-- One atomic statement: concurrent upserts of one tool end in one row and no
-- error. A row written with the values it already has keeps its updated_at.
INSERT INTO tool_registrations (server_id, name, title, description, input_schema, output_schema, annotations, is_active, metadata)
VALUES (@server_id, @name, sqlc.narg('title'), @description, @input_schema, sqlc.narg('output_schema'), sqlc.narg('annotations'), @is_active, sqlc.narg('metadata'))
ON CONFLICT (server_id, name) DO UPDATE SET
    title         = excluded.title,
    description   = excluded.description,
    input_schema  = excluded.input_schema,
    output_schema = excluded.output_schema,
    annotations   = excluded.annotations,
    is_active     = excluded.is_active,
    metadata      = excluded.metadata
RETURNING *;

-- name: ToolLockServer :exec
-- A transaction-scoped advisory lock on one server's tools, released at
-- commit or rollback. The first key marks mcpstore's tool locks (the
-- two-key space is apart from goose's one-key migration lock); a hash
-- collision of two servers only makes them wait for each other.
SELECT pg_advisory_xact_lock(1836216435, hashtext(@server_id::text));
