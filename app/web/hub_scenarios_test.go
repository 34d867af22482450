package web

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/platform"
)

func TestHubScenarios(t *testing.T) { runScenarios(t, hubScenarios()) }

// hubFixture: tenant H ("Hotel 庚商户") with two sandbox apps. The first has
// a config, version 1.0.0 released and version 1.1.0 committed (its trial
// QR stored), prepared by H's developer and awaiting approval; the second
// was just authorized (no config, no release). Members: owner, developer,
// approver, viewer.
func hubFixture(h *harness, w *world) []string {
	ctx := context.Background()
	owner, tH := h.signup("owner@h.test", "Hana Owner", "Hotel 庚商户")
	w.users["ownerH"] = owner
	for _, m := range []struct {
		key  string
		role model.TenantRole
	}{{"developerH", model.RoleDeveloper}, {"approverH", model.RoleApprover}, {"viewerH", model.RoleViewer}} {
		u := h.user(strings.TrimSuffix(m.key, "H")+"@h.test", m.key, model.StaffNone)
		h.join(tH.ID, owner.ID, u.ID, m.role)
		w.users[m.key] = u
	}
	live := sandboxApp(h, tH.ID, "庚店 上线小程序")
	fresh := sandboxApp(h, tH.ID, "庚店 新小程序")
	who := func(k string) model.Actor { return model.Actor{UserID: w.users[k].ID, Label: w.users[k].Email} }
	if _, err := h.st.SaveConfig(ctx, who("developerH"), tH.ID, live, relTemplateID, `{"shopName":"庚店","theme":"light"}`, "", ""); err != nil {
		h.t.Fatal(err)
	}
	mk := func(prep, ver string, evs ...model.ReleaseEvent) model.Release {
		r, err := model.NewRelease(tH.ID, live, 1, model.ReleasePayload{TemplateID: relTemplateID, UserVersion: ver, UserDesc: "庚店版本 " + ver,
			ExtJSON: `{"ext":{"shopName":"庚店"},"extAppid":"` + live + `","extEnable":true}`}, who(prep), h.clock.Now())
		if err != nil {
			h.t.Fatal(err)
		}
		if r, err = h.st.CreateRelease(ctx, tH.ID, r); err != nil {
			h.t.Fatal(err)
		}
		for _, ev := range evs {
			c := model.Cause{Kind: model.CauseSystem, Actor: "system", At: h.clock.Now()}
			switch ev {
			case model.EvCommit:
				c = model.Cause{Kind: model.CauseUser, ActorID: w.users[prep].ID, Actor: w.users[prep].Email, At: h.clock.Now()}
			case model.EvScanDone:
				c.Kind = model.CausePoll
			case model.EvApprove, model.EvRelease:
				c = model.Cause{Kind: model.CauseUser, ActorID: w.users["approverH"].ID, Actor: w.users["approverH"].Email, SeenHash: r.PayloadHash, At: h.clock.Now()}
			case model.EvSubmitOK:
				c.AuditID = 9191
			}
			if r, err = h.st.TransitionRelease(ctx, tH.ID, r.ID, ev, c); err != nil {
				h.t.Fatalf("%s: %v", ev, err)
			}
		}
		return r
	}
	toApproval := []model.ReleaseEvent{model.EvCommit, model.EvCommitOK, model.EvScan, model.EvScanDone, model.EvPreflightOK}
	mk("developerH", "1.0.0", append(toApproval, model.EvApprove, model.EvSubmitOK, model.EvAuditPass, model.EvRelease, model.EvReleaseOK)...)
	next := mk("developerH", "1.1.0", toApproval...)
	if err := h.st.ApplyOps(ctx, h.st.QROp(tH.ID, next.ID, []byte("\x89PNG trial"), "image/png")); err != nil {
		h.t.Fatal(err)
	}
	return []string{"{H}", itoa(tH.ID), "{appLive}", live, "{appFresh}", fresh, "{relNext}", itoa(next.ID)}
}

