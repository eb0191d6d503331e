-- updated_at: SQLite has no BEFORE trigger that can change the row, so the
-- statements that change a row set it themselves, only when a value changes.

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
-- A page of every tool, by offset: the common page, without
-- ToolListFiltered's conditions (see queries/postgres).
SELECT * FROM tool_registrations ORDER BY id LIMIT @lim OFFSET @off;

-- name: ToolListFiltered :many
SELECT * FROM tool_registrations
WHERE (is_active OR NOT CAST(@active_only AS BOOLEAN)) AND (server_id <> '' OR NOT CAST(@has_server AS BOOLEAN))
  AND id > @after_id
ORDER BY id LIMIT @lim OFFSET @off;

-- name: ToolListByServer :many
SELECT * FROM tool_registrations
WHERE server_id = @server_id AND (is_active OR NOT CAST(@active_only AS BOOLEAN)) AND id > @after_id
ORDER BY id LIMIT @lim OFFSET @off;

-- name: ToolUpdate :one
UPDATE tool_registrations SET
    title         = CASE WHEN CAST(@set_title AS BOOLEAN) THEN sqlc.narg('title') ELSE title END,
    description   = CASE WHEN CAST(@set_description AS BOOLEAN) THEN CAST(@description AS TEXT) ELSE description END,
    input_schema  = CASE WHEN CAST(@set_input_schema AS BOOLEAN) THEN sqlc.arg('input_schema') ELSE input_schema END,
    output_schema = CASE WHEN CAST(@set_output_schema AS BOOLEAN) THEN sqlc.narg('output_schema') ELSE output_schema END,
    annotations   = CASE WHEN CAST(@set_annotations AS BOOLEAN) THEN sqlc.narg('annotations') ELSE annotations END,
    is_active     = CASE WHEN CAST(@set_is_active AS BOOLEAN) THEN CAST(@is_active AS BOOLEAN) ELSE is_active END,
    metadata      = CASE WHEN CAST(@set_metadata AS BOOLEAN) THEN sqlc.narg('metadata') ELSE metadata END,
    updated_at    = CASE WHEN
           (CAST(@set_title AS BOOLEAN) AND title IS NOT sqlc.narg('title'))
        OR (CAST(@set_description AS BOOLEAN) AND description IS NOT CAST(@description AS TEXT))
        OR (CAST(@set_input_schema AS BOOLEAN) AND input_schema IS NOT sqlc.arg('input_schema'))
        OR (CAST(@set_output_schema AS BOOLEAN) AND output_schema IS NOT sqlc.narg('output_schema'))
        OR (CAST(@set_annotations AS BOOLEAN) AND annotations IS NOT sqlc.narg('annotations'))
        OR (CAST(@set_is_active AS BOOLEAN) AND is_active IS NOT CAST(@is_active AS BOOLEAN))
        OR (CAST(@set_metadata AS BOOLEAN) AND metadata IS NOT sqlc.narg('metadata'))
        THEN CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER) * 1000 ELSE updated_at END
WHERE id = @id
RETURNING *;

-- name: ToolDelete :execrows
DELETE FROM tool_registrations WHERE id = @id;

-- name: ToolDeactivateByServer :execrows
UPDATE tool_registrations SET is_active = 0, updated_at = CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER) * 1000
WHERE server_id = @server_id AND is_active;

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
    metadata      = excluded.metadata,
    updated_at    = CASE WHEN
           title IS NOT excluded.title OR description IS NOT excluded.description
        OR input_schema IS NOT excluded.input_schema OR output_schema IS NOT excluded.output_schema
        OR annotations IS NOT excluded.annotations OR is_active IS NOT excluded.is_active
        OR metadata IS NOT excluded.metadata
        THEN CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER) * 1000 ELSE updated_at END
RETURNING *;
