package model

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// A site file is a domain verification file WeChat fetches from the web
// root: a name like MP_verify_abc123.txt and a few bytes of text.

// MaxSiteFileBytes bounds a site file; WeChat's are a few dozen bytes.
const MaxSiteFileBytes = 4096

var siteFileName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}\.txt$`)

// ValidSiteFileName reports whether name may be served at /<name>.
func ValidSiteFileName(name string) bool { return siteFileName.MatchString(name) }

// CheckSiteFile validates an uploaded site file; the error's Key says why.
func CheckSiteFile(name string, content []byte) error {
	switch {
	case !ValidSiteFileName(name):
		return &Error{Code: CodeInvalid, Key: "site_files.err.name", Field: "file"}
	case len(content) == 0:
		return &Error{Code: CodeInvalid, Key: "site_files.err.empty", Field: "file"}
	case len(content) > MaxSiteFileBytes:
		return &Error{Code: CodeInvalid, Key: "site_files.err.too_large", Field: "file", Data: map[string]any{"Max": MaxSiteFileBytes}}
	case !utf8.Valid(content) || strings.ContainsFunc(string(content), func(r rune) bool { return r < 0x20 && r != '\n' && r != '\r' && r != '\t' }):
		return &Error{Code: CodeInvalid, Key: "site_files.err.not_text", Field: "file"}
	}
	return nil
}
