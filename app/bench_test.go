package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/web"
)

// Portal benchmarks (docs/benchmarks.md, section "Portal"); run with make bench.
// They drive the whole app over a real loopback HTTP connection, so a figure
// is what a client on the same host waits: routing, session and CSRF
// middleware, authorization, SQL and templ rendering.

const benchStaffPassword = "bench-password-1"

// benchClient is a browser-like client: cookies, no redirects followed.
type benchClient struct {
	tb   testing.TB
	base string
	c    *http.Client
	csrf string
}

func newBenchClient(tb testing.TB, base string) *benchClient {
	jar, _ := cookiejar.New(nil)
	return &benchClient{tb: tb, base: base, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// get fetches path and returns the status and body.
func (c *benchClient) get(path string) (int, string) {
	resp, err := c.c.Get(c.base + path)
	if err != nil {
		c.tb.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		c.tb.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// login signs in through the login form and returns the response status.
func (c *benchClient) login(email, password string) int {
	if c.csrf == "" {
		_, body := c.get("/login")
		m := csrfField.FindStringSubmatch(body)
		if m == nil {
			c.tb.Fatal("no CSRF token on /login")
		}
		c.csrf = m[1]
	}
	resp, err := c.c.PostForm(c.base+"/login", url.Values{"email": {email}, "password": {password}, "_csrf": {c.csrf}, "next": {"/"}})
	if err != nil {
		c.tb.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// seedManyTenants inserts n tenants, each with an owner, in one transaction
// on the writer; every 20th tenant is suspended.
func seedManyTenants(tb testing.TB, a *e2eApp, n int) {
	tb.Helper()
	ctx := context.Background()
	cities := []string{"上海", "北京", "杭州", "成都", "深圳", "广州", "苏州", "南京", "武汉", "西安"}
	kinds := []string{"咖啡", "烘焙", "花艺", "书店", "健身", "茶饮", "日料", "便利店", "文旅", "教育"}
	suffixes := []string{"工作室", "旗舰店", "小馆", "集团", "中心"}
	tx, err := a.store.W.BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	now := time.Now().Unix()
	for i := range n {
		status := model.TenantActive
		if i%20 == 19 {
			status = model.TenantSuspended
		}
		at := now - int64(n-i)*600
		name := fmt.Sprintf("%s%s%s %d", cities[i%10], kinds[i/10%10], suffixes[i/100%5], i)
		res, err := tx.ExecContext(ctx, `INSERT INTO tenants (name, status, created_at, updated_at) VALUES (?, ?, ?, ?)`, name, string(status), at, at)
		if err != nil {
			tb.Fatal(err)
		}
		tid, _ := res.LastInsertId()
		res, err = tx.ExecContext(ctx, `INSERT INTO users (email, name, password_hash, created_at, updated_at) VALUES (?, ?, '!', ?, ?)`,
			"owner"+strconv.Itoa(i)+"@shop"+strconv.Itoa(i)+".example", "店主 "+strconv.Itoa(i), at, at)
		if err != nil {
			tb.Fatal(err)
		}
		uid, _ := res.LastInsertId()
		if _, err := tx.ExecContext(ctx, `INSERT INTO memberships (tenant_id, user_id, role, created_at) VALUES (?, ?, 'owner', ?)`, tid, uid, at); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
}

// latencies collects per-request durations and reports percentiles.
type latencies []time.Duration

func (l latencies) report(b *testing.B) {
	if len(l) == 0 {
		return
	}
	s := slices.Clone(l)
	slices.Sort(s)
	pct := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return float64(s[max(i, 0)].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// BenchmarkStaffTenants is GET /staff/tenants with 10,000 tenants, as a
// signed-in staff admin, with and without a search term.
func BenchmarkStaffTenants(b *testing.B) {
	a := startE2EApp(b, web.DefaultHasher)
	seedManyTenants(b, a, 10_000)
	staff, err := createStaff(context.Background(), a.store, "bench@minifleet.test", "Bench", benchStaffPassword, model.StaffAdmin)
	if err != nil {
		b.Fatal(err)
	}
	a.authz.SetStaffRole(staff.ID, model.StaffAdmin)
	c := newBenchClient(b, a.base)
	if st := c.login(staff.Email, benchStaffPassword); st != http.StatusSeeOther {
		b.Fatalf("login: status %d", st)
	}
	for _, bc := range []struct {
		name, query, want string
	}{
		{"all", "", "共 10000 条"},
		{"search-name", "杭州咖啡", "共 100 条"},      // 1 in 100 names
		{"search-email", "owner4242@", "共 1 条"}, // matches a member's e-mail only
		{"search-none", "没有这个商户", "没有符合条件的商家"},  // no match
		{"search-short", "杭州", "共 1000 条"},      // under 3 characters: a scan of the names
		{"search-short-none", "无此", "没有符合条件的商家"},
	} {
		path := "/staff/tenants"
		if bc.query != "" {
			path += "?q=" + url.QueryEscape(bc.query)
		}
		b.Run(bc.name, func(b *testing.B) {
			c.tb = b
			st, body := c.get(path) // warm up, and check what is measured
			if st != http.StatusOK || !strings.Contains(body, bc.want) {
				b.Fatalf("GET %s: status %d, body lacks %q", path, st, bc.want)
			}
			lat := make(latencies, 0, 4096)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				start := time.Now()
				if st, _ := c.get(path); st != http.StatusOK {
					b.Fatalf("GET %s: status %d", path, st)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			lat.report(b)
		})
	}
}

// watchHeap samples the live heap every millisecond until the returned func
// is called, which reports the largest sample.
func watchHeap() func() uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak atomic.Uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-stopped
		return peak.Load()
	}
}

// BenchmarkLogin is a successful sign-in with the real DefaultHasher
// (argon2id m=46 MiB, t=1, p=1): the whole POST /login over HTTP, and the
// password check alone.
func BenchmarkLogin(b *testing.B) {
	a := startE2EApp(b, web.DefaultHasher)
	u, err := createStaff(context.Background(), a.store, "login@minifleet.test", "Login", benchStaffPassword, model.StaffAdmin)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("http", func(b *testing.B) {
		c := newBenchClient(b, a.base)
		b.ReportAllocs()
		for b.Loop() {
			if st := c.login(u.Email, benchStaffPassword); st != http.StatusSeeOther {
				b.Fatalf("login: status %d", st)
			}
		}
	})
	// 16 logins at once: the peak heap shows how much memory a burst takes.
	b.Run("verify-16-at-once", func(b *testing.B) {
		b.ReportAllocs()
		peak := watchHeap()
		for b.Loop() {
			var wg sync.WaitGroup
			for range 16 {
				wg.Go(func() {
					if ok, err := web.DefaultHasher.Verify(u.PasswordHash, benchStaffPassword); !ok || err != nil {
						b.Errorf("verify: %v %v", ok, err)
					}
				})
			}
			wg.Wait()
		}
		b.ReportMetric(float64(peak())/(1<<20), "peak-heap-MiB")
	})
	b.Run("verify", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if ok, err := web.DefaultHasher.Verify(u.PasswordHash, benchStaffPassword); !ok || err != nil {
				b.Fatalf("verify: %v %v", ok, err)
			}
		}
	})
}
