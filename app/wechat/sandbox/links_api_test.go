package sandbox

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestLinksNeedARelease(t *testing.T) {
	h := newHarness(t, nil)
	_, tok := h.authorizedApp(h.componentToken(), AppSpec{})
	h.expectCode(h.call("/wxa/generatescheme", acc(tok), map[string]any{"expire_type": 1, "expire_interval": 1}), 85079, "scheme before release")
	h.expectCode(h.call("/wxa/generate_urllink", acc(tok), map[string]any{"expire_type": 1, "expire_interval": 1}), 85079, "URL Link before release")
	h.expectCode(h.call("/wxa/genwxashortlink", acc(tok), map[string]any{"page_url": "pages/index/index"}), 85079, "Short Link before release")
	h.expectCode(h.call("/wxa/getwxacodeunlimit", acc(tok), map[string]any{"scene": "a=1"}), 41030, "code with check_path before release")
}

func TestSchemeAndURLLink(t *testing.T) {
	h := newHarness(t, nil)
	appID, tok := h.authorizedApp(h.componentToken(), AppSpec{})
	h.sb.ReleaseForTest(appID, "1.0.0", []string{"pages/index/index", "pages/shop/shop"})
	now := h.clock.Now()

	m := h.call("/wxa/generatescheme", acc(tok), map[string]any{"jump_wxa": map[string]any{"path": "pages/shop/shop", "query": "id=7"}, "expire_type": 1, "expire_interval": 7})
	h.expectCode(m, 0, "scheme")
	scheme, _ := m["openlink"].(string)
	if !strings.HasPrefix(scheme, "weixin://dl/business/?t=") {
		t.Fatalf("openlink %q", scheme)
	}
	q := h.call("/wxa/queryscheme", acc(tok), map[string]any{"scheme": scheme + "&cq=a%3D1"})
	h.expectCode(q, 0, "queryscheme with a spliced cq")
	info := q["scheme_info"].(map[string]any)
	if info["path"] != "pages/shop/shop" || info["query"] != "id=7" || info["env_version"] != "release" ||
		int64(info["expire_time"].(float64)) != now.Add(7*24*time.Hour).Unix() {
		t.Errorf("scheme_info %v", info)
	}
	if q := h.call("/wxa/queryscheme", acc(tok), map[string]any{"query_type": 1}); q["quota_info"].(map[string]any)["remain_visit_quota"].(float64) <= 0 {
		t.Errorf("quota_info %v", q)
	}

	m = h.call("/wxa/generate_urllink", acc(tok), map[string]any{"path": "", "expire_type": 0, "expire_time": now.Add(48 * time.Hour).Unix(), "env_version": "trial"})
	h.expectCode(m, 0, "URL Link to the home page")
	link, _ := m["url_link"].(string)
	if !strings.HasPrefix(link, "https://wxaurl.cn/") {
		t.Fatalf("url_link %q", link)
	}
	q = h.call("/wxa/query_urllink", acc(tok), map[string]any{"url_link": link})
	if i := q["url_link_info"].(map[string]any); i["env_version"] != "trial" || int64(i["expire_time"].(float64)) != now.Add(48*time.Hour).Unix() {
		t.Errorf("url_link_info %v", q)
	}
	h.expectCode(h.call("/wxa/query_urllink", acc(tok), map[string]any{"url_link": scheme}), 85403, "a scheme is not a URL Link")
	h.expectCode(h.call("/wxa/queryscheme", acc(tok), map[string]any{"scheme": "weixin://dl/business/?t=nope"}), 85403, "unknown scheme")

	for _, c := range []struct {
		name string
		body map[string]any
		code int
	}{
		{"31 days", map[string]any{"expire_type": 1, "expire_interval": 31}, 85401},
		{"0 days", map[string]any{"expire_type": 1, "expire_interval": 0}, 85401},
		{"a past time", map[string]any{"expire_type": 0, "expire_time": now.Add(-time.Hour).Unix()}, 85401},
		{"30 days and an hour", map[string]any{"expire_type": 0, "expire_time": now.Add(30*24*time.Hour + time.Hour).Unix()}, 85401},
		{"a page not released", map[string]any{"path": "pages/gone/gone", "expire_type": 1, "expire_interval": 1}, 40165},
		{"a query in the path", map[string]any{"path": "pages/shop/shop?id=1", "expire_type": 1, "expire_interval": 1}, 40165},
		{"Chinese in the query", map[string]any{"query": "城市=上海", "expire_type": 1, "expire_interval": 1}, 40212},
		{"a bad env_version", map[string]any{"env_version": "prod", "expire_type": 1, "expire_interval": 1}, 85402},
	} {
		h.expectCode(h.call("/wxa/generate_urllink", acc(tok), c.body), c.code, c.name)
	}
	h.sb.InjectError("generate_urllink", 44990, 1)
	h.expectCode(h.call("/wxa/generate_urllink", acc(tok), map[string]any{"expire_type": 1, "expire_interval": 1}), 44990, "injected frequency limit")
	h.expectCode(h.call("/wxa/generate_urllink", acc(tok), map[string]any{"expire_type": 1, "expire_interval": 1}), 0, "after the injected fault")

	if err := h.sb.UpdatePermissions(appID, []int{18}); err != nil {
		t.Fatal(err)
	}
	h.expectCode(h.call("/wxa/generatescheme", acc(tok), map[string]any{"expire_type": 1, "expire_interval": 1}), 61007, "without set 88")
}

