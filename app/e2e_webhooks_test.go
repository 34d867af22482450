package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat/sandbox"
)

// TestE2EWebhooks: a merchant on a phone, in Chinese, opens 事件通知 from
// the menu, adds an endpoint (a local receiver) and copies the secret shown
// once; then an app is authorized through the sandbox and a version goes
// live: the whole app's delivery loop (Platform.Run) sends the receiver
// app.authorized, audit.success and release.done, in that order, each
// signed with the secret from the page; the endpoint's page lists them
// delivered.
func TestE2EWebhooks(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skip("chromium is not installed (make chromium)")
	}
	if testing.Short() {
		t.Skip("browser test skipped with -short")
	}
	a, ctx, budget := startReleaseRig(t, 150*time.Second)
	owner, tn, appr, ownerActor := releaseCast(t, a, "owner@hooks.example", "店主", "钩子面馆", "appr@hooks.example", "审批人")
	apprActor := model.Actor{UserID: appr.ID, Label: appr.Email}

	type got struct {
		sig  string
		body []byte
	}
	var mu sync.Mutex
	var received []got
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		received = append(received, got{r.Header.Get("Minifleet-Signature"), b})
		mu.Unlock()
	}))
	defer rcv.Close()

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
	m.menu("事件通知 from the menu", "nav-webhooks", `[data-testid=webhook-form]`)
	m.wantText(`[data-testid=empty]`, "还没有通知地址")
	m.nav("add an endpoint",
		chromedp.SendKeys(css("#f-url"), rcv.URL+"/minifleet"),
		chromedp.Click(css(`[data-testid="webhook-event-app.authorized"]`)),
		chromedp.Click(css(`[data-testid="webhook-event-audit.success"]`)),
		chromedp.Click(css(`[data-testid="webhook-event-release.done"]`)),
		chromedp.Click(css(`[data-testid=webhook-create]`)),
		chromedp.WaitVisible(css(`[data-testid=webhook-secret]`)),
	)
	secret := m.text(`[data-testid=webhook-secret]`)
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret shown = %q", secret)
	}
	m.noHorizontalScroll()
	m.nav("to the endpoint", chromedp.Click(css(`[data-testid=webhook-secret-done]`)), chromedp.WaitVisible(css(`[data-testid=webhook-deliveries-empty]`)))
	if strings.Contains(m.textContent("main"), secret) {
		t.Error("the secret is shown again on the endpoint's page")
	}

	// The app is authorized and 1.0.0 goes live through the real pipeline.
	att, err := a.platform.Onboarding.Start(ctx, ownerActor, tn.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	appID, code, err := a.sandbox.sb.AuthorizeApp(att.PreAuthCode, sandbox.AppSpec{Nickname: "钩子面馆小程序"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.platform.Onboarding.Callback(ctx, ownerActor, tn.ID, att.ID, att.CallbackState, code); err != nil {
		t.Fatal(err)
	}
	if err := seedDemoTemplate(ctx, a.app); err != nil {
		t.Fatal(err)
	}
	if err := a.platform.Releases.SaveContact(ctx, ownerActor, tn.ID, store.TenantContact{Name: "王", Email: owner.Email}); err != nil {
		t.Fatal(err)
	}
	tpls, err := a.store.ListTemplates(ctx, false)
	if err != nil || len(tpls) == 0 {
		t.Fatalf("templates: %v %v", tpls, err)
	}
	if _, err := a.platform.Releases.SaveConfig(ctx, ownerActor, tn.ID, appID, tpls[0].TemplateID, url.Values{"shopName": {"钩子面馆"}, "theme": {"light"}}, ""); err != nil {
		t.Fatalf("config: %v", err)
	}
	waitState := func(id int64, want model.ReleaseState) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			r, err := a.store.Release(ctx, tn.ID, id)
			if err == nil && r.State == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("release %d never reached %s: %s %v", id, want, r.State, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	r, err := a.platform.Releases.PrepareRelease(ctx, tn.ID, appID, tpls[0].TemplateID, "1.0.0", "首个版本", ownerActor)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.platform.Releases.Commit(ctx, tn.ID, r.ID, ownerActor, r.Seq); err != nil {
		t.Fatal(err)
	}
	waitState(r.ID, model.RelAwaitingApproval)
	r, _ = a.store.Release(ctx, tn.ID, r.ID)
	if _, err := a.platform.Releases.Approve(ctx, tn.ID, r.ID, apprActor, r.PayloadHash); err != nil {
		t.Fatal(err)
	}
	waitState(r.ID, model.RelAuditing)
	if err := a.sandbox.sb.DecideAudit(appID, sandbox.AuditDecision{Outcome: sandbox.AuditApprove}); err != nil {
		t.Fatal(err)
	}
	waitState(r.ID, model.RelApproved)
	if _, err := a.platform.Releases.Release(ctx, tn.ID, r.ID, apprActor); err != nil {
		t.Fatal(err)
	}
	waitState(r.ID, model.RelReleased)

	// The delivery loop sends all three, signed, in order.
	want := []string{model.EvtAppAuthorized, model.EvtAuditSuccess, model.EvtReleaseDone}
	deadline := time.Now().Add(20 * time.Second)
	var types []string
	for {
		mu.Lock()
		types = types[:0]
		for _, g := range received {
			var ev struct {
				Type  string `json:"type"`
				AppID string `json:"appid"`
			}
			if err := json.Unmarshal(g.body, &ev); err != nil || ev.AppID != appID {
				t.Errorf("delivery %s: %v", g.body, err)
			}
			ts, v1, _ := strings.Cut(strings.TrimPrefix(g.sig, "t="), ",v1=")
			mac := hmac.New(sha256.New, []byte(secret))
			mac.Write([]byte(ts + "."))
			mac.Write(g.body)
			if hex.EncodeToString(mac.Sum(nil)) != v1 {
				t.Errorf("delivery %s: signature %q does not verify with the page's secret", g.body, g.sig)
			}
			types = append(types, ev.Type)
		}
		mu.Unlock()
		if len(types) >= len(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if strings.Join(types, " ") != strings.Join(want, " ") {
		t.Fatalf("receiver got %v, want %v", types, want)
	}
	m.open(m.path(), 200)
	m.do("the log lists them", chromedp.WaitVisible(css(`[data-testid=webhook-deliveries]`)))
	if log := m.textContent(`[data-testid=webhook-deliveries]`); strings.Count(log, "已送达") != 3 || !strings.Contains(log, "已发布") {
		t.Errorf("delivery log: %q", log)
	}
	m.noHorizontalScroll()
	m.shot("webhooks-endpoint")
}
