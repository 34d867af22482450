package web

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat/sandbox"
)

// flow is one merchant going through the authorization pages.
type flow struct {
	t  *testing.T
	h  *harness
	f  *fixture
	c  *client
	sb *sandbox.Sandbox
	o  *platform.Onboarding
}

func newFlow(t *testing.T, who string) *flow {
	h := newHarness(t)
	f := h.fixture()
	fl := &flow{t: t, h: h, f: f, c: h.client(), sb: sandboxOf(h), o: h.srv.Onboarding}
	fl.c.login(f.users[who].Email)
	return fl
}

var attemptLoc = regexp.MustCompile(`^/t/(\d+)/authorize/(\d+)$`)

// start clicks "Authorize" and returns the attempt (with its code).
func (fl *flow) start(tenantID int64) model.AuthAttempt {
	fl.t.Helper()
	r := fl.c.post("/t/"+itoa(tenantID)+"/authorize", nil)
	m := attemptLoc.FindStringSubmatch(r.Location())
	if r.Status != fiber.StatusSeeOther || m == nil {
		fl.t.Fatalf("start: status %d, Location %q", r.Status, r.Location())
	}
	a, err := fl.h.st.Attempt(context.Background(), tenantID, mustInt(fl.t, m[2]))
	if err != nil {
		fl.t.Fatal(err)
	}
	a.CallbackState = stateOnPage(fl.t, fl.c, a)
	return a
}

var redirectURIOnPage = regexp.MustCompile(`redirect_uri=([^&"]+)`)

// stateOnPage is the callback state in the redirect_uri of the links c's
// attempt page shows (only the session that started the attempt has it).
func stateOnPage(t *testing.T, c *client, a model.AuthAttempt) string {
	t.Helper()
	page := c.get(paths.Attempt(a.TenantID, a.ID))
	m := redirectURIOnPage.FindStringSubmatch(page.Body)
	if m == nil {
		t.Fatalf("attempt page without a redirect_uri:\n%s", page.Body)
	}
	ru, err := url.QueryUnescape(m[1])
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(ru)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("state")
}

// callbackURL is WeChat's redirect back for a: its redirect_uri (with the
// state the page showed) plus auth_code and expires_in.
func callbackURL(a model.AuthAttempt, code string) string {
	u := paths.AttemptCallbackState(a.TenantID, a.ID, a.CallbackState)
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + "auth_code=" + url.QueryEscape(code) + "&expires_in=600"
}

func mustInt(t *testing.T, s string) int64 {
	var n int64
	for _, c := range s {
		n = n*10 + int64(c-'0')
	}
	return n
}

func (fl *flow) callback(a model.AuthAttempt, code string) response {
	fl.t.Helper()
	return fl.c.get(callbackURL(a, code))
}

// pushJob does what the platform's authorized-push job does: exchange the
// push's code (a spent code is fine when we hold tokens), then the hook.
func (fl *flow) pushJob(appID, pre, code string) {
	fl.t.Helper()
	ctx := context.Background()
	if info, err := fl.o.WeChat.QueryAuth(ctx, code); err == nil {
		if _, err := fl.h.st.SaveAuthorizerGrant(ctx, appID, store.AuthorizerGrant{AccessToken: info.AuthorizerAccessToken, AccessExpiresAt: info.ExpiresAt,
			RefreshToken: info.AuthorizerRefreshToken, PermissionSets: info.PermissionSets(), EventAt: time.Now().Unix()}); err != nil {
			fl.t.Fatal(err)
		}
	}
	if err := fl.o.GrantApplied(ctx, appID, pre, code); err != nil {
		fl.t.Fatalf("GrantApplied: %v", err)
	}
}

func (fl *flow) countActs(tenantID int64, action, appID string) int {
	return fl.h.count(`SELECT COUNT(*) FROM activity WHERE tenant_id = ? AND action = ? AND object = ?`, tenantID, action, appID)
}

