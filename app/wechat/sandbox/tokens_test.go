package sandbox

import (
	"strings"
	"testing"
	"time"
)

func TestTicketPushAndComponentToken(t *testing.T) {
	h := newHarness(t, nil)
	p := h.comp.nextType("component_verify_ticket")
	if p.Envelope["AppId"] != testComponentAppID || p.Msg["AppId"] != testComponentAppID {
		t.Fatalf("ticket push AppId: envelope %q, msg %q", p.Envelope["AppId"], p.Msg["AppId"])
	}
	if p.Path != "/wechat/component/events" {
		t.Fatalf("ticket pushed to %q", p.Path)
	}
	ticket := p.Msg["ComponentVerifyTicket"]
	if !strings.HasPrefix(ticket, "ticket@@@") {
		t.Fatalf("ticket %q", ticket)
	}
	req := func(secret, tk string) map[string]any {
		return h.call("/cgi-bin/component/api_component_token", nil, map[string]string{
			"component_appid": testComponentAppID, "component_appsecret": secret, "component_verify_ticket": tk})
	}
	h.expectCode(req("wrong", ticket), 40125, "wrong secret")
	h.expectCode(req("", ticket), 41004, "no secret")
	h.expectCode(req(testSecret, "ticket@@@made-up"), 61006, "unknown ticket")
	m := req(testSecret, ticket)
	h.expectCode(m, 0, "token")
	if _, has := m["errcode"]; has {
		t.Errorf("token endpoint success carries errcode: %v", m)
	}
	if m["expires_in"].(float64) != 7200 {
		t.Errorf("expires_in = %v", m["expires_in"])
	}

	// A new ticket every interval; the old one stays usable until 12 h old.
	h.clock.Advance(10 * time.Minute)
	if next := h.comp.nextType("component_verify_ticket").Msg["ComponentVerifyTicket"]; next == ticket {
		t.Fatal("second ticket equals the first")
	}
	h.expectCode(req(testSecret, ticket), 0, "stale but unexpired ticket")
	h.clock.Advance(12 * time.Hour)
	h.expectCode(req(testSecret, ticket), 61005, "ticket older than 12 h")
}

func TestComponentTokenOverlapAndExpiry(t *testing.T) {
	h := newHarness(t, nil)
	first := h.componentToken()
	list := func(tok, name string) map[string]any {
		return h.call("/cgi-bin/component/api_get_authorizer_list", map[string][]string{name: {tok}},
			map[string]any{"component_appid": testComponentAppID, "offset": 0, "count": 10})
	}
	h.expectCode(list(first, "component_access_token"), 0, "fresh token")
	h.expectCode(list(first, "access_token"), 0, "access_token query name")
	h.expectCode(list("", "access_token"), 41001, "missing token")

	second := h.componentToken2()
	h.clock.Advance(4 * time.Minute)
	h.expectCode(list(first, "access_token"), 0, "previous token within 5 min")
	h.expectCode(list(second, "access_token"), 0, "new token")
	h.clock.Advance(2 * time.Minute)
	h.expectCode(list(first, "access_token"), 40001, "previous token after 5 min")

	// Only the newest two exist: a third issue kills the first at once.
	third := h.componentToken2()
	fourth := h.componentToken2()
	h.expectCode(list(second, "access_token"), 40001, "token two issues back")
	h.expectCode(list(third, "access_token"), 0, "previous token")
	h.clock.Advance(7200 * time.Second)
	h.expectCode(list(fourth, "access_token"), 42001, "expired token")
}

// componentToken2 issues another token with the latest ticket.
func (h *harness) componentToken2() string {
	h.t.Helper()
	m := h.call("/cgi-bin/component/api_component_token", nil, map[string]string{
		"component_appid": testComponentAppID, "component_appsecret": testSecret, "component_verify_ticket": h.sb.Ticket()})
	h.expectCode(m, 0, "api_component_token")
	return m["component_access_token"].(string)
}

func TestAuthorizerTokenAndRefreshToken(t *testing.T) {
	h := newHarness(t, nil)
	ct := h.componentToken()
	appID, tok := h.authorizedApp(ct, AppSpec{Nickname: "店A"})
	refresh := h.sb.RefreshToken(appID)
	if !strings.HasPrefix(refresh, "refreshtoken@@@") {
		t.Fatalf("refresh token %q", refresh)
	}
	renew := func(rt string) map[string]any {
		return h.call("/cgi-bin/component/api_authorizer_token", comp(ct), map[string]string{
			"component_appid": testComponentAppID, "authorizer_appid": appID, "authorizer_refresh_token": rt})
	}
	m := renew(refresh)
	h.expectCode(m, 0, "api_authorizer_token")
	if m["authorizer_refresh_token"] != refresh {
		t.Fatalf("refresh token rotated by api_authorizer_token: %v", m["authorizer_refresh_token"])
	}
	tok2 := m["authorizer_access_token"].(string)
	page := func(tok string) map[string]any { return h.call("/wxa/get_category", acc(tok), nil) }
	h.expectCode(page(tok), 0, "previous authorizer token within overlap")
	h.expectCode(page(tok2), 0, "new authorizer token")
	h.expectCode(page(ct), 40001, "component token on an authorizer API")

	// Re-authorization issues a new refresh token; the old one is dead.
	if _, err := h.sb.Authorize(h.preAuthCode(ct), AppSpec{AppID: appID}); err != nil {
		t.Fatal(err)
	}
	if p := h.comp.nextType("updateauthorized"); p.Msg["AuthorizerAppid"] != appID {
		t.Fatalf("updateauthorized for %q", p.Msg["AuthorizerAppid"])
	}
	h.expectCode(renew(refresh), 61023, "old refresh token after re-authorization")
	refresh2 := h.sb.RefreshToken(appID)
	h.expectCode(renew(refresh2), 0, "new refresh token")

	// Revocation kills everything and is pushed.
	tok3 := renew(refresh2)["authorizer_access_token"].(string)
	if err := h.sb.Revoke(appID); err != nil {
		t.Fatal(err)
	}
	if p := h.comp.nextType("unauthorized"); p.Msg["AuthorizerAppid"] != appID || p.Msg["AuthorizationCode"] != "" {
		t.Fatalf("unauthorized push %v", p.Msg)
	}
	h.expectCode(renew(refresh2), 61023, "refresh token after unauthorized")
	h.expectCode(page(tok3), 40001, "access token after unauthorized")
	h.expectCode(h.call("/cgi-bin/component/api_get_authorizer_info", comp(ct), map[string]string{
		"component_appid": testComponentAppID, "authorizer_appid": appID}), 61003, "info after unauthorized")
}

func TestPreAuthCodeSingleUseAndExpiry(t *testing.T) {
	h := newHarness(t, nil)
	ct := h.componentToken()
	code := h.preAuthCode(ct)
	if !strings.HasPrefix(code, "preauthcode@@@") {
		t.Fatalf("pre_auth_code %q", code)
	}
	if _, err := h.sb.Authorize(code, AppSpec{}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.sb.Authorize(code, AppSpec{}); err != ErrPreAuthCode {
		t.Fatalf("second use: err %v, want ErrPreAuthCode", err)
	}
	late := h.preAuthCode(ct)
	h.clock.Advance(1800 * time.Second)
	if _, err := h.sb.Authorize(late, AppSpec{}); err != ErrPreAuthCode {
		t.Fatalf("expired: err %v, want ErrPreAuthCode", err)
	}
}
