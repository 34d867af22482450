package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/minifleet/minifleet/app/model"
)

// TestE2EAPIFromCI (issue #15): a tenant owner signs in, clicks to 设置 →
// API 密钥, makes a key for CI and copies the secret shown once; with only
// that key, over HTTP, a backend reads the app's access token (the vault's,
// never the refresh token) and CI starts a release, which runs through the
// real pipeline against the sandbox and stops for a person's approval;
// once the approver submits it, the API shows it in audit. Revoking the
// key shuts it out at once.
func TestE2EAPIFromCI(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skip("chromium is not installed (make chromium)")
	}
	if testing.Short() {
		t.Skip("browser test skipped with -short")
	}
	a, ctx, budget := startReleaseRig(t, 150*time.Second)
	owner, tn, appr, ownerActor := releaseCast(t, a, "owner@api.example", "店主", "接口面馆", "appr@api.example", "Approver")
	apprActor := model.Actor{UserID: appr.ID, Label: appr.Email}
	ma := authorizedApp(t, a, ctx, tn, ownerActor, apprActor, "owner@api.example", "接口面馆小程序", "接口面馆")
	appID := ma.appID

	// The owner makes a key by clicking from the landing page.
	br := startBrowser(t, budget, a.base, 1280, 900, "zh-CN")
	m := &tab{t: t, ctx: br.ctx, base: a.base, name: "owner"}
	m.open("/login", 200)
	m.nav("log in",
		chromedp.SendKeys(css("#f-email"), owner.Email),
		chromedp.SendKeys(css("#f-password"), "release-password"),
		chromedp.Click(css(`[data-testid=login-submit]`)),
		chromedp.WaitVisible(css(`[data-testid=page-title]`)),
	)
	m.nav("API 密钥 in the nav", chromedp.Click(css(`a[data-testid=nav-api-keys]`)), chromedp.WaitVisible(css(`[data-testid=apikey-form]`)))
	m.nav("create a CI key",
		chromedp.SendKeys(css("#apikey-name"), "CI 流水线"),
		chromedp.Click(css(`[data-testid="apikey-scope-tokens:read"]`)),
		chromedp.Click(css(`[data-testid="apikey-scope-apps:read"]`)),
		chromedp.Click(css(`[data-testid="apikey-scope-releases:write"]`)),
		chromedp.Click(css(`[data-testid=apikey-create]`)),
		chromedp.WaitVisible(css(`[data-testid=apikey-secret]`)))
	m.shot("api-1-key-created-zh")
	secret := m.value(`[data-testid=apikey-secret]`)
	if !strings.HasPrefix(secret, "mf_test_") { // sandbox mode: a test key
		t.Fatalf("secret shown: %q", secret)
	}
	m.nav("the list again", chromedp.Click(css(`a[data-testid=nav-api-keys]`)), chromedp.WaitVisible(css(`[data-testid=apikeys-table]`)))
	if strings.Contains(m.text(`main`), secret) {
		t.Fatal("the secret is shown again")
	}

	call := func(method, path, body string, out any) int {
		t.Helper()
		req, _ := http.NewRequest(method, a.base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+secret)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var buf bytes.Buffer
		buf.ReadFrom(res.Body)
		if out != nil && res.StatusCode < 300 {
			if err := json.Unmarshal(buf.Bytes(), out); err != nil {
				t.Fatalf("%s %s: %v %s", method, path, err, buf.String())
			}
		}
		return res.StatusCode
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	access, refresh, err := a.store.AuthorizerSecrets(ctx, appID)
	if err != nil {
		t.Fatal(err)
	}
	if st := call("GET", "/api/v1/apps/"+appID+"/access-token", "", &tok); st != 200 || tok.AccessToken != access || tok.AccessToken == refresh {
		t.Fatalf("token: %d %q", st, tok.AccessToken)
	}

	// CI starts a release; the pipeline runs and waits for a person.
	var rel struct {
		ID    int64  `json:"id"`
		State string `json:"state"`
	}
	body := `{"template_id":` + itoa64(ma.templateID) + `,"user_version":"2.0.0","user_desc":"CI build 512"}`
	if st := call("POST", "/api/v1/apps/"+appID+"/releases", body, &rel); st != 201 || rel.ID == 0 {
		t.Fatalf("release create: %d %+v", st, rel)
	}
	waitState := func(want model.ReleaseState) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			var got struct {
				State string `json:"state"`
			}
			if st := call("GET", "/api/v1/apps/"+appID+"/releases/"+itoa64(rel.ID), "", &got); st == 200 && got.State == string(want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("release never reached %s: %s", want, got.State)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	waitState(model.RelAwaitingApproval)
	r, err := a.store.Release(ctx, tn.ID, rel.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.PreparerID != owner.ID || !strings.HasPrefix(r.Preparer, "API key mf_test_") {
		t.Errorf("preparer: %d %q", r.PreparerID, r.Preparer)
	}
	if _, err := a.platform.Releases.Approve(ctx, tn.ID, rel.ID, apprActor, r.PayloadHash); err != nil {
		t.Fatal(err)
	}
	waitState(model.RelAuditing)

	// Revoked: shut out at once.
	keys, err := a.store.APIKeys(ctx, tn.ID)
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys: %v %v", keys, err)
	}
	if _, err := a.platform.Keys.Revoke(ctx, ownerActor, tn.ID, keys[0].ID); err != nil {
		t.Fatal(err)
	}
	if st := call("GET", "/api/v1/apps/"+appID+"/access-token", "", nil); st != 401 {
		t.Fatalf("revoked key: %d", st)
	}
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
