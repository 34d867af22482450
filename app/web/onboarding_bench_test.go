package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/authz"
	"github.com/minifleet/minifleet/app/config"
	"github.com/minifleet/minifleet/app/i18n"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
)

// seedFleet writes tenants and apps straight into SQLite: 1 in 10 apps
// needs re-authorization, 1 in 20 is unauthorized, 1 in 50 is unbound.
func seedFleet(b *testing.B, st *store.Store, tenants, apps int) {
	b.Helper()
	ctx := context.Background()
	tx, err := st.W.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().Unix()
	shops := []string{"咖啡", "烘焙", "花艺", "书店", "健身", "茶饮", "便利店", "Fitness", "Bakery", "Studio"}
	for i := 1; i <= tenants; i++ {
		if _, err := tx.ExecContext(ctx, `INSERT INTO tenants (name, status, created_at, updated_at) VALUES (?, 'active', ?, ?)`,
			fmt.Sprintf("商户%04d %s", i, shops[i%len(shops)]), now, now); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < apps; i++ {
		var tenant any = int64(i%tenants + 1)
		if i%50 == 7 {
			tenant = nil
		}
		status, reason := "authorized", ""
		switch {
		case i%20 == 3:
			status = "unauthorized"
		case i%10 == 1:
			reason = model.ReauthMissingCodePerm
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO authorizers (appid, tenant_id, status, nickname, user_name, principal_name, account_kind, func_info, reauth_reason, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, 'miniprogram', '[17,18]', ?, ?, ?)`,
			fmt.Sprintf("wx%016x", i), tenant, status, fmt.Sprintf("%s小程序 %05d", shops[i%len(shops)], i), fmt.Sprintf("gh_%012x", i),
			fmt.Sprintf("主体%05d有限公司", i), reason, now, now-int64(i)); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	if _, err := st.W.ExecContext(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	// As the nightly reconcile leaves it: the search index in one segment.
	if err := st.OptimizeAppSearch(ctx); err != nil {
		b.Fatal(err)
	}
}

// benchPortal is the portal over a temp SQLite for benchmarks (the test
// harness is *testing.T-only), with a signed-in staff member's cookies.
type benchPortal struct {
	b       *testing.B
	app     *fiber.App
	st      *store.Store
	cookies []*http.Cookie
}

func newBenchPortal(b *testing.B) *benchPortal {
	b.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	az, err := authz.New(ctx, st)
	if err != nil {
		b.Fatal(err)
	}
	bundle, err := i18n.New()
	if err != nil {
		b.Fatal(err)
	}
	cfg, _ := config.Load(func(string) string { return "" })
	app, srv := New(Deps{Config: cfg, Store: st, Authz: az, I18n: bundle, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Hasher: cheapHasher,
		Platform: offlinePlatform(b, st)})
	b.Cleanup(func() { srv.Shutdown(); _ = app.Shutdown(); st.Close() })
	hash, _ := cheapHasher.Hash(testPassword)
	u, err := st.CreateUser(ctx, model.SystemActor, model.User{Email: "support@staff.test", Name: "Support", PasswordHash: hash, StaffRole: model.StaffSupport})
	if err != nil {
		b.Fatal(err)
	}
	az.SetStaffRole(u.ID, model.StaffSupport)
	p := &benchPortal{b: b, app: app, st: st}
	r, body := p.do("GET", "/login", nil)
	m := csrfInput.FindStringSubmatch(body)
	if m == nil {
		b.Fatalf("no csrf on /login (%d)", r.StatusCode)
	}
	if r, _ := p.do("POST", "/login", url.Values{"_csrf": {m[1]}, "email": {"support@staff.test"}, "password": {testPassword}}); r.StatusCode != 303 {
		b.Fatalf("login: %d", r.StatusCode)
	}
	return p
}

func (p *benchPortal) do(method, target string, form url.Values) (*http.Response, string) {
	var body io.Reader = http.NoBody
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, c := range p.cookies {
		req.AddCookie(c)
	}
	res, err := p.app.Test(req, -1)
	if err != nil {
		p.b.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	for _, c := range res.Cookies() {
		p.cookies = slices.DeleteFunc(p.cookies, func(o *http.Cookie) bool { return o.Name == c.Name })
		p.cookies = append(p.cookies, c)
	}
	return res, string(b)
}

// BenchmarkStaffAppsList measures GET /staff/apps (the whole request:
// session, authz, two queries, rendering) with 10,000 apps across 1,000
// tenants, for the filters staff use. It reports p50 and p95 in ms.
func BenchmarkStaffAppsList(b *testing.B) {
	p := newBenchPortal(b)
	seedFleet(b, p.st, 1000, 10000)
	for _, q := range []struct{ name, query string }{
		{"all", ""},
		{"page-100", "offset=5000"},
		{"tenant", "tenant=417"},
		{"status-needs-reauth", "status=needs_reauth"},
		{"problems", "problems=1"},
		{"unbound", "status=unbound"},
		{"search-appid", "q=" + url.QueryEscape("wx00000000000003e8")},
		{"search-name", "q=" + url.QueryEscape("花艺小程序 0")},
		{"search-tenant-and-status", "q=" + url.QueryEscape("商户0417") + "&status=authorized"},
		{"search-short", "q=" + url.QueryEscape("花艺")},
	} {
		b.Run(q.name, func(b *testing.B) {
			target := "/staff/apps?" + q.query
			if r, body := p.do("GET", target, nil); r.StatusCode != 200 || !strings.Contains(body, `data-testid="row-count"`) {
				b.Fatalf("%s: %d", target, r.StatusCode)
			}
			var d []time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				p.do("GET", target, nil)
				d = append(d, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(d)
			ms := func(p float64) float64 { return float64(d[int(p*float64(len(d)-1))].Microseconds()) / 1000 }
			b.ReportMetric(ms(0.50), "p50-ms")
			b.ReportMetric(ms(0.95), "p95-ms")
		})
	}
}
