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

func TestSettingsScenarios(t *testing.T) { runScenarios(t, settingsScenarios()) }

func TestReleaseItemsScenarios(t *testing.T) { runScenarios(t, itemsScenarios()) }

const appE = "wxappe0000000006"

// itemsFixture: tenant E's app with a release awaiting approval whose audit
// item has a category (the sandbox knows no fixture app, so get_category
// fails and the current category stays choosable).
func itemsFixture(h *harness, w *world) []string {
	ctx := context.Background()
	uE, tE := h.signup("owner@e.test", "Eve Owner", "Echo Eatery 戊商户")
	w.users["ownerE"] = uE
	addApp(h, appE, "Echo Eatery 戊小程序", []int{18}, tE.ID)
	who := model.Actor{UserID: uE.ID, Label: uE.Email}
	p := model.ReleasePayload{TemplateID: relTemplateID, UserVersion: "1.2.0", UserDesc: "戊店上新", ExtJSON: `{"ext":{"shopName":"戊店"},"extAppid":"` + appE + `","extEnable":true}`,
		Submit: model.SubmitChoices{Items: []model.AuditItemChoice{{Address: "pages/index/index", FirstClass: "工具", SecondClass: "信息查询", FirstID: 287, SecondID: 612}}}}
	r, err := model.NewRelease(tE.ID, appE, 1, p, who, h.clock.Now())
	if err != nil {
		h.t.Fatal(err)
	}
	if r, err = h.st.CreateRelease(ctx, tE.ID, r); err != nil {
		h.t.Fatal(err)
	}
	for _, ev := range []model.ReleaseEvent{model.EvCommit, model.EvCommitOK, model.EvScan, model.EvScanDone, model.EvPreflightOK} {
		c := model.Cause{Kind: model.CauseSystem, Actor: "system", At: h.clock.Now()}
		if ev == model.EvCommit {
			c = model.Cause{Kind: model.CauseUser, ActorID: uE.ID, Actor: uE.Email, At: h.clock.Now()}
		}
		if r, err = h.st.TransitionRelease(ctx, tE.ID, r.ID, ev, c); err != nil {
			h.t.Fatalf("%s: %v", ev, err)
		}
	}
	return []string{"{E}", itoa(tE.ID), "{appE}", appE, "{relE}", itoa(r.ID), "{seqE}", itoa(r.Seq), "{hashE}", r.PayloadHash}
}

func itemsScenarios() []scenario {
	relE := func(t *testing.T, h *harness, w *world) model.Release {
		t.Helper()
		var id, tid int64
		if err := h.st.R.QueryRow(`SELECT id, tenant_id FROM releases WHERE appid = ?`, appE).Scan(&id, &tid); err != nil {
			t.Fatal(err)
		}
		r, err := h.st.Release(context.Background(), tid, id)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	unchanged := func(t *testing.T, h *harness, w *world) {
		t.Helper()
		if r := relE(t, h, w); r.State != model.RelAwaitingApproval || len(r.Submit.Items) != 1 || r.Submit.Items[0].Title != "" {
			t.Errorf("release E changed: %s %+v", r.State, r.Submit.Items)
		}
	}
	items := "/t/{E}/apps/{appE}/releases/{relE}/items"
	return []scenario{
		{name: "items page", method: "GET", url: items, who: "ownerE", status: 200,
			want: []string{`data-testid="items-form"`, `data-testid="items-voids"`, `<option value="287:612:0" selected>工具 / 信息查询</option>`, `<option value="pages/index/index" selected>`, `name="seq" value="{seqE}"`, `data-testid="items-wechat-error"`}},
		{name: "items page of A's release", method: "GET", url: "/t/{A}/apps/{appA}/releases/{relA}/items", who: "developerA", status: 200, want: []string{`data-testid="items-form"`, `name="items.0.category"`}},
		{name: "items page viewer", method: "GET", url: "/t/{A}/apps/{appA}/releases/{relA}/items", who: "viewerA", status: 403},
		{name: "items page approver", method: "GET", url: "/t/{A}/apps/{appA}/releases/{relA}/items", who: "approverA", status: 403},
		{name: "items page of E from A", method: "GET", url: "/t/{A}/apps/{appE}/releases/{relE}/items", who: "ownerA", status: 404},
		{name: "items save", method: "POST", url: items, form: form("seq", "{seqE}", "items.0.category", "287:612:0", "items.0.address", "pages/index/index", "items.0.title", "首页", "items.0.tag", " 店铺   菜单 "), who: "ownerE", status: 303, loc: "/t/{E}/apps/{appE}/releases/{relE}?flash=release.items_saved",
			check: func(t *testing.T, h *harness, w *world) {
				r := relE(t, h, w)
				if r.State != model.RelPreflight || len(r.Submit.Items) != 1 || r.Submit.Items[0].Title != "首页" || r.Submit.Items[0].Tag != "店铺 菜单" || r.Submit.Items[0].SecondClass != "信息查询" {
					t.Errorf("after amend: %s %+v", r.State, r.Submit.Items)
				}
				if n := h.count(`SELECT COUNT(*) FROM release_events WHERE release_id = ? AND event = 'amend'`, r.ID); n != 1 {
					t.Errorf("amend events = %d", n)
				}
			}},
		{name: "items save invalid keeps what was typed", method: "POST", url: items, form: form("seq", "{seqE}", "items.0.category", "9:9:9", "items.0.address", "pages/nope/nope", "items.0.title", strings.Repeat("长", 33), "items.0.tag", "a b c d e f g h i j k", "items.1.title", "没有类目"), who: "ownerE", status: 422,
			want: []string{`data-testid="error-items.0.category"`, `data-testid="error-items.0.title"`, `data-testid="error-items.0.tag"`, `data-testid="error-items.1.category"`, "t:release.items.err.category", "t:release.items.err.category_required", `value="a b c d e f g h i j k"`, `value="没有类目"`}, check: unchanged},
		{name: "items save nothing", method: "POST", url: items, form: form("seq", "{seqE}"), who: "ownerE", status: 422, want: []string{"t:release.preflight.no_category"}, check: unchanged},
		{name: "items save stale", method: "POST", url: items, form: form("seq", "1", "items.0.category", "287:612:0"), who: "ownerE", status: 409, want: []string{"t:release.err.stale"}, check: unchanged},
		{name: "items save viewer", method: "POST", url: "/t/{A}/apps/{appA}/releases/{relA}/items", form: form("seq", "5"), who: "viewerA", status: 403},
		{name: "items save approver", method: "POST", url: "/t/{A}/apps/{appA}/releases/{relA}/items", form: form("seq", "5"), who: "approverA", status: 403},
		{name: "items save E's through A", method: "POST", url: "/t/{A}/apps/{appE}/releases/{relE}/items", form: form("seq", "{seqE}", "items.0.category", "287:612:0"), who: "ownerA", status: 404},
		{name: "release page shows audit items", method: "GET", url: "/t/{E}/apps/{appE}/releases/{relE}", who: "ownerE", status: 200, want: []string{`data-testid="audit-item-0"`, "工具 / 信息查询", `data-testid="edit-items"`}},
		{name: "review page shows audit items", method: "GET", url: "/t/{A}/apps/{appA}/releases/{relA}/review", who: "approverA", status: 200, want: []string{`data-testid="review-items"`, `data-testid="audit-items-none"`}},
	}
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
	if err := h.st.ApplyOps(ctx, h.st.PreflightOp(f.A.ID, id, []store.PreflightCheck{{Name: "privacy", Key: "release.preflight.no_contact"}})); err != nil {
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
