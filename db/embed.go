// Package db embeds the SQL migrations; goose applies them at start.
package db

import "embed"

// Migrations holds migrations/*.sql in goose's format.
//
//go:embed migrations/*.sql
var Migrations embed.FS
