package web

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/wechat/sandbox"
)

func TestAvatarScenarios(t *testing.T) { runScenarios(t, avatarScenarios()) }

// avatarScenarios cover the proxy's routes; the fixture's apps have no
// head_img, so the allowed rows get the letter placeholder.
func avatarScenarios() []scenario {
	svg := []string{"<svg", ">A</text>"}
	return []scenario{
		{name: "app avatar", method: "GET", url: "/t/{A}/apps/{appA}/avatar", who: "viewerA", status: 200, want: svg},
		{name: "app avatar of A from B", method: "GET", url: "/t/{B}/apps/{appA}/avatar", who: "ownerB", status: 404, notWant: []string{appNameA, "<svg"}},
		{name: "app avatar by another tenant's appid", method: "GET", url: "/t/{A}/apps/{appB}/avatar", who: "ownerA", status: 404, notWant: []string{appNameB, "<svg"}},
		{name: "app avatar non-member", method: "GET", url: "/t/{A}/apps/{appA}/avatar", who: "ownerB", status: 404, notWant: []string{"<svg"}},
		{name: "app avatar anonymous", method: "GET", url: "/t/{A}/apps/{appA}/avatar", who: "anon", status: 303, loc: "/login?next="},
		{name: "staff app avatar", method: "GET", url: "/staff/apps/{appB}/avatar", who: "staffsupport", status: 200, want: []string{"<svg", ">B</text>"}},
		{name: "staff app avatar merchant", method: "GET", url: "/staff/apps/{appA}/avatar", who: "ownerA", status: 403, notWant: []string{"<svg"}},
		{name: "staff app avatar anonymous", method: "GET", url: "/staff/apps/{appA}/avatar", who: "anon", status: 303, loc: "/login?next="},
		{name: "staff app avatar unknown app", method: "GET", url: "/staff/apps/wxnotanapp000000/avatar", who: "staffadmin", status: 404},
	}
}

// upstream is an image host that counts the requests for each path.
type upstream struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string]int
}

func (u *upstream) count(path string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.hits[path]
}

func (u *upstream) total() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := 0
	for _, c := range u.hits {
		n += c
	}
	return n
}

func testPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func newUpstream(t *testing.T, pic []byte) *upstream {
	u := &upstream{hits: map[string]int{}}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.hits[r.URL.Path]++
		u.mu.Unlock()
		switch r.URL.Path {
		case "/ok.png":
			w.Header().Set("Content-Type", "image/png")
			_, _ = w.Write(pic)
		case "/page.html":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte("<html><script>alert(1)</script></html>"))
		case "/lying.png": // says PNG, is HTML
			w.Header().Set("Content-Type", "image/png")
			_, _ = w.Write([]byte("<html><script>alert(1)</script></html>"))
		case "/pic.svg":
			w.Header().Set("Content-Type", "image/svg+xml")
			_, _ = w.Write([]byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`))
		case "/big.png": // a PNG past the size cap, without a Content-Length
			w.Header().Set("Content-Type", "image/png")
			_, _ = w.Write(pic)
			w.(http.Flusher).Flush()
			_, _ = w.Write(make([]byte, avatarMaxBytes))
		case "/slow.png":
			time.Sleep(500 * time.Millisecond)
			w.Header().Set("Content-Type", "image/png")
			_, _ = w.Write(pic)
		case "/gone.png":
			http.NotFound(w, r)
		default:
			w.Header().Set("Content-Type", "image/png")
			_, _ = w.Write(pic)
		}
	}))
	t.Cleanup(u.Close)
	return u
}

// allowAvatarsFrom lets the proxy fetch from test servers: their hosts
// over http, on loopback addresses only, within timeout.
func (h *harness) allowAvatarsFrom(timeout time.Duration, srvs ...*httptest.Server) {
	h.t.Helper()
	var hosts []string
	for _, s := range srvs {
		u, err := url.Parse(s.URL)
		if err != nil {
			h.t.Fatal(err)
		}
		hosts = append(hosts, u.Host)
	}
	h.srv.avatarFetch = newAvatarFetcher(avatarRules{hosts: hosts, schemes: []string{"http"}, addr: netip.Addr.IsLoopback, timeout: timeout})
}

func setHeadImg(h *harness, appID, u string) {
	h.t.Helper()
	if _, err := h.st.W.ExecContext(context.Background(), `UPDATE authorizers SET head_img = ? WHERE appid = ?`, u, appID); err != nil {
		h.t.Fatal(err)
	}
}

func wantAvatarHeaders(t *testing.T, what string, r response, ctype string) {
	t.Helper()
	if r.Status != 200 {
		t.Fatalf("%s: status %d\n%s", what, r.Status, r.Body)
	}
	if got := r.Header.Get("Content-Type"); got != ctype {
		t.Errorf("%s: Content-Type %q, want %q", what, got, ctype)
	}
	if got := r.Header.Get("Cache-Control"); got != "private, max-age=3600" {
		t.Errorf("%s: Cache-Control %q", what, got)
	}
	if got := r.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options %q", what, got)
	}
}

func TestAvatarProxy(t *testing.T) {
	h := newHarness(t)
	w := h.seed()
	addApp(h, "wxappa0000000001", appNameA, []int{17, 18}, w.A.ID)
	addApp(h, "wxappb0000000002", appNameB, []int{17, 18}, w.B.ID)
	pic := testPNG(t)
	up := newUpstream(t, pic)
	evil := newUpstream(t, pic)
	h.allowAvatarsFrom(avatarTimeout, up.Server, evil.Server)
	setHeadImg(h, "wxappa0000000001", up.URL+"/ok.png")
	tA, tB := itoa(w.A.ID), itoa(w.B.ID)
	avatarA := "/t/" + tA + "/apps/wxappa0000000001/avatar"

	owner := h.client().login("owner@a.test")
	// Nothing in the request chooses what is fetched.
	q := url.Values{"url": {evil.URL + "/x.png"}, "head_img": {evil.URL + "/y.png"}, "src": {evil.URL}}
	r := owner.get(avatarA + "?" + q.Encode())
	wantAvatarHeaders(t, "avatar", r, "image/png")
	if r.Body != string(pic) {
		t.Errorf("avatar body is not the upstream image (%d bytes)", len(r.Body))
	}
	if n := evil.total(); n != 0 {
		t.Errorf("a URL from the query was fetched (%d requests)", n)
	}
	// Cache hit: the second request, and staff's, do not reach upstream.
	owner.get(avatarA)
	staff := h.client().login("support@staff.test")
	wantAvatarHeaders(t, "staff avatar", staff.get("/staff/apps/wxappa0000000001/avatar"), "image/png")
	if n := up.count("/ok.png"); n != 1 {
		t.Errorf("upstream asked %d times, want 1 (cached)", n)
	}

	// Tenant isolation and sign-in.
	bOwner := h.client().login("owner@b.test")
	wantStatus(t, "B through A", bOwner.get(avatarA), 404)
	wantStatus(t, "A's app through B", bOwner.get("/t/"+tB+"/apps/wxappa0000000001/avatar"), 404)
	if r := h.client().get(avatarA); r.Status != 303 || !strings.HasPrefix(r.Location(), "/login?next=") {
		t.Errorf("anonymous: status %d, Location %q", r.Status, r.Location())
	}
	if n := up.count("/ok.png"); n != 1 {
		t.Errorf("refused requests reached upstream (%d)", n)
	}

	// Anything but a small image from http(s) is the letter placeholder.
	h.allowAvatarsFrom(100*time.Millisecond, up.Server)
	avatarB := "/t/" + tB + "/apps/wxappb0000000002/avatar"
	for _, bad := range []string{
		up.URL + "/page.html", up.URL + "/lying.png", up.URL + "/pic.svg", up.URL + "/big.png",
		up.URL + "/slow.png", up.URL + "/gone.png",
		"ftp://" + strings.TrimPrefix(up.URL, "http://") + "/ok.png", "file:///etc/passwd", "javascript:alert(1)", "//" + strings.TrimPrefix(up.URL, "http://") + "/ok.png",
		"",
	} {
		setHeadImg(h, "wxappb0000000002", bad)
		r := bOwner.get(avatarB)
		wantAvatarHeaders(t, bad, r, "image/svg+xml")
		mustContain(t, bad, r, "<svg", ">B</text>")
		mustNotContain(t, bad, r, "script", "<html")
	}
	if n := up.count("/slow.png"); n != 1 {
		t.Errorf("slow upstream asked %d times", n)
	}
	// A failure is cached too (briefly), so a dead host is not asked on every view.
	setHeadImg(h, "wxappb0000000002", up.URL+"/gone.png")
	bOwner.get(avatarB)
	if n := up.count("/gone.png"); n != 1 {
		t.Errorf("failed fetch retried at once: %d requests", n)
	}
}

func TestAvatarInPages(t *testing.T) {
	h := newHarness(t)
	w := h.seed()
	addApp(h, "wxappa0000000001", appNameA, []int{17, 18}, w.A.ID)
	addApp(h, "wxappa0000000009", "Zeta 无头像", []int{17, 18}, w.A.ID)
	setHeadImg(h, "wxappa0000000001", "http://wx.qlogo.cn/mmopen/x/0")
	owner := h.client().login("owner@a.test")
	src := `src="/t/` + itoa(w.A.ID) + `/apps/wxappa0000000001/avatar"`
	for _, page := range []string{"/t/" + itoa(w.A.ID) + "/apps", "/t/" + itoa(w.A.ID) + "/apps/wxappa0000000001"} {
		r := owner.get(page)
		wantStatus(t, page, r, 200)
		mustContain(t, page, r, src, `alt="" loading="lazy" width="40" height="40"`)
		mustNotContain(t, page, r, "qlogo.cn")
	}
	mustContain(t, "no head image", owner.get("/t/"+itoa(w.A.ID)+"/apps"), `<span class="app-avatar" aria-hidden="true">Z</span>`)
	staff := h.client().login("support@staff.test")
	for _, page := range []string{"/staff/apps", "/staff/apps/wxappa0000000001"} {
		r := staff.get(page)
		wantStatus(t, page, r, 200)
		mustContain(t, page, r, `src="/staff/apps/wxappa0000000001/avatar"`)
		mustNotContain(t, page, r, "qlogo.cn", `src="/t/`)
	}
}

