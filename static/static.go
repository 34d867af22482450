// Package static embeds the CSS and JS served under /static. Third-party files
// (htmx, its SSE extension, Pico CSS) are copied into vendor/ from npm at build
// time (make assets) and are not committed.
package static

import "embed"

// FS holds app.css, app.js, favicon.svg and vendor/.
//
//go:embed app.css app.js favicon.svg all:vendor
var FS embed.FS
