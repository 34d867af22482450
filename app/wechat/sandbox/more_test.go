package sandbox

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

func TestSpeedupAudit(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.AuditDelay = 40 * time.Minute; o.SpeedupQuota = 1 })
	_, tok, tpl := h.codeApp()
	h.expectCode(h.commit(tok, tpl, "", "v"), 0, "commit")
	h.clock.Advance(time.Minute)
	m := h.submit(tok, "v")
	h.expectCode(m, 0, "submit")
	id := m["auditid"]
	h.expectCode(h.call("/wxa/speedupaudit", acc(tok), map[string]any{"auditid": 1}), 89403, "wrong audit id")
	h.expectCode(h.call("/wxa/speedupaudit", acc(tok), map[string]any{"auditid": id}), 0, "speed up")
	h.expectCode(h.call("/wxa/speedupaudit", acc(tok), map[string]any{"auditid": id}), 89404, "speed up twice")
	if q := h.call("/wxa/queryquota", acc(tok), nil); q["speedup_rest"].(float64) != 0 {
		t.Fatalf("queryquota %v", q)
	}
	h.clock.Advance(10 * time.Minute) // a quarter of the remaining 40 minutes
	h.apps.nextType("weapp_audit_success")
}

func TestConsoleDecidesAudit(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.AuditDelay = 24 * time.Hour })
	appID, tok, tpl := h.codeApp()
	h.expectCode(h.commit(tok, tpl, "", "v"), 0, "commit")
	h.clock.Advance(time.Minute)
	h.expectCode(h.submit(tok, "v"), 0, "submit")
	if r := h.postForm("/console/audit", url.Values{"appid": {appID}, "decision": {"reject"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("console reject: status %d", r.StatusCode)
	}
	if p := h.apps.nextType("weapp_audit_fail"); p.Msg["Reason"] == "" {
		t.Fatalf("fail push without reason: %v", p.Msg)
	}
	if r := h.postForm("/console/audit", url.Values{"appid": {appID}, "decision": {"approve"}}); r.StatusCode != http.StatusBadRequest {
		t.Fatalf("deciding a decided audit: status %d, want 400", r.StatusCode)
	}
	// The scheduled decision must not fire after the manual one.
	h.clock.Advance(24 * time.Hour)
	h.sb.WaitPushes()
	for _, p := range h.sb.Pushes() {
		if p.Type == "weapp_audit_success" {
			t.Fatal("scheduled decision fired after the console decided")
		}
	}
}

func TestUpdatePermissionsAndCodeAPIs(t *testing.T) {
	h := newHarness(t, nil)
	appID, tok, _ := h.codeApp()
	if err := h.sb.UpdatePermissions(appID, []int{17}); err != nil {
		t.Fatal(err)
	}
	p := h.comp.nextType("updateauthorized")
	if p.Msg["AuthorizerAppid"] != appID || p.Msg["AuthorizationCode"] == "" {
		t.Fatalf("updateauthorized push %v", p.Msg)
	}
	h.expectCode(h.call("/wxa/get_category", acc(tok), nil), 61007, "code API without set 18")
}

func TestAuthorizerOptions(t *testing.T) {
	h := newHarness(t, nil)
	ct := h.componentToken()
	appID, tok := h.authorizedApp(ct, AppSpec{Kind: ServiceAccount})
	body := map[string]any{"component_appid": testComponentAppID, "authorizer_appid": appID, "option_name": "location_report", "option_value": "2"}
	h.expectCode(h.call("/cgi-bin/component/api_set_authorizer_option", comp(ct), body), 0, "legacy set")
	m := h.call("/cgi-bin/component/get_authorizer_option", acc(tok), map[string]any{"option_name": "location_report"})
	if m["option_value"] != "2" {
		t.Fatalf("option %v", m)
	}
	body["option_value"] = 7
	h.expectCode(h.call("/cgi-bin/component/api_set_authorizer_option", comp(ct), body), 47001, "bad value")
}