func TestLinkDailyQuota(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.DailyQuotas = map[string]int{"generatescheme": 2} })
	appID, tok := h.authorizedApp(h.componentToken(), AppSpec{})
	h.sb.ReleaseForTest(appID, "1.0.0", []string{"pages/index/index"})
	body := map[string]any{"expire_type": 1, "expire_interval": 1}
	h.expectCode(h.call("/wxa/generatescheme", acc(tok), body), 0, "first")
	h.expectCode(h.call("/wxa/generatescheme", acc(tok), body), 0, "second")
	h.expectCode(h.call("/wxa/generatescheme", acc(tok), body), 45009, "past the daily quota")
}

func TestShortLink(t *testing.T) {
	h := newHarness(t, nil)
	appID, tok := h.authorizedApp(h.componentToken(), AppSpec{Nickname: "短链小店"})
	h.sb.ReleaseForTest(appID, "1.0.0", []string{"pages/index/index"})
	m := h.call("/wxa/genwxashortlink", acc(tok), map[string]any{"page_url": "pages/index/index?from=sms", "page_title": "一二三四五六七八九十一二三四五六七八九十超长", "is_permanent": true})
	h.expectCode(m, 0, "permanent Short Link")
	if l, _ := m["link"].(string); !strings.HasPrefix(l, "#小程序://短链小店/一二三四五六七八九十一二三四五六七八九十.../") {
		t.Errorf("link %q: the title is cut at 20 characters", l)
	}
	h.expectCode(h.call("/wxa/genwxashortlink", acc(tok), map[string]any{"page_url": "pages/gone/gone"}), 40165, "a page not released")
	h.expectCode(h.call("/wxa/genwxashortlink", acc(tok), map[string]any{"page_url": ""}), 40165, "no page")
}

