package model

import (
	"regexp"
	"strings"
)

var reBR = regexp.MustCompile(`(?i)<br\s*/?>`)

// ReasonLines splits a WeChat text (an audit reason) on its <br> tags into
// trimmed, non-empty lines. Callers show each line as text: WeChat's markup
// is never rendered as HTML.
func ReasonLines(s string) []string {
	var out []string
	for _, l := range reBR.Split(s, -1) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
