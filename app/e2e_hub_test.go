package main

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
)

// clickable fails unless the element at sel's centre is sel itself (or
// inside it): nothing covers the control.
func (b *tab) clickable(sel string) {
	b.t.Helper()
	ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(() => {
		const el = document.querySelector(%q); if (!el) return false;
		el.scrollIntoView({block: "center"});
		const r = el.getBoundingClientRect();
		const at = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
		return !!at && (at === el || el.contains(at));
	})()`, sel)))
	if err != nil || !ok {
		b.fail(err, sel+" is covered at its centre")
	}
}

// TestE2EAppHub: a merchant on a phone, in Chinese, starts on the tenant
// overview after signing in and only clicks: the overview lists the app,
// its page is the hub (live version 1.0.0, the trial QR code, the next
// step), the next step leads to the releases page, the 设置 tab binds a
// tester by WeChat ID (WeChat's refusal shown in words first) and removes
// it, each checked in the sandbox's own list.
func TestE2EAppHub(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skip("chromium is not installed (make chromium)")
	}
	if testing.Short() {
		t.Skip("browser test skipped with -short")
	}
	a, ctx, budget := startReleaseRig(t, 150*time.Second)
	owner, tn, appr, ownerActor := releaseCast(t, a, "owner@hub.example", "店主 Owner", "枢纽面馆", "appr@hub.example", "Approver")
	apprActor := model.Actor{UserID: appr.ID, Label: appr.Email}
	ma := authorizedApp(t, a, ctx, tn, ownerActor, apprActor, "owner@hub.example", "枢纽面馆小程序", "枢纽面馆")
	appID := ma.appID
	ma.goLive(t)

	br := startBrowser(t, budget, a.base, 375, 812, "zh-CN")
	m := &tab{t: t, ctx: br.ctx, base: a.base, name: "merchant"}
	m.do("a phone-sized screen", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile))
	m.open("/login", 200)
	m.nav("log in",
		chromedp.SendKeys(css("#f-email"), owner.Email),
		chromedp.SendKeys(css("#f-password"), "release-password"),
		chromedp.Click(css(`[data-testid=login-submit]`)),
		chromedp.WaitVisible(css(`[data-testid=page-title]`)),
	)
	// The overview shows the real app, not 还没有小程序.
	m.wantText(`[data-testid=apps-count]`, "1")
	m.wantText(`[data-testid=app-live-`+appID+`]`, "1.0.0")
	row := `[data-testid=app-row-` + appID + `] a`
	m.clickable(row)
	m.nav("open the app from the overview", chromedp.Click(css(row)), chromedp.WaitVisible(css(`[data-testid=app-hub]`)))
	m.wantText(`[data-testid=block-live-version]`, "1.0.0")
	m.wantText(`[data-testid=block-trial-version]`, "1.0.0")
	m.wantText(`[data-testid=block-audit]`, "暂无")
	m.do("the trial QR code loads", chromedp.WaitVisible(css(`[data-testid=trial-qr]`)))
	loaded, err := chromedp.Run(m.ctx, chromedp.Evaluate[bool](`document.querySelector("[data-testid=trial-qr]").naturalWidth > 0`))
	if err != nil || !loaded {
		m.fail(err, "the trial QR image did not load")
	}
	m.wantText(`[data-testid=next-step-button]`, "发布新版本")
	m.shot("hub-1-app-375-zh")
	m.noHorizontalScroll()
	m.clickable(`[data-testid=next-step-button]`)
	m.nav("the next step", chromedp.Click(css(`[data-testid=next-step-button]`)), chromedp.WaitVisible(css(`[data-testid=prepare-form]`)))

	// Settings tab: bind a tester, first with a WeChat ID WeChat does not know.
	m.clickable(`[data-testid=tab-settings]`)
	m.nav("the settings tab", chromedp.Click(css(`[data-testid=tab-settings]`)), chromedp.WaitVisible(css(`[data-testid=tester-form]`)))
	m.wantText(`[data-testid=testers]`, "还没有体验成员")
	m.nav("bind an unknown WeChat ID",
		chromedp.SendKeys(css("#f-wechatid"), "nouser_zhang"),
		chromedp.Click(css(`[data-testid=tester-bind]`)),
		chromedp.WaitVisible(css(`[data-testid=error-wechatid]`)))
	m.wantText(`[data-testid=error-wechatid]`, "微信号不存在")
	if got := m.value("#f-wechatid"); got != "nouser_zhang" {
		t.Errorf("the typed WeChat ID was not kept: %q", got)
	}
	m.nav("bind a real WeChat ID",
		chromedp.Clear(css("#f-wechatid")),
		chromedp.SendKeys(css("#f-wechatid"), "zhang_san"),
		chromedp.Click(css(`[data-testid=tester-bind]`)),
		chromedp.WaitVisible(css(`[data-testid=tester-list]`)))
	m.wantText(`[data-testid=tester-list]`, "zhang_san")
	m.shot("hub-2-testers-375-zh")
	m.noHorizontalScroll()
	if users, err := a.platform.Releases.WeChat.Testers(ctx, appID); err != nil || len(users) != 1 {
		t.Fatalf("the sandbox's testers after binding: %v %v", users, err)
	}
	m.do("answer the confirm", chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`))
	m.clickable(`[data-testid=tester-unbind]`)
	m.nav("unbind the tester", chromedp.Click(css(`[data-testid=tester-unbind]`)), chromedp.WaitVisible(css(`[data-testid=tester-form]`)))
	m.wantText(`[data-testid=testers]`, "还没有体验成员")
	if users, err := a.platform.Releases.WeChat.Testers(ctx, appID); err != nil || len(users) != 0 {
		t.Fatalf("the sandbox's testers after unbinding: %v %v", users, err)
	}
	if rows, err := a.store.ListActivity(ctx, store.ActivityFilter{TenantID: tn.ID, Action: store.ActTesterUnbind}); err != nil || len(rows) != 1 || rows[0].Detail != "zhang_san" {
		t.Errorf("the unbinding's activity: %+v %v", rows, err)
	}

	// The approver at a desk, in English: from the landing page to the hub.
	wide := startBrowser(t, budget, a.base, 1280, 900, "en")
	ap := &tab{t: t, ctx: wide.ctx, base: a.base, name: "approver"}
	ap.open("/login", 200)
	ap.nav("log in",
		chromedp.SendKeys(css("#f-email"), appr.Email),
		chromedp.SendKeys(css("#f-password"), "release-password"),
		chromedp.Click(css(`[data-testid=login-submit]`)),
		chromedp.WaitVisible(css(`[data-testid=page-title]`)),
	)
	ap.clickable(row)
	ap.nav("open the app from the overview", chromedp.Click(css(row)), chromedp.WaitVisible(css(`[data-testid=app-hub]`)))
	ap.wantText(`[data-testid=block-live]`, "Live version")
	ap.wantText(`[data-testid=block-live-version]`, "1.0.0")
	ap.wantText(`[data-testid=block-audit]`, "None yet")
	ap.do("the trial QR code shows", chromedp.WaitVisible(css(`[data-testid=trial-qr]`)))
	ap.shot("hub-3-app-1280-en")
	for _, tabSel := range []string{`[data-testid=tab-config]`, `[data-testid=tab-releases]`, `[data-testid=tab-settings]`} {
		ap.clickable(tabSel)
	}
	ap.nav("the settings tab", chromedp.Click(css(`[data-testid=tab-settings]`)), chromedp.WaitVisible(css(`[data-testid=testers]`)))
	ap.wantText(`[data-testid=testers]`, "No testers yet")
}
