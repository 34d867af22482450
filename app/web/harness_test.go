package web

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/authz"
	"github.com/minifleet/minifleet/app/config"
	"github.com/minifleet/minifleet/app/i18n"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat"
	"github.com/minifleet/minifleet/app/wechat/sandbox"
)

// cheapHasher keeps argon2id but with parameters that cost microseconds, so
// the suite can log in hundreds of times.
var cheapHasher = &PasswordHasher{Memory: 64, Time: 1, Threads: 1}

// testPassword is every seeded user's password.
const testPassword = "correct horse battery"

// fixedClock is the only clock the store and the web layer read.
type fixedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fixedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fixedClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// harness is one portal over a fresh SQLite file in t.TempDir(): the
// platform built by platform.New against its own WeChat sandbox (a real HTTP
// server), as serve builds it. Its background loops do not run: tests run
// due jobs by hand (Jobs.RunDue) after moving the clock, and the sandbox
// delivers no pushes (tests send them, or call what their jobs would).
type harness struct {
	t     *testing.T
	app   *fiber.App
	srv   *Server
	st    *store.Store
	az    *authz.Authorizer
	clock *fixedClock
	cfg   config.Config
	sb    *sandbox.Sandbox
	p     *platform.Platform
	logs  *logBuffer // what the web layer logged
}

// logBuffer collects log lines; safe for concurrent handlers.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The component of every harness and its sandbox.
const (
	wxAppID  = "wxcomponent0001"
	wxSecret = "secret"
	wxToken  = "tok"
	wxAESKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
)

