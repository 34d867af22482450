package main

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
)

// TestE2ELinks: once 1.0.0 is live (through the real pipeline), a merchant
// on a phone clicks from the overview to the app, its 链接 tab, makes a URL
// Link to the home page and sees it listed with its QR code and a copy
// button; WeChat (the sandbox) knows the link, and it is logged.
func TestE2ELinks(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skip("chromium is not installed (make chromium)")
	}
	if testing.Short() {
		t.Skip("browser test skipped with -short")
	}
	a, ctx, budget := startReleaseRig(t, 150*time.Second)
	owner, tn, appr, ownerActor := releaseCast(t, a, "owner@links.example", "店主 Owner", "链接面馆", "appr@links.example", "Approver")
	apprActor := model.Actor{UserID: appr.ID, Label: appr.Email}
	ma := authorizedApp(t, a, ctx, tn, ownerActor, apprActor, "owner@links.example", "链接面馆小程序", "链接面馆")
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
	row := `[data-testid=app-row-` + appID + `] a`
	m.clickable(row)
	m.nav("open the app from the overview", chromedp.Click(css(row)), chromedp.WaitVisible(css(`[data-testid=app-hub]`)))
	m.clickable(`[data-testid=tab-links]`)
	m.nav("the links tab", chromedp.Click(css(`[data-testid=tab-links]`)), chromedp.WaitVisible(css(`[data-testid=link-form]`)))
	m.wantText(`[data-testid=links-live]`, "1.0.0")
	m.wantText(`[data-testid=links]`, "还没有链接")
	m.nav("make a URL Link valid 7 days",
		chromedp.Clear(css(`[data-testid=link-expire-days]`)),
		chromedp.SendKeys(css(`[data-testid=link-expire-days]`), "7"),
		chromedp.Click(css(`[data-testid=link-create]`)),
		chromedp.WaitVisible(css(`[data-testid=link-list]`)))
	links, err := a.store.AppLinks(ctx, tn.ID, appID)
	if err != nil || len(links) != 1 || links[0].Kind != store.LinkURLLink {
		t.Fatalf("links after making one: %+v %v", links, err)
	}
	l := links[0]
	id := "link-text-" + strconv.FormatInt(l.ID, 10)
	if got := m.value("#" + id); got != l.Link || !strings.HasPrefix(got, "https://wxaurl.cn/") {
		t.Errorf("the copy field shows %q, the link is %q", got, l.Link)
	}
	qr := `[data-testid=link-qr-` + strconv.FormatInt(l.ID, 10) + `] svg`
	m.do("the QR code is shown", chromedp.WaitVisible(css(qr)))
	title, err := chromedp.Run(m.ctx, chromedp.Evaluate[string](`document.querySelector("[data-testid=link-qr-`+strconv.FormatInt(l.ID, 10)+`] svg title").textContent`))
	if err != nil || strings.TrimSpace(title) != l.Link {
		t.Errorf("the QR code encodes %q, want %q (%v)", title, l.Link, err)
	}
	wide, err := chromedp.Run(m.ctx, chromedp.Evaluate[float64](`document.querySelector("`+strings.ReplaceAll(qr, `"`, `\"`)+`").getBoundingClientRect().width`))
	if err != nil || wide < 150 {
		t.Errorf("the QR code is %v px wide, too small to scan (%v)", wide, err)
	}
	m.wantText(`[data-testid=link-expiry]`, "")
	m.clickable(`[data-copy="#` + id + `"]`)
	m.shot("links-1-urllink-375-zh")
	m.noHorizontalScroll()
	// WeChat has the link, with the page and expiry asked for.
	info, err := a.platform.Releases.WeChat.QueryURLLink(context.Background(), appID, l.Link)
	if err != nil || info.Path != "" || info.ExpireTime == 0 {
		t.Errorf("WeChat's record of the link: %+v %v", info, err)
	}
	if rows, err := a.store.ListActivity(ctx, store.ActivityFilter{TenantID: tn.ID, Action: store.ActLinkCreated}); err != nil || len(rows) != 1 {
		t.Errorf("the link's activity: %+v %v", rows, err)
	}
	// The state page asks WeChat.
	m.nav("the link's state in WeChat", chromedp.Click(css(`[data-testid=link-state]`)), chromedp.WaitVisible(css(`[data-testid=link-wechat]`)))
	m.wantText(`[data-testid=remain-visits]`, "6000000")
}
