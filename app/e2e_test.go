package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/web"
)

// The end-to-end test drives Debian's chromium through the main journeys of
// the portal, against the whole app on a loopback listener. Screenshots of the
// key steps go to .screenshots/ (gitignored). With MINIFLEET_E2E_DOCS=1 it
// also rewrites docs/screenshot.png, the picture in the README.

const chromiumPath = "/usr/bin/chromium"

// cheapHasher keeps sign-ups in the browser fast; logins verify with the
// parameters stored in each hash, so DefaultHasher accounts still work.
var cheapHasher = &web.PasswordHasher{Memory: 64, Time: 1, Threads: 1}

// e2eApp is the running portal.
type e2eApp struct {
	*app
	base string
}

// startE2EApp runs the whole portal (sandbox mode, temp data dir) on a
// loopback listener until the test ends. hasher is what sign-ups use.
func startE2EApp(t testing.TB, hasher *web.PasswordHasher) *e2eApp {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	env := map[string]string{
		"MINIFLEET_ADDR":      ln.Addr().String(),
		"MINIFLEET_BASE_URL":  base,
		"MINIFLEET_DATA_DIR":  t.TempDir(),
		"MINIFLEET_SANDBOX":   "on",
		"MINIFLEET_LOG_LEVEL": "warn",
	}
	cfg, err := loadConfig(func(k string) string { return env[k] })
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := build(context.Background(), cfg, log, ln.Addr().String())
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	deps := a.webDeps()
	deps.Hasher = hasher
	fiberApp, srv := web.New(deps)
	done := make(chan struct{})
	go func() {
		defer close(done)
		fiberApp.Listener(ln)
	}()
	t.Cleanup(func() {
		srv.Shutdown()
		fiberApp.ShutdownWithTimeout(5 * time.Second)
		<-done
		a.store.Close()
		if t.Failed() && logs.Len() > 0 {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return &e2eApp{app: a, base: base}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Len()
}

// seedTenants adds a few merchants created at different times, so the staff
// list looks like a real one.
func seedTenants(t *testing.T, a *e2eApp) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	defer func() { a.store.Now = time.Now }()
	for i, s := range []struct {
		name, owner string
		ago         time.Duration
	}{
		{"山海文旅集团", "shanhai", 41 * 24 * time.Hour},
		{"Harbor Fitness 港湾健身", "harbor", 12 * 24 * time.Hour},
		{"橙子便利店", "chengzi", 9 * 24 * time.Hour},
		{"织梦教育科技", "zhimeng", 6 * 24 * time.Hour},
		{"青柠烘焙工作室", "qingning", 3 * 24 * time.Hour},
		{"Kawabe 河畔日料", "kawabe", 2 * 24 * time.Hour},
		{"北岸独立书店", "beian", 26 * time.Hour},
		{"小满花艺", "xiaoman", 5 * time.Hour},
		{"Lantern 灯笼茶饮", "lantern", 40 * time.Minute},
	} {
		at := now.Add(-s.ago)
		a.store.Now = func() time.Time { return at }
		hash, err := cheapHasher.Hash("seed-password-" + strconv.Itoa(i))
		if err != nil {
			t.Fatal(err)
		}
		u, tn, err := a.store.Signup(ctx, model.User{Email: s.owner + "@shop.example", Name: s.owner, PasswordHash: hash}, s.name, "")
		if err != nil {
			t.Fatal(err)
		}
		a.authz.SetTenantRole(u.ID, tn.ID, model.RoleOwner)
	}
}

// tab is one browser tab with its own cookies (its own browser context).
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string
	name string
}

func (b *tab) fail(err error, what string) {
	b.t.Helper()
	b.shot("FAIL-" + b.name)
	loc, _ := chromedp.Run(b.ctx, chromedp.Location())
	b.t.Fatalf("%s (%s, at %s): %v", what, b.name, loc, err)
}

// do runs steps that do not navigate.
func (b *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	defer b.timed(what)()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.fail(err, what)
	}
}