// bindTesters binds ids as testers of {appLive} through the platform.
func bindTesters(ids ...string) func(t *testing.T, h *harness, w *world) {
	return func(t *testing.T, h *harness, w *world) {
		t.Helper()
		tid, appID := hubApp(t, h)
		for _, id := range ids {
			if err := h.srv.Releases.BindTester(context.Background(), model.Actor{UserID: w.users["ownerH"].ID, Label: "owner@h.test"}, tid, appID, id); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func hubApp(t *testing.T, h *harness) (int64, string) {
	t.Helper()
	var tid int64
	var appID string
	if err := h.st.R.QueryRow(`SELECT a.tenant_id, a.appid FROM authorizers a JOIN tenants t ON t.id = a.tenant_id
		WHERE t.name = 'Hotel 庚商户' AND a.nickname = '庚店 上线小程序'`).Scan(&tid, &appID); err != nil {
		t.Fatal(err)
	}
	return tid, appID
}

// wechatTesters is who WeChat (the sandbox) has as testers of {appLive}.
func wechatTesters(t *testing.T, h *harness) []string {
	t.Helper()
	_, appID := hubApp(t, h)
	users, err := h.srv.Releases.WeChat.Testers(context.Background(), appID)
	if err != nil {
		t.Fatal(err)
	}
	return users
}

func testersAre(n int, wechatIDs ...string) func(t *testing.T, h *harness, w *world) {
	return func(t *testing.T, h *harness, w *world) {
		t.Helper()
		if got := wechatTesters(t, h); len(got) != n {
			t.Errorf("WeChat has %d testers, want %d", len(got), n)
		}
		for _, id := range wechatIDs {
			if h.count(`SELECT COUNT(*) FROM app_testers WHERE wechatid = ?`, id) != 1 {
				t.Errorf("tester %s not recorded", id)
			}
		}
	}
}

func activityHas(action, detail string) func(t *testing.T, h *harness, w *world) {
	return func(t *testing.T, h *harness, w *world) {
		t.Helper()
		if h.count(`SELECT COUNT(*) FROM activity WHERE action = ? AND detail = ?`, action, detail) != 1 {
			t.Errorf("no activity %s %q", action, detail)
		}
	}
}

func both(fs ...func(t *testing.T, h *harness, w *world)) func(t *testing.T, h *harness, w *world) {
	return func(t *testing.T, h *harness, w *world) {
		for _, f := range fs {
			f(t, h, w)
		}
	}
}

// fillTesters binds testers until the sandbox's limit (40) is reached.
func fillTesters(t *testing.T, h *harness, w *world) {
	t.Helper()
	_, appID := hubApp(t, h)
	for i := 0; i < 40; i++ {
		if _, err := h.srv.Releases.WeChat.BindTester(context.Background(), appID, fmt.Sprintf("filler_%02d", i)); err != nil {
			t.Fatal(err)
		}
	}
}

func hubScenarios() []scenario {
	app := "/t/{H}/apps/{appLive}"
	freshApp := "/t/{H}/apps/{appFresh}"
	settings := app + "/settings"
	testers := app + "/testers"
	unbind := app + "/testers/unbind"
	return []scenario{
		// The hub: real versions, the trial QR code, tabs, the one next step.
		{name: "hub shows live, audit and trial versions", method: "GET", url: app, who: "ownerH", status: 200,
			want: []string{`data-testid="app-hub"`, `data-testid="block-live-version">1.0.0<`, `data-testid="block-audit-version">1.1.0<`,
				`data-testid="block-trial-version">1.1.0<`, `data-state="released"`, `data-state="awaiting_approval"`,
				`src="/t/{H}/apps/{appLive}/releases/{relNext}/qr"`, `data-testid="trial-qr"`,
				"t:apps.hub.live", "t:apps.hub.audit", "t:apps.hub.trial",
				`data-testid="tab-overview"`, `href="/t/{H}/apps/{appLive}/config"`, `href="/t/{H}/apps/{appLive}/releases"`, `href="/t/{H}/apps/{appLive}/settings"`,
				// the owner did not prepare 1.1.0: approving is the next step
				`data-next="approve"`, `data-testid="next-step-button">审批并提交审核<`, `href="/t/{H}/apps/{appLive}/releases/{relNext}/review"`,
				"approver@h.test"},
			notWant: []string{"t:apps.version_none", `data-testid="block-live-none"`}},
		{name: "hub: the preparer waits for approval, no primary button", method: "GET", url: app, who: "developerH", status: 200,
			want:    []string{`data-next="waiting_approval"`, "t:apps.next.waiting_approval_help", `data-testid="next-step-link"`},
			notWant: []string{`data-testid="next-step-button"`}},
		{name: "hub: a fresh app's next step is its config", method: "GET", url: freshApp, who: "ownerH", status: 200,
			want: []string{`data-next="configure"`, `data-testid="next-step-button">填写配置<`, `href="/t/{H}/apps/{appFresh}/config"`,
				`data-testid="block-live-none"`, `data-testid="block-audit-none"`, `data-testid="block-trial-none"`},
			notWant: []string{`data-testid="trial-qr"`}},
		{name: "hub: a viewer sees the step but no button", method: "GET", url: freshApp, who: "viewerH", status: 200,
			want:    []string{`data-next="configure"`, `data-testid="next-step-blocked"`},
			notWant: []string{`data-testid="next-step-button"`}},
		{name: "hub: once released and nothing open, next is a new version", method: "GET", url: app, who: "ownerH", status: 200,
			setup: func(t *testing.T, h *harness, w *world) {
				tid, _ := hubApp(t, h)
				var id int64
				if err := h.st.R.QueryRow(`SELECT id FROM releases WHERE tenant_id = ? AND user_version = '1.1.0'`, tid).Scan(&id); err != nil {
					t.Fatal(err)
				}
				if _, err := h.st.TransitionRelease(context.Background(), tid, id, model.EvCancel, model.Cause{Kind: model.CauseUser, ActorID: w.users["ownerH"].ID, Actor: "owner@h.test", At: h.clock.Now()}); err != nil {
					t.Fatal(err)
				}
			},
			want:    []string{`data-next="commit_new"`, `href="/t/{H}/apps/{appLive}/releases"`, `data-testid="block-live-version">1.0.0<`, `data-testid="block-audit-none"`},
			notWant: []string{`data-state="awaiting_approval"`}},
		{name: "hub: an unauthorized app's one next step is authorizing", method: "GET", url: app, who: "developerH", status: 200,
			setup: func(t *testing.T, h *harness, w *world) {
				if _, err := h.st.W.Exec(`UPDATE authorizers SET status = 'unauthorized' WHERE nickname = '庚店 上线小程序'`); err != nil {
					t.Fatal(err)
				}
			},
			want:    []string{`data-next="authorize"`, `action="/t/{H}/apps/{appLive}/reauthorize"`, `data-testid="reauthorize"`, `data-testid="block-live-version">1.0.0<`},
			notWant: []string{`data-testid="next-step-button"`}},
		{name: "hub of H's app from B", method: "GET", url: app, who: "ownerB", status: 404, notWant: []string{"1.1.0"}},

		// True data: the overview and the staff tenant page list the real apps.
		{name: "tenant overview lists the real apps", method: "GET", url: "/t/{H}", who: "viewerH", status: 200,
			want:    []string{`data-testid="apps-count">2<`, "庚店 上线小程序", "庚店 新小程序", `href="/t/{H}/apps/{appLive}"`, `href="/t/{H}/apps/{appFresh}"`, `data-testid="app-live-{appLive}"`},
			notWant: []string{"t:apps.empty"}},
		{name: "tenant overview of a tenant without apps says so", method: "GET", url: "/t/{H}", who: "ownerH", status: 200,
			setup: func(t *testing.T, h *harness, w *world) {
				if _, err := h.st.W.Exec(`UPDATE authorizers SET tenant_id = NULL WHERE tenant_id = (SELECT id FROM tenants WHERE name = 'Hotel 庚商户')`); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{`data-testid="apps-count">0<`, "t:apps.empty"}, notWant: []string{"庚店 上线小程序"}},
		{name: "staff tenant detail lists the tenant's apps", method: "GET", url: "/staff/tenants/{H}", who: "staffsupport", status: 200,
			want:    []string{`data-testid="tenant-apps"`, "庚店 上线小程序", "庚店 新小程序", `href="/staff/apps/{appLive}"`, `data-testid="app-live-{appLive}"`},
			notWant: []string{"t:apps.empty_staff"}},
		{name: "staff tenant detail without apps says so", method: "GET", url: "/staff/tenants/{C}", who: "staffsupport", status: 200,
			want: []string{"t:apps.empty_staff"}, notWant: []string{`data-testid="tenant-apps"`}},
		{name: "staff app page shows the live version", method: "GET", url: "/staff/apps/{appLive}", who: "staffsupport", status: 200,
			want: []string{`data-testid="block-live-version">1.0.0<`, `data-testid="block-audit-version">1.1.0<`}, notWant: []string{"t:apps.version_none", `data-testid="next-step"`}},

		// Settings: testers (体验成员).
		{name: "settings lists testers as WeChat has them", method: "GET", url: settings, who: "ownerH", status: 200, setup: bindTesters("tester_li", "tester_wang"),
			want: []string{`data-testid="tester-list"`, "tester_li", "tester_wang", "owner@h.test", `data-testid="tester-form"`, `data-testid="tab-settings"`, `aria-current="page"`}},
		{name: "settings shows a tester bound elsewhere by userstr", method: "GET", url: settings, who: "ownerH", status: 200,
			setup: func(t *testing.T, h *harness, w *world) {
				_, appID := hubApp(t, h)
				if _, err := h.srv.Releases.WeChat.BindTester(context.Background(), appID, "bound_in_console"); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"t:tester.elsewhere", "t:tester.bound_elsewhere"}, notWant: []string{"bound_in_console"}},
		{name: "settings of an app moved to another tenant hides the former tenant's names", method: "GET", url: "/t/{B}/apps/{appLive}/settings", who: "ownerB", status: 200,
			setup: func(t *testing.T, h *harness, w *world) {
				bindTesters("tester_li")(t, h, w)
				if _, err := h.st.W.Exec(`UPDATE authorizers SET tenant_id = ? WHERE nickname = '庚店 上线小程序'`, w.B.ID); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"t:tester.elsewhere"}, notWant: []string{"tester_li", "owner@h.test"}},
		{name: "settings without testers says so", method: "GET", url: settings, who: "viewerH", status: 200,
			want: []string{"t:tester.empty"}, notWant: []string{`data-testid="tester-form"`, `data-testid="tester-unbind"`}},
		{name: "settings of H's app from B", method: "GET", url: settings, who: "ownerB", status: 404},
		{name: "settings anonymous", method: "GET", url: settings, who: "anon", status: 303, loc: "/login"},

		{name: "bind a tester", method: "POST", url: testers, form: form("wechatid", " tester_zhao "), who: "developerH", status: 303,
			loc: "/t/{H}/apps/{appLive}/settings?flash=tester.bound", check: both(testersAre(1, "tester_zhao"), activityHas("tester_bound", "tester_zhao"))},
		{name: "bind a tester viewer", method: "POST", url: testers, form: form("wechatid", "tester_zhao"), who: "viewerH", status: 403,
			check: testersAre(0)},
		{name: "bind a tester approver", method: "POST", url: testers, form: form("wechatid", "tester_zhao"), who: "approverH", status: 403},
		{name: "bind a tester from B", method: "POST", url: testers, form: form("wechatid", "tester_zhao"), who: "ownerB", status: 404},
		{name: "bind nothing", method: "POST", url: testers, form: form("wechatid", "  "), who: "ownerH", status: 422,
			want: []string{`data-testid="error-wechatid"`, "t:tester.err.required"}, check: testersAre(0)},
		{name: "bind a WeChat ID with a space keeps it", method: "POST", url: testers, form: form("wechatid", "li si"), who: "ownerH", status: 422,
			want: []string{"t:tester.err.format", `value="li si"`}, check: testersAre(0)},
		{name: "bind a WeChat ID that does not exist (85001)", method: "POST", url: testers, form: form("wechatid", "nouser_abc"), who: "ownerH", status: 422,
			want: []string{`data-testid="error-wechatid"`, "t:tester.err.85001", `value="nouser_abc"`}, check: testersAre(0)},
		{name: "bind a tester twice (85004)", method: "POST", url: testers, form: form("wechatid", "tester_li"), who: "ownerH", status: 422, setup: bindTesters("tester_li"),
			want: []string{"t:tester.err.85004", `value="tester_li"`}, check: testersAre(1, "tester_li")},
		{name: "bind past the limit (85002)", method: "POST", url: testers, form: form("wechatid", "one_too_many"), who: "ownerH", status: 422, setup: fillTesters,
			want: []string{"t:tester.err.85002", `value="one_too_many"`}, check: testersAre(40)},
		{name: "bind a WeChat ID that tests too many apps (85003)", method: "POST", url: testers, form: form("wechatid", "busytester_1"), who: "ownerH", status: 422,
			want: []string{"t:tester.err.85003", `value="busytester_1"`}, check: testersAre(0)},
		{name: "hub in English", method: "GET", url: app, who: "approverH", status: 200, opt: withHeader("Accept-Language", "en"),
			want: []string{"Live version", "Audit version", "Trial version", "Approve and submit", "Trial version QR code"}},
		{name: "bind a tester in English", method: "POST", url: testers, form: form("wechatid", "nouser_en"), who: "ownerH", status: 422,
			opt: withHeader("Accept-Language", "en"), want: []string{"turned off being found by WeChat ID", `value="nouser_en"`}},

		{name: "unbind a tester", method: "POST", url: unbind, who: "ownerH", status: 303,
			prep: func(h *harness, c *client, f *fixture) []string {
				bindTesters("tester_li", "tester_wang")(h.t, h, f.world)
				return []string{"{userLi}", userStrOf(h, "tester_li")}
			},
			form: form("userstr", "{userLi}"),
			loc:  "/t/{H}/apps/{appLive}/settings?flash=tester.unbound",
			check: both(testersAre(1, "tester_wang"), activityHas("tester_unbound", "tester_li"), func(t *testing.T, h *harness, w *world) {
				if h.count(`SELECT COUNT(*) FROM app_testers WHERE wechatid = 'tester_li'`) != 0 {
					t.Error("tester_li still recorded")
				}
			})},
		{name: "unbind a tester viewer", method: "POST", url: unbind, form: form("userstr", "x"), who: "viewerH", status: 403, setup: bindTesters("tester_li"), check: testersAre(1, "tester_li")},
		{name: "unbind a tester from B", method: "POST", url: unbind, form: form("userstr", "x"), who: "ownerB", status: 404},
		{name: "unbind nobody", method: "POST", url: unbind, form: form("userstr", ""), who: "ownerH", status: 422, want: []string{"t:tester.err.unknown"}},
		{name: "unbind someone who is not a tester", method: "POST", url: unbind, form: form("userstr", "not-a-tester"), who: "ownerH", status: 422, setup: bindTesters("tester_li"),
			want: []string{"t:tester.err.unknown", "tester_li"}, check: testersAre(1, "tester_li")},
	}
}

// userStrOf is the userstr WeChat gave the tester bound as wechatID.
func userStrOf(h *harness, wechatID string) string {
	var u string
	if err := h.st.R.QueryRow(`SELECT userstr FROM app_testers WHERE wechatid = ?`, wechatID).Scan(&u); err != nil {
		h.t.Fatal(err)
	}
	return u
}

// The hub follows the release live: once the approver submits 1.1.0, the
// owner's open app page is sent the audit block in 提交中 and the next step
// "in audit", without a reload.
func TestAppHubUpdatesLive(t *testing.T) {
	fl := newFlow(t, "ownerH")
	tid, appID := hubApp(t, fl.h)
	page := fl.c.get("/t/" + itoa(tid) + "/apps/" + appID)
	mustContain(t, "app page", page, `sse-swap="hub"`, `data-next="approve"`)
	var id int64
	var hash string
	if err := fl.h.st.R.QueryRow(`SELECT id, payload_hash FROM releases WHERE tenant_id = ? AND user_version = '1.1.0'`, tid).Scan(&id, &hash); err != nil {
		t.Fatal(err)
	}
	appr := fl.f.users["approverH"]
	if _, err := fl.h.st.TransitionRelease(context.Background(), tid, id, model.EvApprove,
		model.Cause{Kind: model.CauseUser, ActorID: appr.ID, Actor: appr.Email, SeenHash: hash, At: fl.h.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	body := liveFrames(t, fl.h, fl.c, "/t/"+itoa(tid)+"/apps/events?view=app&appid="+appID, platform.Event{Name: platform.EventRelease, TenantID: tid, AppID: appID})
	for _, want := range []string{"event: hub\n", `data-next="wait_audit"`, `data-state="submitting"`, `data-testid="block-live-version">1.0.0<`} {
		if !strings.Contains(body, want) {
			t.Errorf("stream lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, `data-next="approve"`) {
		t.Error("the stream still offers approval")
	}
}
