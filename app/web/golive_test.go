package web

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/wechat/msgcrypt"
)

func TestGoLiveScenarios(t *testing.T) { runScenarios(t, goLiveScenarios()) }

func goLiveScenarios() []scenario {
	rows := []scenario{
		{name: "go-live as staff admin", method: "GET", url: "/staff/golive", who: "staffadmin", status: 200,
			want: []string{`data-testid="golive"`, `data-testid="golive-ticket"`, `data-testid="golive-secret"`, "t:golive.title"}},
		{name: "go-live anonymous", method: "GET", url: "/staff/golive", who: "anon", status: 303, loc: "/login?next="},
	}
	for _, who := range []string{"staffoperator", "staffsupport", "staffapprover", "ownerA"} {
		rows = append(rows, scenario{name: "go-live as " + who, method: "GET", url: "/staff/golive", who: who, status: 403})
	}
	return rows
}

// goLiveState reads each line's state off the page.
func goLiveState(t *testing.T, body string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, m := range regexp.MustCompile(`data-testid="golive-([a-z_]+)" data-ok="(true|false)"`).FindAllStringSubmatch(body, -1) {
		out[m[1]] = m[2] == "true"
	}
	if len(out) != 11 {
		t.Fatalf("%d checklist lines, want 11: %v", len(out), out)
	}
	return out
}

// The checklist follows what the platform sees: lines turn green as the
// template library fills, a verification file is uploaded, pushes reach
// both URLs and a token is fetched; 61004 turns the whitelist red and names
// the IP WeChat saw.
func TestGoLiveChecklistFollowsThePlatform(t *testing.T) {
	h := newHarness(t)
	h.user("ops@example.com", "Ops", model.StaffAdmin)
	admin := h.client().login("ops@example.com")
	before := goLiveState(t, admin.get("/staff/golive").Body)
	for _, k := range []string{"token", "push_component", "push_app", "site_files", "auth_domain", "publish_test", "templates"} {
		if before[k] {
			t.Errorf("%s is green before anything happened", k)
		}
	}
	if !before["whitelist"] || !before["secret"] || !before["ticket"] {
		t.Errorf("whitelist, secret (sandbox mode) and ticket (stored by the harness) should be green: %v", before)
	}

	ctx := context.Background()
	if err := h.st.SyncTemplates(ctx, []model.Template{{TemplateID: 77, DraftID: 1, UserVersion: "1.0.0", UserDesc: "店铺模板"}}); err != nil {
		t.Fatal(err)
	}
	if err := h.st.SaveSiteFile(ctx, model.SystemActor, "MP_verify_go.txt", "abc"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.p.Vault.ComponentAccessToken(ctx); err != nil {
		t.Fatal(err)
	}
	c := wxCrypter(t)
	req, _, _ := wxPushRequest(t, c, "/wechat/component/events", msgcrypt.FieldAppID, wxAppID, wxTicketXML(h.sb.Ticket(), h.clock.Now().Unix()))
	if status, _ := h.wxSend(req); status != 200 {
		t.Fatalf("ticket push: %d", status)
	}
	msg := "<xml><ToUserName><![CDATA[gh_appa0000000001]]></ToUserName><FromUserName><![CDATA[o]]></FromUserName><CreateTime>1700000001</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[weapp_audit_delay]]></Event><Reason><![CDATA[busy]]></Reason><DelayTime>1</DelayTime></xml>"
	req, _, _ = wxPushRequest(t, c, "/wechat/apps/wxappa0000000001/events", msgcrypt.FieldToUserName, "gh_appa0000000001", msg)
	if status, _ := h.wxSend(req); status != 200 {
		t.Fatalf("app push: %d", status)
	}
	after := goLiveState(t, admin.get("/staff/golive").Body)
	for _, k := range []string{"token", "push_component", "push_app", "site_files", "templates"} {
		if !after[k] {
			t.Errorf("%s still red after it happened: %v", k, after)
		}
	}

	// WeChat refuses the token call from an IP not whitelisted.
	if err := h.st.ComponentTokenFailed(ctx, wxAppID, "wechat api_component_token: errcode 61004: access clientip is not registered, requestIP: 203.0.113.7 rid: 1", h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	r := admin.get("/staff/golive")
	if goLiveState(t, r.Body)["whitelist"] {
		t.Error("whitelist green after a 61004")
	}
	if !strings.Contains(r.Body, "203.0.113.7") {
		t.Error("the page does not name the IP WeChat saw")
	}
	// Every staff page says so until it is fixed; merchants never see it.
	r = admin.get("/staff/tenants")
	mustContain(t, "staff notice", r, `data-testid="staff-notice"`, "203.0.113.7")
	h.signup("m@example.com", "M", "Shop")
	if r := h.client().login("m@example.com").get("/"); strings.Contains(r.Body, `data-testid="staff-notice"`) {
		t.Error("a merchant sees the staff notice")
	}
}