// TestAvatarFromSandbox fetches the head image the sandbox hands out, over
// a real HTTP server, as sandbox mode does over loopback.
func TestAvatarFromSandbox(t *testing.T) {
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	t.Cleanup(srv.Close)
	sb, err := sandbox.New(sandbox.Options{ComponentAppID: "wxcomponent0001", ComponentSecret: "secret", Token: "tok",
		EncodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", PublicBase: "http://sandbox.test", AssetBase: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = sb
	appID, _, err := sb.AuthorizeApp(sb.CreatePreAuthCode(), sandbox.AppSpec{Nickname: "Sandbox Shop"})
	if err != nil {
		t.Fatal(err)
	}
	// Sandbox mode: the emulator's images are asked of it in process (the
	// production rules refuse a loopback address).
	h := newHarnessWith(t, func(d *Deps) { d.Sandbox, d.SandboxAssets = sb, srv.URL })
	w := h.seed()
	addApp(h, appID, "Sandbox Shop", []int{17, 18}, w.A.ID)
	setHeadImg(h, appID, srv.URL+"/mmopen/"+appID+"/0")
	r := h.client().login("owner@a.test").get("/t/" + itoa(w.A.ID) + "/apps/" + appID + "/avatar")
	wantAvatarHeaders(t, "sandbox avatar", r, "image/png")
	if _, err := png.Decode(strings.NewReader(r.Body)); err != nil {
		t.Errorf("sandbox avatar is not a PNG: %v", err)
	}
}

func TestAvatarCacheIsBounded(t *testing.T) {
	c := newAvatarCache(2)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	put := func(k string) { c.put(avatarEntry{key: k, body: []byte(k), expires: now.Add(time.Hour)}) }
	put("a")
	put("b")
	if _, ok := c.get("a", now); !ok { // a is now the most recently used
		t.Fatal("a missing")
	}
	put("c")
	if c.len() != 2 {
		t.Fatalf("len %d, want 2", c.len())
	}
	if _, ok := c.get("b", now); ok {
		t.Error("b, the least recently used, was kept")
	}
	if _, ok := c.get("a", now); !ok {
		t.Error("a was evicted")
	}
	if _, ok := c.get("c", now.Add(2*time.Hour)); ok {
		t.Error("expired entry served")
	}
}

// TestAvatarRefusesOtherTargets: production's rules fetch only https from
// WeChat's image hosts; a host on the list that resolves to a loopback or
// private address is refused when dialing; redirects stay on the host.
func TestAvatarRefusesOtherTargets(t *testing.T) {
	pic := testPNG(t)
	up := newUpstream(t, pic)
	upURL, _ := url.Parse(up.URL)
	port := upURL.Port()
	h := newHarness(t)
	w := h.seed()
	addApp(h, "wxappa0000000001", appNameA, []int{17, 18}, w.A.ID)
	owner := h.client().login("owner@a.test")
	avatar := "/t/" + itoa(w.A.ID) + "/apps/wxappa0000000001/avatar"
	for i, bad := range []string{
		up.URL + "/ok.png", "https://127.0.0.1:" + port + "/ok.png", "https://localhost:" + port + "/ok.png",
		"http://169.254.169.254/latest/meta-data/", "https://[::1]:" + port + "/ok.png", "https://10.0.0.1/x.png",
		"https://wx.qlogo.cn.evil.example/mmopen/x/0", "https://evil.example/wx.qlogo.cn/x.png", "https://wx.qlogo.cn:" + port + "/x",
		"https://user@wx.qlogo.cn/mmopen/x/0", "ftp://wx.qlogo.cn/x.png", "//wx.qlogo.cn/x.png",
	} {
		h.clock.Advance(avatarFailTTL + time.Second) // past the cached failure
		setHeadImg(h, "wxappa0000000001", bad+"?"+itoa(int64(i)))
		r := owner.get(avatar)
		wantAvatarHeaders(t, bad, r, "image/svg+xml")
	}
	if n := up.total(); n != 0 {
		t.Errorf("production rules reached the local server %d times", n)
	}
	if !strings.Contains(h.logs.String(), "not allowed") {
		t.Errorf("the refusals were not logged:\n%s", h.logs.String())
	}

	// An allowed name resolving to loopback is refused at the dial, after DNS.
	rebind := newAvatarFetcher(avatarRules{hosts: []string{"localhost:" + port}, schemes: []string{"http"}, addr: publicAddr, timeout: time.Second})
	h.srv.avatarFetch = rebind
	if _, _, err := h.srv.fetchAvatar(context.Background(), "http://localhost:"+port+"/ok.png"); !errors.Is(err, errAvatarAddr) {
		t.Errorf("localhost with public-only addresses: err %v, want %v", err, errAvatarAddr)
	}
	if n := up.total(); n != 0 {
		t.Errorf("the dial check let %d requests through", n)
	}

	// Redirects: followed on the same host, refused to another.
	hops := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/same":
			http.Redirect(w, r, "/ok.png", http.StatusFound)
		case "/other":
			http.Redirect(w, r, up.URL+"/ok.png", http.StatusFound)
		case "/ok.png":
			w.Header().Set("Content-Type", "image/png")
			_, _ = w.Write(pic)
		}
	}))
	t.Cleanup(hops.Close)
	h.allowAvatarsFrom(time.Second, hops, up.Server)
	if body, _, err := h.srv.fetchAvatar(context.Background(), hops.URL+"/same"); err != nil || !bytes.Equal(body, pic) {
		t.Errorf("redirect on the same host: %d bytes, %v", len(body), err)
	}
	if _, _, err := h.srv.fetchAvatar(context.Background(), hops.URL+"/other"); err == nil || !strings.Contains(err.Error(), "another host") {
		t.Errorf("redirect to another host: %v", err)
	}
	if n := up.total(); n != 0 {
		t.Errorf("a redirect reached another host %d times", n)
	}
}

