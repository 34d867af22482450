package main

import (
	"context"
	"net/http/httptest"
	"os"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The QR loop ends well (issue #13 item 5): the desk shows the QR code; the
// phone that scans it (another browser, not signed in) approves on WeChat
// and lands on the public 授权完成 page; the desk page, in the same
// document, collapses the QR code and offers configuring the app; no
// background job failed.
func TestE2EQRLoopEndsWell(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skip("chromium is not installed (make chromium)")
	}
	if testing.Short() {
		t.Skip("browser test skipped with -short")
	}
	a := startE2EApp(t, cheapHasher)
	wx := httptest.NewServer(a.sandbox.sb)
	t.Cleanup(wx.Close)
	a.platform.Client.MPBase, a.platform.Client.OpenBase = wx.URL, wx.URL
	lctx, stopLoops := context.WithCancel(context.Background())
	var loops sync.WaitGroup
	loops.Add(2)
	go func() { defer loops.Done(); a.sandbox.run(lctx, a.log) }()
	go func() { defer loops.Done(); a.platform.Run(lctx) }()
	t.Cleanup(func() { stopLoops(); loops.Wait() })

	budget, stop := context.WithTimeout(context.Background(), 90*time.Second)
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
	br := startBrowser(t, budget, a.base, 1280, 800, "zh-CN")

	// At the desk.
	d := br.tab("desk")
	d.open("/signup", 200)
	d.do("fill sign-up form",
		chromedp.SendKeys(css("#f-tenant"), "桦树面包 Birch"),
		chromedp.SendKeys(css("#f-name"), "桦店长"),
		chromedp.SendKeys(css("#f-email"), "birch@bakery.example"),
		chromedp.SendKeys(css("#f-password"), "owner-password-1"),
	)
	d.nav("sign up", chromedp.Click(css("[data-testid=signup-submit]")))
	tid := regexp.MustCompile(`^/t/(\d+)`).FindStringSubmatch(d.path())
	if tid == nil {
		t.Fatalf("after sign-up at %s", d.path())
	}
	d.open("/t/"+tid[1]+"/authorize", 200)
	d.nav("authorize", chromedp.Click(css("[data-testid=authorize-start]")))
	d.do("QR code", chromedp.WaitVisible(css("[data-testid=qr-option]")))
	d.do("live", chromedp.WaitVisible(css("#live-indicator.is-live")))
	d.do("mark this document", chromedp.Evaluate[chromedp.Void](`window.__sameDocument = true`))
	link := d.value("[data-testid=auth-link]")

	// The phone scans the QR code: WeChat's page, approve, back to us.
	const wechatUA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.50(0x1800322d) NetType/WIFI Language/zh_CN"
	ph := br.tab("phone")
	ph.do("phone", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile))
	ph.userAgent(wechatUA)
	ph.nav("scan", chromedp.Navigate(link))
	ph.do("WeChat's page", chromedp.WaitVisible(css("[data-testid=auth-page]")))
	ph.do("name the Mini Program", chromedp.SendKeys(css("input[name=nickname]"), "桦树小程序"))
	if st := ph.nav("approve on the phone", chromedp.Click(css("[data-testid=approve]"))); st != 200 {
		t.Fatalf("the phone's callback answered %d", st)
	}
	ph.wantText("[data-testid=authorized-public]", "授权完成")
	ph.shot("qr-loop-phone-done")

	// The desk page updates in place: QR gone, next step offered.
	if _, err := chromedp.Run(d.ctx, chromedp.Poll[bool](`!!document.querySelector("[data-testid=attempt-configure]") && !document.querySelector("[data-testid=qr-option]")`)); err != nil {
		d.shot("qr-loop-desk-stuck")
		d.fail(err, "the desk collapses the QR code and offers configuring")
	}
	same, err := chromedp.Run(d.ctx, chromedp.Evaluate[bool](`window.__sameDocument === true`))
	if err != nil || !same {
		t.Fatalf("the desk page reloaded instead of updating in place (%v)", err)
	}
	d.shot("qr-loop-desk-done")
	if !centreIsControl(d, "[data-testid=attempt-configure]") {
		t.Fatal("the next step is covered")
	}
	d.nav("configure", chromedp.Click(css("[data-testid=attempt-configure]")))
	if !regexp.MustCompile(`^/t/\d+/apps/wx[0-9a-f]+/config$`).MatchString(d.path()) {
		t.Fatalf("next step went to %s", d.path())
	}
	var failed int
	if err := a.store.R.QueryRow(`SELECT COUNT(*) FROM jobs WHERE state = 'failed'`).Scan(&failed); err != nil || failed != 0 {
		t.Fatalf("failed jobs = %d (%v)", failed, err)
	}
}
