package sandbox

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// noRedirect lets tests look at the 302 itself.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (h *harness) page(path string, q url.Values, referer string) (int, string) {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, h.srv.URL+path+"?"+q.Encode(), nil)
	if referer != "" {
		req.Header.Set("Referer", referer)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (h *harness) postForm(path string, form url.Values) *http.Response {
	h.t.Helper()
	resp, err := noRedirect.PostForm(h.srv.URL+path, form)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func linkQuery(pre, redirect string) url.Values {
	return url.Values{"component_appid": {testComponentAppID}, "pre_auth_code": {pre},
		"redirect_uri": {redirect}, "auth_type": {"2"}}
}

func TestPCPageChecksReferer(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.AllowedEntryHost = "platform.example" })
	ct := h.componentToken()
	q := linkQuery(h.preAuthCode(ct), "https://platform.example/wechat/authorized?state=s1")
	const path = "/cgi-bin/componentloginpage"
	if _, body := h.page(path, q, ""); !strings.Contains(body, "授权入口页所在域名：空") {
		t.Fatalf("no Referer: page lacks the empty-domain error:\n%s", body)
	}
	if _, body := h.page(path, q, "https://evil.example/start"); !strings.Contains(body, "授权入口页所在域名：evil.example") {
		t.Fatalf("wrong Referer: page lacks the domain error:\n%s", body)
	}
	if _, body := h.page(path, q, "https://platform.example/apps/new"); !strings.Contains(body, `data-testid="approve"`) {
		t.Fatalf("right Referer: no approval form:\n%s", body)
	}
	bad := linkQuery(q.Get("pre_auth_code"), "https://elsewhere.example/cb")
	if _, body := h.page(path, bad, "https://platform.example/"); !strings.Contains(body, "授权发起页域名不一致") {
		t.Fatalf("redirect_uri on another domain accepted:\n%s", body)
	}
	// The mobile page is opened inside WeChat and has no Referer to check.
	if _, body := h.page("/wxaopen/safe/bindcomponent", q, ""); !strings.Contains(body, `data-testid="approve"`) {
		t.Fatalf("mobile page: no approval form:\n%s", body)
	}
}

func TestAuthorizeThroughPage(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.PublicBase = "http://localhost:8080/sandbox/" })
	ct := h.componentToken()
	pre := h.preAuthCode(ct)
	q := linkQuery(pre, "https://platform.example/wechat/authorized?state=s1")
	_, body := h.page("/safe/bindcomponent", q, "")
	if !strings.Contains(body, `action="http://localhost:8080/sandbox/safe/bindcomponent"`) {
		t.Fatalf("form does not post under PublicBase:\n%s", body)
	}

	// Cancelling neither redirects nor pushes, and leaves the code usable.
	form := url.Values{"decision": {"cancel"}, "mobile": {"1"}}
	for k, v := range q {
		form[k] = v
	}
	if resp := h.postForm("/safe/bindcomponent", form); resp.StatusCode != http.StatusOK {
		t.Fatalf("cancel: status %d", resp.StatusCode)
	}

	form.Set("decision", "approve")
	form.Set("app", "new")
	form.Set("nickname", "花店")
	form.Set("principal", "花店有限公司")
	form.Set("kind", "miniprogram")
	form["perm_mp"] = []string{"17", "18"}
	resp := h.postForm("/safe/bindcomponent", form)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("approve: status %d", resp.StatusCode)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Host != "platform.example" || loc.Path != "/wechat/authorized" || loc.Query().Get("state") != "s1" {
		t.Fatalf("redirect to %s", loc)
	}
	authCode, expires := loc.Query().Get("auth_code"), loc.Query().Get("expires_in")
	if !strings.HasPrefix(authCode, "queryauthcode@@@") || expires != "600" {
		t.Fatalf("redirect auth_code %q expires_in %q", authCode, expires)
	}

	p := h.comp.nextType("authorized")
	if p.Msg["PreAuthCode"] != pre || p.Msg["AuthorizationCode"] != authCode {
		t.Fatalf("authorized push %v", p.Msg)
	}
	created, _ := strconv.ParseInt(p.Msg["CreateTime"], 10, 64)
	if exp, _ := strconv.ParseInt(p.Msg["AuthorizationCodeExpiredTime"], 10, 64); exp != created+600 {
		t.Fatalf("AuthorizationCodeExpiredTime %d, want CreateTime+600 = %d", exp, created+600)
	}
	appID := p.Msg["AuthorizerAppid"]
	if len(appID) != 18 || !strings.HasPrefix(appID, "wx") {
		t.Fatalf("appid %q", appID)
	}

	// The code from the redirect is exchanged once.
	qa := map[string]string{"component_appid": testComponentAppID, "authorization_code": authCode}
	m := h.call("/cgi-bin/component/api_query_auth", comp(ct), qa)
	h.expectCode(m, 0, "api_query_auth")
	info := m["authorization_info"].(map[string]any)
	var sets []int
	for _, f := range info["func_info"].([]any) {
		sets = append(sets, int(f.(map[string]any)["funcscope_category"].(map[string]any)["id"].(float64)))
	}
	if info["authorizer_appid"] != appID || len(sets) != 2 || sets[0] != 17 || sets[1] != 18 {
		t.Fatalf("authorization_info %v", info)
	}
	h.expectCode(h.call("/cgi-bin/component/api_query_auth", comp(ct), qa), 61009, "second exchange")
	// The pre_auth_code is spent.
	if _, body := h.page("/safe/bindcomponent", q, ""); !strings.Contains(body, "已失效") {
		t.Fatalf("used pre_auth_code still shows the form")
	}

	m = h.call("/cgi-bin/component/api_get_authorizer_info", comp(ct), map[string]string{
		"component_appid": testComponentAppID, "authorizer_appid": appID})
	ai := m["authorizer_info"].(map[string]any)
	if ai["nick_name"] != "花店" || ai["principal_name"] != "花店有限公司" || !strings.HasPrefix(ai["user_name"].(string), "gh_") {
		t.Fatalf("authorizer_info %v", ai)
	}
	if _, isMP := ai["MiniProgramInfo"]; !isMP {
		t.Fatal("Mini Program without MiniProgramInfo")
	}
}

