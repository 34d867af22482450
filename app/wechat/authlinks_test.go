package wechat

import "testing"

func TestAuthLinks(t *testing.T) {
	c := New("wx_component", "secret", nil)
	const redirect = "https://minifleet.example/wechat/authorized?tenant=7&flow=a b"
	const encRedirect = "https%3A%2F%2Fminifleet.example%2Fwechat%2Fauthorized%3Ftenant%3D7%26flow%3Da+b"
	for _, tc := range []struct {
		name       string
		link       AuthLink
		pc, mobile string
	}{
		{
			name:   "default auth_type is Mini Programs",
			link:   AuthLink{PreAuthCode: "preauthcode@@@xyz", RedirectURI: redirect},
			pc:     "https://mp.weixin.qq.com/cgi-bin/componentloginpage?component_appid=wx_component&pre_auth_code=preauthcode%40%40%40xyz&redirect_uri=" + encRedirect + "&auth_type=2",
			mobile: "https://open.weixin.qq.com/wxaopen/safe/bindcomponent?action=bindcomponent&no_scan=1&component_appid=wx_component&pre_auth_code=preauthcode%40%40%40xyz&redirect_uri=" + encRedirect + "&auth_type=2#wechat_redirect",
		},
		{
			name:   "explicit auth_type",
			link:   AuthLink{PreAuthCode: "P", RedirectURI: "https://a.example/cb", AuthType: AuthTypeBoth},
			pc:     "https://mp.weixin.qq.com/cgi-bin/componentloginpage?component_appid=wx_component&pre_auth_code=P&redirect_uri=https%3A%2F%2Fa.example%2Fcb&auth_type=3",
			mobile: "https://open.weixin.qq.com/wxaopen/safe/bindcomponent?action=bindcomponent&no_scan=1&component_appid=wx_component&pre_auth_code=P&redirect_uri=https%3A%2F%2Fa.example%2Fcb&auth_type=3#wechat_redirect",
		},
		{
			name:   "biz_appid replaces auth_type",
			link:   AuthLink{PreAuthCode: "P", RedirectURI: "https://a.example/cb", BizAppID: "wx_merchant"},
			pc:     "https://mp.weixin.qq.com/cgi-bin/componentloginpage?component_appid=wx_component&pre_auth_code=P&redirect_uri=https%3A%2F%2Fa.example%2Fcb&biz_appid=wx_merchant",
			mobile: "https://open.weixin.qq.com/wxaopen/safe/bindcomponent?action=bindcomponent&no_scan=1&component_appid=wx_component&pre_auth_code=P&redirect_uri=https%3A%2F%2Fa.example%2Fcb&biz_appid=wx_merchant#wechat_redirect",
		},
		{
			name: "category ids",
			link: AuthLink{PreAuthCode: "P", RedirectURI: "https://a.example/cb", CategoryIDs: []int{18, 30}},
			pc:   "https://mp.weixin.qq.com/cgi-bin/componentloginpage?component_appid=wx_component&pre_auth_code=P&redirect_uri=https%3A%2F%2Fa.example%2Fcb&auth_type=2&category_id_list=18%7C30",
		},
	} {
		pc, err := c.PCAuthURL(tc.link)
		if err != nil || pc != tc.pc {
			t.Errorf("%s: PCAuthURL =\n %s, %v\nwant\n %s", tc.name, pc, err, tc.pc)
		}
		if tc.mobile == "" {
			continue
		}
		m, err := c.MobileAuthURL(tc.link)
		if err != nil || m != tc.mobile {
			t.Errorf("%s: MobileAuthURL =\n %s, %v\nwant\n %s", tc.name, m, err, tc.mobile)
		}
	}
}

func TestAuthLinkHosts(t *testing.T) {
	c := New("wx_component", "secret", nil)
	c.MPBase = "http://127.0.0.1:9000/mp"
	c.OpenBase = "http://127.0.0.1:9000/open"
	l := AuthLink{PreAuthCode: "P", RedirectURI: "http://localhost/cb"}
	pc, _ := c.PCAuthURL(l)
	m, _ := c.MobileAuthURL(l)
	if pc != "http://127.0.0.1:9000/mp/cgi-bin/componentloginpage?component_appid=wx_component&pre_auth_code=P&redirect_uri=http%3A%2F%2Flocalhost%2Fcb&auth_type=2" {
		t.Errorf("PCAuthURL = %s", pc)
	}
	if m != "http://127.0.0.1:9000/open/wxaopen/safe/bindcomponent?action=bindcomponent&no_scan=1&component_appid=wx_component&pre_auth_code=P&redirect_uri=http%3A%2F%2Flocalhost%2Fcb&auth_type=2#wechat_redirect" {
		t.Errorf("MobileAuthURL = %s", m)
	}
}

func TestAuthLinkRejects(t *testing.T) {
	c := New("wx_component", "secret", nil)
	for name, l := range map[string]AuthLink{
		"both auth_type and biz_appid": {PreAuthCode: "P", RedirectURI: "https://a.example/cb", AuthType: 2, BizAppID: "wx1"},
		"no pre_auth_code":             {RedirectURI: "https://a.example/cb"},
		"relative redirect":            {PreAuthCode: "P", RedirectURI: "/cb"},
	} {
		if _, err := c.MobileAuthURL(l); err == nil {
			t.Errorf("%s: MobileAuthURL succeeded", name)
		}
		if _, err := c.PCAuthURL(l); err == nil {
			t.Errorf("%s: PCAuthURL succeeded", name)
		}
	}
	if _, err := New("", "s", nil).PCAuthURL(AuthLink{PreAuthCode: "P", RedirectURI: "https://a.example/cb"}); err == nil {
		t.Error("empty component appid accepted")
	}
}
