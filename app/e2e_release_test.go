package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat/sandbox"
)

// TestE2ERelease: a developer edits the config → prepares → commits; an
// approver (another user) submits; the sandbox approves; the approver
// releases; the developer's apps list shows the released version live,
// without a reload.
func TestE2ERelease(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skip("chromium is not installed (make chromium)")
	}
	if testing.Short() {
		t.Skip("browser test skipped with -short")
	}
	a, ctx, budget := startReleaseRig(t, 150*time.Second)

	// The cast: a developer (owner) and an approver of one tenant, with an
	// authorized app, the demo template (schema) and a contact.
	_, tn, _, devActor := releaseCast(t, a, "dev@shop.example", "开发 Dev", "老王面馆", "boss@shop.example", "审批 Boss")
	att, err := a.platform.Onboarding.Start(ctx, devActor, tn.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	appID, code, err := a.sandbox.sb.AuthorizeApp(att.PreAuthCode, sandbox.AppSpec{Nickname: "老王面馆小程序"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.platform.Onboarding.Callback(ctx, devActor, tn.ID, att.ID, att.CallbackState, code); err != nil {
		t.Fatal(err)
	}
	if err := seedDemoTemplate(ctx, a.app); err != nil {
		t.Fatal(err)
	}
	if err := a.platform.Releases.SaveContact(ctx, devActor, tn.ID, store.TenantContact{Name: "王", Email: "dev@shop.example", NoticeMethod: "弹窗"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		rs, _ := a.store.ListReleases(ctx, tn.ID, "", 5)
		all, _ := a.store.ReleasesInStates(ctx, model.ReleaseStates, 10)
		for _, r := range append(rs, all...) {
			evs, _ := a.store.ReleaseEvents(ctx, tn.ID, r.ID)
			t.Logf("release %d: %s errcode %d", r.ID, r.State, r.Errcode)
			for _, e := range evs {
				t.Logf("  %s -%s-> %s (%s) %s", e.From, e.Event, e.To, e.Cause, e.Detail)
			}
		}
	})
	tid := strconv.FormatInt(tn.ID, 10)
	appPath := "/t/" + tid + "/apps/" + appID

	br := startBrowser(t, budget, a.base, 1280, 900, "zh-CN")
	newTab := br.tab
	login := func(b *tab, email string) {
		b.open("/login", 200)
		b.nav("log in "+email,
			chromedp.SendKeys(css("#f-email"), email),
			chromedp.SendKeys(css("#f-password"), "release-password"),
			chromedp.Click(css(`[data-testid=login-submit]`)),
			chromedp.WaitVisible(css(`[data-testid=page-title]`)),
		)
	}
	devTab := newTab("developer")
	login(devTab, "dev@shop.example")

	// The apps list stays open in a second tab of the developer's session.
	listTab := &tab{t: t, base: a.base, name: "apps list"}
	lc, cancelList := chromedp.NewContext(devTab.ctx)
	t.Cleanup(cancelList)
	listTab.ctx = lc
	listTab.open("/t/"+tid+"/apps", 200)
	listTab.do("the apps list is live", chromedp.WaitVisible(css(`#live-indicator.is-live`)))
	listTab.wantText(`[data-testid=app-release-`+appID+`]`, "暂无")

	// Config: type into the generated form; a bad value is kept with its error.
	devTab.open(appPath+"/config", 200)
	devTab.nav("save a config with a bad color",
		chromedp.SetValue(css(`#cf-shopName`), "老王面馆"),
		chromedp.SetValue(css(`#cf-brandColor`), "green"),
		chromedp.Click(css(`[data-testid=config-save]`)),
		chromedp.WaitVisible(css(`[data-testid=error-brandColor]`)),
	)
	if got := devTab.value(`#cf-brandColor`); got != "green" {
		t.Fatalf("the typed color was lost: %q", got)
	}
	devTab.nav("add a banner row without JS",
		chromedp.SetValue(css(`#cf-brandColor`), "#C0392B"),
		chromedp.Click(css(`[data-testid=add-banners]`)),
		chromedp.WaitVisible(css(`#cf-banners-0-image`)),
	)
	devTab.nav("save the config",
		chromedp.SetValue(css(`#cf-banners-0-image`), "https://img.example/noodles.png"),
		chromedp.SetValue(css(`#cf-banners-0-title`), "招牌面"),
		chromedp.Click(css(`[data-testid=config-save]`)),
		chromedp.WaitVisible(css(`[data-testid=version-1]`)),
	)
	devTab.shot("release-1-config")

	// Prepare and commit.
	devTab.open(appPath+"/releases", 200)
	devTab.nav("prepare 1.0.0",
		chromedp.SendKeys(css(`#f-user_version`), "1.0.0"),
		chromedp.SendKeys(css(`#f-user_desc`), "首个版本"),
		chromedp.Click(css(`[data-testid=prepare-submit]`)),
		chromedp.WaitVisible(css(`[data-testid=action-commit]`)),
	)
	relPath := devTab.path()
	if i := len(relPath) - len("?flash=release.prepared"); i > 0 && relPath[i:] == "?flash=release.prepared" {
		relPath = relPath[:i]
	}
	devTab.nav("commit", chromedp.Click(css(`[data-testid=action-commit]`)), chromedp.WaitVisible(css(`[data-testid=release]`)))
	// The pipeline (commit job, 20 s privacy scan, preflight) first, then
	// the page, which must follow live.
	waitState := func(want model.ReleaseState) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			rs, err := a.store.ListReleases(ctx, tn.ID, appID, 1)
			if err == nil && len(rs) == 1 && rs[0].State == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("release never reached %s: %+v %v", want, rs, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitState(model.RelAwaitingApproval)
	live, cancelLive := context.WithTimeout(devTab.ctx, 10*time.Second)
	if _, err := chromedp.Run(live, chromedp.WaitVisible(css(`[data-testid=release][data-state=awaiting_approval]`))); err != nil {
		cancelLive()
		devTab.fail(err, "the release page did not follow the pipeline live")
	}
	cancelLive()
	devTab.shot("release-2-awaiting-approval")
	// The developer prepared it: no review button for them as owner either.
	devTab.open(relPath+"/review", 200)
	devTab.wantText(`[data-testid=submit-reason]`, "由你准备")

	// The audit items page on a phone: nothing sticks out past the screen.
	devTab.do("a phone-sized screen", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile))
	devTab.open(relPath+"/items", 200)
	devTab.do("the items form", chromedp.WaitVisible(css(`[data-testid=items-form]`)))
	noHorizontalOverflow(devTab, "audit items page", 375)
	devTab.shot("release-2b-items-375")
	devTab.do("back to a desktop screen", chromedp.EmulateViewport(1280, 900))

	// The approver reviews and submits.
	bossTab := newTab("approver")
	login(bossTab, "boss@shop.example")
	bossTab.open(relPath+"/review", 200)
	bossTab.wantText(`[data-testid=review-version]`, "1.0.0")
	bossTab.wantText(`[data-testid=diff]`, "老王面馆")
	bossTab.shot("release-3-review")
	bossTab.nav("submit for review", chromedp.Click(css(`[data-testid=submit-audit]`)),
		chromedp.WaitVisible(css(`[data-testid=release][data-state=auditing]`)))

	// WeChat's reviewers reject it first, with two screenshots: the page
	// shows them as images, fetched through the app's token by our proxy.
	if err := a.sandbox.sb.DecideAudit(appID, sandbox.AuditDecision{Outcome: sandbox.AuditReject, Reason: "页面存在测试内容",
		ScreenShot: "sandbox_media_screenshot_1|sandbox_media_screenshot_2"}); err != nil {
		t.Fatal(err)
	}
	bossTab.do("rejected, live", chromedp.WaitVisible(css(`[data-testid=release][data-state=rejected]`)))
	devTab.open(relPath, 200)
	devTab.wantText(`[data-testid=audit-reason]`, "页面存在测试内容")
	const shotWidths = `Array.from(document.querySelectorAll('[data-testid=screenshots] img')).map(i => i.complete ? i.naturalWidth : -1).join(',')`
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		got, err := chromedp.Run(devTab.ctx, chromedp.Evaluate[string](shotWidths))
		if err == nil && got == "270,270" {
			break
		}
		if time.Now().After(deadline) {
			devTab.fail(err, "the audit screenshots did not load as images: widths "+got)
		}
	}
	devTab.shot("release-3b-rejected-screenshots")
	devTab.nav("check again after fixing", chromedp.Click(css(`[data-testid=action-recheck]`)), chromedp.WaitVisible(css(`[data-testid=release]`)))
	waitState(model.RelAwaitingApproval)
	bossTab.open(relPath+"/review", 200)
	bossTab.nav("submit for review again", chromedp.Click(css(`[data-testid=submit-audit]`)),
		chromedp.WaitVisible(css(`[data-testid=release][data-state=auditing]`)))

	// WeChat's reviewers approve (the sandbox console's decision); the push moves it live.
	if err := a.sandbox.sb.DecideAudit(appID, sandbox.AuditDecision{Outcome: sandbox.AuditApprove}); err != nil {
		t.Fatal(err)
	}
	bossTab.do("approved, live", chromedp.WaitVisible(css(`[data-testid=release][data-state=approved]`)))
	bossTab.do("answer the confirm", chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`))
	bossTab.nav("release", chromedp.Click(css(`[data-testid=action-release]`)),
		chromedp.WaitVisible(css(`[data-testid=release][data-state=released]`)))
	bossTab.shot("release-4-released")

	// The developer's apps list, never reloaded, shows the live version.
	listTab.do("the apps list shows the released version without a reload",
		chromedp.WaitVisible(css(`[data-testid=app-live-`+appID+`]`)))
	listTab.wantText(`[data-testid=app-live-`+appID+`]`, "1.0.0")
	listTab.shot("release-5-apps-list")
}

// startReleaseRig starts the whole app with its background loops (sandbox,
// platform, onboarding, releases) and waits for the sandbox's first ticket.
func startReleaseRig(t *testing.T, d time.Duration) (*e2eApp, context.Context, context.Context) {
	t.Helper()
	a := startE2EApp(t, cheapHasher)
	a.platform.Releases.ScanPoll = 500 * time.Millisecond // the sandbox scans for 20 s; poll often, and long enough
	a.platform.Releases.ScanMaxPolls = 400
	lctx, stopLoops := context.WithCancel(context.Background())
	var loops sync.WaitGroup
	loops.Add(2)
	go func() { defer loops.Done(); a.sandbox.run(lctx, a.log) }()
	go func() { defer loops.Done(); a.platform.Run(lctx) }()
	t.Cleanup(func() { stopLoops(); loops.Wait() })

	budget, stop := context.WithTimeout(context.Background(), d)
	t.Cleanup(stop)
	for {
		h, err := a.store.ComponentHealth(budget, a.cfg.WeChat.ComponentAppID)
		if err == nil && h.HasTicket {
			break
		}
		select {
		case <-budget.Done():
			t.Fatal("no component_verify_ticket arrived from the sandbox")
		case <-time.After(20 * time.Millisecond):
		}
	}
	return a, context.Background(), budget
}

// releaseCast signs up a tenant whose owner prepares releases, and invites
// a second user as its approver (the two-person rule needs both).
func releaseCast(t *testing.T, a *e2eApp, devEmail, devName, tenant, apprEmail, apprName string) (model.User, model.Tenant, model.User, model.Actor) {
	t.Helper()
	ctx := context.Background()
	hash, err := cheapHasher.Hash("release-password")
	if err != nil {
		t.Fatal(err)
	}
	dev, tn, err := a.store.Signup(ctx, model.User{Email: devEmail, Name: devName, PasswordHash: hash}, tenant, "")
	if err != nil {
		t.Fatal(err)
	}
	a.authz.SetTenantRole(dev.ID, tn.ID, model.RoleOwner)
	devActor := model.Actor{UserID: dev.ID, Label: dev.Email}
	appr, err := a.store.CreateUser(ctx, devActor, model.User{Email: apprEmail, Name: apprName, PasswordHash: hash})
	if err != nil {
		t.Fatal(err)
	}
	_, tok, err := a.store.CreateInvite(ctx, devActor, tn.ID, model.RoleApprover, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.store.AcceptInvite(ctx, tok, appr.ID, nil, ""); err != nil {
		t.Fatal(err)
	}
	a.authz.SetTenantRole(appr.ID, tn.ID, model.RoleApprover)
	return dev, tn, appr, devActor
}

// overflowJS reports the page's scroll width and the visible elements whose
// right edge passes the viewport, except inside a box that scrolls or clips
// sideways and itself fits (a wide table in its scroll wrapper is fine).
const overflowJS = `(() => {
	const w = document.documentElement.clientWidth, out = [];
	for (const el of document.querySelectorAll('body *')) {
		const r = el.getBoundingClientRect();
		if (r.width === 0 || r.height === 0 || r.right <= w + 1) continue;
		if (getComputedStyle(el).visibility === 'hidden') continue;
		let p = el.parentElement, contained = false;
		for (; p && p !== document.body; p = p.parentElement) {
			const ox = getComputedStyle(p).overflowX;
			if ((ox === 'auto' || ox === 'scroll' || ox === 'hidden' || ox === 'clip') && p.getBoundingClientRect().right <= w + 1) { contained = true; break; }
		}
		if (!contained) out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.dataset.testid ? '[' + el.dataset.testid + ']' : '') + ' right=' + Math.round(r.right));
	}
	return JSON.stringify({scroll: document.documentElement.scrollWidth, out: out.slice(0, 8)});
})()`

// noHorizontalOverflow fails when the page is wider than width or any
// element sticks out past its right edge.
func noHorizontalOverflow(b *tab, what string, width int64) {
	b.t.Helper()
	raw, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](overflowJS))
	if err != nil {
		b.fail(err, what+": measuring overflow")
	}
	var got struct {
		Scroll int64    `json:"scroll"`
		Out    []string `json:"out"`
	}
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		b.fail(err, what+": "+raw)
	}
	if got.Scroll > width || len(got.Out) > 0 {
		b.fail(nil, fmt.Sprintf("%s: %d px wide on a %d px screen; past the edge: %v", what, got.Scroll, width, got.Out))
	}
}