// nav runs steps that load a new document and returns its HTTP status.
func (b *tab) nav(what string, steps ...chromedp.Action[chromedp.Void]) int64 {
	b.t.Helper()
	defer b.timed(what)()
	resp, err := chromedp.RunResponse(b.ctx, steps...)
	if err != nil {
		b.fail(err, what)
	}
	if resp == nil {
		return 0
	}
	return resp.Status
}

// open navigates to path and fails unless the status is want.
func (b *tab) open(path string, want int64) {
	b.t.Helper()
	if got := b.nav("open "+path, chromedp.Navigate(b.base+path)); got != want {
		b.fail(fmt.Errorf("status %d, want %d", got, want), "open "+path)
	}
}

func (b *tab) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.fail(err, "text of "+sel)
	}
	return strings.TrimSpace(s)
}

func (b *tab) textContent(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.TextContent(chromedp.CSS(sel)))
	if err != nil {
		b.fail(err, "text content of "+sel)
	}
	return strings.TrimSpace(s)
}

func (b *tab) value(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		b.fail(err, "value of "+sel)
	}
	return s
}

func (b *tab) path() string {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.fail(err, "location")
	}
	return strings.TrimPrefix(loc, b.base)
}

// wantText fails unless the element's text contains want.
func (b *tab) wantText(sel, want string) {
	b.t.Helper()
	if got := b.text(sel); !strings.Contains(got, want) {
		b.fail(fmt.Errorf("text %q does not contain %q", got, want), sel)
	}
}

// shot saves a full-page PNG of the tab into .screenshots/.
func (b *tab) shot(name string) []byte {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return nil
	}
	dir := filepath.Join("..", ".screenshots")
	if err := os.MkdirAll(dir, 0o755); err == nil {
		os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
	}
	return png
}

func (b *tab) timed(what string) func() {
	start := time.Now()
	return func() { b.t.Logf("%6.0f ms %s: %s", float64(time.Since(start).Microseconds())/1000, b.name, what) }
}

func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

