package platform_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/store"
)

func fieldOf(err error) string {
	var e *model.Error
	if errors.As(err, &e) {
		return e.Field + " " + e.Key
	}
	return ""
}

func TestCheckLinkFollowsTheDoc(t *testing.T) {
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	r := &platform.Releases{Now: func() time.Time { return now }}
	for _, c := range []struct {
		name string
		in   platform.LinkInput
		err  string // "field key", "" when accepted
		exp  time.Time
	}{
		{"30 days", platform.LinkInput{Kind: store.LinkURLLink, Path: "/pages/a/a", ExpireDays: 30}, "", now.Add(30 * 24 * time.Hour)},
		{"31 days", platform.LinkInput{Kind: store.LinkURLLink, ExpireDays: 31}, "expire link.err.expire_days", time.Time{}},
		{"0 days", platform.LinkInput{Kind: store.LinkScheme, ExpireDays: 0}, "expire link.err.expire_days", time.Time{}},
		{"a time 30 days ahead", platform.LinkInput{Kind: store.LinkScheme, ExpireMode: "time", ExpireAt: now.Add(30 * 24 * time.Hour)}, "", now.Add(30 * 24 * time.Hour)},
		{"a time a minute ahead", platform.LinkInput{Kind: store.LinkScheme, ExpireMode: "time", ExpireAt: now.Add(time.Minute)}, "expire link.err.expire_time", time.Time{}},
		{"a time past 30 days", platform.LinkInput{Kind: store.LinkScheme, ExpireMode: "time", ExpireAt: now.Add(30*24*time.Hour + time.Second)}, "expire link.err.expire_time", time.Time{}},
		{"a query in the path", platform.LinkInput{Kind: store.LinkURLLink, Path: "pages/a?x=1", ExpireDays: 1}, "path link.err.path_query", time.Time{}},
		{"Chinese in the query", platform.LinkInput{Kind: store.LinkURLLink, Query: "城=1", ExpireDays: 1}, "query link.err.query", time.Time{}},
		{"the doc's special characters", platform.LinkInput{Kind: store.LinkURLLink, Query: "a=1&b=%E5!*()~", ExpireDays: 1}, "", now.Add(24 * time.Hour)},
		{"a bad env_version", platform.LinkInput{Kind: store.LinkURLLink, EnvVersion: "prod", ExpireDays: 1}, "env_version link.err.85402", time.Time{}},
		{"a permanent Short Link", platform.LinkInput{Kind: store.LinkShortLink, Path: "pages/a/a", Permanent: true}, "", time.Time{}},
		{"a temporary Short Link lasts 30 days", platform.LinkInput{Kind: store.LinkShortLink, Path: "pages/a/a"}, "", now.Add(30 * 24 * time.Hour)},
		{"a 21-character title", platform.LinkInput{Kind: store.LinkShortLink, Path: "p", Title: "一二三四五六七八九十一二三四五六七八九十一"}, "title link.err.title", time.Time{}},
		{"no kind", platform.LinkInput{}, "kind link.err.kind", time.Time{}},
	} {
		in, exp, err := r.CheckLink(c.in)
		if got := fieldOf(err); got != c.err || (err == nil && !exp.Equal(c.exp)) {
			t.Errorf("%s: error %q (%v), expiry %v; want %q, %v", c.name, got, err, exp, c.err, c.exp)
		}
		if c.name == "30 days" && in.Path != "pages/a/a" {
			t.Errorf("the leading slash stays: %q", in.Path)
		}
	}
}

func TestCheckWxaCodeScene(t *testing.T) {
	for scene, ok := range map[string]bool{"shop=12": true, "a!#$&'()*+,/:;=?@-._~": true, "12345678901234567890123456789012": true,
		"123456789012345678901234567890123": false, "店=1": false, "a%3D1": false, "": false} {
		if _, err := platform.CheckWxaCode(platform.WxaCodeInput{Scene: scene}); (err == nil) != ok {
			t.Errorf("scene %q: %v, want ok=%v", scene, err, ok)
		}
	}
}

func TestParseDomains(t *testing.T) {
	got, err := platform.ParseWebviewDomains("add", "shop.example.com\nhttps://Shop.Example.com/\r\nhttps://m.example.com，a.example.com")
	if want := []string{"https://shop.example.com", "https://m.example.com", "https://a.example.com"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("business domains %v %v, want %v", got, err, want)
	}
	for _, bad := range []string{"http://a.example.com", "https://a.example.com:8443", "https://1.2.3.4", "https://a.example.com/x", "localhost"} {
		if _, err := platform.ParseWebviewDomains("add", bad); fieldOf(err) != "add domain.err.format" {
			t.Errorf("business domain %q accepted (%v)", bad, err)
		}
	}
	got, err = platform.ParseServerDomains("add_wsrequestdomain", "wss", "ws.example.com:8443")
	if err != nil || !slices.Equal(got, []string{"wss://ws.example.com:8443"}) {
		t.Errorf("server domain %v %v", got, err)
	}
	for _, bad := range []string{"https://ws.example.com", "wss://api.weixin.qq.com", "wss://10.0.0.1"} {
		if _, err := platform.ParseServerDomains("add_wsrequestdomain", "wss", bad); err == nil {
			t.Errorf("server domain %q accepted", bad)
		}
	}
}
