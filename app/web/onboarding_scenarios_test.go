package web

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat/sandbox"
)

// sandboxOf is the harness's WeChat sandbox.
func sandboxOf(h *harness) *sandbox.Sandbox { return h.sb }

func TestOnboardingScenarios(t *testing.T) { runScenarios(t, onboardingScenarios()) }

// addApp puts an authorized Mini Program with details in the store, bound
// to tenantID (0: unbound).
func addApp(h *harness, appID, name string, sets []int, tenantID int64) {
	h.t.Helper()
	ctx := context.Background()
	if err := h.st.EnsureAuthorizer(ctx, appID); err != nil {
		h.t.Fatal(err)
	}
	if err := h.st.SaveAppDetails(ctx, appID, store.AppDetails{Nickname: name, UserName: "gh_" + appID[2:], PrincipalName: name + " 有限公司",
		AccountKind: "miniprogram", AccountStatus: 1, PermissionSets: sets, Categories: []model.AppCategory{{First: "工具", Second: "信息查询"}}}); err != nil {
		h.t.Fatal(err)
	}
	if tenantID != 0 {
		if err := h.st.AssignApp(ctx, model.SystemActor, appID, tenantID); err != nil {
			h.t.Fatal(err)
		}
	}
}

const (
	appNameA = "Alpha Shop 甲小程序"
	appNameB = "Bravo Bakery Shop 乙小程序"
	appNameU = "Unbound Uno 无主小程序"
)

func onboardingFixture(h *harness, w *world) []string {
	ctx := context.Background()
	sb := sandboxOf(h)
	addApp(h, "wxappa0000000001", appNameA, []int{17, 18}, w.A.ID)
	addApp(h, "wxappb0000000002", appNameB, []int{17, 18}, w.B.ID)
	addApp(h, "wxappu0000000003", appNameU, []int{18}, 0)
	actor := func(k string) model.Actor { return model.Actor{UserID: w.users[k].ID, Label: w.users[k].Email} }
	exp := h.clock.Now().Add(30 * time.Minute)
	attA, err := h.st.CreateAttempt(ctx, actor("ownerA"), w.A.ID, sb.CreatePreAuthCode(), "", exp)
	if err != nil {
		h.t.Fatal(err)
	}
	attB, err := h.st.CreateAttempt(ctx, actor("ownerB"), w.B.ID, sb.CreatePreAuthCode(), "", exp)
	if err != nil {
		h.t.Fatal(err)
	}
	// An attempt the merchant completed on WeChat's page: its code awaits the redirect.
	pre := sb.CreatePreAuthCode()
	attA2, err := h.st.CreateAttempt(ctx, actor("ownerA"), w.A.ID, pre, "", exp)
	if err != nil {
		h.t.Fatal(err)
	}
	_, code, err := sb.AuthorizeApp(pre, sandbox.AppSpec{Nickname: "Callback Cafe 回调咖啡"})
	if err != nil {
		h.t.Fatal(err)
	}
	r, err := h.st.BindApp(ctx, actor("ownerB"), "wxappa0000000001", w.B.ID, attB.ID)
	if err != nil || r.ConflictID == 0 {
		h.t.Fatalf("conflict: %+v %v", r, err)
	}
	return []string{"{appA}", "wxappa0000000001", "{appB}", "wxappb0000000002", "{appU}", "wxappu0000000003",
		"{attemptA}", itoa(attA.ID), "{attemptA2}", itoa(attA2.ID), "{attemptB}", itoa(attB.ID), "{authCodeA2}", url.QueryEscape(code),
		"{conflict}", itoa(r.ConflictID)}
}

