package web

import (
	"context"
	"strings"
	"testing"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat"
)

// Settings pages: the tenant's privacy contact, the platform's server domains.

func init() {
	moreScenarios = append(moreScenarios, settingsScenarios)
}

func settingsScenarios() []scenario {
	contactIs := func(email, phone string) func(t *testing.T, h *harness, w *world) {
		return func(t *testing.T, h *harness, w *world) {
			t.Helper()
			c, err := h.st.TenantContact(context.Background(), w.A.ID)
			if err != nil || c.Email != email || c.Phone != phone {
				t.Errorf("contact of A: %+v %v, want %q %q", c, err, email, phone)
			}
		}
	}
	noContact := func(t *testing.T, h *harness, w *world) {
		t.Helper()
		if n := h.count(`SELECT COUNT(*) FROM tenant_contacts`); n != 0 {
			t.Errorf("contacts saved: %d", n)
		}
	}
	return []scenario{
		{name: "contact page owner", method: "GET", url: "/t/{A}/settings/contact", who: "ownerA", status: 200, want: []string{`data-testid="contact-form"`, `name="email"`, `name="phone"`, `name="notice_method"`, `data-testid="nav-contact"`}},
		{name: "contact page developer", method: "GET", url: "/t/{A}/settings/contact", who: "developerA", status: 403},
		{name: "contact page approver", method: "GET", url: "/t/{A}/settings/contact", who: "approverA", status: 403},
		{name: "contact page of A from B's owner", method: "GET", url: "/t/{A}/settings/contact", who: "ownerB", status: 404},
		{name: "contact save", method: "POST", url: "/t/{A}/settings/contact", form: form("name", "王店长", "email", " wang@a.test ", "phone", "", "notice_method", "弹窗"), who: "ownerA", status: 303, loc: "/t/{A}/settings/contact?flash=contact.saved", check: contactIs("wang@a.test", "")},
		{name: "contact save phone only", method: "POST", url: "/t/{A}/settings/contact", form: form("phone", "+86 138-0000-0000"), who: "ownerA", status: 303, check: contactIs("", "+86 138-0000-0000")},
		{name: "contact save nothing", method: "POST", url: "/t/{A}/settings/contact", form: form("name", "只有名字", "email", "", "phone", ""), who: "ownerA", status: 422,
			want: []string{`data-testid="form-summary"`, `data-testid="error-email"`, "t:release.contact.required", `value="只有名字"`}, check: noContact},
		{name: "contact save invalid keeps what was typed", method: "POST", url: "/t/{A}/settings/contact", form: form("name", "王", "email", "not-an-email", "phone", "call me", "notice_method", "短信"), who: "ownerA", status: 422,
			want: []string{`data-testid="error-email"`, `data-testid="error-phone"`, "t:release.contact.email", "t:contact.err.phone", `value="not-an-email"`, `value="call me"`, `value="短信"`}, check: noContact},
		{name: "contact save developer", method: "POST", url: "/t/{A}/settings/contact", form: form("email", "dev@a.test"), who: "developerA", status: 403},
		{name: "contact save A's from B", method: "POST", url: "/t/{A}/settings/contact", form: form("email", "b@b.test"), who: "ownerB", status: 404},
		{name: "contact save anonymous", method: "POST", url: "/t/{A}/settings/contact", form: form("email", "x@x.test"), who: "anon", status: 303, loc: "/login"},

		{name: "domains page support reads", method: "GET", url: "/staff/settings/domains", who: "staffsupport", status: 200, want: []string{`data-testid="domains-form"`, `name="requestdomain"`, `name="wsrequestdomain"`, "readonly", "t:domains.read_only", `data-testid="nav-staff-domains"`}, notWant: []string{`data-testid="domains-save"`}},
		{name: "domains page operator", method: "GET", url: "/staff/settings/domains", who: "staffoperator", status: 200, want: []string{`data-testid="domains-save"`}},
		{name: "domains page tenant owner", method: "GET", url: "/staff/settings/domains", who: "ownerA", status: 403},
		{name: "domains save", method: "POST", url: "/staff/settings/domains", form: form("requestdomain", "https://API.example.com\napi.example.com/\n\nhttps://pay.example.com:8443", "wsrequestdomain", "wss://ws.example.com", "uploaddomain", "", "downloaddomain", "https://cdn.example.com"), who: "staffoperator", status: 303, loc: "/staff/settings/domains?flash=domains.saved",
			check: func(t *testing.T, h *harness, w *world) {
				var d wechat.ServerDomains
				if err := h.st.Setting(context.Background(), platform.SettingServerDomains, &d); err != nil ||
					strings.Join(d.RequestDomain, " ") != "https://api.example.com https://pay.example.com:8443" || strings.Join(d.WsRequestDomain, " ") != "wss://ws.example.com" ||
					len(d.UploadDomain) != 0 || strings.Join(d.DownloadDomain, " ") != "https://cdn.example.com" {
					t.Errorf("saved domains: %+v %v", d, err)
				}
			}},
		{name: "domains save invalid keeps what was typed", method: "POST", url: "/staff/settings/domains", form: form("requestdomain", "http://plain.example.com", "wsrequestdomain", "https://ws.example.com", "uploaddomain", "https://10.0.0.1", "downloaddomain", "https://ok.example.com/path"), who: "staffadmin", status: 422,
			want: []string{`data-testid="form-summary"`, `data-testid="error-requestdomain"`, `data-testid="error-wsrequestdomain"`, `data-testid="error-uploaddomain"`, `data-testid="error-downloaddomain"`, "t:domains.err.https", "t:domains.err.wss", "http://plain.example.com", "https://ok.example.com/path"},
			check: func(t *testing.T, h *harness, w *world) {
				if n := h.count(`SELECT COUNT(*) FROM platform_settings`); n != 0 {
					t.Errorf("settings saved: %d", n)
				}
			}},
		{name: "domains save support", method: "POST", url: "/staff/settings/domains", form: form("requestdomain", "https://api.example.com"), who: "staffsupport", status: 403},
		{name: "domains save approver", method: "POST", url: "/staff/settings/domains", form: form("requestdomain", "https://api.example.com"), who: "staffapprover", status: 403},
		{name: "domains save tenant owner", method: "POST", url: "/staff/settings/domains", form: form("requestdomain", "https://api.example.com"), who: "ownerA", status: 403},
	}
}