// newSandbox starts a WeChat sandbox for the harness's component on a real
// HTTP server; its pushes go nowhere.
func newSandbox(t testing.TB) (*sandbox.Sandbox, *httptest.Server) {
	t.Helper()
	sb, err := sandbox.New(sandbox.Options{ComponentAppID: wxAppID, ComponentSecret: wxSecret, Token: wxToken,
		EncodingAESKey: wxAESKey, ComponentEventsURL: "http://127.0.0.1:1/none", PublicBase: "http://sandbox.test"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	return sb, srv
}

// offlinePlatform builds the platform over st with WeChat unreachable (for
// benchmarks and processes that never call it).
func offlinePlatform(t testing.TB, st *store.Store) *platform.Platform {
	t.Helper()
	c := wechat.New(wxAppID, wxSecret, nil)
	c.APIBase, c.MPBase, c.OpenBase = "http://127.0.0.1:1", "http://127.0.0.1:1", "http://127.0.0.1:1"
	p, err := platform.New(platform.Config{Store: st, Client: c, Token: wxToken, AESKey: wxAESKey,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// newPlatform builds the platform over st against sb's server, with the
// sandbox's current ticket stored (CreateTime 1: any pushed ticket is newer).
func newPlatform(t testing.TB, st *store.Store, sb *sandbox.Sandbox, srv *httptest.Server, baseURL string) *platform.Platform {
	t.Helper()
	c := wechat.New(wxAppID, wxSecret, nil)
	c.APIBase, c.MPBase, c.OpenBase, c.HTTP = srv.URL, srv.URL, srv.URL, srv.Client()
	p, err := platform.New(platform.Config{Store: st, Client: c, Token: wxToken, AESKey: wxAESKey, BaseURL: baseURL, Now: st.Now,
		Log:                  slog.New(slog.NewTextHandler(io.Discard, nil)),
		WebhooksAllowPrivate: true, // scenario receivers listen on loopback
		Metrics:              platform.NewMetrics(st),
	})
	if err != nil {
		t.Fatal(err)
	}
	p.Onboarding.SpentCodeWait = -1 // no push job runs here to spend the code
	sb.PushTicket()
	if _, err := st.SaveTicket(context.Background(), wxAppID, sb.Ticket(), 1, st.Now()); err != nil {
		t.Fatal(err)
	}
	return p
}

func testConfig(t *testing.T) config.Config {
	t.Helper()
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatalf("config.Load with defaults: %v", err)
	}
	cfg.MetricsToken = testMetricsToken
	return cfg
}

// testMetricsToken unlocks /metrics in every harness.
const testMetricsToken = "metrics-token-for-tests-0123"

func newHarness(t *testing.T) *harness { t.Helper(); return newHarnessWith(t) }

// newHarnessWith is newHarness with opts applied to the web layer's Deps
// before web.New (a base URL, trusted proxies, an avatar client …).
func newHarnessWith(t *testing.T, opts ...func(*Deps)) *harness {
	t.Helper()
	ctx := context.Background()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "test.db"), key)
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	clock := &fixedClock{t: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)}
	st.Now = clock.Now
	az, err := authz.New(ctx, st)
	if err != nil {
		t.Fatalf("authz.New: %v", err)
	}
	bundle, err := i18n.New()
	if err != nil {
		t.Fatalf("i18n.New: %v", err)
	}
	cfg := testConfig(t)
	sb, sbSrv := newSandbox(t)
	p := newPlatform(t, st, sb, sbSrv, cfg.BaseURL)
	logs := &logBuffer{}
	d := Deps{
		Config: cfg, Store: st, Authz: az, I18n: bundle,
		Log:      slog.New(slog.NewTextHandler(logs, nil)),
		Now:      clock.Now,
		Hasher:   cheapHasher,
		Platform: p,
		// Streams in scenario rows send their first fragment and end, so a
		// request through app.Test returns.
		SSEMaxLife: time.Nanosecond,
	}
	for _, o := range opts {
		o(&d)
	}
	app, srv := New(d)
	h := &harness{t: t, app: app, srv: srv, st: st, az: az, clock: clock, cfg: d.Config, sb: sb, p: p, logs: logs}
	t.Cleanup(func() {
		srv.Shutdown()
		_ = app.Shutdown()
		st.Close()
	})
	return h
}

func (h *harness) hash(password string) string {
	h.t.Helper()
	s, err := cheapHasher.Hash(password)
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

// signup creates a tenant and its owner straight in the store (and in authz).
func (h *harness) signup(email, name, tenant string) (model.User, model.Tenant) {
	h.t.Helper()
	u, tn, err := h.st.Signup(context.Background(), model.User{Email: email, Name: name, PasswordHash: h.hash(testPassword)}, tenant, "")
	if err != nil {
		h.t.Fatalf("Signup(%s): %v", email, err)
	}
	h.az.SetTenantRole(u.ID, tn.ID, model.RoleOwner)
	return u, tn
}

// user creates a user with no tenant; staff is the platform role or StaffNone.
func (h *harness) user(email, name string, staff model.StaffRole) model.User {
	h.t.Helper()
	u, err := h.st.CreateUser(context.Background(), model.SystemActor, model.User{Email: email, Name: name, PasswordHash: h.hash(testPassword), StaffRole: staff})
	if err != nil {
		h.t.Fatalf("CreateUser(%s): %v", email, err)
	}
	h.az.SetStaffRole(u.ID, staff)
	return u
}

// join adds userID to tenantID with role through an invite made by byUserID, as the portal does.
func (h *harness) join(tenantID, byUserID, userID int64, role model.TenantRole) {
	h.t.Helper()
	ctx := context.Background()
	_, tok, err := h.st.CreateInvite(ctx, model.Actor{UserID: byUserID}, tenantID, role, "")
	if err != nil {
		h.t.Fatal(err)
	}
	if _, _, err := h.st.AcceptInvite(ctx, tok, userID, nil, ""); err != nil {
		h.t.Fatalf("AcceptInvite: %v", err)
	}
	h.az.SetTenantRole(userID, tenantID, role)
}

// world is the cast every scenario table uses.
type world struct {
	A, B, C model.Tenant // C is suspended
	users   map[string]model.User
}

const (
	tenantAName = "Acme Alpha 甲商户"
	tenantBName = "Bravo Bakery 乙商户"
	tenantCName = "Charlie Closed 丙商户"
)

// seed builds tenants A (owner, developer, approver, viewer), B (owner and a
// developer), suspended C, the four staff roles, and a user with no tenant.
func (h *harness) seed() *world {
	h.t.Helper()
	w := &world{users: map[string]model.User{}}
	add := func(key string, u model.User) { w.users[key] = u }
	var u model.User
	u, w.A = h.signup("owner@a.test", "Alice Owner", tenantAName)
	add("ownerA", u)
	for _, r := range []model.TenantRole{model.RoleDeveloper, model.RoleApprover, model.RoleViewer} {
		u = h.user(string(r)+"@a.test", "A "+string(r), model.StaffNone)
		h.join(w.A.ID, w.users["ownerA"].ID, u.ID, r)
		add(string(r)+"A", u)
	}
	u, w.B = h.signup("owner@b.test", "Bob Owner", tenantBName)
	add("ownerB", u)
	u = h.user("dev@b.test", "Bea Developer", model.StaffNone)
	h.join(w.B.ID, w.users["ownerB"].ID, u.ID, model.RoleDeveloper)
	add("memberB", u)
	u, w.C = h.signup("owner@c.test", "Carl Owner", tenantCName)
	add("ownerC", u)
	if err := h.st.SetTenantStatus(context.Background(), model.SystemActor, w.C.ID, model.TenantSuspended, "unpaid"); err != nil {
		h.t.Fatal(err)
	}
	for _, r := range model.StaffRoles {
		add("staff"+string(r), h.user(string(r)+"@staff.test", "Staff "+string(r), r))
	}
	add("nobody", h.user("nobody@x.test", "No Body", model.StaffNone))
	return w
}

// response is what a request returned.
type response struct {
	Status int
	Body   string
	Header http.Header
}

func (r response) Location() string { return r.Header.Get("Location") }

// client is a browser: it keeps cookies (sid, csrf_) and a language.
type client struct {
	h       *harness
	cookies map[string]string
	lang    string // Accept-Language
	csrf    string // token from the last page's hidden _csrf input
}

func (h *harness) client() *client { return &client{h: h, cookies: map[string]string{}} }

var csrfInput = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

type reqOpt func(*http.Request)

func withHeader(k, v string) reqOpt { return func(r *http.Request) { r.Header.Set(k, v) } }

// htmx marks the request as HTMX's and sends the CSRF token in its header.
func (c *client) htmx() reqOpt {
	return func(r *http.Request) {
		r.Header.Set("HX-Request", "true")
		r.Header.Set("X-Csrf-Token", c.csrf)
	}
}

// do sends one request without following redirects.
func (c *client) do(method, target string, form url.Values, opts ...reqOpt) response {
	c.h.t.Helper()
	var body io.Reader = http.NoBody
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c.lang != "" {
		req.Header.Set("Accept-Language", c.lang)
	}
	for name, v := range c.cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: v})
	}
	for _, o := range opts {
		o(req)
	}
	res, err := c.h.app.Test(req, -1)
	if err != nil {
		c.h.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.h.t.Fatal(err)
	}
	for _, ck := range res.Cookies() {
		if ck.MaxAge < 0 || ck.Value == "" || (!ck.Expires.IsZero() && ck.Expires.Before(time.Now())) {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck.Value
		}
	}
	if m := csrfInput.FindStringSubmatch(string(b)); m != nil {
		c.csrf = m[1]
	}
	return response{Status: res.StatusCode, Body: string(b), Header: res.Header}
}

