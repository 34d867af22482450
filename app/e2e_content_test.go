package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat/sandbox"
)

// writePNG writes a w×h PNG whose pixels depend on seed (so two images
// have two hashes) and returns its path.
func writePNG(t *testing.T, name string, w, h int, seed uint8) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x) + seed, uint8(y) * seed, seed, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestE2EContentSecurity: a merchant, in Chinese, clicks from the overview
// to an app's config, gives the check openid (the sandbox visitor's, who
// opened the app), uploads a logo (the form keeps what was typed), saves,
// and watches WeChat's media check (media_check_async, answered by the
// wxa_media_check push) come back: on the first app it passes and the
// commit goes ahead; on the second the sandbox console makes the check
// risky, the page names WeChat's label, and the commit is refused with it.
func TestE2EContentSecurity(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skip("chromium is not installed (make chromium)")
	}
	if testing.Short() {
		t.Skip("browser test skipped with -short")
	}
	a, ctx, budget := startReleaseRig(t, 150*time.Second)
	owner, tn, _, ownerActor := releaseCast(t, a, "owner@content.example", "店主 Owner", "清风茶铺", "appr@content.example", "Approver")
	if err := seedDemoTemplate(ctx, a.app); err != nil {
		t.Fatal(err)
	}
	if err := a.platform.Releases.SaveContact(ctx, ownerActor, tn.ID, store.TenantContact{Name: "王", Email: "owner@content.example"}); err != nil {
		t.Fatal(err)
	}
	tpls, err := a.store.ListTemplates(ctx, false)
	if err != nil || len(tpls) == 0 {
		t.Fatalf("templates: %v %v", tpls, err)
	}
	authorize := func(name string) string {
		att, err := a.platform.Onboarding.Start(ctx, ownerActor, tn.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		appID, code, err := a.sandbox.sb.AuthorizeApp(att.PreAuthCode, sandbox.AppSpec{Nickname: name})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.platform.Onboarding.Callback(ctx, ownerActor, tn.ID, att.ID, att.CallbackState, code); err != nil {
			t.Fatal(err)
		}
		if _, err := a.platform.Releases.SaveConfig(ctx, ownerActor, tn.ID, appID, tpls[0].TemplateID, url.Values{"shopName": {"清风茶铺"}, "theme": {"light"}}, ""); err != nil {
			t.Fatalf("config: %v", err)
		}
		return appID
	}
	goodApp := authorize("清风小程序")
	riskyApp := authorize("暗影小程序")

	br := startBrowser(t, budget, a.base, 1200, 900, "zh-CN")
	m := &tab{t: t, ctx: br.ctx, base: a.base, name: "merchant"}
	m.open("/login", 200)
	m.nav("log in",
		chromedp.SendKeys(css("#f-email"), owner.Email),
		chromedp.SendKeys(css("#f-password"), "release-password"),
		chromedp.Click(css(`[data-testid=login-submit]`)),
		chromedp.WaitVisible(css(`[data-testid=page-title]`)),
	)

	// configure uploads a logo into the app's config, with WeChat's check
	// asked with the visitor's openid, and waits for the verdict.
	configure := func(appID, file, wantState string) {
		t.Helper()
		m.open("/t/"+strconv.FormatInt(tn.ID, 10), 200)
		row := `[data-testid=app-row-` + appID + `] a`
		m.nav("open the app from the overview", chromedp.Click(css(row)), chromedp.WaitVisible(css(`[data-testid=app-hub]`)))
		m.nav("the config tab", chromedp.Click(css(`[data-testid=tab-config]`)), chromedp.WaitVisible(css(`[data-testid=content-checks]`)))
		m.wantText(`[data-testid=openid-none]`, "尚未设置")
		visitor := a.sandbox.sb.Visit(appID) // the merchant opened the trial version
		m.nav("give the check openid",
			chromedp.SendKeys(css("#f-openid"), visitor),
			chromedp.Click(css(`[data-testid=openid-save]`)),
			chromedp.WaitVisible(css(`[data-testid=openid-set]`)))
		// A wrong file first: refused in words, the typed shop name kept.
		bad := filepath.Join(t.TempDir(), "logo.png")
		if err := os.WriteFile(bad, []byte("PK\x03\x04 a zip, renamed"), 0o600); err != nil {
			t.Fatal(err)
		}
		m.nav("upload a zip renamed .png",
			chromedp.SetValue(css("#cf-shopName"), "清风茶铺 · 新店"),
			chromedp.SetUploadFiles(css(`[data-testid=file-logo]`), []string{bad}),
			chromedp.Click(css(`[data-testid=upload-logo]`)),
			chromedp.WaitVisible(css(`[data-testid=error-logo]`)))
		m.wantText(`[data-testid=error-logo]`, "无法识别为图片")
		if got := m.value("#cf-shopName"); got != "清风茶铺 · 新店" {
			t.Errorf("the typed shop name was lost: %q", got)
		}
		m.nav("upload the logo",
			chromedp.SetUploadFiles(css(`[data-testid=file-logo]`), []string{file}),
			chromedp.Click(css(`[data-testid=upload-logo]`)),
			chromedp.WaitVisible(css(`[data-testid=preview-logo]`)))
		if got := m.value("#cf-shopName"); got != "清风茶铺 · 新店" {
			t.Errorf("the typed shop name was lost after the upload: %q", got)
		}
		loaded, err := chromedp.Run(m.ctx, chromedp.Evaluate[bool](`document.querySelector("[data-testid=preview-logo]").naturalWidth > 0`))
		if err != nil || !loaded {
			m.fail(err, "the uploaded logo's preview did not load")
		}
		m.nav("save the config", chromedp.Click(css(`[data-testid=config-save]`)), chromedp.WaitVisible(css(`[data-testid=version-2]`)))
		// WeChat answers by push; the section polls until it shows.
		m.do("WeChat's verdict shows", chromedp.WaitVisible(css(`[data-testid="content-row-logo"] [data-state=`+wantState+`]`)))
	}

	// 1. A normal logo passes and the commit goes ahead.
	configure(goodApp, writePNG(t, "tea.png", 160, 120, 3), "pass")
	m.wantText(`[data-testid="content-row-logo"]`, "通过")
	m.shot("content-1-pass")
	m.nav("the releases tab", chromedp.Click(css(`[data-testid=tab-releases]`)), chromedp.WaitVisible(css(`[data-testid=prepare-form]`)))
	m.nav("prepare 1.0.0",
		chromedp.SendKeys(css(`#f-user_version`), "1.0.0"),
		chromedp.SendKeys(css(`#f-user_desc`), "首个版本"),
		chromedp.Click(css(`[data-testid=prepare-submit]`)),
		chromedp.WaitVisible(css(`[data-testid=action-commit]`)))
	m.wantText(`[data-testid=content-checks]`, "通过")
	m.nav("commit", chromedp.Click(css(`[data-testid=action-commit]`)), chromedp.WaitVisible(css(`[data-testid=release]`)))
	rs, err := a.store.ListReleases(ctx, tn.ID, goodApp, 1)
	if err != nil || len(rs) != 1 || rs[0].State == model.RelDraft {
		t.Fatalf("the commit did not go ahead: %+v %v", rs, err)
	}
	// The ext_json the commit sends names the logo by its absolute URL here.
	if !strings.Contains(rs[0].ExtJSON, a.base+"/media/"+strconv.FormatInt(tn.ID, 10)+"/") {
		t.Errorf("ext_json lacks the logo's URL under the base URL: %s", rs[0].ExtJSON)
	}

	// 2. The sandbox console makes the next media check risky.
	m.open("/sandbox/console", 200)
	m.nav("console: next media check risky",
		chromedp.SetValue(css(`input[name=appid]`), riskyApp),
		chromedp.Click(css(`[data-testid=media-risky]`)),
		chromedp.WaitVisible(css(`[data-testid=next-risky]`)))
	configure(riskyApp, writePNG(t, "shadow.png", 160, 120, 9), "risky")
	m.wantText(`[data-testid="content-row-logo"]`, "色情")
	m.shot("content-2-risky")
	m.nav("the releases tab", chromedp.Click(css(`[data-testid=tab-releases]`)), chromedp.WaitVisible(css(`[data-testid=prepare-form]`)))
	m.nav("prepare 1.0.0",
		chromedp.SendKeys(css(`#f-user_version`), "1.0.0"),
		chromedp.SendKeys(css(`#f-user_desc`), "首个版本"),
		chromedp.Click(css(`[data-testid=prepare-submit]`)),
		chromedp.WaitVisible(css(`[data-testid=action-commit]`)))
	m.nav("commit is refused", chromedp.Click(css(`[data-testid=action-commit]`)), chromedp.WaitVisible(css(`[data-testid=form-summary]`)))
	m.wantText(`[data-testid=form-summary]`, "色情")
	m.wantText(`[data-testid=form-summary]`, "logo")
	m.shot("content-3-commit-refused")
	rs, err = a.store.ListReleases(ctx, tn.ID, riskyApp, 1)
	if err != nil || len(rs) != 1 || rs[0].State != model.RelDraft {
		t.Fatalf("the risky release moved: %+v %v", rs, err)
	}
	if n := a.sandbox.sb.AppSuccessCount("commit", riskyApp); n != 0 {
		t.Errorf("wxa/commit reached WeChat %d times for the risky app", n)
	}
}
