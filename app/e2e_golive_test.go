package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/minifleet/minifleet/app/model"
)

// A staff admin on a phone reaches the go-live checklist from the nav,
// sees the verification-file line red, uploads the file WeChat handed out
// on the verification files page (reached from the nav too), and the line
// turns green; the file is then served at the web root.
func TestE2EGoLiveChecklist(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skip("chromium is not installed (make chromium)")
	}
	if testing.Short() {
		t.Skip("browser test skipped with -short")
	}
	a, _, budget := startReleaseRig(t, 90*time.Second)
	ctx := context.Background()
	u, err := createStaff(ctx, a.store, "golive@minifleet.test", "上线 Ops", "golive-password-1", model.StaffAdmin)
	if err != nil {
		t.Fatal(err)
	}
	a.authz.SetStaffRole(u.ID, model.StaffAdmin)
	file := filepath.Join(t.TempDir(), "MP_verify_e2eGoLive.txt")
	if err := os.WriteFile(file, []byte("e2e-go-live-token"), 0o600); err != nil {
		t.Fatal(err)
	}

	br := startBrowser(t, budget, a.base, 375, 812, "zh-CN")
	b := br.tab("admin")
	b.do("phone", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile))
	b.open("/login", 200)
	b.nav("log in",
		chromedp.SendKeys(css("#f-email"), "golive@minifleet.test"),
		chromedp.SendKeys(css("#f-password"), "golive-password-1"),
		chromedp.Click(css(`[data-testid=login-submit]`)),
		chromedp.WaitVisible(css(`[data-testid=page-title]`)),
	)
	state := func(key string) string {
		v, err := chromedp.Run(b.ctx, chromedp.AttributeValue(css(`[data-testid=golive-`+key+`]`), "data-ok"))
		if err != nil {
			b.fail(err, "read the "+key+" line")
		}
		return v.Value
	}
	b.menu("open the checklist from the nav", "nav-staff-golive", `[data-testid=golive]`)
	b.noHorizontalScroll()
	if got := state("site_files"); got != "false" {
		t.Fatalf("verification files line is %s before any upload", got)
	}
	b.shot("golive-01-red")
	b.menu("open the verification files from the nav", "nav-staff-site-files", `[data-testid=site-file-form]`)
	b.do("choose the file", chromedp.SetUploadFiles(css(`[data-testid=site-file-input]`), []string{file}))
	b.nav("upload", chromedp.Click(css(`[data-testid=site-file-upload]`)), chromedp.WaitVisible(css(`[data-testid="site-file-MP_verify_e2eGoLive.txt"]`)))
	b.menu("back to the checklist", "nav-staff-golive", `[data-testid=golive]`)
	if got := state("site_files"); got != "true" {
		t.Fatalf("verification files line is %s after the upload", got)
	}
	b.noHorizontalScroll()
	b.shot("golive-02-green")
	b.open("/MP_verify_e2eGoLive.txt", 200)
	b.wantText("body", "e2e-go-live-token")
}