func TestOfficialAccountByMistake(t *testing.T) {
	h := newHarness(t, nil)
	ct := h.componentToken()
	appID, tok := h.authorizedApp(ct, AppSpec{Kind: ServiceAccount})
	m := h.call("/cgi-bin/component/api_get_authorizer_info", comp(ct), map[string]string{
		"component_appid": testComponentAppID, "authorizer_appid": appID})
	ai := m["authorizer_info"].(map[string]any)
	if _, isMP := ai["MiniProgramInfo"]; isMP {
		t.Fatal("Official Account has MiniProgramInfo")
	}
	if id := ai["service_type_info"].(map[string]any)["id"]; id != 2.0 {
		t.Fatalf("service_type_info.id = %v, want 2", id)
	}
	h.expectCode(h.call("/wxa/commit", acc(tok), map[string]any{"template_id": 1}), 48001, "commit on an Official Account")
}

func TestAuthorizerListPaging(t *testing.T) {
	h := newHarness(t, nil)
	ct := h.componentToken()
	want := h.sb.AddApps(1200)
	seen := map[string]bool{}
	for offset := 0; ; offset += 500 {
		m := h.call("/cgi-bin/component/api_get_authorizer_list", comp(ct),
			map[string]any{"component_appid": testComponentAppID, "offset": offset, "count": 500})
		h.expectCode(m, 0, "list")
		if m["total_count"].(float64) != 1200 {
			t.Fatalf("total_count %v", m["total_count"])
		}
		list := m["list"].([]any)
		for _, it := range list {
			item := it.(map[string]any)
			if item["refresh_token"] == "" || item["refresh_token"] == nil {
				t.Fatalf("item without refresh_token: %v", item)
			}
			seen[item["authorizer_appid"].(string)] = true
		}
		if len(list) < 500 {
			if len(list) != 200 {
				t.Fatalf("last page has %d items, want 200", len(list))
			}
			break
		}
	}
	for _, id := range want {
		if !seen[id] {
			t.Fatalf("app %s missing from the list", id)
		}
	}
	h.expectCode(h.call("/cgi-bin/component/api_get_authorizer_list", comp(ct),
		map[string]any{"component_appid": testComponentAppID, "offset": 0, "count": 501}), 47001, "count over 500")
}