func (c *client) get(target string, opts ...reqOpt) response {
	return c.do("GET", target, nil, opts...)
}

// post sends a form with the CSRF token in its _csrf field, fetching a page
// first when the client has no token yet.
func (c *client) post(target string, form url.Values, opts ...reqOpt) response {
	c.h.t.Helper()
	if c.csrf == "" {
		c.token()
	}
	if form == nil {
		form = url.Values{}
	}
	if form.Get("_csrf") == "" {
		form.Set("_csrf", c.csrf)
	}
	return c.do("POST", target, form, opts...)
}

// token reads the CSRF token from a page's hidden input.
func (c *client) token() string {
	c.h.t.Helper()
	r := c.get("/login")
	if r.Status == fiber.StatusSeeOther { // signed in: any page with the layout will do
		r = c.get("/account")
	}
	m := csrfInput.FindStringSubmatch(r.Body)
	if m == nil {
		c.h.t.Fatalf("no _csrf input on the page (status %d)", r.Status)
	}
	c.csrf = m[1]
	return c.csrf
}

// login signs in through the login form and fails the test unless it worked.
func (c *client) login(email string) *client {
	c.h.t.Helper()
	r := c.post("/login", url.Values{"email": {email}, "password": {testPassword}})
	if r.Status != fiber.StatusSeeOther {
		c.h.t.Fatalf("login %s: status %d, want 303; body:\n%s", email, r.Status, r.Body)
	}
	if c.cookies["sid"] == "" {
		c.h.t.Fatalf("login %s: no sid cookie", email)
	}
	c.token() // a page rendered for the signed-in user
	return c
}