func TestAuthorizeRedirectThenPush(t *testing.T) {
	fl := newFlow(t, "developerA")
	A := fl.f.A.ID
	a := fl.start(A)
	appID, code, err := fl.sb.AuthorizeApp(a.PreAuthCode, sandbox.AppSpec{Nickname: "Redirect First 先回跳"})
	if err != nil {
		t.Fatal(err)
	}
	r := fl.callback(a, code)
	if r.Status != fiber.StatusSeeOther || !strings.HasPrefix(r.Location(), "/t/"+itoa(A)+"/apps/"+appID) {
		t.Fatalf("callback: %d %q\n%s", r.Status, r.Location(), r.Body)
	}
	fl.pushJob(appID, a.PreAuthCode, code)
	if n := fl.countActs(A, store.ActAppBound, appID); n != 1 {
		t.Fatalf("app_bound rows = %d, want 1", n)
	}
	page := fl.c.get(r.Location())
	wantStatus(t, "app page", page, 200)
	mustContain(t, "app page", page, "Redirect First 先回跳", fl.h.tr("zh-CN", "apps.status.authorized"), fl.h.tr("zh-CN", "authorize.done_flash"))
	// Replaying the spent code on a new attempt binds nothing.
	b := fl.start(A)
	r = fl.callback(b, code)
	wantStatus(t, "replayed code", r, fiber.StatusConflict)
	mustContain(t, "replayed code", r, fl.h.tr("zh-CN", "authorize.code_invalid"))
}

func TestAuthorizePushThenRedirect(t *testing.T) {
	fl := newFlow(t, "ownerA")
	A := fl.f.A.ID
	a := fl.start(A)
	appID, code, err := fl.sb.AuthorizeApp(a.PreAuthCode, sandbox.AppSpec{Nickname: "Push First 先推送"})
	if err != nil {
		t.Fatal(err)
	}
	sub := fl.o.Hub.Subscribe(platform.TenantTopic(A))
	defer sub.Close()
	fl.pushJob(appID, a.PreAuthCode, code)
	if len(sub.C) == 0 {
		t.Fatal("binding published no live event")
	}
	got, err := fl.h.st.Attempt(context.Background(), A, a.ID)
	if err != nil || got.State != model.AttemptBound || got.AppID != appID {
		t.Fatalf("attempt after push = %+v, %v", got, err)
	}
	// The attempt page (and its stream) now say it is done.
	page := fl.c.get("/t/" + itoa(A) + "/authorize/" + itoa(a.ID))
	mustContain(t, "attempt page", page, `data-state="bound"`, `data-testid="attempt-app-link"`)
	mustNotContain(t, "attempt page", page, a.PreAuthCode)
	r := fl.callback(a, code)
	if r.Status != fiber.StatusSeeOther || !strings.HasPrefix(r.Location(), "/t/"+itoa(A)+"/apps/"+appID) {
		t.Fatalf("callback after push: %d %q\n%s", r.Status, r.Location(), r.Body)
	}
	if n := fl.countActs(A, store.ActAppBound, appID); n != 1 {
		t.Fatalf("app_bound rows = %d, want 1", n)
	}
	// The push for an attempt is idempotent too.
	fl.pushJob(appID, a.PreAuthCode, code)
	if n := fl.countActs(A, store.ActAppBound, appID); n != 1 {
		t.Fatalf("app_bound rows after a repeated push = %d, want 1", n)
	}
}

