package model

import (
	"strings"
	"unicode/utf8"
)

// What people type into names, titles, notes and descriptions ends up in
// pages, in live updates (SSE), in CSV reports and in what is sent to
// WeChat. Control characters there break those encodings (a bare CR ends
// an SSE line), and Unicode bidi embeddings, overrides and isolates make
// text read differently from what it is. The browser forms and the JSON
// API refuse them alike.

// UnsafeRune reports a C0 control, DEL, a C1 control, or a bidi control
// (U+202A–U+202E embeddings and overrides, U+2066–U+2069 isolates).
func UnsafeRune(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}

// SafeLine reports whether s is UTF-8 holding no unsafe rune at all.
func SafeLine(s string) bool { return utf8.ValidString(s) && !strings.ContainsFunc(s, UnsafeRune) }

// SafeLines reports whether s holds no unsafe rune but its line breaks
// (LF, or CR immediately followed by LF).
func SafeLines(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for i, r := range s {
		switch {
		case r == '\n':
		case r == '\r':
			if i+1 >= len(s) || s[i+1] != '\n' {
				return false
			}
		case UnsafeRune(r):
			return false
		}
	}
	return true
}
