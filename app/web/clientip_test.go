package web

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/config"
	"github.com/minifleet/minifleet/app/store"
)

// peer is a browser on its own loopback address (Linux routes all of
// 127.0.0.0/8 to lo), talking to the harness over real TCP, so the server
// sees a distinct peer address per client.
type peer struct {
	t    *testing.T
	base string
	hc   *http.Client
	hdr  map[string]string // sent with every request (a proxy's header)
}

func (h *harness) serveTCP() string {
	h.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.t.Fatal(err)
	}
	go func() { _ = h.app.Listener(ln) }()
	return "http://" + ln.Addr().String()
}

func newPeer(t *testing.T, base, addr string, hdr map[string]string) *peer {
	jar, _ := cookiejar.New(nil)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(addr)}, Timeout: 5 * time.Second}
	return &peer{t: t, base: base, hdr: hdr, hc: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		Transport:     &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (p *peer) do(method, path string, form url.Values) (int, string) {
	p.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, p.base+path, body)
	if err != nil {
		p.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range p.hdr {
		req.Header.Set(k, v)
	}
	res, err := p.hc.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// login posts the sign-in form (with the token of the form it just got)
// and answers the status.
func (p *peer) login(email, password string) int {
	p.t.Helper()
	_, page := p.do("GET", "/login", nil)
	m := csrfInput.FindStringSubmatch(page)
	if m == nil {
		p.t.Fatalf("no _csrf on the login page")
	}
	st, _ := p.do("POST", "/login", url.Values{"_csrf": {m[1]}, "email": {email}, "password": {password}})
	return st
}

// hammer fails n logins to email and wants the last refused.
func (p *peer) hammer(email string, n int) {
	p.t.Helper()
	last := 0
	for i := 0; i < n; i++ {
		last = p.login(email, "not the password "+itoa(int64(i)))
	}
	if last != http.StatusTooManyRequests {
		p.t.Fatalf("after %d failures: status %d, want 429", n, last)
	}
}

func throttleHarness(t *testing.T, proxies []string, header string) (*harness, string) {
	h := newHarnessWith(t, func(d *Deps) { d.Config.TrustedProxies, d.Config.ProxyHeader = proxies, header })
	h.fixture()
	return h, h.serveTCP()
}

// loginIPs are the addresses the activity log recorded for successful
// (ok) or failed logins of email.
func loginIPs(t *testing.T, h *harness, action, email string) []string {
	t.Helper()
	acts, err := h.st.ListActivity(context.Background(), store.ActivityFilter{Action: action, Query: email})
	if err != nil {
		t.Fatal(err)
	}
	var ips []string
	for _, a := range acts {
		ips = append(ips, a.IP)
	}
	return ips
}

// TestLoginThrottlingByClient: without trusted proxies the peer is the
// client and forwarding headers are ignored; one address hammering an
// account does not keep another from signing in to it.
func TestLoginThrottlingByClient(t *testing.T) {
	h, base := throttleHarness(t, nil, "X-Forwarded-For")
	spoof := map[string]string{"X-Forwarded-For": "198.51.100.9", "Fly-Client-IP": "198.51.100.9", "X-Real-IP": "198.51.100.9"}
	attacker := newPeer(t, base, "127.0.0.2", spoof)
	attacker.hammer("owner@a.test", 12)
	if st := attacker.login("owner@a.test", testPassword); st != 429 {
		t.Errorf("the hammering address with the right password: %d, want 429", st)
	}
	owner := newPeer(t, base, "127.0.0.3", nil)
	if st := owner.login("owner@a.test", testPassword); st != 303 {
		t.Fatalf("the owner from another address: %d, want 303", st)
	}
	if ips := loginIPs(t, h, store.ActLoginFailed, "owner@a.test"); len(ips) == 0 || ips[0] != "127.0.0.2" {
		t.Errorf("failed logins recorded from %v, want the peer 127.0.0.2 (headers ignored)", ips)
	}
	if ips := loginIPs(t, h, store.ActLogin, "owner@a.test"); len(ips) != 1 || ips[0] != "127.0.0.3" {
		t.Errorf("login recorded from %v, want 127.0.0.3", ips)
	}
	// The ceiling across addresses: enough addresses together refuse the
	// account to everyone for the window.
	for i := 0; i < maxFailuresAccount/pairFree; i++ {
		p := newPeer(t, base, "127.0.1."+itoa(int64(i+1)), nil)
		for j := 0; j < pairFree; j++ {
			p.login("owner@b.test", "wrong wrong wrong")
		}
	}
	if st := newPeer(t, base, "127.0.0.4", nil).login("owner@b.test", testPassword); st != 429 {
		t.Errorf("past the account's ceiling: %d, want 429", st)
	}
	h.clock.Advance(throttleWindow + time.Second)
	if st := newPeer(t, base, "127.0.0.4", nil).login("owner@b.test", testPassword); st != 303 {
		t.Errorf("after the window: %d, want 303", st)
	}
}

// TestLoginThrottlingBehindProxy: from a trusted proxy its header decides
// the bucket; from any other peer the header is ignored.
func TestLoginThrottlingBehindProxy(t *testing.T) {
	t.Run("Fly-Client-IP", func(t *testing.T) {
		h, base := throttleHarness(t, []string{"127.0.0.2"}, "Fly-Client-Ip")
		proxy := func(client string) *peer {
			return newPeer(t, base, "127.0.0.2", map[string]string{"Fly-Client-IP": client})
		}
		proxy("203.0.113.7").hammer("owner@a.test", 10)
		if st := proxy("203.0.113.7").login("owner@a.test", testPassword); st != 429 {
			t.Errorf("the hammering client through the proxy: %d, want 429", st)
		}
		if st := proxy("198.51.100.9").login("owner@a.test", testPassword); st != 303 {
			t.Fatalf("the owner through the same proxy: %d, want 303", st)
		}
		if ips := loginIPs(t, h, store.ActLogin, "owner@a.test"); len(ips) != 1 || ips[0] != "198.51.100.9" {
			t.Errorf("login recorded from %v, want the header's 198.51.100.9", ips)
		}
		// An untrusted peer's header is ignored: its failures fill its own
		// bucket, not the address it claims.
		direct := newPeer(t, base, "127.0.0.3", map[string]string{"Fly-Client-IP": "198.51.100.10"})
		direct.hammer("owner@b.test", 10)
		if st := proxy("198.51.100.10").login("owner@b.test", testPassword); st != 303 {
			t.Errorf("the claimed address through the proxy: %d, want 303", st)
		}
		if ips := loginIPs(t, h, store.ActLoginFailed, "owner@b.test"); len(ips) == 0 || ips[0] != "127.0.0.3" {
			t.Errorf("the untrusted peer's failures recorded from %v, want 127.0.0.3", ips)
		}
	})
	t.Run("X-Forwarded-For", func(t *testing.T) {
		h, base := throttleHarness(t, []string{"127.0.0.0/30", "10.0.0.0/8"}, "X-Forwarded-For")
		// The client may prepend anything; the proxies (127.0.0.2, then
		// 10.1.1.1) append. The rightmost untrusted hop is the client.
		hop := func(xff string) *peer {
			return newPeer(t, base, "127.0.0.2", map[string]string{"X-Forwarded-For": xff})
		}
		for i := 0; i < 10; i++ {
			hop("1.1.1."+itoa(int64(i))+", 203.0.113.7, 10.1.1.1").login("owner@a.test", "wrong wrong wrong")
		}
		if st := hop("9.9.9.9, 203.0.113.7").login("owner@a.test", testPassword); st != 429 {
			t.Errorf("a rotating prefix did not escape the bucket: %d, want 429", st)
		}
		if st := hop("203.0.113.7, 198.51.100.9, 10.1.1.1").login("owner@a.test", testPassword); st != 303 {
			t.Fatalf("the owner: %d, want 303", st)
		}
		if ips := loginIPs(t, h, store.ActLogin, "owner@a.test"); len(ips) != 1 || ips[0] != "198.51.100.9" {
			t.Errorf("login recorded from %v, want 198.51.100.9", ips)
		}
		if ips := loginIPs(t, h, store.ActLoginFailed, "owner@a.test"); len(ips) == 0 || ips[len(ips)-1] != "203.0.113.7" {
			t.Errorf("failures recorded from %v, want 203.0.113.7", ips)
		}
		// From an untrusted peer the header is ignored.
		if st := newPeer(t, base, "127.0.0.5", map[string]string{"X-Forwarded-For": "198.51.100.77"}).login("owner@b.test", testPassword); st != 303 {
			t.Fatalf("login from an untrusted peer: %d", st)
		}
		if ips := loginIPs(t, h, store.ActLogin, "owner@b.test"); len(ips) != 1 || ips[0] != "127.0.0.5" {
			t.Errorf("login from an untrusted peer recorded from %v, want 127.0.0.5", ips)
		}
	})
}

// TestTrustedProxiesConfig: the list is IPs or CIDRs; the header one of three.
func TestTrustedProxiesConfig(t *testing.T) {
	env := map[string]string{"MINIFLEET_TRUSTED_PROXIES": "172.16.0.0/12, 10.0.0.1 fdaa::/16", "MINIFLEET_PROXY_HEADER": "fly-client-ip"}
	c, err := config.Load(func(k string) string { return env[k] })
	if err != nil || strings.Join(c.TrustedProxies, " ") != "172.16.0.0/12 10.0.0.1 fdaa::/16" || c.ProxyHeader != "Fly-Client-Ip" {
		t.Fatalf("Load = %v %q, %v", c.TrustedProxies, c.ProxyHeader, err)
	}
	for k, v := range map[string]string{"MINIFLEET_TRUSTED_PROXIES": "172.16.0.0/33", "MINIFLEET_PROXY_HEADER": "X-Client"} {
		_, err := config.Load(func(name string) string {
			if name == k {
				return v
			}
			return ""
		})
		if err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: %v", k, v, err)
		}
	}
}
