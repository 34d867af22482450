package web

import (
	"bytes"
	"context"
	"image"
	_ "image/png"
	"net/url"
	"strings"
	"testing"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
)

// Releases of Mini Programs the sandbox knows (with real tokens), so pages
// that call WeChat on the way go all the way: a rejected release with the
// audit's screenshots, and one awaiting approval whose audit items are
// chosen from the app's real category list (get_category).

func TestRealAppScenarios(t *testing.T) { runScenarios(t, realAppsScenarios()) }

const rejectShots = "sandbox_media_screenshot_1|sandbox_media_screenshot_2"

// sandboxApp creates a Mini Program in the sandbox, stores its tokens and
// details as authorization would, and binds it to tenantID.
func sandboxApp(h *harness, tenantID int64, name string) string {
	h.t.Helper()
	ctx := context.Background()
	sb := sandboxOf(h)
	appID := sb.AddApps(1)[0]
	tok, err := h.srv.Onboarding.WeChat.RefreshAuthorizerToken(ctx, appID, sb.RefreshToken(appID))
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.st.SaveAuthorizerGrant(ctx, appID, store.AuthorizerGrant{AccessToken: tok.AccessToken, AccessExpiresAt: tok.ExpiresAt,
		RefreshToken: tok.RefreshToken, PermissionSets: []int{18}}); err != nil {
		h.t.Fatal(err)
	}
	if err := h.st.SaveAppDetails(ctx, appID, store.AppDetails{Nickname: name, AccountKind: "miniprogram", AccountStatus: 1, PermissionSets: []int{18}}); err != nil {
		h.t.Fatal(err)
	}
	if err := h.st.AssignApp(ctx, model.SystemActor, appID, tenantID); err != nil {
		h.t.Fatal(err)
	}
	return appID
}

// releaseThrough creates a release of appID prepared by prep and moves it
// through evs with plausible causes.
func releaseThrough(h *harness, w *world, tenantID int64, appID, prep string, evs ...model.ReleaseEvent) model.Release {
	h.t.Helper()
	ctx := context.Background()
	who := model.Actor{UserID: w.users[prep].ID, Label: w.users[prep].Email}
	p := model.ReleasePayload{TemplateID: relTemplateID, UserVersion: "3.0.0", UserDesc: "真机上新",
		ExtJSON: `{"ext":{"shopName":"真店"},"extAppid":"` + appID + `","extEnable":true}`}
	r, err := model.NewRelease(tenantID, appID, 1, p, who, h.clock.Now())
	if err != nil {
		h.t.Fatal(err)
	}
	if r, err = h.st.CreateRelease(ctx, tenantID, r); err != nil {
		h.t.Fatal(err)
	}
	for _, ev := range evs {
		c := model.Cause{Kind: model.CauseSystem, Actor: "system", At: h.clock.Now()}
		switch ev {
		case model.EvCommit:
			c = model.Cause{Kind: model.CauseUser, ActorID: who.UserID, Actor: prep, At: h.clock.Now()}
		case model.EvScanDone:
			c.Kind = model.CausePoll
		case model.EvApprove:
			c = model.Cause{Kind: model.CauseUser, ActorID: w.users["approverF"].ID, Actor: "approverF", SeenHash: r.PayloadHash, At: h.clock.Now()}
		case model.EvSubmitOK:
			c.AuditID = 4242
		case model.EvAuditFail:
			c.Kind, c.Reason, c.ScreenShots = model.CausePush, "页面存在测试内容", rejectShots
		}
		if r, err = h.st.TransitionRelease(ctx, tenantID, r.ID, ev, c); err != nil {
			h.t.Fatalf("%s: %v", ev, err)
		}
	}
	return r
}

// realAppsFixture: tenant F (an owner and an approver) with two such apps.
func realAppsFixture(h *harness, w *world) []string {
	owner, tF := h.signup("owner@f.test", "Fay Owner", "Foxtrot Foods 己商户")
	w.users["ownerF"] = owner
	appr := h.user("approver@f.test", "F approver", model.StaffNone)
	h.join(tF.ID, owner.ID, appr.ID, model.RoleApprover)
	w.users["approverF"] = appr
	rejApp := sandboxApp(h, tF.ID, "Real 驳回小程序")
	rej := releaseThrough(h, w, tF.ID, rejApp, "ownerF", model.EvCommit, model.EvCommitOK, model.EvScan, model.EvScanDone,
		model.EvPreflightOK, model.EvApprove, model.EvSubmitOK, model.EvAuditFail)
	catApp := sandboxApp(h, tF.ID, "Real 类目小程序")
	cat := releaseThrough(h, w, tF.ID, catApp, "ownerF", model.EvCommit, model.EvCommitOK, model.EvScan, model.EvScanDone, model.EvPreflightOK)
	return []string{"{F}", itoa(tF.ID), "{appRej}", rejApp, "{relRej}", itoa(rej.ID), "{appCat}", catApp, "{relCat}", itoa(cat.ID), "{seqCat}", itoa(cat.Seq)}
}

