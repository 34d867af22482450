package web

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
)

func TestInviteLinkStates(t *testing.T) {
	h := newHarness(t)
	f := h.fixture()
	ctx := context.Background()
	owner := model.Actor{UserID: f.users["ownerA"].ID}
	_, used, _ := h.st.CreateInvite(ctx, owner, f.A.ID, model.RoleDeveloper, "")
	revokedInv, revoked, _ := h.st.CreateInvite(ctx, owner, f.A.ID, model.RoleDeveloper, "")
	_, expired, _ := h.st.CreateInvite(ctx, owner, f.A.ID, model.RoleDeveloper, "")
	if err := h.st.RevokeInvite(ctx, owner, f.A.ID, revokedInv.ID); err != nil {
		t.Fatal(err)
	}
	first := h.client()
	r := first.post("/invite/"+used, form("name", "First", "email", "first@x.test", "password", "first's password"))
	wantStatus(t, "first use", r, 303)

	h.clock.Advance(store.InviteLifetime - time.Minute)
	late := h.client()
	wantStatus(t, "a minute before expiry", late.get("/invite/"+expired), 200)
	h.clock.Advance(2 * time.Minute)

	for _, tc := range []struct {
		name, token, key string
	}{
		{"used", used, "invite.accepted"},
		{"revoked", revoked, "invite.revoked"},
		{"expired", expired, "invite.expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := h.client()
			r := c.get("/invite/" + tc.token)
			wantStatus(t, "GET", r, 410)
			mustContain(t, "GET", r, `data-testid="invite-state"`, h.tr("zh-CN", tc.key))
			mustNotContain(t, "GET", r, `data-testid="invite-signup"`)
			before := h.dbState()
			r = c.post("/invite/"+tc.token, form("name", "Late", "email", "late@x.test", "password", "late's password"))
			wantStatus(t, "POST", r, 422)
			mustContain(t, "POST", r, h.tr("zh-CN", tc.key))
			if h.dbState() != before {
				t.Error("a dead invite changed the database")
			}
			if _, err := h.st.UserByEmail(ctx, "late@x.test"); !model.IsNotFound(err) {
				t.Errorf("user created from a dead invite: %v", err)
			}
			// A signed-in user cannot use it either.
			n := h.client().login("nobody@x.test")
			wantStatus(t, "POST signed in", n.post("/invite/"+tc.token, nil), 422)
			if r := h.role(f.A.ID, f.users["nobody"].ID); r != "" {
				t.Errorf("joined through a dead invite as %q", r)
			}
		})
	}
	c := h.client()
	r = c.get("/invite/" + strings.Repeat("x", 32))
	wantStatus(t, "wrong token", r, 404)
	mustContain(t, "wrong token", r, h.tr("zh-CN", "invite.invalid"))
	mustNotContain(t, "wrong token", r, tenantAName)
	wantStatus(t, "wrong token POST", c.post("/invite/nope", form("name", "X", "email", "x@x.test", "password", "x's long password")), 404)
}

func TestInviteAlreadyMemberAndSuspendedTenant(t *testing.T) {
	h := newHarness(t)
	f := h.fixture()
	c := h.client().login("viewer@a.test")
	r := c.post("/invite/"+f.tokenA, nil)
	wantStatus(t, "already a member", r, 422)
	mustContain(t, "already a member", r, h.tr("zh-CN", "invite.already_member"))
	if got := h.role(f.A.ID, f.users["viewerA"].ID); got != model.RoleViewer {
		t.Errorf("role = %q, want viewer unchanged", got)
	}

	ctx := context.Background()
	_, tokC, err := h.st.CreateInvite(ctx, model.Actor{UserID: f.users["ownerC"].ID}, f.C.ID, model.RoleOwner, "")
	if err != nil {
		t.Fatal(err)
	}
	n := h.client().login("nobody@x.test")
	r = n.post("/invite/"+tokC, nil)
	wantStatus(t, "suspended tenant", r, 422)
	mustContain(t, "suspended tenant", r, h.tr("zh-CN", "tenant.suspended"))
	if got := h.role(f.C.ID, f.users["nobody"].ID); got != "" {
		t.Errorf("joined a suspended tenant as %q", got)
	}
}