func TestAuthorizeAppBoundToAnotherTenant(t *testing.T) {
	fl := newFlow(t, "ownerA")
	A, B := fl.f.A.ID, fl.f.B.ID
	// Bravo authorized it first.
	ctx := context.Background()
	attB, err := fl.h.st.CreateAttempt(ctx, model.Actor{UserID: fl.f.users["ownerB"].ID}, B, fl.sb.CreatePreAuthCode(), "", fl.h.clock.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	appID, code, err := fl.sb.AuthorizeApp(attB.PreAuthCode, sandbox.AppSpec{Nickname: "Contested 争议小程序"})
	if err != nil {
		t.Fatal(err)
	}
	fl.pushJob(appID, attB.PreAuthCode, code)
	// Alpha's owner authorizes the same app.
	a := fl.start(A)
	code, err = fl.sb.Authorize(a.PreAuthCode, sandbox.AppSpec{AppID: appID})
	if err != nil {
		t.Fatal(err)
	}
	r := fl.callback(a, code)
	wantStatus(t, "callback", r, fiber.StatusConflict)
	mustContain(t, "callback", r, fl.h.tr("zh-CN", "authorize.bound_elsewhere"))
	mustNotContain(t, "callback", r, tenantBName)
	if got, _ := fl.h.st.TenantOfApp(ctx, appID); got != B {
		t.Fatalf("app moved to %d, want it to stay with %d", got, B)
	}
	if r := fl.c.get("/t/" + itoa(A) + "/apps/" + appID); r.Status != 404 {
		t.Fatalf("tenant A sees the contested app: %d", r.Status)
	}
	staff := fl.h.client().login("admin@staff.test")
	r = staff.get("/staff/apps")
	mustContain(t, "staff apps", r, `data-testid="conflicts"`, appID, tenantAName, tenantBName)
}

func TestAuthorizeOfficialAccountAndMissingCodePermission(t *testing.T) {
	fl := newFlow(t, "ownerA")
	A := fl.f.A.ID
	for _, tc := range []struct {
		spec   sandbox.AppSpec
		reason string
		args   []any
	}{
		{sandbox.AppSpec{Nickname: "Official Oscar 公众号", Kind: sandbox.ServiceAccount}, "apps.reason.not_miniprogram", nil},
		{sandbox.AppSpec{Nickname: "No Code 无开发权限", PermissionSets: []int{17, 19}}, "apps.reason.missing_code_perm", []any{"Name", fl.h.tr("zh-CN", "perm.18")}},
	} {
		a := fl.start(A)
		appID, code, err := fl.sb.AuthorizeApp(a.PreAuthCode, tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		r := fl.callback(a, code)
		wantStatus(t, tc.spec.Nickname, r, fiber.StatusSeeOther)
		page := fl.c.get(r.Location())
		mustContain(t, tc.spec.Nickname, page, fl.h.tr("zh-CN", tc.reason, tc.args...), fl.h.tr("zh-CN", "apps.status.needs_reauth"), `data-testid="reauthorize"`)
		staff := fl.h.client().login("support@staff.test")
		mustContain(t, "problems filter", staff.get("/staff/apps?problems=1"), "staff-app-"+appID)
		mustNotContain(t, "authorized filter", staff.get("/staff/apps?status=authorized"), "staff-app-"+appID)
	}
}

func TestAuthorizeExpiredCancelledAndRetried(t *testing.T) {
	fl := newFlow(t, "ownerA")
	A := fl.f.A.ID
	ctx := context.Background()

	// Expired: the code arrives long after the link's expiry.
	a := fl.start(A)
	_, code, err := fl.sb.AuthorizeApp(a.PreAuthCode, sandbox.AppSpec{Nickname: "Too Late 太晚了"})
	if err != nil {
		t.Fatal(err)
	}
	fl.h.clock.Advance(2 * time.Hour)
	r := fl.callback(a, code)
	wantStatus(t, "expired", r, fiber.StatusConflict)
	mustContain(t, "expired", r, fl.h.tr("zh-CN", "authorize.expired"), `data-testid="attempt-new"`)
	if n := fl.h.count(`SELECT COUNT(*) FROM authorizers WHERE nickname = 'Too Late 太晚了'`); n != 0 {
		t.Fatal("an expired attempt stored an app")
	}

	// Cancelled by the merchant on our page: the link is gone, nothing binds.
	b := fl.start(A)
	r = fl.c.post("/t/"+itoa(A)+"/authorize/"+itoa(b.ID)+"/cancel", nil)
	wantStatus(t, "cancel", r, fiber.StatusSeeOther)
	page := fl.c.get(r.Location())
	mustContain(t, "cancelled page", page, fl.h.tr("zh-CN", "authorize.cancelled"))
	mustNotContain(t, "cancelled page", page, "bindcomponent")

	// A failing api_query_auth is retried by the job queue, and the page says so.
	c := fl.start(A)
	appID, code, err := fl.sb.AuthorizeApp(c.PreAuthCode, sandbox.AppSpec{Nickname: "Retry Rita 重试"})
	if err != nil {
		t.Fatal(err)
	}
	fl.sb.InjectError("api_query_auth", -1, 2)
	r = fl.callback(c, code)
	wantStatus(t, "retrying", r, 200)
	mustContain(t, "retrying", r, `data-state="retrying"`, fl.h.tr("zh-CN", "authorize.exchange_retrying"))
	if n := fl.h.count(`SELECT COUNT(*) FROM auth_attempts WHERE auth_code_sealed != ''`); n != 1 {
		t.Fatalf("%d sealed auth codes while retrying, want 1", n)
	}
	if n, err := fl.o.Jobs.RunDue(ctx); err != nil || n != 0 {
		t.Fatalf("retry before due: %d, %v", n, err)
	}
	fl.h.clock.Advance(time.Minute)
	if n, err := fl.o.Jobs.RunDue(ctx); err != nil || n != 1 {
		t.Fatalf("retry when due: %d, %v", n, err)
	}
	// The second exchange failed too: still retrying, still visible.
	got, _ := fl.h.st.Attempt(ctx, A, c.ID)
	if got.State != model.AttemptRetrying {
		t.Fatalf("after a failed retry: %+v", got)
	}
	mustContain(t, "still retrying", fl.c.get("/t/"+itoa(A)+"/authorize/"+itoa(c.ID)), `data-state="retrying"`)
	fl.h.clock.Advance(time.Hour)
	if n, err := fl.o.Jobs.RunDue(ctx); err != nil || n != 1 {
		t.Fatalf("second retry: %d, %v", n, err)
	}
	got, _ = fl.h.st.Attempt(ctx, A, c.ID)
	if got.State != model.AttemptBound || got.AppID != appID {
		t.Fatalf("after retry: %+v", got)
	}
	mustContain(t, "bound after retry", fl.c.get("/t/"+itoa(A)+"/apps"), "app-row-"+appID)
	if n := fl.h.count(`SELECT COUNT(*) FROM auth_attempts WHERE auth_code_sealed != ''`); n != 0 {
		t.Fatal("a sealed auth code outlived its exchange")
	}
	jobs, _ := fl.h.st.JobsByKind(ctx, platform.JobAttemptExchange)
	if len(jobs) != 1 || jobs[0].State != store.JobDone {
		t.Fatalf("exchange jobs = %+v", jobs)
	}
}

// A failing api_query_auth that never recovers: the job queue gives up, the
// attempt shows failed with its reason, nothing is bound and the sealed code
// is gone.
func TestAuthorizeExchangeGivesUp(t *testing.T) {
	fl := newFlow(t, "ownerA")
	A := fl.f.A.ID
	ctx := context.Background()
	a := fl.start(A)
	appID, code, err := fl.sb.AuthorizeApp(a.PreAuthCode, sandbox.AppSpec{Nickname: "Never Nora 永不"})
	if err != nil {
		t.Fatal(err)
	}
	fl.sb.InjectError("api_query_auth", -1, 100)
	wantStatus(t, "retrying", fl.callback(a, code), 200)
	for i := 0; i < 10; i++ {
		fl.h.clock.Advance(2 * time.Hour)
		if _, err := fl.o.Jobs.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := fl.h.st.Attempt(ctx, A, a.ID)
	if got.State != model.AttemptFailed || got.Error != "authorize.exchange_failed" || got.Tries != 5 {
		t.Fatalf("after giving up: %+v", got)
	}
	page := fl.c.get("/t/" + itoa(A) + "/authorize/" + itoa(a.ID))
	mustContain(t, "failed page", page, `data-state="failed"`, fl.h.tr("zh-CN", "authorize.exchange_failed"))
	if n := fl.h.count(`SELECT COUNT(*) FROM auth_attempts WHERE auth_code_sealed != ''`); n != 0 {
		t.Fatal("a sealed auth code outlived the give-up")
	}
	if n := fl.h.count(`SELECT COUNT(*) FROM authorizers WHERE appid = '` + appID + `' AND tenant_id IS NOT NULL`); n != 0 {
		t.Fatal("an attempt that gave up bound its app")
	}
	jobs, _ := fl.h.st.JobsByKind(ctx, platform.JobAttemptExchange)
	if len(jobs) != 1 || jobs[0].State != store.JobFailed || jobs[0].Attempts != 4 {
		t.Fatalf("exchange jobs = %+v", jobs)
	}
}

func TestAppLifecycle(t *testing.T) {
	fl := newFlow(t, "ownerA")
	A := fl.f.A.ID
	ctx := context.Background()
	a := fl.start(A)
	appID, code, err := fl.sb.AuthorizeApp(a.PreAuthCode, sandbox.AppSpec{Nickname: "Life Cycle 生命周期", PermissionSets: []int{17, 18}})
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, "callback", fl.callback(a, code), fiber.StatusSeeOther)

	// updateauthorized: new permission sets → the difference is logged once.
	if err := fl.sb.UpdatePermissions(appID, []int{17, 18, 19}); err != nil {
		t.Fatal(err)
	}
	if _, err := fl.h.st.SaveAuthorizerGrant(ctx, appID, store.AuthorizerGrant{AccessToken: "t2", AccessExpiresAt: fl.h.clock.Now().Add(time.Hour),
		RefreshToken: fl.sb.RefreshToken(appID), PermissionSets: []int{17, 18, 19}}); err != nil {
		t.Fatal(err)
	}
	if err := fl.o.GrantApplied(ctx, appID, "", ""); err != nil {
		t.Fatal(err)
	}
	acts, _ := fl.h.st.ListActivity(ctx, store.ActivityFilter{TenantID: A, Action: store.ActAppPermissions})
	if len(acts) != 1 || acts[0].Object != appID || acts[0].Detail != "+19 -∅" {
		t.Fatalf("permission change rows = %+v", acts)
	}

	// unauthorized: tokens destroyed, history kept, visible to tenant and staff.
	sub := fl.o.Hub.Subscribe(platform.TopicStaff)
	defer sub.Close()
	if err := fl.sb.Revoke(appID); err != nil {
		t.Fatal(err)
	}
	if _, err := fl.h.st.UnauthorizeAuthorizer(ctx, appID, fl.h.clock.Now().Unix()+10); err != nil {
		t.Fatal(err)
	}
	if err := fl.o.Unauthorized(ctx, appID); err != nil {
		t.Fatal(err)
	}
	if len(sub.C) == 0 {
		t.Fatal("unauthorization published no live event for staff")
	}
	page := fl.c.get("/t/" + itoa(A) + "/apps/" + appID)
	wantStatus(t, "app page", page, 200)
	mustContain(t, "app page", page, fl.h.tr("zh-CN", "apps.status.unauthorized"), `data-testid="unauthorized-notice"`, `data-testid="reauthorize"`,
		fl.h.tr("zh-CN", "activity.app_bound"), fl.h.tr("zh-CN", "activity.app_unauthorized"), fl.h.tr("zh-CN", "apps.missing"))
	if _, refresh, _ := fl.h.st.AuthorizerSecrets(ctx, appID); refresh != "" {
		t.Fatal("refresh token kept after unauthorization")
	}
	staff := fl.h.client().login("support@staff.test")
	mustContain(t, "staff unauthorized filter", staff.get("/staff/apps?status=unauthorized"), "staff-app-"+appID)

	// Re-authorize from the app page: an attempt restricted to this app.
	r := fl.c.post("/t/"+itoa(A)+"/apps/"+appID+"/reauthorize", nil)
	m := attemptLoc.FindStringSubmatch(r.Location())
	if m == nil {
		t.Fatalf("reauthorize: %d %q", r.Status, r.Location())
	}
	mustContain(t, "reauthorize page", fl.c.get(r.Location()), "biz_appid="+appID)
}

// TestAuthorizeCallbackAttack is issue #12's attack: an attacker approves
// their own Mini Program, keeps the auth_code and gets the merchant to open
// a callback link for the merchant's pending attempt. Nothing is bound from
// it (without the state, or with it from another session); the merchant's
// own approval still binds through WeChat's authorized push, and the
// honest redirect then shows it bound.
func TestAuthorizeCallbackAttack(t *testing.T) {
	fl := newFlow(t, "developerA")
	A := fl.f.A.ID
	a := fl.start(A)
	_, attackerCode, err := fl.sb.AuthorizeApp(fl.sb.CreatePreAuthCode(), sandbox.AppSpec{Nickname: "Attacker App 攻击者"})
	if err != nil {
		t.Fatal(err)
	}
	forged := a
	forged.CallbackState = ""
	r := fl.callback(forged, attackerCode)
	wantStatus(t, "attacker's link", r, fiber.StatusForbidden)
	mustContain(t, "attacker's link", r, fl.h.tr("zh-CN", "authorize.other_session"))
	// The merchant's phone (another session of the same user) comes back
	// with the right state: still not this session's attempt.
	phone := fl.h.client()
	phone.login(fl.f.users["developerA"].Email)
	appID, code, err := fl.sb.AuthorizeApp(a.PreAuthCode, sandbox.AppSpec{Nickname: "Merchant Shop 商户店"})
	if err != nil {
		t.Fatal(err)
	}
	r = phone.get(callbackURL(a, code))
	wantStatus(t, "other session's redirect", r, fiber.StatusForbidden)
	mustContain(t, "other session's redirect", r, fl.h.tr("zh-CN", "authorize.other_session"))
	if n := fl.h.count(`SELECT COUNT(*) FROM authorizers WHERE tenant_id = ? AND nickname IN ('Attacker App 攻击者', 'Merchant Shop 商户店')`, A); n != 0 {
		t.Fatalf("%d apps bound from refused callbacks", n)
	}
	if cur, _ := fl.h.st.Attempt(context.Background(), A, a.ID); cur.State != model.AttemptPending {
		t.Fatalf("attempt %s after refused callbacks, want pending", cur.State)
	}
	// WeChat's authorized push binds what the merchant approved.
	fl.pushJob(appID, a.PreAuthCode, code)
	if got, err := fl.h.st.TenantOfApp(context.Background(), appID); err != nil || got != A {
		t.Fatalf("merchant's app bound to %d (%v), want %d", got, err, A)
	}
	if n := fl.h.count(`SELECT COUNT(*) FROM authorizers WHERE nickname = 'Attacker App 攻击者'`); n != 0 {
		t.Fatal("the attacker's app was stored")
	}
	// The honest redirect, in the session that started the attempt, shows it done.
	r = fl.callback(a, code)
	if r.Status != fiber.StatusSeeOther || !strings.HasPrefix(r.Location(), "/t/"+itoa(A)+"/apps/"+appID) {
		t.Fatalf("honest redirect after the push: %d %q\n%s", r.Status, r.Location(), r.Body)
	}
}