// count runs a COUNT(*) query for DB-unchanged assertions.
func (h *harness) count(q string, args ...any) int {
	h.t.Helper()
	var n int
	if err := h.st.R.QueryRow(q, args...).Scan(&n); err != nil {
		h.t.Fatalf("%s: %v", q, err)
	}
	return n
}

// dbState is a fingerprint of every table a portal action can change.
func (h *harness) dbState() string {
	h.t.Helper()
	var parts []string
	for _, q := range []string{
		`SELECT COUNT(*) FROM users`, `SELECT COUNT(*) FROM tenants`, `SELECT COUNT(*) FROM memberships`,
		`SELECT COUNT(*) FROM invites`, `SELECT COUNT(*) FROM activity`,
		`SELECT COUNT(*) FROM tenants WHERE status = 'suspended'`,
		`SELECT COUNT(*) FROM invites WHERE revoked_at IS NOT NULL OR accepted_at IS NOT NULL`,
		`SELECT COALESCE(group_concat(tenant_id || ':' || user_id || ':' || role), '') FROM (SELECT * FROM memberships ORDER BY tenant_id, user_id)`,
		`SELECT COALESCE(group_concat(password_hash || locale || time_zone), '') FROM (SELECT * FROM users ORDER BY id)`,
		`SELECT COALESCE(group_concat(name || ':' || content), '') FROM (SELECT * FROM site_files ORDER BY name)`,
		`SELECT COUNT(*) FROM config_images`, `SELECT COUNT(*) FROM content_checks`, `SELECT COUNT(*) FROM app_check_openids`,
		`SELECT COALESCE(group_concat(id || ':' || url || ':' || events || ':' || state || ':' || secret_sealed || ':' || COALESCE(deleted_at, '')), '') FROM (SELECT * FROM webhook_endpoints ORDER BY id)`,
		`SELECT COUNT(*) || ':' || COALESCE(SUM(state = 'pending'), 0) FROM webhook_deliveries`,
	} {
		var s string
		if err := h.st.R.QueryRow(q).Scan(&s); err != nil {
			h.t.Fatalf("%s: %v", q, err)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "|")
}

func (h *harness) role(tenantID, userID int64) model.TenantRole {
	h.t.Helper()
	m, err := h.st.Membership(context.Background(), tenantID, userID)
	if model.IsNotFound(err) {
		return ""
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return m.Role
}

func (h *harness) tenantStatus(id int64) model.TenantStatus {
	h.t.Helper()
	t, err := h.st.Tenant(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return t.Status
}

// mustContain and mustNotContain report the body once, on the first miss.
func mustContain(t *testing.T, what string, r response, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(r.Body, w) {
			t.Errorf("%s: body lacks %q (status %d)\n%s", what, w, r.Status, r.Body)
			return
		}
	}
}

func mustNotContain(t *testing.T, what string, r response, nots ...string) {
	t.Helper()
	for _, n := range nots {
		if strings.Contains(r.Body, n) {
			t.Errorf("%s: body contains %q (status %d)\n%s", what, n, r.Status, r.Body)
			return
		}
	}
}

func wantStatus(t *testing.T, what string, r response, want int) {
	t.Helper()
	if r.Status != want {
		t.Errorf("%s: status %d, want %d\n%s", what, r.Status, want, r.Body)
	}
}
