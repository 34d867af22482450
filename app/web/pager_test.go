package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/i18n"
	"github.com/minifleet/minifleet/views"
)

// A capped count reads "more than N" in both languages, and the pager still
// offers the next page; an exact one reads "N in all".
func TestPagerCappedCount(t *testing.T) {
	b, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	render := func(lang string, p views.Pager) string {
		t.Helper()
		var sb strings.Builder
		ctx := i18n.With(context.Background(), b.Localizer(lang, time.UTC))
		if err := views.Pagination(p).Render(ctx, &sb); err != nil {
			t.Fatal(err)
		}
		return sb.String()
	}
	for _, tc := range []struct {
		lang string
		p    views.Pager
		want []string
		not  []string
	}{
		{"zh-CN", views.Pager{Total: 200, More: true, Offset: 150, Limit: 50, Next: "/staff/apps?q=x&offset=200"}, []string{"超过 200 条", "第 151–200 条", `data-testid="next-page"`}, []string{"共 200 条"}},
		{"en", views.Pager{Total: 200, More: true, Limit: 50, Next: "/next"}, []string{"More than 200", "1–50"}, []string{"200 in all"}},
		{"en", views.Pager{Total: 120, Limit: 50}, []string{"120 in all"}, []string{"More than"}},
	} {
		got := render(tc.lang, tc.p)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s %+v: %s lacks %q", tc.lang, tc.p, got, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(got, n) {
				t.Errorf("%s %+v: %s has %q", tc.lang, tc.p, got, n)
			}
		}
	}
}
