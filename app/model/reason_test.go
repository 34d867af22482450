package model

import (
	"slices"
	"testing"
)

func TestReasonLines(t *testing.T) {
	for in, want := range map[string][]string{
		"1:页面内容不完整<br>2:请补充资质<br>": {"1:页面内容不完整", "2:请补充资质"},
		"a<BR/>b<br />c":     {"a", "b", "c"},
		"<script>x</script>": {"<script>x</script>"}, // text, shown escaped
		"":                   nil,
	} {
		if got := ReasonLines(in); !slices.Equal(got, want) {
			t.Errorf("ReasonLines(%q) = %q, want %q", in, got, want)
		}
	}
}
