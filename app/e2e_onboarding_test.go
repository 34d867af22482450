package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// TestE2EOnboarding drives chromium through merchant onboarding against the
// whole app and its sandbox: sign up on a phone inside WeChat → authorize
// with the quick-auth link → back on the app's page; then at a desk →
// the PC scan page opened from our page (Referer checked) → back; then the
// merchant revokes in the sandbox and the open app page turns unauthorized
// without a reload. The sandbox's pages are served from another origin, as
// WeChat's are, so the site-wide Referrer-Policy really is crossed.
func TestE2EOnboarding(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skip("chromium is not installed (make chromium)")
	}
	if testing.Short() {
		t.Skip("browser test skipped with -short")
	}
	a := startE2EApp(t, cheapHasher)
	wx := httptest.NewServer(a.sandbox.sb) // "mp.weixin.qq.com" and "open.weixin.qq.com"
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
	// The first ticket push must land before a pre_auth_code can be made.
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
	m := br.tab("merchant")

	// On a phone, inside WeChat.
	const wechatUA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.50(0x1800322d) NetType/WIFI Language/zh_CN"
	m.do("phone", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile))
	m.userAgent(wechatUA)
	m.open("/signup", 200)
	m.do("fill sign-up form",
		chromedp.SendKeys(css("#f-tenant"), "云杉咖啡 Spruce"),
		chromedp.SendKeys(css("#f-name"), "林店长"),
		chromedp.SendKeys(css("#f-email"), "lin@spruce.example"),
		chromedp.SendKeys(css("#f-password"), "owner-password-1"),
	)
	m.nav("sign up", chromedp.Click(css("[data-testid=signup-submit]")))
	tid := regexp.MustCompile(`^/t/(\d+)`).FindStringSubmatch(m.path())
	if tid == nil {
		t.Fatalf("after sign-up at %s, want /t/<id>", m.path())
	}
	m.open("/t/"+tid[1]+"/apps", 200)
	m.wantText("[data-testid=empty]", "还没有小程序")
	m.shot("onb-01-apps-empty-phone")
	m.nav("authorize", chromedp.Click(css("[data-testid=empty] [data-testid=authorize-start]")))
	if !regexp.MustCompile(`^/t/\d+/authorize/\d+$`).MatchString(m.path()) {
		t.Fatalf("authorize landed on %s", m.path())
	}
	if !m.before("[data-testid=mobile-option]", "[data-testid=qr-option]") {
		t.Fatal("inside WeChat the quick-auth button must come before the QR code")
	}
	if _, err := chromedp.Run(m.ctx, chromedp.Poll[bool](`/\d+:\d\d$/.test(document.querySelector("[data-testid=countdown]").textContent)`)); err != nil {
		m.fail(err, "the countdown ticks")
	}
	m.noHorizontalScroll()
	m.shot("onb-02-authorize-phone-wechat")
	m.nav("open the quick-auth link", chromedp.Click(css("[data-testid=mobile-link]")))
	m.do("WeChat's mobile page", chromedp.WaitVisible(css("[data-testid=auth-page]")))
	if !strings.HasPrefix(m.path(), wx.URL+"/wxaopen/safe/bindcomponent?action=bindcomponent&no_scan=1&") {
		t.Fatalf("quick-auth link opened %s", m.path())
	}
	m.do("name the new Mini Program", chromedp.SendKeys(css("input[name=nickname]"), "云杉小程序"))
	m.nav("approve on WeChat", chromedp.Click(css("[data-testid=approve]")))
	m.do("app page", chromedp.WaitVisible(css("[data-testid=app-name]")))
	m.wantText("[data-testid=app-name]", "云杉小程序")
	m.wantText("#app-live [data-testid=app-status]", "已授权")
	m.noHorizontalScroll()
	m.shot("onb-03-app-phone")

	// At a desk: the QR code first, and the PC scan page opened from our page.
	m.do("desktop", chromedp.EmulateViewport(1280, 800))
	m.userAgent("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36")
	m.open("/t/"+tid[1]+"/authorize", 200)
	m.nav("authorize again", chromedp.Click(css("[data-testid=authorize-start]")))
	attemptPath := m.path()
	if !m.before("[data-testid=qr-option]", "[data-testid=mobile-option]") {
		t.Fatal("on a desktop the QR code must come before the quick-auth button")
	}
	m.do("QR code", chromedp.WaitVisible(css("svg[data-testid=qr]")))
	m.shot("onb-04-authorize-desktop")
	pcURL, err := chromedp.Run(m.ctx, chromedp.Evaluate[string](`document.querySelector("[data-testid=pc-link]").href`))
	if err != nil {
		t.Fatal(err)
	}
	// Pasted into the address bar (no Referer), WeChat refuses the page.
	m.nav("PC page without a Referer", chromedp.Navigate(pcURL))
	m.wantText("[data-testid=auth-error]", "授权入口页所在域名：空")
	m.open(attemptPath, 200)
	m.nav("open the PC page from our page", chromedp.Click(css("[data-testid=pc-link]")))
	m.do("WeChat's PC page", chromedp.WaitVisible(css("[data-testid=auth-page]")))
	m.do("QR on WeChat's page", chromedp.WaitVisible(css("[data-testid=auth-qr]")))
	m.do("name the second Mini Program", chromedp.SendKeys(css("input[name=nickname]"), "云杉二号"))
	m.nav("approve on the PC page", chromedp.Click(css("[data-testid=approve]")))
	m.do("second app page", chromedp.WaitVisible(css("[data-testid=app-name]")))
	m.wantText("[data-testid=app-name]", "云杉二号")
	appID := m.path()[strings.LastIndex(m.path(), "/")+1:]
	if i := strings.IndexByte(appID, '?'); i >= 0 {
		appID = appID[:i]
	}

	// Both apps are listed.
	m.open("/t/"+tid[1]+"/apps", 200)
	m.wantText("[data-testid=apps]", "云杉小程序")
	m.wantText("[data-testid=apps]", "云杉二号")
	m.shot("onb-05-apps-desktop")

	// The merchant revokes in the sandbox; the open page follows live.
	m.open("/t/"+tid[1]+"/apps/"+appID, 200)
	m.do("live stream connected", chromedp.WaitVisible(css("#live-indicator.is-live")))
	m.do("mark this document", chromedp.Evaluate[chromedp.Void](`window.__sameDocument = true`))
	if err := a.sandbox.sb.Revoke(appID); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(m.ctx, chromedp.Poll[bool](`(document.querySelector("#app-live [data-testid=app-status]") || {}).textContent.includes("已取消授权")`)); err != nil {
		m.fail(err, "wait for the unauthorized badge")
	}
	same, err := chromedp.Run(m.ctx, chromedp.Evaluate[bool](`window.__sameDocument === true`))
	if err != nil || !same {
		t.Fatalf("the page reloaded instead of updating in place (%v)", err)
	}
	m.wantText("[data-testid=unauthorized-notice]", "取消授权")
	m.shot("onb-06-unauthorized-live")
}

// userAgent makes the tab present itself as ua.
func (b *tab) userAgent(ua string) {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: ua}); err != nil {
		b.fail(err, "user agent")
	}
}

// before reports whether the element a precedes b in the document.
func (b *tab) before(a, c string) bool {
	b.t.Helper()
	ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](fmt.Sprintf(
		`!!(document.querySelector(%q).compareDocumentPosition(document.querySelector(%q)) & Node.DOCUMENT_POSITION_FOLLOWING)`, a, c)))
	if err != nil {
		b.fail(err, "order of "+a+" and "+c)
	}
	return ok
}

// noHorizontalScroll fails when the page is wider than the viewport.
func (b *tab) noHorizontalScroll() {
	b.t.Helper()
	w, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth - window.innerWidth`))
	if err != nil {
		b.fail(err, "page width")
	}
	if w > 0 {
		b.fail(fmt.Errorf("page is %d px wider than the viewport", w), "phone layout")
	}
}
