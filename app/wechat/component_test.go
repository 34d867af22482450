package wechat

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func decodeBody(t *testing.T, r recorded) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.Body), &m); err != nil {
		t.Fatalf("request body %q: %v", r.Body, err)
	}
	return m
}

func TestComponentToken(t *testing.T) {
	// Token endpoints succeed without errcode (§0).
	c, _, fs := newTestClient(t, ok(`{"component_access_token":"61_abc","expires_in":7200}`))
	tok, err := c.ComponentToken(context.Background(), "ticket@@@t1")
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "61_abc" || tok.ExpiresIn != 7200 || !tok.ExpiresAt.Equal(testNow.Add(2*time.Hour)) {
		t.Errorf("token = %+v", tok)
	}
	r := fs.last(t)
	if r.Path != "/cgi-bin/component/api_component_token" || len(r.Query) != 0 {
		t.Errorf("request %s?%v, want no token in the query", r.Path, r.Query)
	}
	want := map[string]any{"component_appid": "wxcomponent", "component_appsecret": "component-secret", "component_verify_ticket": "ticket@@@t1"}
	if got := decodeBody(t, r); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("body = %v, want %v", got, want)
	}
}

func TestStartPushTicket(t *testing.T) {
	c, _, fs := newTestClient(t, ok(`{"errcode":0,"errmsg":"ok"}`))
	if err := c.StartPushTicket(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := fs.last(t)
	want := map[string]any{"component_appid": "wxcomponent", "component_secret": "component-secret"}
	if got := decodeBody(t, r); fmt.Sprint(got) != fmt.Sprint(want) || len(r.Query) != 0 {
		t.Errorf("body = %v query = %v, want %v and no token", got, r.Query, want)
	}
}

func TestQueryAuth(t *testing.T) {
	c, _, fs := newTestClient(t, ok(`{"authorization_info":{
	  "authorizer_appid":"wx_merchant","authorizer_access_token":"AUTH_TOKEN","expires_in":7200,
	  "authorizer_refresh_token":"refreshtoken@@@R1",
	  "func_info":[{"funcscope_category":{"id":17}},
	               {"funcscope_category":{"id":18},"confirm_info":{"need_confirm":0,"already_confirm":0,"can_confirm":0}}]}}`))
	info, err := c.QueryAuth(context.Background(), "queryauthcode@@@abc")
	if err != nil {
		t.Fatal(err)
	}
	if info.AuthorizerAppID != "wx_merchant" || info.AuthorizerRefreshToken != "refreshtoken@@@R1" || info.AuthorizerAccessToken != "AUTH_TOKEN" {
		t.Errorf("info = %+v", info)
	}
	if got := info.PermissionSets(); !slices.Equal(got, []int{17, PermissionSetCodeManagement}) {
		t.Errorf("PermissionSets = %v", got)
	}
	if !info.ExpiresAt.Equal(testNow.Add(2 * time.Hour)) {
		t.Errorf("ExpiresAt = %v", info.ExpiresAt)
	}
	if got := decodeBody(t, fs.last(t)); got["authorization_code"] != "queryauthcode@@@abc" || got["component_appid"] != "wxcomponent" {
		t.Errorf("body = %v", got)
	}
}

func TestRefreshAuthorizerToken(t *testing.T) {
	c, _, fs := newTestClient(t, ok(`{"authorizer_access_token":"NEW","expires_in":7200,"authorizer_refresh_token":"refreshtoken@@@R1"}`))
	tok, err := c.RefreshAuthorizerToken(context.Background(), "wx_merchant", "refreshtoken@@@R1")
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "NEW" || tok.RefreshToken != "refreshtoken@@@R1" {
		t.Errorf("token = %+v", tok)
	}
	r := fs.last(t)
	if r.Query.Get("component_access_token") != "C1" {
		t.Errorf("query = %v, want component_access_token=C1", r.Query)
	}
	if got := decodeBody(t, r); got["authorizer_appid"] != "wx_merchant" || got["authorizer_refresh_token"] != "refreshtoken@@@R1" {
		t.Errorf("body = %v", got)
	}
}

func TestRefreshAuthorizerTokenInvalidRefresh(t *testing.T) {
	c, tokens, _ := newTestClient(t, ok(`{"errcode":61023,"errmsg":"refresh_token is invalid rid: 1"}`))
	_, err := c.RefreshAuthorizerToken(context.Background(), "wx_merchant", "refreshtoken@@@dead")
	if !IsCode(err, 61023) || len(tokens.expired) != 0 {
		t.Errorf("err = %v, expired = %v; want 61023 and no token expiry", err, tokens.expired)
	}
}

func TestAuthorizerInfo(t *testing.T) {
	c, _, _ := newTestClient(t, ok(`{"authorizer_info":{
	   "nick_name":"小店","head_img":"h","service_type_info":{"id":0},"verify_type_info":{"id":-1},
	   "user_name":"gh_c43395cb652e","alias":"","qrcode_url":"q","principal_name":"某公司","signature":"s",
	   "business_info":{"open_pay":0,"open_shake":0,"open_scan":0,"open_card":0,"open_store":0},
	   "MiniProgramInfo":{"network":{"RequestDomain":["https://a.example"],"WsRequestDomain":[],"UploadDomain":[],"DownloadDomain":[],
	                                 "BizDomain":[],"UDPDomain":[],"TCPDomain":[]},
	                      "categories":[{"first":"生活服务","second":"丽人服务"}],"visit_status":0},
	   "register_type":0,"account_status":1,
	   "basic_config":{"is_phone_configured":true,"is_email_configured":true}},
	 "authorization_info":{"authorizer_appid":"wx_merchant","authorizer_refresh_token":"refreshtoken@@@R","func_info":[{"funcscope_category":{"id":18}}]}}`))
	d, err := c.AuthorizerInfo(context.Background(), "wx_merchant")
	if err != nil {
		t.Fatal(err)
	}
	ai := d.AuthorizerInfo
	if !ai.IsMiniProgram() || ai.UserName != "gh_c43395cb652e" || ai.NickName != "小店" || ai.VerifyTypeInfo.ID != -1 || ai.AccountStatus != 1 {
		t.Errorf("authorizer_info = %+v", ai)
	}
	if ai.MiniProgramInfo.Network.RequestDomain[0] != "https://a.example" || ai.MiniProgramInfo.Categories[0].Second != "丽人服务" {
		t.Errorf("MiniProgramInfo = %+v", ai.MiniProgramInfo)
	}
	if ai.BasicConfig == nil || !ai.BasicConfig.IsPhoneConfigured {
		t.Errorf("basic_config = %+v", ai.BasicConfig)
	}
	if d.AuthorizationInfo.AuthorizerRefreshToken != "refreshtoken@@@R" {
		t.Errorf("authorization_info = %+v", d.AuthorizationInfo)
	}
}

func TestAllAuthorizersPages(t *testing.T) {
	const total = 1234
	c, _, fs := newTestClient(t, func(r recorded) reply {
		var req struct{ Offset, Count int }
		json.Unmarshal([]byte(r.Body), &req)
		var items []string
		for i := req.Offset; i < total && i < req.Offset+req.Count; i++ {
			items = append(items, fmt.Sprintf(`{"authorizer_appid":"wx%04d","refresh_token":"refreshtoken@@@%d","auth_time":%d}`, i, i, 1700000000+i))
		}
		return reply{Body: fmt.Sprintf(`{"total_count":%d,"list":[%s]}`, total, strings.Join(items, ","))}
	})
	all, err := c.AllAuthorizers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != total || all[0].AuthorizerAppID != "wx0000" || all[total-1].AuthorizerAppID != "wx1233" || all[600].RefreshToken != "refreshtoken@@@600" {
		t.Errorf("got %d authorizers, first %+v", len(all), all[0])
	}
	var offsets []any
	for _, r := range fs.requests() {
		b := decodeBody(t, r)
		if b["count"] != float64(500) {
			t.Errorf("count = %v, want 500", b["count"])
		}
		offsets = append(offsets, b["offset"])
	}
	if fmt.Sprint(offsets) != "[0 500 1000]" {
		t.Errorf("offsets = %v, want [0 500 1000]", offsets)
	}
}

func TestAllAuthorizersStopsOnEmptyPage(t *testing.T) {
	// total_count promises more than the list delivers: stop, don't spin.
	c, _, fs := newTestClient(t, func(r recorded) reply {
		if strings.Contains(r.Body, `"offset":0`) {
			return reply{Body: `{"total_count":900,"list":[{"authorizer_appid":"wx1"},{"authorizer_appid":"wx1"}]}`}
		}
		return reply{Body: `{"total_count":900,"list":[]}`}
	})
	all, err := c.AllAuthorizers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || len(fs.requests()) != 2 {
		t.Errorf("got %d authorizers in %d requests, want 1 (deduplicated) in 2", len(all), len(fs.requests()))
	}
}

func TestAuthorizerListRejectsBadCount(t *testing.T) {
	c, _, fs := newTestClient(t, ok(`{}`))
	for _, count := range []int{0, 501} {
		if _, err := c.AuthorizerList(context.Background(), 0, count); err == nil {
			t.Errorf("count %d accepted", count)
		}
	}
	if len(fs.requests()) != 0 {
		t.Error("an out-of-range page was requested")
	}
}
