// Package sqlite embeds the SQLite migrations. goose applies them
// (db/sqlite); sqlc reads the same files as its schema, skipping each file's
// Down part.
package sqlite

import "embed"

// FS holds the migration files, named NNNNN_description.sql.
//
//go:embed *.sql
var FS embed.FS
