package web

import (
	"context"
	"testing"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
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