// attemptHere starts two attempts in the row's session (as a click on
// "Authorize" does) and has the merchant approve the first on WeChat:
// {attemptS} with its state {stateS} and code {authCodeS}; {stateS2}, the
// second attempt's state; {stateOther}, a well-formed state of no attempt;
// {attackerCode}, an auth_code the attacker got approving their own app.
func attemptHere(h *harness, c *client, f *fixture) []string {
	h.t.Helper()
	a, b := startAttempt(h, c, f.A.ID), startAttempt(h, c, f.A.ID)
	_, code, err := h.sb.AuthorizeApp(a.PreAuthCode, sandbox.AppSpec{Nickname: "Callback Cafe 回调咖啡"})
	if err != nil {
		h.t.Fatal(err)
	}
	_, attacker, err := h.sb.AuthorizeApp(h.sb.CreatePreAuthCode(), sandbox.AppSpec{Nickname: "Attacker App 攻击者"})
	if err != nil {
		h.t.Fatal(err)
	}
	return []string{"{attemptS}", itoa(a.ID), "{stateS}", a.CallbackState, "{authCodeS}", url.QueryEscape(code),
		"{stateS2}", b.CallbackState, "{stateOther}", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "{attackerCode}", url.QueryEscape(attacker)}
}

// attemptElsewhere starts an attempt in another session of the same user
// and approves it: {attemptO}, {stateO}, {authCodeO}.
func attemptElsewhere(h *harness, c *client, f *fixture) []string {
	h.t.Helper()
	other := h.client()
	other.login(f.users["ownerA"].Email)
	a := startAttempt(h, other, f.A.ID)
	_, code, err := h.sb.AuthorizeApp(a.PreAuthCode, sandbox.AppSpec{Nickname: "Other Session 别处会话"})
	if err != nil {
		h.t.Fatal(err)
	}
	return []string{"{attemptO}", itoa(a.ID), "{stateO}", a.CallbackState, "{authCodeO}", url.QueryEscape(code)}
}

// startAttempt clicks "Authorize" in c's session and returns the attempt
// with the state its page shows.
func startAttempt(h *harness, c *client, tenantID int64) model.AuthAttempt {
	h.t.Helper()
	r := c.post(paths.Authorize(tenantID), nil)
	m := attemptLoc.FindStringSubmatch(r.Location())
	if r.Status != 303 || m == nil {
		h.t.Fatalf("start: status %d, Location %q", r.Status, r.Location())
	}
	a, err := h.st.Attempt(context.Background(), tenantID, mustInt(h.t, m[2]))
	if err != nil {
		h.t.Fatal(err)
	}
	a.CallbackState = stateOnPage(h.t, c, a)
	if a.CallbackState == "" {
		h.t.Fatal("the attempt page of the session that started it shows no state")
	}
	return a
}

// nothingBoundFromAttack: the attacker's app is nowhere, the attempts
// stay pending.
func nothingBoundFromAttack(t *testing.T, h *harness, w *world) {
	t.Helper()
	if n := h.count(`SELECT COUNT(*) FROM authorizers WHERE nickname = 'Attacker App 攻击者'`); n != 0 {
		t.Errorf("the attacker's app was stored")
	}
	if n := h.count(`SELECT COUNT(*) FROM auth_attempts WHERE tenant_id = ? AND state != 'pending'`, w.A.ID); n != 0 {
		t.Errorf("%d of tenant A's attempts moved on", n)
	}
}