func TestUnlimitedWxaCode(t *testing.T) {
	h := newHarness(t, nil)
	appID, tok := h.authorizedApp(h.componentToken(), AppSpec{})
	h.sb.ReleaseForTest(appID, "1.0.0", []string{"pages/index/index"})
	for _, c := range []struct {
		name string
		body map[string]any
		code int
	}{
		{"33 characters", map[string]any{"scene": strings.Repeat("a", 33)}, 40169},
		{"no scene", map[string]any{"scene": ""}, 40169},
		{"Chinese", map[string]any{"scene": "店=1"}, 40129},
		{"percent", map[string]any{"scene": "a%3D1"}, 40129},
		{"a leading slash", map[string]any{"scene": "a=1", "page": "/pages/index/index"}, 41030},
		{"a page not released", map[string]any{"scene": "a=1", "page": "pages/gone/gone"}, 41030},
		{"width 100", map[string]any{"scene": "a=1", "width": 100}, 40097},
	} {
		h.expectCode(h.call("/wxa/getwxacodeunlimit", acc(tok), c.body), c.code, c.name)
	}
	resp, err := http.Post(h.srv.URL+"/wxa/getwxacodeunlimit?access_token="+tok, "application/json", strings.NewReader(`{"scene":"shop=12","page":"pages/index/index","check_path":true,"width":430}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("Content-Type") != "image/jpeg" || http.DetectContentType(b) != "image/jpeg" {
		t.Errorf("code answer %s %q", resp.Header.Get("Content-Type"), b[:min(len(b), 40)])
	}
	// check_path false lets an unreleased page through, as the doc says.
	h.sb.ReleaseForTest(appID, "1.0.1", nil)
	resp, err = http.Post(h.srv.URL+"/wxa/getwxacodeunlimit?access_token="+tok, "application/json", strings.NewReader(`{"scene":"a","page":"pages/new/new","check_path":false}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Content-Type") != "image/jpeg" {
		t.Errorf("check_path false: %s", resp.Header.Get("Content-Type"))
	}
}

func TestWebviewDomainDirectly(t *testing.T) {
	h := newHarness(t, nil)
	appID, tok := h.authorizedApp(h.componentToken(), AppSpec{})
	h.sb.SetWebviewDomains(appID, []string{"https://merchant.example.com"})
	m := h.call("/wxa/setwebviewdomain_directly", acc(tok), map[string]any{"action": "add", "webviewdomain": []string{"https://shop.example.com"}})
	h.expectCode(m, 0, "add")
	if got := h.sb.WebviewDomains(appID); strings.Join(got, " ") != "https://merchant.example.com https://shop.example.com" {
		t.Errorf("after add: %v", got)
	}
	for _, bad := range []string{"http://shop.example.com", "https://shop.example.com:8443", "https://1.2.3.4", "https://shop.example.com/path"} {
		h.expectCode(h.call("/wxa/setwebviewdomain_directly", acc(tok), map[string]any{"action": "add", "webviewdomain": []string{bad}}), 47001, bad)
	}
	h.expectCode(h.call("/wxa/setwebviewdomain_directly", acc(tok), map[string]any{"action": "add"}), 47001, "add without the list the doc requires")
	h.expectCode(h.call("/wxa/setwebviewdomain_directly", acc(tok), map[string]any{"action": "delete", "webviewdomain": []string{"https://merchant.example.com"}}), 0, "delete")
	if got := h.sb.WebviewDomains(appID); len(got) != 1 || got[0] != "https://shop.example.com" {
		t.Errorf("after delete: %v", got)
	}
	f1 := h.call("/wxa/get_webviewdomain_confirmfile", acc(tok), map[string]any{})
	f2 := h.call("/wxa/get_webviewdomain_confirmfile", acc(tok), map[string]any{})
	if name, _ := f1["file_name"].(string); !strings.HasSuffix(name, ".txt") || f1["file_content"] == "" || f1["file_name"] != f2["file_name"] {
		t.Errorf("confirm file %v %v", f1, f2)
	}
}

func TestModifyDomainDirectly(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.ServerDomains = []string{"platform.example.com"} })
	appID, tok := h.authorizedApp(h.componentToken(), AppSpec{})
	h.sb.SetServerDomains(appID, "requestdomain", []string{"https://merchant.example.com"})
	all := func(req []string) map[string]any {
		return map[string]any{"action": "add", "requestdomain": req, "wsrequestdomain": []string{}, "uploaddomain": []string{},
			"downloaddomain": []string{}, "udpdomain": []string{}, "tcpdomain": []string{}}
	}
	// Not registered on the platform, still accepted: set on the app itself.
	m := h.call("/wxa/modify_domain_directly", acc(tok), all([]string{"https://api.shop.example.com:8443"}))
	h.expectCode(m, 0, "add")
	if got := h.sb.ServerDomainsOf(appID)["requestdomain"]; strings.Join(got, " ") != "https://merchant.example.com https://api.shop.example.com:8443" {
		t.Errorf("request domains %v", got)
	}
	h.expectCode(h.call("/wxa/modify_domain_directly", acc(tok), map[string]any{"action": "add", "requestdomain": []string{"https://a.example.com"}}), 47001, "lists missing")
	h.expectCode(h.call("/wxa/modify_domain_directly", acc(tok), all([]string{"http://a.example.com"})), 47001, "http")
	h.expectCode(h.call("/wxa/modify_domain_directly", acc(tok), all([]string{})), 85017, "nothing to add")
	if m := h.call("/wxa/modify_domain_directly", acc(tok), map[string]any{"action": "get"}); len(m["requestdomain"].([]any)) != 2 {
		t.Errorf("get %v", m)
	}
}
