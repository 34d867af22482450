package main

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestE2ECampaign: the demo owner creates a campaign over the demo fleet in
// the browser (the preview shows the counts); the demo approver, on a
// 375 px phone, approves it; the owner's page, never reloaded, follows the
// engine over SSE until the campaign is done.
func TestE2ECampaign(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skip("chromium is not installed (make chromium)")
	}
	if testing.Short() {
		t.Skip("browser test skipped with -short")
	}
	a, tid, budget := startCampaignRig(t, 150*time.Second)
	base := "/t/" + strconv.FormatInt(tid, 10) + "/campaigns"

	br := startBrowser(t, budget, a.base, 1280, 900, "zh-CN")
	newTab := br.tab
	login := func(b *tab, email string) {
		b.open("/login", 200)
		b.nav("log in "+email,
			chromedp.SendKeys(css("#f-email"), email),
			chromedp.SendKeys(css("#f-password"), demoPassword),
			chromedp.Click(css(`[data-testid=login-submit]`)),
			chromedp.WaitVisible(css(`[data-testid=page-title]`)),
		)
	}

	// The owner fills the form, previews, creates.
	owner := newTab("owner")
	login(owner, demoOwnerEmail)
	owner.open(base, 200)
	owner.nav("new campaign", chromedp.Click(css(`[data-testid=campaign-new]`)), chromedp.WaitVisible(css(`[data-testid=campaign-form]`)))
	owner.do("fill the form",
		chromedp.SendKeys(css(`#f-name`), "春季全量升级"),
		chromedp.SendKeys(css(`#f-user_version`), "2.0.0"),
		chromedp.SendKeys(css(`#f-user_desc`), "春季上新"),
		chromedp.SetValue(css(`[data-testid=campaign-tag]`), demoFleetTag),
	)
	owner.do("preview", chromedp.Click(css(`[data-testid=campaign-preview-button]`)), chromedp.WaitVisible(css(`[data-testid=preview-targets]`)))
	owner.wantText(`[data-testid=preview-targets]`, "12 个小程序将被发布")
	owner.shot("campaign-1-preview")
	owner.nav("create", chromedp.Click(css(`[data-testid=campaign-create]`)),
		chromedp.WaitVisible(css(`[data-testid=campaign][data-state=awaiting_approval]`)))
	page := strings.SplitN(owner.path(), "?", 2)[0]
	owner.wantText(`[data-testid=approve-reason]`, "不能自己批准")
	owner.do("the page is live, and marked to catch a reload",
		chromedp.WaitVisible(css(`#live-indicator.is-live`)),
		chromedp.Evaluate[chromedp.Void](`window.__notReloaded = true`))

	// The approver, on a phone, approves.
	appr := newTab("approver")
	appr.do("a phone-sized screen", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile))
	login(appr, demoApproverEmail)
	appr.open(page, 200)
	noOverflow := func(b *tab, what string) {
		t.Helper()
		w, err := chromedp.Run(b.ctx, chromedp.Evaluate[int64](`document.documentElement.scrollWidth`))
		if err != nil {
			b.fail(err, "page width")
		}
		if w > 375 {
			b.fail(nil, what+": the page is "+strconv.FormatInt(w, 10)+" px wide on a 375 px screen")
		}
	}
	noOverflow(appr, "campaign page awaiting approval")
	appr.shot("campaign-2-approve-375")
	appr.do("answer the confirm", chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`))
	appr.nav("approve", chromedp.Click(css(`[data-testid=campaign-approve]`)), chromedp.WaitVisible(css(`[data-testid=campaign]`)))

	// The owner's page follows the engine without a reload.
	owner.do("the campaign runs to done, live", chromedp.WaitVisible(css(`[data-testid=campaign][data-state=done]`)))
	still, err := chromedp.Run(owner.ctx, chromedp.Evaluate[bool](`window.__notReloaded === true`))
	if err != nil || !still {
		owner.fail(err, "the owner's page was reloaded; it should have updated over SSE")
	}
	owner.wantText(`[data-testid=count-released]`, "12")
	owner.wantText(`[data-testid=campaign-percent]`, "100%")
	owner.wantText(`[data-testid=campaign-approver]`, demoApproverEmail)
	owner.shot("campaign-3-done")

	appr.open(page, 200)
	appr.do("done on the phone too", chromedp.WaitVisible(css(`[data-testid=campaign][data-state=done]`)))
	noOverflow(appr, "campaign page with its apps table")
	appr.shot("campaign-4-done-375")
}
