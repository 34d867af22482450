package main

import (
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat/sandbox"
)

// TestE2EReleaseShip clicks through what an approver does after the audit:
// a gray release to 10 %, its revert, the full release, and a rollback to
// the previous version once two versions were released, each checked in
// the page and in the sandbox's own view (get_gray_release_plan,
// get_history_version). The approver reads English on a 375 px screen; the
// review and release pages are screenshotted there.
func TestE2EReleaseShip(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skip("chromium is not installed (make chromium)")
	}
	if testing.Short() {
		t.Skip("browser test skipped with -short")
	}
	a, ctx, budget := startReleaseRig(t, 170*time.Second)

	// The cast: an owner who prepares, an approver who ships (in English).
	_, tn, appr, devActor := releaseCast(t, a, "dev@ship.example", "开发 Dev", "灰度面馆", "boss@ship.example", "Boss Approver")
	if err := a.store.SetPreferences(ctx, appr.ID, "en", "Asia/Shanghai"); err != nil {
		t.Fatal(err)
	}
	bossActor := model.Actor{UserID: appr.ID, Label: appr.Email}
	att, err := a.platform.Onboarding.Start(ctx, devActor, tn.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	appID, code, err := a.sandbox.sb.AuthorizeApp(att.PreAuthCode, sandbox.AppSpec{Nickname: "灰度面馆小程序"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.platform.Onboarding.Callback(ctx, devActor, tn.ID, att.ID, att.CallbackState, code); err != nil {
		t.Fatal(err)
	}
	if err := seedDemoTemplate(ctx, a.app); err != nil {
		t.Fatal(err)
	}
	if err := a.platform.Releases.SaveContact(ctx, devActor, tn.ID, store.TenantContact{Name: "王", Email: "dev@ship.example"}); err != nil {
		t.Fatal(err)
	}
	tpls, err := a.store.ListTemplates(ctx, false)
	if err != nil || len(tpls) == 0 {
		t.Fatalf("templates: %v %v", tpls, err)
	}
	tplID := tpls[0].TemplateID
	if _, err := a.platform.Releases.SaveConfig(ctx, devActor, tn.ID, appID, tplID, url.Values{"shopName": {"灰度面馆"}, "theme": {"light"}}, ""); err != nil {
		t.Fatalf("config: %v", err)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		rs, _ := a.store.ListReleases(ctx, tn.ID, appID, 5)
		for _, r := range rs {
			evs, _ := a.store.ReleaseEvents(ctx, tn.ID, r.ID)
			t.Logf("release %d %s: %s errcode %d", r.ID, r.UserVersion, r.State, r.Errcode)
			for _, e := range evs {
				t.Logf("  %s -%s-> %s (%s) %s", e.From, e.Event, e.To, e.Cause, e.Detail)
			}
		}
	})
	waitState := func(id int64, want model.ReleaseState) model.Release {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			r, err := a.store.Release(ctx, tn.ID, id)
			if err == nil && r.State == want {
				return r
			}
			if time.Now().After(deadline) {
				t.Fatalf("release %d never reached %s: %s %v", id, want, r.State, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// toApproval prepares and commits a version; the pipeline (commit, the
	// sandbox's 20 s privacy scan, preflight) runs in the background.
	toApproval := func(version string) model.Release {
		t.Helper()
		r, err := a.platform.Releases.PrepareRelease(ctx, tn.ID, appID, tplID, version, "版本 "+version, devActor)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.platform.Releases.Commit(ctx, tn.ID, r.ID, devActor, r.Seq); err != nil {
			t.Fatal(err)
		}
		return waitState(r.ID, model.RelAwaitingApproval)
	}

	// Version 1.0.0 goes live without the browser: gray needs a live version.
	r1 := toApproval("1.0.0")
	if _, err := a.platform.Releases.Approve(ctx, tn.ID, r1.ID, bossActor, r1.PayloadHash); err != nil {
		t.Fatal(err)
	}
	waitState(r1.ID, model.RelAuditing)
	if err := a.sandbox.sb.DecideAudit(appID, sandbox.AuditDecision{Outcome: sandbox.AuditApprove}); err != nil {
		t.Fatal(err)
	}
	waitState(r1.ID, model.RelApproved)
	if _, err := a.platform.Releases.Release(ctx, tn.ID, r1.ID, bossActor); err != nil {
		t.Fatal(err)
	}
	waitState(r1.ID, model.RelReleased)

	r2 := toApproval("2.0.0")
	tid := strconv.FormatInt(tn.ID, 10)
	relPath := "/t/" + tid + "/apps/" + appID + "/releases/" + strconv.FormatInt(r2.ID, 10)

	br := startBrowser(t, budget, a.base, 375, 812, "")
	boss := &tab{t: t, ctx: br.ctx, base: a.base, name: "approver"}
	boss.do("a phone-sized screen", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile))
	boss.open("/login", 200)
	boss.nav("log in",
		chromedp.SendKeys(css("#f-email"), "boss@ship.example"),
		chromedp.SendKeys(css("#f-password"), "release-password"),
		chromedp.Click(css(`[data-testid=login-submit]`)),
		chromedp.WaitVisible(css(`[data-testid=page-title]`)),
	)
	noOverflow := func(what string) {
		t.Helper()
		w, err := chromedp.Run(boss.ctx, chromedp.Evaluate[int64](`document.documentElement.scrollWidth`))
		if err != nil {
			boss.fail(err, "page width")
		}
		if w > 375 {
			boss.fail(nil, what+": the page is "+strconv.FormatInt(w, 10)+" px wide on a 375 px screen")
		}
	}
	confirmYes := func() { boss.do("answer the confirm", chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`)) }

	// The review page, in English on a phone, then the submission.
	boss.open(relPath+"/review", 200)
	boss.wantText(`[data-testid=review-version]`, "2.0.0")
	boss.wantText(`[data-testid=submit-audit]`, "Submit for review")
	boss.shot("ship-1-review-375-en")
	noOverflow("review page")
	boss.nav("submit for review", chromedp.Click(css(`[data-testid=submit-audit]`)),
		chromedp.WaitVisible(css(`[data-testid=release][data-state=auditing]`)))
	if err := a.sandbox.sb.DecideAudit(appID, sandbox.AuditDecision{Outcome: sandbox.AuditApprove}); err != nil {
		t.Fatal(err)
	}
	boss.do("approved, live", chromedp.WaitVisible(css(`[data-testid=release][data-state=approved]`)))

	// Gray release to 10 % (the field's default).
	if got := boss.value(`[data-testid=gray-percent]`); got != "10" {
		t.Errorf("gray percent field = %q, want 10", got)
	}
	confirmYes()
	boss.nav("gray release 10 %", chromedp.Click(css(`[data-testid=action-gray]`)),
		chromedp.WaitVisible(css(`[data-testid=release][data-state=gray]`)))
	boss.wantText(`[data-testid=release] h2`, "10%")
	boss.shot("ship-2-gray-375-en")
	noOverflow("release page in gray")
	plan, err := a.platform.Releases.WeChat.GrayReleasePlan(ctx, appID)
	if err != nil || plan.Status != 1 || plan.GrayPercentage != 10 {
		t.Fatalf("the sandbox's gray plan: %+v %v, want running at 10 %%", plan, err)
	}

	// Revert the gray release: back to approved, the sandbox's plan deleted.
	confirmYes()
	boss.nav("revert the gray release", chromedp.Click(css(`[data-testid=action-gray_revert]`)),
		chromedp.WaitVisible(css(`[data-testid=release][data-state=approved]`)))
	if plan, err := a.platform.Releases.WeChat.GrayReleasePlan(ctx, appID); err != nil || plan.Status != 4 {
		t.Fatalf("the sandbox's gray plan after the revert: %+v %v, want deleted (4)", plan, err)
	}

	// Release to everyone: 2.0.0 is live, 1.0.0 is in the history.
	confirmYes()
	boss.nav("release", chromedp.Click(css(`[data-testid=action-release]`)),
		chromedp.WaitVisible(css(`[data-testid=release][data-state=released]`)))
	boss.shot("ship-3-released-375-en")
	noOverflow("release page, released")
	h, err := a.platform.Releases.WeChat.ReleaseHistory(ctx, appID)
	if err != nil || len(h) != 1 || h[0].UserVersion != "1.0.0" {
		t.Fatalf("the sandbox's history after two releases: %+v %v, want [1.0.0]", h, err)
	}

	// Roll back: 2.0.0 goes offline, 1.0.0 is live again (no longer in the history).
	confirmYes()
	boss.nav("roll back", chromedp.Click(css(`[data-testid=action-rollback]`)),
		chromedp.WaitVisible(css(`[data-testid=release][data-state=rolled_back]`)))
	boss.shot("ship-4-rolled-back-375-en")
	if h, err := a.platform.Releases.WeChat.ReleaseHistory(ctx, appID); err != nil || len(h) != 0 {
		t.Fatalf("the sandbox's history after the rollback: %+v %v, want empty (1.0.0 live)", h, err)
	}
	if rs, err := a.store.TenantAppReleases(ctx, tn.ID); err != nil || rs[appID].LiveVersion != "1.0.0" {
		t.Errorf("live version after the rollback: %+v %v, want 1.0.0", rs[appID], err)
	}
}