func TestExpiredOrDestroyedSessionChangesNothing(t *testing.T) {
	h := newHarness(t)
	f := h.fixture()
	c := h.client().login("owner@a.test")
	wantStatus(t, "signed in", c.get("/t/"+itoa(f.A.ID)+"/members"), 200)

	// The server forgets every session (expired, or cleaned up).
	if _, err := h.st.W.Exec(`DELETE FROM sessions`); err != nil {
		t.Fatal(err)
	}
	r := c.get("/t/" + itoa(f.A.ID) + "/members")
	wantStatus(t, "GET after expiry", r, 303)
	if want := "/login?next=" + url.QueryEscape("/t/"+itoa(f.A.ID)+"/members") + "&flash=login.session_expired"; r.Location() != want {
		t.Errorf("Location = %q, want %q", r.Location(), want)
	}
	r = c.get(r.Location())
	wantStatus(t, "login page", r, 200)
	mustContain(t, "login page", r, h.tr("zh-CN", "login.session_expired"), `name="next" value="/t/`+itoa(f.A.ID)+`/members"`)
	before := h.dbState()
	r = c.post("/t/"+itoa(f.A.ID)+"/invites", form("role", "owner"))
	wantStatus(t, "POST after expiry", r, 303)
	if !strings.HasPrefix(r.Location(), "/login") {
		t.Errorf("Location = %q, want the login page", r.Location())
	}
	r = c.post("/t/"+itoa(f.A.ID)+"/members/"+itoa(f.users["developerA"].ID)+"/role", form("role", "owner"), c.htmx())
	wantStatus(t, "HTMX POST after expiry", r, 401)
	if !strings.HasPrefix(r.Header.Get("HX-Redirect"), "/login") {
		t.Errorf("HX-Redirect = %q, want the login page", r.Header.Get("HX-Redirect"))
	}
	if h.dbState() != before {
		t.Error("a request with an expired session changed the database")
	}
}

func TestLogoutEndsTheSessionServerSide(t *testing.T) {
	h := newHarness(t)
	f := h.fixture()
	c := h.client().login("owner@a.test")
	stolen := map[string]string{}
	for k, v := range c.cookies {
		stolen[k] = v
	}
	wantStatus(t, "logout", c.post("/logout", nil), 303)
	if c.cookies["sid"] != "" {
		t.Error("logout left the sid cookie in place")
	}
	// Replaying the old cookie must not work.
	replay := h.client()
	replay.cookies = stolen
	r := replay.get("/t/" + itoa(f.A.ID))
	wantStatus(t, "replayed cookie", r, 303)
	mustNotContain(t, "replayed cookie", r, tenantAName)
}

func TestLoginRotatesTheSessionToken(t *testing.T) {
	h := newHarness(t)
	h.fixture()
	c := h.client()
	c.token()
	// A planted session cookie must not survive login (fixation).
	c.cookies["sid"] = "planted-by-attacker"
	c.login("owner@a.test")
	if c.cookies["sid"] == "planted-by-attacker" || c.cookies["sid"] == "" {
		t.Errorf("sid after login = %q", c.cookies["sid"])
	}
}

func TestMissingCSRFTokenIsRefused(t *testing.T) {
	h := newHarness(t)
	f := h.fixture()
	c := h.client().login("owner@a.test")
	invites := "/t/" + itoa(f.A.ID) + "/invites"
	before := h.dbState()

	// A plain form without _csrf.
	r := c.do("POST", invites, form("role", "owner"))
	wantStatus(t, "no token", r, 403)
	mustContain(t, "no token", r, h.tr("zh-CN", "error.csrf"))
	// A wrong token.
	r = c.do("POST", invites, form("role", "owner", "_csrf", "forged"))
	wantStatus(t, "forged token", r, 403)
	// The right token without the matching cookie (another site's form).
	other := h.client()
	other.cookies["sid"] = c.cookies["sid"]
	r = other.do("POST", invites, form("role", "owner", "_csrf", c.csrf))
	wantStatus(t, "token without cookie", r, 403)
	// HTMX without the header gets a toast it can show.
	r = c.do("POST", invites, form("role", "owner"), withHeader("HX-Request", "true"))
	wantStatus(t, "htmx no token", r, 403)
	mustContain(t, "htmx no token", r, `data-testid="toast"`, h.tr("zh-CN", "error.csrf"))
	if r.Header.Get("HX-Reswap") != "none" {
		t.Errorf("HX-Reswap = %q, want none", r.Header.Get("HX-Reswap"))
	}
	// In English too.
	c.lang = "en"
	r = c.do("POST", "/logout", nil)
	wantStatus(t, "logout without token", r, 403)
	mustContain(t, "english", r, h.tr("en", "error.csrf"))
	// Anonymous forms are protected as well.
	anon := h.client()
	anon.token()
	r = anon.do("POST", "/signup", form("tenant", "X", "name", "X", "email", "x@x.test", "password", "x's long password"))
	wantStatus(t, "signup without token", r, 403)

	if h.dbState() != before {
		t.Error("requests without a valid CSRF token changed the database")
	}
	// The same request with the token works, so the refusals above were the token's doing.
	wantStatus(t, "with token", c.post(invites, form("role", "owner")), 200)
	wantStatus(t, "htmx with token", c.post(invites, form("role", "viewer"), c.htmx()), 200)
}

