package wechat

import (
	"context"
	"strings"
	"testing"
)

func TestLinkRequests(t *testing.T) {
	c, _, fs := newTestClient(t, ok(`{"errcode":0,"errmsg":"ok","openlink":"weixin://dl/business/?t=T","url_link":"https://wxaurl.cn/T","link":"#小程序://a/b/T",
		"scheme_info":{"path":"p","query":"q","create_time":1,"expire_time":2,"env_version":"release"},"url_link_info":{"path":"p2"},"quota_info":{"remain_visit_quota":5}}`))
	ctx := context.Background()
	if l, err := c.GenerateScheme(ctx, "wx", LinkRequest{Path: "pages/a", Query: "id=1", ExpireType: ExpireAfterDays, ExpireInterval: 7}); err != nil || l != "weixin://dl/business/?t=T" {
		t.Fatalf("GenerateScheme = %q, %v", l, err)
	}
	// jump_wxa holds the page; is_expire is no longer sent (WeChat ignores it).
	if b := fs.last(t).Body; b != `{"jump_wxa":{"path":"pages/a","query":"id=1"},"expire_type":1,"expire_interval":7}` {
		t.Errorf("scheme body %s", b)
	}
	if _, err := c.GenerateURLLink(ctx, "wx", LinkRequest{EnvVersion: "trial", ExpireType: ExpireAtTime, ExpireTime: 1700000000}); err != nil {
		t.Fatal(err)
	}
	if b := fs.last(t).Body; b != `{"path":"","query":"","env_version":"trial","expire_type":0,"expire_time":1700000000}` {
		t.Errorf("URL Link body %s", b)
	}
	if _, err := c.GenerateShortLink(ctx, "wx", "pages/a?x=1", "标题", true); err != nil {
		t.Fatal(err)
	}
	if b := fs.last(t).Body; b != `{"page_url":"pages/a?x=1","page_title":"标题","is_permanent":true}` {
		t.Errorf("Short Link body %s", b)
	}
	info, err := c.QueryScheme(ctx, "wx", "weixin://dl/business/?t=T")
	if err != nil || info.Path != "p" || info.ExpireTime != 2 || fs.last(t).Body != `{"scheme":"weixin://dl/business/?t=T","query_type":0}` {
		t.Errorf("QueryScheme = %+v, %v (%s)", info, err, fs.last(t).Body)
	}
	if n, err := c.RemainVisitQuota(ctx, "wx"); err != nil || n != 5 || fs.last(t).Body != `{"query_type":1}` {
		t.Errorf("RemainVisitQuota = %d, %v", n, err)
	}
}

func TestDirectDomainRequestsSendEveryRequiredList(t *testing.T) {
	c, _, fs := newTestClient(t, ok(`{"errcode":0,"errmsg":"ok","webviewdomain":["https://a.example.com"]}`))
	ctx := context.Background()
	if _, err := c.ModifyDomainDirectly(ctx, "wx", DomainAdd, ServerDomains{RequestDomain: []string{"https://api.example.com"}}); err != nil {
		t.Fatal(err)
	}
	b := fs.last(t).Body
	for _, k := range []string{`"requestdomain":["https://api.example.com"]`, `"wsrequestdomain":[]`, `"uploaddomain":[]`, `"downloaddomain":[]`, `"udpdomain":[]`, `"tcpdomain":[]`} {
		if !strings.Contains(b, k) {
			t.Errorf("modify_domain_directly body %s lacks %s", b, k)
		}
	}
	if _, err := c.ModifyDomainDirectly(ctx, "wx", DomainGet, ServerDomains{}); err != nil || fs.last(t).Body != `{"action":"get"}` {
		t.Errorf("get body %s %v", fs.last(t).Body, err)
	}
	if _, err := c.SetWebviewDomainDirectly(ctx, "wx", DomainDelete, nil); err != nil || fs.last(t).Body != `{"action":"delete","webviewdomain":[]}` {
		t.Errorf("delete body %s %v", fs.last(t).Body, err)
	}
	got, err := c.SetWebviewDomainDirectly(ctx, "wx", DomainGet, nil)
	if err != nil || len(got) != 1 || fs.last(t).Body != `{"action":"get"}` {
		t.Errorf("get = %v %v (%s)", got, err, fs.last(t).Body)
	}
}

func TestUnlimitedWxaCodeErrcode(t *testing.T) {
	c, _, _ := newTestClient(t, func(recorded) reply {
		return reply{ContentType: "image/jpeg", Body: `{"errcode":41030,"errmsg":"invalid page"}`}
	})
	if _, err := c.UnlimitedWxaCode(context.Background(), "wx", WxaCodeRequest{Scene: "a"}); !IsCode(err, 41030) {
		t.Errorf("err = %v, want 41030 despite the image header", err)
	}
}
