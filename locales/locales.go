// Package locales embeds the translation files: zh-CN (default) and en.
package locales

import "embed"

// FS holds one TOML file per language, named <tag>.toml.
//
//go:embed *.toml
var FS embed.FS