func TestE2E(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skip("chromium is not installed (make chromium)")
	}
	if testing.Short() {
		t.Skip("browser test skipped with -short")
	}
	a := startE2EApp(t, cheapHasher)
	ctx := context.Background()
	seedTenants(t, a)
	staffUser, err := createStaff(ctx, a.store, "ops@minifleet.test", "运营 Ops", "staff-password-1", model.StaffAdmin)
	if err != nil {
		t.Fatal(err)
	}
	a.authz.SetStaffRole(staffUser.ID, model.StaffAdmin)

	// One browser, the whole test at most a minute; each person gets a
	// browser context of their own, so cookies are separate.
	budget, stop := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(stop)
	br := startBrowser(t, budget, a.base, 1280, 800, "zh-CN")
	newTab := func(name string) *tab {
		b := br.tab(name)
		b.do("viewport", chromedp.EmulateViewport(1280, 800))
		return b
	}

	const (
		tenantName = "云杉咖啡馆 Spruce Coffee"
		ownerEmail = "owner@spruce.example"
		ownerPass  = "owner-password-1"
		guestEmail = "dev@spruce.example"
	)

	// The merchant signs up on a phone-sized screen.
	owner := newTab("owner")
	owner.do("phone viewport", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile))
	owner.open("/signup", 200)
	owner.wantText("[data-testid=page-title]", "注册商家")
	owner.shot("01-signup-phone")
	owner.do("fill sign-up form",
		chromedp.SendKeys(css("#f-tenant"), tenantName),
		chromedp.SendKeys(css("#f-name"), "林店长"),
		chromedp.SendKeys(css("#f-email"), ownerEmail),
		chromedp.SendKeys(css("#f-password"), ownerPass),
	)
	if st := owner.nav("submit sign-up", chromedp.Click(css("[data-testid=signup-submit]"))); st != 200 {
		t.Fatalf("sign-up landed with status %d", st)
	}
	tenantPath := owner.path()
	if !strings.HasPrefix(tenantPath, "/t/") {
		t.Fatalf("after sign-up at %s, want a tenant page", tenantPath)
	}
	tenantID := strings.TrimPrefix(tenantPath, "/t/")
	owner.wantText("[data-testid=my-role]", "所有者")
	if got := owner.textContent("[data-testid=tenant-switch] option:checked"); got != tenantName {
		t.Fatalf("tenant switcher shows %q, want %q", got, tenantName)
	}
	owner.shot("02-tenant-phone")
	owner.do("desktop viewport", chromedp.EmulateViewport(1280, 800))

	// Log out, log back in.
	owner.nav("log out", chromedp.Click(css("[data-testid=logout]")))
	if p := owner.path(); p != "/login" {
		t.Fatalf("after logout at %s, want /login", p)
	}
	owner.open(tenantPath, 200) // redirected to the login form
	if p := owner.path(); !strings.HasPrefix(p, "/login?next=") {
		t.Fatalf("anonymous visit to %s ended at %s, want the login form", tenantPath, p)
	}
	owner.do("fill login form",
		chromedp.SendKeys(css("#f-email"), ownerEmail),
		chromedp.SendKeys(css("#f-password"), ownerPass),
	)
	owner.nav("submit login", chromedp.Click(css("[data-testid=login-submit]")))
	if p := owner.path(); p != tenantPath {
		t.Fatalf("after login at %s, want %s", p, tenantPath)
	}
	owner.shot("03-tenant")

	// Members → invite link for a viewer (an HTMX swap shows it once).
	owner.nav("open members", chromedp.Click(css("[data-testid=nav-members]")))
	owner.wantText("[data-testid=page-title]", "成员")
	owner.do("create invite",
		chromedp.SetValue(css("[data-testid=invite-role]"), "viewer"),
		chromedp.Click(css("[data-testid=invite-create]")),
		chromedp.WaitVisible(css("[data-testid=invite-link]")),
	)
	link := owner.value("[data-testid=invite-link]")
	if !strings.HasPrefix(link, a.base+"/invite/") {
		t.Fatalf("invite link %q", link)
	}
	owner.wantText("[data-testid=invite-link-box]", "只读成员")
	owner.shot("04-invite-link")

	// The invitee opens the link in another browser context, switches the
	// language to English and signs up through it.
	guest := newTab("invitee")
	guest.open(strings.TrimPrefix(link, a.base), 200)
	guest.wantText("[data-testid=invite-page]", tenantName)
	guest.do("choose English", chromedp.SetValue(css("[data-testid=lang-switch]"), "en"))
	guest.nav("switch language", chromedp.Submit(css("[data-testid=lang-switch]")))
	guest.wantText("[data-testid=page-title]", "Join a merchant")
	guest.wantText("[data-testid=invite-accept]", "Sign up and join")
	guest.do("fill invite sign-up",
		chromedp.SendKeys(css("#f-name"), "Dev Chen"),
		chromedp.SendKeys(css("#f-email"), guestEmail),
		chromedp.SendKeys(css("#f-password"), "guest-password-1"),
	)
	guest.shot("05-invite-en")
	guest.nav("accept invite", chromedp.Click(css("[data-testid=invite-accept]")))
	if p := guest.path(); !strings.HasPrefix(p, tenantPath) {
		t.Fatalf("invitee landed at %s, want %s", p, tenantPath)
	}
	guest.wantText("[data-testid=my-role]", "Viewer")

	// The owner makes the invitee a developer; HTMX swaps the members table.
	owner.open(tenantPath+"/members", 200)
	row := "[data-testid='member-" + guestEmail + "']"
	owner.wantText(row, "Dev Chen")
	owner.do("change role",
		chromedp.Evaluate[chromedp.Void](`document.getElementById("members").dataset.old = "1"`),
		chromedp.SetValue(css(row+" [data-testid=role-select]"), "developer"),
		chromedp.Click(css(row+" [data-testid=role-save]")),
		chromedp.WaitVisible(css("#members:not([data-old])")),
		chromedp.WaitVisible(css("[data-testid=toast]")),
	)
	if got := owner.value(row + " [data-testid=role-select]"); got != "developer" {
		t.Fatalf("after the swap the invitee's role is %q, want developer", got)
	}
	if got := owner.textContent(row + " [data-testid=role-select] option:checked"); got != "开发者" {
		t.Fatalf("after the swap the invitee's role reads %q, want 开发者", got)
	}
	owner.wantText("[data-testid=toast]", "角色已更新")
	owner.shot("06-role-changed")
	guest.open(tenantPath, 200)
	guest.wantText("[data-testid=my-role]", "Developer")

	// A staff admin finds the tenant by typing part of its name and suspends it.
	staff := newTab("staff")
	staff.open("/login", 200)
	staff.do("fill staff login",
		chromedp.SendKeys(css("#f-email"), "ops@minifleet.test"),
		chromedp.SendKeys(css("#f-password"), "staff-password-1"),
	)
	staff.nav("staff login", chromedp.Click(css("[data-testid=login-submit]")))
	if p := staff.path(); p != "/staff/tenants" {
		t.Fatalf("staff landed at %s, want /staff/tenants", p)
	}
	staff.wantText("[data-testid=row-count]", "10")
	staff.do("search as you type",
		chromedp.SendKeys(css("[data-testid=tenant-search]"), "云杉咖啡"),
		chromedp.WaitVisible(css("[data-testid=tenant-row-"+tenantID+"]")),
		chromedp.WaitNotPresent(css("[data-testid=tenants] tbody tr:nth-child(2)")),
	)
	staff.wantText("[data-testid=row-count]", "1")
	if p := staff.path(); !strings.Contains(p, "q=") {
		t.Errorf("search did not update the URL: %s", p)
	}
	staff.shot("07-staff-search")
	staff.nav("open tenant", chromedp.Click(css("[data-testid=tenant-row-"+tenantID+"] a")))
	staff.wantText("[data-testid=tenant-status]", tenantName)

	// The confirm dialog names the tenant; accept it from another goroutine,
	// because the click waits for the dialog to close.
	dialogs := chromedp.Events(staff.ctx, page.JavascriptDialogOpening)
	confirmed := make(chan string, 1)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			confirmed <- ev.Message
			chromedp.Call(staff.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
			return
		}
	}()
	staff.do("suspend",
		chromedp.SendKeys(css("[data-testid=suspend-reason]"), "营业执照过期"),
		chromedp.Click(css("[data-testid=suspend]")),
		chromedp.WaitVisible(css("[data-testid=reactivate]")),
	)
	select {
	case msg := <-confirmed:
		if !strings.Contains(msg, tenantName) {
			t.Errorf("confirm dialog %q does not name the tenant", msg)
		}
	default:
		t.Error("no confirm dialog before suspending")
	}
	staff.wantText("[data-testid=tenant-status] [data-testid=badge]", "已停用")
	staff.wantText("[data-testid=toast]", "商家状态已更新")
	staff.shot("08-staff-suspended")

	// The invitee is refused from now on.
	guest.open(tenantPath, 403)
	guest.wantText("[data-testid=tenant-suspended]", "The platform has suspended this merchant")
	guest.shot("09-suspended-en")

	// The staff list with a few tenants, for the README.
	staff.open("/staff/tenants", 200)
	staff.do("wait for rows", chromedp.WaitVisible(css("[data-testid=tenant-row-"+tenantID+"]")),
		chromedp.Blur(css("[data-testid=tenant-search]"))) // no focus ring in the picture
	staff.shot("10-staff-tenants")
	if os.Getenv("MINIFLEET_E2E_DOCS") == "1" {
		docs, err := chromedp.Run(staff.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("..", "docs", "screenshot.png"), docs, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// headless is one headless Debian chromium for a test, stopped with it.
type headless struct {
	t    *testing.T
	ctx  context.Context
	base string
}

// startBrowser starts chromium with a w×h window and, unless lang is "",
// that UI and Accept-Language, until budget ends.
func startBrowser(t *testing.T, budget context.Context, base string, w, h int, lang string) *headless {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		// This machine's network is closed: no background connections.
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(w, h),
	)
	if lang != "" {
		opts = append(opts, chromedp.Flag("lang", lang), chromedp.Flag("accept-lang", lang+","+strings.SplitN(lang, "-", 2)[0]))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(budget, opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		t.Fatal(err)
	}
	return &headless{t: t, ctx: bctx, base: base}
}

// tab opens a browser context of its own: its own cookies, one person.
func (b *headless) tab(name string) *tab {
	c, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	return &tab{t: b.t, ctx: c, base: b.base, name: name}
}