func realAppsScenarios() []scenario {
	rej := "/t/{F}/apps/{appRej}/releases/{relRej}"
	shot := rej + "/screenshots/sandbox_media_screenshot_2"
	items := "/t/{F}/apps/{appCat}/releases/{relCat}/items"
	return []scenario{
		{name: "rejected release shows its screenshots", method: "GET", url: rej, who: "ownerF", status: 200,
			want: []string{`data-testid="screenshots"`, `src="` + shot + `"`, `src="` + rej + `/screenshots/sandbox_media_screenshot_1"`, `data-testid="screenshot-2"`, "sandbox_media_screenshot_2"}},
		{name: "audit screenshot", method: "GET", url: shot, who: "ownerF", status: 200, want: []string{"\x89PNG"}},
		{name: "audit screenshot from another tenant", method: "GET", url: "/t/{B}/apps/{appRej}/releases/{relRej}/screenshots/sandbox_media_screenshot_2", who: "ownerB", status: 404, notWant: []string{"\x89PNG"}},
		{name: "audit screenshot of A's release as B", method: "GET", url: shot, who: "ownerB", status: 404, notWant: []string{"\x89PNG"}},
		{name: "audit screenshot the audit did not name", method: "GET", url: rej + "/screenshots/sandbox_media_screenshot_3", who: "ownerF", status: 404, notWant: []string{"\x89PNG"}},
		{name: "audit screenshot anonymous", method: "GET", url: shot, who: "anon", status: 303, notWant: []string{"\x89PNG"}},

		{name: "items page lists the app's real categories", method: "GET", url: items, who: "ownerF", status: 200,
			want:    []string{`data-testid="items-form"`, `<option value="150:627:0">生活服务 / 丽人服务</option>`, `<option value="287:612:0">工具 / 信息查询</option>`},
			notWant: []string{`data-testid="items-wechat-error"`}},
		{name: "items save with a category from the real list", method: "POST", url: items, who: "ownerF", status: 303,
			form: form("seq", "{seqCat}", "items.0.category", "150:627:0", "items.0.address", "pages/index/index", "items.0.title", "预约"),
			loc:  "/t/{F}/apps/{appCat}/releases/{relCat}?flash=release.items_saved",
			check: func(t *testing.T, h *harness, w *world) {
				var id, tid int64
				if err := h.st.R.QueryRow(`SELECT id, tenant_id FROM releases WHERE user_desc = '真机上新' AND state = 'preflight'`).Scan(&id, &tid); err != nil {
					t.Fatal(err)
				}
				r, err := h.st.Release(context.Background(), tid, id)
				if err != nil {
					t.Fatal(err)
				}
				it := r.Submit.Items
				if len(it) != 1 || it[0].FirstClass != "生活服务" || it[0].SecondClass != "丽人服务" || it[0].FirstID != 150 || it[0].SecondID != 627 || it[0].Title != "预约" {
					t.Errorf("items after save: %+v", it)
				}
			}},
		{name: "items save with a category not in the real list", method: "POST", url: items, who: "ownerF", status: 422,
			form: form("seq", "{seqCat}", "items.0.category", "287:999:0", "items.0.address", "pages/index/index"),
			want: []string{`data-testid="error-items.0.category"`, "t:release.items.err.category"}},
	}
}

// The screenshot proxy answers with the sandbox's real PNG, from our own
// origin, and asks WeChat once per media id.
func TestAuditScreenshotProxied(t *testing.T) {
	h := newHarness(t)
	r := h.fixture().repl
	viewer := h.client().login("owner@f.test")
	u := r.Replace("/t/{F}/apps/{appRej}/releases/{relRej}/screenshots/" + url.PathEscape("sandbox_media_screenshot_1"))
	before := sandboxOf(h).CallCount("get_material")
	for range 3 {
		res := viewer.get(u)
		wantStatus(t, "screenshot", res, 200)
		if ct := res.Header.Get("Content-Type"); ct != "image/png" {
			t.Fatalf("content type %q", ct)
		}
		cfg, format, err := image.DecodeConfig(bytes.NewReader([]byte(res.Body)))
		if err != nil || format != "png" || cfg.Width != 270 || cfg.Height != 480 {
			t.Fatalf("image: %v %s %dx%d", err, format, cfg.Width, cfg.Height)
		}
		if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "private") {
			t.Errorf("Cache-Control %q", cc)
		}
	}
	if n := sandboxOf(h).CallCount("get_material") - before; n != 1 {
		t.Errorf("get_material called %d times for three views, want 1", n)
	}
}
