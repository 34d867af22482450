package sandbox

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestInjectedErrorsAndFailureRate(t *testing.T) {
	h := newHarness(t, nil)
	ct := h.componentToken()
	pre := func() map[string]any {
		return h.call("/cgi-bin/component/api_create_preauthcode", comp(ct), map[string]string{"component_appid": testComponentAppID})
	}
	h.sb.InjectError("api_create_preauthcode", -1, 2)
	m := pre()
	h.expectCode(m, -1, "injected 1")
	if !strings.Contains(m["errmsg"].(string), " rid: ") {
		t.Errorf("errmsg without rid: %q", m["errmsg"])
	}
	h.expectCode(pre(), -1, "injected 2")
	h.expectCode(pre(), 0, "after the injections")
	if n := h.sb.CallCount("api_create_preauthcode"); n != 3 {
		t.Fatalf("CallCount = %d, want 3", n)
	}
	if n := h.sb.CallCount("/cgi-bin/component/api_create_preauthcode"); n != 3 {
		t.Fatalf("CallCount by path = %d, want 3", n)
	}

	h.sb.SetFailureRate("*", 1, 45009)
	h.expectCode(pre(), 45009, "failure rate 1")
	h.sb.SetFailureRate("*", 0, 0)
	h.expectCode(pre(), 0, "failure rate off")
}

func TestDailyQuota(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.DailyQuotas = map[string]int{"api_create_preauthcode": 2} })
	ct := h.componentToken()
	h.preAuthCode(ct)
	h.preAuthCode(ct)
	h.expectCode(h.call("/cgi-bin/component/api_create_preauthcode", comp(ct), map[string]string{"component_appid": testComponentAppID}), 45009, "third call of the day")
}

func TestUnicodeEscapesRejected(t *testing.T) {
	h := newHarness(t, nil)
	_, tok, _ := h.codeApp()
	h.expectCode(h.call("/wxa/bind_tester", acc(tok), `{"wechatid":"\u5c0f\u660e"}`), 47002, "escaped Chinese")
	h.expectCode(h.call("/wxa/bind_tester", acc(tok), `{"wechatid":"小明"}`), 0, "raw UTF-8")
	h.expectCode(h.call("/wxa/bind_tester", acc(tok), `{"wechatid":"小明"}`), 85004, "bound twice")
}

func TestPushRetriedUntilSuccess(t *testing.T) {
	rv := newReceiver(t)
	rv.failures = 2
	h := newHarness(t, func(o *Options) { o.ComponentEventsURL = rv.srv.URL + "/events" })
	rv.nextType("component_verify_ticket")
	h.sb.WaitPushes()
	recs := h.sb.Pushes()
	if len(recs) != 1 || recs[0].Attempts != 3 || !recs[0].Delivered || recs[0].Reply != "success" {
		t.Fatalf("push log %+v", recs)
	}

	rv.mu.Lock()
	rv.failures = 3
	rv.mu.Unlock()
	h.sb.PushTicket()
	h.sb.WaitPushes()
	last := h.sb.Pushes()[1]
	if last.Attempts != 3 || last.Delivered || last.Status != http.StatusInternalServerError {
		t.Fatalf("failed push record %+v", last)
	}
}

func TestConsole(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.PublicBase = "/sandbox" })
	ct := h.componentToken()
	appID, _ := h.authorizedApp(ct, AppSpec{Nickname: "控制台小店"})
	resp, err := http.Get(h.srv.URL + "/console")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(b)
	ticket := h.sb.Ticket()
	if !strings.Contains(body, "控制台小店") || !strings.Contains(body, "component_verify_ticket") {
		t.Fatalf("console lacks the app or ticket:\n%s", body)
	}
	if strings.Contains(body, ticket) || strings.Contains(body, ct) {
		t.Fatal("console shows an unmasked ticket or token")
	}
	if !strings.Contains(body, `action="/sandbox/console/revoke"`) {
		t.Fatal("console forms ignore PublicBase")
	}

	r := h.postForm("/console/revoke", url.Values{"appid": {appID}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/sandbox/console" {
		t.Fatalf("revoke: %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
	h.comp.nextType("unauthorized")
	if h.sb.RefreshToken(appID) != "" {
		t.Fatal("app still authorized after console revoke")
	}
}