func onboardingScenarios() []scenario {
	boundTo := func(appID string, tenant func(w *world) int64) func(t *testing.T, h *harness, w *world) {
		return func(t *testing.T, h *harness, w *world) {
			t.Helper()
			got, err := h.st.TenantOfApp(context.Background(), appID)
			if err != nil || got != tenant(w) {
				t.Errorf("%s bound to %d (%v), want %d", appID, got, err, tenant(w))
			}
		}
	}
	tA := func(w *world) int64 { return w.A.ID }
	tB := func(w *world) int64 { return w.B.ID }
	return []scenario{
		// Tenant apps list and page.
		{name: "apps list", method: "GET", url: "/t/{A}/apps", who: "viewerA", status: 200, want: []string{appNameA, "t:apps.status.authorized", `sse-connect="/t/{A}/apps/events?view=list"`}, notWant: []string{appNameB, appNameU}},
		{name: "apps list other tenant", method: "GET", url: "/t/{A}/apps", who: "ownerB", status: 404, notWant: []string{appNameA}},
		{name: "apps list anonymous", method: "GET", url: "/t/{A}/apps", who: "anon", status: 303, loc: "/login?next="},
		{name: "app page", method: "GET", url: "/t/{A}/apps/{appA}", who: "viewerA", status: 200, want: []string{appNameA, "gh_appa0000000001", "t:perm.18", "工具", `data-testid="token-health"`}, notWant: []string{"refreshtoken@@@"}},
		{name: "app page by another tenant's appid", method: "GET", url: "/t/{A}/apps/{appB}", who: "ownerA", status: 404, notWant: []string{appNameB}},
		{name: "app page of A from B", method: "GET", url: "/t/{B}/apps/{appA}", who: "ownerB", status: 404, notWant: []string{appNameA}},
		{name: "app stream", method: "GET", url: "/t/{A}/apps/events?view=app&appid={appA}", who: "ownerA", status: 200, want: []string{"retry: 2000"}, notWant: []string{appNameB}},
		{name: "apps list stream", method: "GET", url: "/t/{A}/apps/events?view=list", who: "viewerA", status: 200, want: []string{"retry: 2000"}, notWant: []string{appNameB}},
		{name: "app stream by another tenant's appid", method: "GET", url: "/t/{B}/apps/events?view=app&appid={appA}", who: "ownerB", status: 404, notWant: []string{appNameA}},
		{name: "reauthorize", method: "POST", url: "/t/{A}/apps/{appA}/reauthorize", who: "developerA", status: 303, loc: "/t/{A}/authorize/",
			check: func(t *testing.T, h *harness, w *world) {
				if n := h.count(`SELECT COUNT(*) FROM auth_attempts WHERE tenant_id = ? AND biz_appid = 'wxappa0000000001'`, w.A.ID); n != 1 {
					t.Errorf("re-authorization attempts = %d, want 1", n)
				}
			}},
		{name: "reauthorize viewer", method: "POST", url: "/t/{A}/apps/{appA}/reauthorize", who: "viewerA", status: 403},
		{name: "reauthorize another tenant's app", method: "POST", url: "/t/{B}/apps/{appA}/reauthorize", who: "ownerB", status: 404},

		// Authorization attempts.
		{name: "authorize page", method: "GET", url: "/t/{A}/authorize", who: "developerA", status: 200, want: []string{`data-testid="authorize-start"`, "t:authorize.step1"}},
		{name: "authorize page viewer", method: "GET", url: "/t/{A}/authorize", who: "viewerA", status: 403},
		{name: "authorize create", method: "POST", url: "/t/{A}/authorize", who: "developerA", status: 303, loc: "/t/{A}/authorize/",
			check: func(t *testing.T, h *harness, w *world) {
				if n := h.count(`SELECT COUNT(*) FROM auth_attempts WHERE tenant_id = ? AND user_id = ?`, w.A.ID, w.users["developerA"].ID); n != 1 {
					t.Errorf("attempts of developerA = %d, want 1", n)
				}
				if n := h.count(`SELECT COUNT(*) FROM auth_attempts WHERE code_sealed LIKE 'preauthcode@@@%'`); n != 0 {
					t.Errorf("a pre_auth_code is stored in the clear")
				}
			}},
		{name: "authorize create approver", method: "POST", url: "/t/{A}/authorize", who: "approverA", status: 403},
		{name: "attempt page", method: "GET", url: "/t/{A}/authorize/{attemptA}", who: "ownerA", status: 200,
			want: []string{"/wxaopen/safe/bindcomponent?action=bindcomponent&amp;no_scan=1&amp;component_appid=wxcomponent0001", "auth_type=2", "#wechat_redirect",
				"redirect_uri=" + url.QueryEscape("http://localhost:8080/t/"), `referrerpolicy="origin"`, `data-testid="qr"`, "data-countdown=", `data-testid="pc-link"`}},
		{name: "attempt page of another member", method: "GET", url: "/t/{A}/authorize/{attemptA}", who: "developerA", status: 404, notWant: []string{"bindcomponent"}},
		{name: "attempt page of another tenant", method: "GET", url: "/t/{B}/authorize/{attemptA}", who: "ownerB", status: 404, notWant: []string{"bindcomponent"}},
		{name: "attempt stream", method: "GET", url: "/t/{A}/authorize/{attemptA}/events", who: "ownerA", status: 200, want: []string{"event: attempt", `data-state="pending"`}},
		{name: "attempt stream of another member", method: "GET", url: "/t/{A}/authorize/{attemptA}/events", who: "developerA", status: 404},
		{name: "attempt cancel", method: "POST", url: "/t/{A}/authorize/{attemptA}/cancel", who: "ownerA", status: 303, loc: "/t/{A}/authorize/{attemptA}",
			check: func(t *testing.T, h *harness, w *world) {
				if n := h.count(`SELECT COUNT(*) FROM auth_attempts WHERE state = 'cancelled'`); n != 1 {
					t.Errorf("cancelled attempts = %d, want 1", n)
				}
			}},
		{name: "attempt cancel from another tenant", method: "POST", url: "/t/{B}/authorize/{attemptA}/cancel", who: "ownerB", status: 404},
		{name: "callback binds", method: "GET", url: "/t/{A}/authorize/{attemptS}/callback?state={stateS}&auth_code={authCodeS}&expires_in=600", who: "ownerA", status: 303, loc: "/t/{A}/apps/wx", prep: attemptHere,
			check: func(t *testing.T, h *harness, w *world) {
				if n := h.count(`SELECT COUNT(*) FROM authorizers a JOIN auth_attempts t ON t.appid = a.appid WHERE t.state = 'bound' AND a.tenant_id = ? AND a.nickname = 'Callback Cafe 回调咖啡' AND a.refresh_token != ''`, w.A.ID); n != 1 {
					t.Errorf("bound apps from the callback = %d, want 1", n)
				}
			}},
		{name: "callback binds when WeChat appends its query with a second '?'", method: "GET", url: "/t/{A}/authorize/{attemptS}/callback?state={stateS}?auth_code={authCodeS}&expires_in=600", who: "ownerA", status: 303, loc: "/t/{A}/apps/wx", prep: attemptHere},
		{name: "callback for another user's attempt", method: "GET", url: "/t/{A}/authorize/{attemptA2}/callback?auth_code={authCodeA2}", who: "developerA", status: 404, want: []string{"t:authorize.not_yours"},
			check: func(t *testing.T, h *harness, w *world) {
				if n := h.count(`SELECT COUNT(*) FROM authorizers WHERE nickname = 'Callback Cafe 回调咖啡'`); n != 0 {
					t.Errorf("an app was stored from a refused callback")
				}
			}},
		{name: "callback for another tenant's attempt", method: "GET", url: "/t/{B}/authorize/{attemptA2}/callback?auth_code={authCodeA2}", who: "ownerB", status: 404,
			check: func(t *testing.T, h *harness, w *world) {
				if n := h.count(`SELECT COUNT(*) FROM authorizers WHERE tenant_id = ? AND nickname NOT LIKE 'API %'`, w.B.ID); n != 1 { // the API fixture's app aside
					t.Errorf("tenant B holds %d apps, want 1", n)
				}
			}},
		{name: "callback with a forged code", method: "GET", url: "/t/{A}/authorize/{attemptS}/callback?state={stateS}&auth_code=queryauthcode@@@forged", who: "ownerA", status: 409, want: []string{"t:authorize.code_invalid"}, prep: attemptHere,
			check: func(t *testing.T, h *harness, w *world) {
				if n := h.count(`SELECT COUNT(*) FROM authorizers WHERE tenant_id = ? AND nickname != 'Acme 内容小程序' AND nickname NOT LIKE 'API %'`, w.A.ID); n != 1 { // the content and API fixtures' apps aside
					t.Errorf("tenant A holds %d apps after a forged code, want 1", n)
				}
			}},
		// The attack of issue #12: an attacker approves their own Mini
		// Program, keeps its auth_code and sends the merchant a callback link
		// for the merchant's pending attempt. Nothing binds without the state
		// the merchant's own session holds (and the push still binds what
		// WeChat says the merchant approved: TestAuthorizeCallbackAttack).
		{name: "callback with an attacker's code on the merchant's attempt, no state", method: "GET", url: "/t/{A}/authorize/{attemptS}/callback?auth_code={attackerCode}&expires_in=600", who: "ownerA", status: 403,
			want: []string{"t:authorize.other_session"}, notWant: []string{"Attacker App"}, prep: attemptHere, check: nothingBoundFromAttack},
		{name: "callback with an attacker's code on a guessed attempt id, no state", method: "GET", url: "/t/{A}/authorize/{attemptA}/callback?auth_code={attackerCode}&expires_in=600", who: "ownerA", status: 403,
			want: []string{"t:authorize.other_session"}, prep: attemptHere, check: nothingBoundFromAttack},
		{name: "callback with an attacker's code and a wrong state", method: "GET", url: "/t/{A}/authorize/{attemptS}/callback?state={stateOther}&auth_code={attackerCode}&expires_in=600", who: "ownerA", status: 403,
			want: []string{"t:authorize.other_session"}, prep: attemptHere, check: nothingBoundFromAttack},
		{name: "callback with another attempt's state in the same browser", method: "GET", url: "/t/{A}/authorize/{attemptS}/callback?state={stateS2}&auth_code={attackerCode}&expires_in=600", who: "ownerA", status: 403,
			want: []string{"t:authorize.other_session"}, prep: attemptHere, check: nothingBoundFromAttack},
		{name: "callback with the right state from another session", method: "GET", url: "/t/{A}/authorize/{attemptO}/callback?state={stateO}&auth_code={authCodeO}&expires_in=600", who: "ownerA", status: 403,
			want: []string{"t:authorize.other_session"}, prep: attemptElsewhere,
			check: func(t *testing.T, h *harness, w *world) {
				if n := h.count(`SELECT COUNT(*) FROM authorizers WHERE nickname = 'Other Session 别处会话'`); n != 0 {
					t.Errorf("an app was stored from another session's callback")
				}
			}},
		{name: "callback without a code (cancelled on WeChat)", method: "GET", url: "/t/{A}/authorize/{attemptA}/callback", who: "ownerA", status: 422, want: []string{"t:authorize.no_code"}},
		// The phone that scanned the QR code is not signed in: a public
		// thank-you page (not the login page, not an error) that names
		// nothing and binds nothing; the push binds, the desk updates live.
		{name: "callback on the phone that scanned the QR code", method: "GET", url: "/t/{A}/authorize/{attemptO}/callback?state={stateO}&auth_code={authCodeO}&expires_in=600", who: "anon", status: 200,
			want: []string{`data-testid="authorized-public"`, "t:authorize.public_done_heading", "t:authorize.public_done_body"}, notWant: []string{tenantAName, "Other Session 别处会话", "owner@a.test", `/t/{A}`}, prep: attemptElsewhere,
			check: func(t *testing.T, h *harness, w *world) {
				if n := h.count(`SELECT COUNT(*) FROM authorizers WHERE nickname = 'Other Session 别处会话'`); n != 0 {
					t.Errorf("an app was stored from the phone's callback")
				}
			}},
		{name: "callback on a phone names nothing, whatever the ids", method: "GET", url: "/t/999/authorize/999/callback?auth_code=x", who: "anon", status: 200, want: []string{`data-testid="authorized-public"`}},
		{name: "callback signed in without authorize permission", method: "GET", url: "/t/{A}/authorize/{attemptA}/callback?auth_code=x", who: "viewerA", status: 403},
		{name: "callback signed in, another tenant", method: "GET", url: "/t/{A}/authorize/{attemptA}/callback?auth_code=x", who: "ownerB", status: 404},
		{name: "desk page while waiting shows the QR code", method: "GET", url: "/t/{A}/authorize/{attemptS}", who: "ownerA", status: 200, prep: attemptHere,
			want: []string{`data-testid="qr-option"`, `<div id="attempt-options">`}, notWant: []string{`data-testid="attempt-configure"`, `data-testid="attempt-options-closed"`}},
		{name: "desk page once bound: QR collapsed, next step is configuring", method: "GET", url: "/t/{A}/authorize/{attemptS}", who: "ownerA", status: 200,
			prep: func(h *harness, c *client, f *fixture) []string {
				pairs := attemptHere(h, c, f)
				r := c.get("/t/" + itoa(f.A.ID) + "/authorize/" + pairs[1] + "/callback?state=" + url.QueryEscape(pairs[3]) + "&auth_code=" + pairs[5])
				if r.Status != 303 {
					h.t.Fatalf("desk callback: %d", r.Status)
				}
				return pairs
			},
			want:    []string{`data-state="bound"`, `data-testid="attempt-configure"`, `href="/t/{A}/apps/wx`, `/config"`, `hx-swap-oob="true"`, "t:authorize.next_configure"},
			notWant: []string{`data-testid="qr-option"`, `data-testid="pc-link"`}},

		// Staff.
		{name: "staff apps", method: "GET", url: "/staff/apps", who: "staffsupport", status: 200, want: []string{appNameA, appNameB, appNameU, tenantAName, `data-testid="conflicts"`}, notWant: []string{`data-testid="reconcile-now"`}},
		{name: "staff apps unbound filter", method: "GET", url: "/staff/apps?status=unbound", who: "staffadmin", status: 200, want: []string{appNameU, `data-testid="assign-wxappu0000000003"`}, notWant: []string{`staff-app-wxappa0000000001`}},
		{name: "staff apps search by tenant", method: "GET", url: "/staff/apps?q=Bravo", who: "staffoperator", status: 200, want: []string{appNameB}, notWant: []string{`staff-app-wxappa0000000001`, appNameU}},
		{name: "staff apps by tenant id", method: "GET", url: "/staff/apps?tenant={A}", who: "staffoperator", status: 200, want: []string{appNameA}, notWant: []string{`staff-app-wxappb0000000002`}},
		{name: "staff apps merchant", method: "GET", url: "/staff/apps", who: "ownerA", status: 403, notWant: []string{appNameB}},
		{name: "staff apps stream", method: "GET", url: "/staff/apps/events", who: "staffsupport", status: 200, want: []string{"retry:"}},
		{name: "staff apps stream merchant", method: "GET", url: "/staff/apps/events", who: "ownerA", status: 403},
		{name: "staff app page", method: "GET", url: "/staff/apps/{appB}", who: "staffapprover", status: 200, want: []string{appNameB, tenantBName}},
		{name: "staff app page merchant", method: "GET", url: "/staff/apps/{appB}", who: "ownerA", status: 403},
		{name: "staff assign", method: "POST", url: "/staff/apps/{appU}/assign", form: form("tenant", "{B}"), who: "staffadmin", status: 303, loc: "/staff/apps", check: boundTo("wxappu0000000003", tB)},
		{name: "staff assign operator", method: "POST", url: "/staff/apps/{appU}/assign", form: form("tenant", "{B}"), who: "staffoperator", status: 403},
		{name: "staff assign a bound app", method: "POST", url: "/staff/apps/{appA}/assign", form: form("tenant", "{B}"), who: "staffadmin", status: 409, check: boundTo("wxappa0000000001", tA)},
		{name: "staff keeps conflict with owner", method: "POST", url: "/staff/apps/conflicts/{conflict}", form: form("resolution", "kept"), who: "staffadmin", status: 303, check: boundTo("wxappa0000000001", tA)},
		{name: "staff moves conflict", method: "POST", url: "/staff/apps/conflicts/{conflict}", form: form("resolution", "moved"), who: "staffadmin", status: 303, check: boundTo("wxappa0000000001", tB)},
		{name: "staff conflict support", method: "POST", url: "/staff/apps/conflicts/{conflict}", form: form("resolution", "moved"), who: "staffsupport", status: 403, check: boundTo("wxappa0000000001", tA)},
		{name: "staff reconcile", method: "POST", url: "/staff/apps/reconcile", who: "staffoperator", status: 303, loc: "/staff/apps",
			check: func(t *testing.T, h *harness, w *world) {
				if n := h.count(`SELECT COUNT(*) FROM reconcile_runs WHERE trigger = 'manual' AND finished_at IS NOT NULL`); n != 1 {
					t.Errorf("reconcile runs = %d, want 1", n)
				}
			}},
		{name: "staff reconcile support", method: "POST", url: "/staff/apps/reconcile", who: "staffsupport", status: 403},
	}
}

var _ = strings.Contains