// A release whose preflight failed for want of a contact links an owner to
// the contact page and tells others whom to ask.
func TestReleaseLinksToContact(t *testing.T) {
	h := newHarness(t)
	f := h.fixture()
	ctx := context.Background()
	var id int64
	if err := h.st.R.QueryRow(`SELECT id FROM releases WHERE appid = 'wxappa0000000001'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	dev := f.users["developerA"]
	if _, err := h.st.TransitionRelease(ctx, f.A.ID, id, model.EvRecheck, model.Cause{Kind: model.CauseUser, ActorID: dev.ID, Actor: dev.Email, At: h.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := h.st.SaveReleasePreflight(ctx, f.A.ID, id, []store.PreflightCheck{{Name: "privacy", Key: "release.preflight.no_contact"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.st.TransitionRelease(ctx, f.A.ID, id, model.EvPreflightErr, model.Cause{Kind: model.CauseSystem, Actor: "system", At: h.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	page := "/t/" + itoa(f.A.ID) + "/apps/wxappa0000000001/releases/" + itoa(id)
	c := h.client()
	c.login("owner@a.test")
	r := c.get(page)
	mustContain(t, "owner", r, `data-testid="fix-contact"`)
	mustContain(t, "owner", r, `href="/t/`+itoa(f.A.ID)+`/settings/contact"`)
	d := h.client()
	d.login(dev.Email)
	r = d.get(page)
	mustNotContain(t, "developer", r, `data-testid="fix-contact"`)
	mustContain(t, "developer", r, h.tr("zh-CN", "contact.ask_owner"))
}
