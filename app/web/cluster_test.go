package web

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/cluster"
)

// liteFSMount fakes the files LiteFS serves: a replica whose primary is
// 127.0.0.1 (primary=false), or the primary at position pos.
func liteFSMount(t *testing.T, primary bool, pos string) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if primary {
		write(".lag", "+0000000000\n")
	} else {
		write(".primary", "127.0.0.1\n")
		write(".lag", "+0000000040\n")
	}
	write("minifleet.db-pos", pos+"/0000000000000000\n")
	return dir
}

// TestReplicaWrites: on a replica, reads are served here; a write is
// forwarded to the primary's URL with its body and cookies, and its answer
// (status, cookies, body) is the client's; with the primary unreachable a
// write is refused 503 — the localized page in a browser, JSON on the API,
// plain text (no "success") to WeChat — and nothing is written here.
func TestReplicaWrites(t *testing.T) {
	var mu sync.Mutex
	var got []*http.Request
	var bodies []string
	prim := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, bodies = append(got, r), append(bodies, string(b))
		mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: txidCookie, Value: "2a"})
		w.Header().Set("Location", "/t/9")
		w.WriteHeader(http.StatusSeeOther)
		io.WriteString(w, "from the primary")
	}))
	defer prim.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(prim.URL, "http://"))
	h := newHarnessWith(t, func(d *Deps) {
		d.Cluster = cluster.New(liteFSMount(t, false, "0000000000000005"), "minifleet.db")
		d.Config.Cluster.PrimaryURL = "http://{host}:" + port
	})
	if h.srv.Cluster.IsPrimary() {
		t.Fatal("the fake replica reads as primary")
	}
	form := url.Values{"email": {"a@example.test"}, "password": {"whatever-long"}}.Encode()
	req := httptest.NewRequest("POST", "/login?next=/x", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", "sid=abc; csrf_=tok")
	resp, err := h.app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/t/9" || string(body) != "from the primary" {
		t.Fatalf("forwarded write answered %d %q %q", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if c := resp.Header.Get("Set-Cookie"); !strings.Contains(c, txidCookie+"=2a") {
		t.Fatalf("the primary's cookie did not come back: %q", c)
	}
	mu.Lock()
	if len(got) != 1 || got[0].URL.RequestURI() != "/login?next=/x" || bodies[0] != form ||
		!strings.Contains(got[0].Header.Get("Cookie"), "sid=abc") || got[0].Header.Get(headerForwarded) != "1" {
		t.Fatalf("the primary got %d requests: %+v %q", len(got), got, bodies)
	}
	mu.Unlock()
	// A request another replica forwarded is not forwarded again.
	req = httptest.NewRequest("POST", "/wechat/component/events", strings.NewReader("<xml/>"))
	req.Header.Set(headerForwarded, "1")
	if resp, _ := h.app.Test(req, -1); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("a forwarded request was accepted by a replica: %d", resp.StatusCode)
	}
	// Reads stay here.
	if resp, _ := h.app.Test(httptest.NewRequest("GET", "/login", nil), -1); resp.StatusCode != 200 {
		t.Fatalf("GET /login on a replica: %d", resp.StatusCode)
	}

	// The primary goes away.
	prim.Close()
	req = httptest.NewRequest("POST", "/signup", strings.NewReader(url.Values{"tenant": {"x"}, "name": {"x"}, "email": {"b@example.test"}, "password": {"a-long-password"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept-Language", "zh-CN")
	resp, _ = h.app.Test(req, -1)
	body, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "只读") || !strings.Contains(string(body), "<html") {
		t.Fatalf("a browser write with the primary gone: %d\n%.300s", resp.StatusCode, body)
	}
	req = httptest.NewRequest("POST", "/api/v1/tenants", strings.NewReader(`{}`))
	req.Header.Set("Accept-Language", "en")
	resp, _ = h.app.Test(req, -1)
	var js map[string]string
	if resp.StatusCode != http.StatusServiceUnavailable || json.NewDecoder(resp.Body).Decode(&js) != nil || js["error"] != "read_only" || !strings.Contains(js["message"], "Read-only") {
		t.Fatalf("an API write with the primary gone: %d %v", resp.StatusCode, js)
	}
	resp, _ = h.app.Test(httptest.NewRequest("POST", "/wechat/component/events", strings.NewReader("<xml/>")), -1)
	body, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || strings.Contains(string(body), "success") {
		t.Fatalf("a push with the primary gone: %d %q", resp.StatusCode, body)
	}
	if _, err := h.st.UserByEmail(t.Context(), "b@example.test"); err == nil {
		t.Fatal("the refused sign-up was written on the replica")
	}
	if !h.srv.forward.down(time.Now()) {
		t.Error("the forwarder does not back off after the primary failed")
	}
}

// TestPrimaryNamesItsPosition: after a write the primary answers with its
// LiteFS position (cookie and header), so a replica can wait for it.
func TestPrimaryNamesItsPosition(t *testing.T) {
	h := newHarnessWith(t, func(d *Deps) {
		d.Cluster = cluster.New(liteFSMount(t, true, "000000000000abcd"), "minifleet.db")
	})
	if !h.srv.Cluster.IsPrimary() {
		t.Fatal("the fake primary reads as replica")
	}
	resp, _ := h.app.Test(httptest.NewRequest("POST", "/login", strings.NewReader("")), -1)
	if resp.Header.Get(headerTXID) != "abcd" || !strings.Contains(resp.Header.Get("Set-Cookie"), txidCookie+"=abcd") {
		t.Fatalf("after a write: header %q, cookies %q", resp.Header.Get(headerTXID), resp.Header.Values("Set-Cookie"))
	}
	resp, _ = h.app.Test(httptest.NewRequest("GET", "/login", nil), -1)
	if resp.Header.Get(headerTXID) != "" {
		t.Fatal("a read named a position")
	}
}

// TestReplicaOnFlyReplays: on Fly a replica answers a write with
// fly-replay naming the primary's machine, and serves reads itself.
func TestReplicaOnFlyReplays(t *testing.T) {
	h := newHarnessWith(t, func(d *Deps) {
		d.Cluster = cluster.New(liteFSMount(t, false, "0000000000000005"), "minifleet.db")
		d.Config.Cluster.FlyApp = "minifleet"
	})
	resp, _ := h.app.Test(httptest.NewRequest("POST", "/wechat/component/events", strings.NewReader("<xml/>")), -1)
	body, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("fly-replay") != "instance=127.0.0.1" || strings.Contains(string(body), "success") {
		t.Fatalf("a push on a Fly replica: %d fly-replay=%q %q", resp.StatusCode, resp.Header.Get("fly-replay"), body)
	}
	resp, _ = h.app.Test(httptest.NewRequest("GET", "/login", nil), -1)
	if resp.StatusCode != 200 || resp.Header.Get("fly-replay") != "" {
		t.Fatalf("a read on a Fly replica: %d %q", resp.StatusCode, resp.Header.Get("fly-replay"))
	}
}
