package web

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
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
	h.srv.AvatarClient = &http.Client{Timeout: 100 * time.Millisecond}
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
	h := newHarness(t)
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