// TestBodyOverTheLimit talks to a real listener: Fiber's app.Test cannot
// report a response the server sends before reading the body.
func TestBodyOverTheLimit(t *testing.T) {
	h := newHarness(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = h.app.Listener(ln) }()
	send := func(n int, lang string) *http.Response {
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		fmt.Fprintf(conn, "POST /signup HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nAccept-Language: %s\r\nContent-Length: %d\r\n\r\n", lang, n)
		if n <= 1024 {
			fmt.Fprint(conn, strings.Repeat("a", n))
		}
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := send(h.cfg.MaxBodySize+1, "zh-CN")
	if res.StatusCode != 413 {
		t.Fatalf("status %d, want 413", res.StatusCode)
	}
	var b strings.Builder
	_, _ = bufio.NewReader(res.Body).WriteTo(&b)
	if !strings.Contains(b.String(), h.tr("zh-CN", "error.too_large")) {
		t.Errorf("body %q lacks the localized message", b.String())
	}
	if res := send(h.cfg.MaxBodySize+1, "en"); res.StatusCode != 413 {
		t.Errorf("status %d, want 413", res.StatusCode)
	}
	// A small body is not refused for its size (it is for its missing CSRF token).
	if res := send(100, "en"); res.StatusCode != 403 {
		t.Errorf("small body: status %d, want 403", res.StatusCode)
	}
	if n := h.count(`SELECT COUNT(*) FROM users`); n != 0 {
		t.Errorf("users = %d, want 0", n)
	}
}

func TestLoginThrottlingPerAccount(t *testing.T) {
	h := newHarness(t)
	h.fixture()
	c := h.client()
	for i := 0; i < pairFree; i++ {
		r := c.post("/login", form("email", "owner@a.test", "password", fmt.Sprintf("wrong %d password", i)))
		wantStatus(t, "failure", r, 422)
	}
	// Now even the right password is refused from this address, with the
	// reason: the first wait is pairDelay (a minute).
	r := c.post("/login", form("email", "owner@a.test", "password", testPassword))
	wantStatus(t, "throttled", r, 429)
	mustContain(t, "throttled", r, h.tr("zh-CN", "login.throttled", "Minutes", 1), `value="owner@a.test"`)
	if c.cookies["sid"] != "" {
		t.Error("a throttled login started a session")
	}
	c.lang = "en"
	mustContain(t, "throttled en", c.post("/login", form("email", "owner@a.test", "password", testPassword)), h.tr("en", "login.throttled", "Minutes", 1))
	c.lang = ""
	// The wait doubles with each further failure: after a minute one more
	// try, then two minutes, then four.
	for i, wait := range []int{2, 4} {
		h.clock.Advance(time.Duration(wait/2)*time.Minute + time.Second)
		wantStatus(t, "after the wait", c.post("/login", form("email", "owner@a.test", "password", fmt.Sprintf("again %d wrong", i))), 422)
		r := c.post("/login", form("email", "owner@a.test", "password", testPassword))
		wantStatus(t, "throttled again", r, 429)
		mustContain(t, "throttled again", r, h.tr("zh-CN", "login.throttled", "Minutes", wait))
	}
	// Other accounts on the same address are not affected.
	h.client().login("owner@b.test")
	// After the window the account may try again, and success clears the count.
	h.clock.Advance(throttleWindow + time.Second)
	h.client().login("owner@a.test")
	if n, _, _ := h.srv.Store.LoginFailures(context.Background(), "acct:owner@a.test", h.clock.Now().Add(-24*time.Hour)); n != 0 {
		t.Errorf("failures after a successful login = %d, want 0", n)
	}
	if n, _, _ := h.srv.Store.LoginFailures(context.Background(), pairKey("owner@a.test", "0.0.0.0"), h.clock.Now().Add(-24*time.Hour)); n != 0 {
		t.Errorf("the pair's failures after a successful login = %d, want 0", n)
	}
	if n := h.count(`SELECT COUNT(*) FROM activity WHERE action = ?`, store.ActLoginFailed); n != pairFree+2 {
		t.Errorf("login_failed activity rows = %d, want %d", n, pairFree+2)
	}
}

func TestLoginThrottlingPerIP(t *testing.T) {
	h := newHarness(t)
	h.fixture()
	c := h.client()
	// Spread the failures over real accounts (a cheap hash to check) so that
	// no account reaches its own limit.
	accounts := []string{"owner@a.test", "developer@a.test", "approver@a.test", "viewer@a.test", "dev@b.test",
		"owner@c.test", "admin@staff.test", "operator@staff.test", "support@staff.test"}
	for i := 0; i < maxFailuresIP; i++ {
		email := accounts[i/(pairFree-1)] // below each (account, address) pair's free failures
		wantStatus(t, "failure "+email, c.post("/login", form("email", email, "password", "wrong password")), 422)
	}
	r := h.client().post("/login", form("email", "owner@b.test", "password", testPassword))
	wantStatus(t, "fresh account from a throttled address", r, 429)
	mustContain(t, "per ip", r, h.tr("zh-CN", "login.throttled", "Minutes", 15))
}

func TestLastOwnerCannotBeRemovedOrDemoted(t *testing.T) {
	h := newHarness(t)
	f := h.fixture()
	c := h.client().login("owner@a.test")
	base := "/t/" + itoa(f.A.ID) + "/members/"
	self := itoa(f.users["ownerA"].ID)
	msg := h.tr("zh-CN", "members.last_owner")

	r := c.post(base+self+"/role", form("role", "developer"))
	wantStatus(t, "demote last owner", r, 409)
	mustContain(t, "demote last owner", r, msg)
	r = c.post(base+self+"/remove", nil)
	wantStatus(t, "remove last owner", r, 409)
	mustContain(t, "remove last owner", r, msg)
	r = c.post(base+self+"/role", form("role", "viewer"), c.htmx())
	wantStatus(t, "htmx demote last owner", r, 409)
	mustContain(t, "htmx demote last owner", r, `data-testid="row-error"`, msg, `data-testid="toast"`)
	if got := h.role(f.A.ID, f.users["ownerA"].ID); got != model.RoleOwner {
		t.Fatalf("last owner's role = %q", got)
	}

	// With a second owner, the first may step down.
	dev := itoa(f.users["developerA"].ID)
	wantStatus(t, "promote", c.post(base+dev+"/role", form("role", "owner")), 303)
	wantStatus(t, "demote self", c.post(base+self+"/role", form("role", "viewer")), 303)
	if got := h.role(f.A.ID, f.users["ownerA"].ID); got != model.RoleViewer {
		t.Errorf("role = %q, want viewer", got)
	}
	// The demoted owner lost member management at once.
	wantStatus(t, "former owner edits", c.post(base+dev+"/role", form("role", "viewer")), 403)
	// The new owner can remove the former one, but not themself.
	d := h.client().login("developer@a.test")
	wantStatus(t, "remove former owner", d.post(base+self+"/remove", nil), 303)
	r = d.post(base+dev+"/remove", nil)
	wantStatus(t, "remove self as last owner", r, 409)
	wantStatus(t, "removed member", c.get("/t/"+itoa(f.A.ID)), 404)
}

func TestPasswordChangePersists(t *testing.T) {
	h := newHarness(t)
	h.fixture()
	c := h.client().login("viewer@a.test")
	const next = "a brand new password"
	r := c.post("/account/password", form("current", testPassword, "password", next))
	wantStatus(t, "change", r, 303)
	r = c.get(r.Location())
	wantStatus(t, "still signed in", r, 200)
	mustContain(t, "flash", r, h.tr("zh-CN", "account.password_changed"))

	wantStatus(t, "old password", h.client().post("/login", form("email", "viewer@a.test", "password", testPassword)), 422)
	wantStatus(t, "new password", h.client().post("/login", form("email", "viewer@a.test", "password", next)), 303)
}

func TestPasswordChangeSignsOutOtherSessions(t *testing.T) {
	h := newHarness(t)
	h.fixture()
	phone := h.client().login("viewer@a.test")
	laptop := h.client().login("viewer@a.test")
	wantStatus(t, "phone before", phone.get("/account"), 200)
	r := laptop.post("/account/password", form("current", testPassword, "password", "another new password"))
	wantStatus(t, "change", r, 303)
	wantStatus(t, "laptop keeps its session", laptop.get("/account"), 200)
	r = phone.get("/account")
	wantStatus(t, "phone signed out", r, 303)
	if !strings.HasPrefix(r.Location(), "/login") {
		t.Fatalf("phone redirected to %q, want the login page", r.Location())
	}
}

func TestLanguageChoicePersists(t *testing.T) {
	h := newHarness(t)
	f := h.fixture()
	c := h.client().login("viewer@a.test")
	mustContain(t, "default", c.get("/account"), `<html lang="zh-CN"`)
	r := c.post("/account/preferences", form("locale", "en", "time_zone", "Europe/Berlin"))
	wantStatus(t, "save", r, 303)
	u, err := h.st.UserByID(context.Background(), f.users["viewerA"].ID)
	if err != nil || u.Locale != "en" || u.TimeZone != "Europe/Berlin" {
		t.Fatalf("stored preferences = %q %q (%v)", u.Locale, u.TimeZone, err)
	}
	// A new browser with a Chinese Accept-Language still gets English.
	n := h.client()
	n.lang = "zh-CN,zh;q=0.9"
	n.login("viewer@a.test")
	r = n.get("/account")
	mustContain(t, "new session", r, `<html lang="en"`, h.tr("en", "account.title"), `value="Europe/Berlin" selected`)

	// The top-bar switch stores the choice for a signed-in user too.
	wantStatus(t, "switch", n.post("/lang", form("lang", "zh-CN", "next", "/account")), 303)
	if u, _ := h.st.UserByID(context.Background(), f.users["viewerA"].ID); u.Locale != "zh-CN" {
		t.Errorf("locale after switch = %q", u.Locale)
	}
	// An anonymous visitor's choice lives in the session.
	a := h.client()
	wantStatus(t, "anon switch", a.post("/lang", form("lang", "en", "next", "/login")), 303)
	mustContain(t, "anon", a.get("/login"), `<html lang="en"`, h.tr("en", "login.title"))
	mustContain(t, "other anon", h.client().get("/login"), `<html lang="zh-CN"`)
	// Accept-Language picks English without any choice.
	e := h.client()
	e.lang = "en-GB,en;q=0.8"
	mustContain(t, "accept-language", e.get("/signup"), `<html lang="en"`)
}

func TestUserInTwoTenantsCanSwitch(t *testing.T) {
	h := newHarness(t)
	f := h.fixture()
	h.join(f.B.ID, f.users["ownerB"].ID, f.users["developerA"].ID, model.RoleViewer)
	c := h.client().login("developer@a.test")
	r := c.get("/t/" + itoa(f.A.ID))
	mustContain(t, "switcher", r, `data-testid="tenant-switch"`, `value="`+itoa(f.A.ID)+`" selected`, `value="`+itoa(f.B.ID)+`"`, tenantBName)
	r = c.get("/switch?tenant=" + itoa(f.B.ID))
	if r.Location() != "/t/"+itoa(f.B.ID) {
		t.Fatalf("switch went to %q", r.Location())
	}
	r = c.get(r.Location())
	wantStatus(t, "B", r, 200)
	mustContain(t, "B", r, tenantBName, h.tr("zh-CN", "role.viewer"))
	// Different roles per tenant: a viewer in B cannot invite there, a developer in A neither.
	wantStatus(t, "invite in B", c.post("/t/"+itoa(f.B.ID)+"/invites", form("role", "owner")), 403)
	// Switching to a tenant the user is not in leads nowhere.
	wantStatus(t, "C", c.get(c.get("/switch?tenant="+itoa(f.C.ID)).Location()), 404)
}
