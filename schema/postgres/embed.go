// Package postgres embeds the PostgreSQL migrations. goose applies them
// (db/postgres); sqlc reads the same files as its schema, skipping each
// file's Down part.
package postgres

import "embed"

// FS holds the migration files, named NNNNN_description.sql.
//
//go:embed *.sql
var FS embed.FS