func TestAvatarTargetAndAddresses(t *testing.T) {
	f := defaultAvatars
	for raw, want := range map[string]string{
		"http://wx.qlogo.cn/mmopen/x/0":         "https://wx.qlogo.cn/mmopen/x/0",
		"https://thirdwx.qlogo.cn/mmopen/x/132": "https://thirdwx.qlogo.cn/mmopen/x/132",
		"https://mmbiz.qpic.cn/mmbiz_png/x/0":   "https://mmbiz.qpic.cn/mmbiz_png/x/0",
		"http://mmbiz.qlogo.cn/mmbiz/x/0":       "https://mmbiz.qlogo.cn/mmbiz/x/0",
	} {
		if u, err := f.target(raw); err != nil || u.String() != want {
			t.Errorf("target(%q) = %v, %v; want %s", raw, u, err, want)
		}
	}
	for _, raw := range []string{"https://WX.qlogo.cn.evil/x", "https://qlogo.cn/x", "https://wx.qlogo.cn:443/x", "https://1.2.3.4/x", "file:///etc/passwd", "javascript:alert(1)", "https:wx.qlogo.cn/x", ""} {
		if u, err := f.target(raw); err == nil {
			t.Errorf("target(%q) = %v, want refused", raw, u)
		}
	}
	for _, a := range []string{"127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0", "100.64.0.1", "::1", "::", "fe80::1", "fc00::1", "fd12::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a00:1", "2002:a00:1::1", "224.0.0.1", "ff02::1", "255.255.255.255"} {
		if publicAddr(netip.MustParseAddr(a)) {
			t.Errorf("%s counted as public", a)
		}
	}
	for _, a := range []string{"8.8.8.8", "101.226.103.106", "2400:da00::6666"} {
		if !publicAddr(netip.MustParseAddr(a)) {
			t.Errorf("%s counted as not public", a)
		}
	}
}
