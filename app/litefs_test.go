package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/cluster"
	"github.com/minifleet/minifleet/app/wechat/sandbox"
)

// TestMain lets the two-node test run this test binary as the minifleet
// server (built once, with the tests): MINIFLEET_TEST_SERVE=1 makes it
// `minifleet serve` instead of running tests.
func TestMain(m *testing.M) {
	if os.Getenv("MINIFLEET_TEST_SERVE") == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := run(ctx, []string{"serve"}, os.Getenv, os.Stdout)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "minifleet:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// litefsBinary finds the litefs command (PATH, then GOPATH/bin where
// `make litefs` installs it).
func litefsBinary(t testing.TB) string {
	if p, err := exec.LookPath("litefs"); err == nil {
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		home, _ := os.UserHomeDir()
		gopath = filepath.Join(home, "go")
	}
	p := filepath.Join(gopath, "bin", "litefs")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	t.Fatal("litefs is not installed: `make litefs` installs it (go install github.com/superfly/litefs/cmd/litefs@v0.5.14)")
	return ""
}

func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// proc is a child process whose output goes to a buffer shown on failure.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuf
	done chan struct{}
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func startProc(t testing.TB, name string, env []string, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, cmd: exec.Command(bin, args...), out: &syncBuf{}, done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.stop(); p.dumpIfFailed(t) })
	return p
}

// stop ends the process (SIGTERM, then SIGKILL after 10 s) and waits.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *proc) dumpIfFailed(t testing.TB) {
	if t.Failed() {
		out := p.out.String()
		if len(out) > 6000 {
			out = out[len(out)-6000:]
		}
		t.Logf("--- %s output (tail) ---\n%s", p.name, out)
	}
}

func mounted(dir string) bool {
	b, err := os.ReadFile("/proc/self/mountinfo")
	return err == nil && bytes.Contains(b, []byte(" "+dir+" "))
}

func waitFor(t testing.TB, what string, max time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(max)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", max, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// litefsNode is one LiteFS mount and the Minifleet process on it.
type litefsNode struct {
	mount, data string
	appURL      string
	fs, app     *proc
}

// TestLiteFSTwoNodes runs two LiteFS mounts with a static lease and two
// Minifleet processes on loopback, WeChat being a sandbox served by the
// test whose API the primary reaches under /p and the replica under /r.
// twoNodes is two LiteFS mounts (static lease) and a Minifleet process on
// each, with a sandbox for WeChat served by the test under /p (the
// primary's API base) and /r (the replica's), not started.
type twoNodes struct {
	primary, replica *litefsNode
	sb               *sandbox.Sandbox
	countOf          func(who, path string) int
	calls            func(who string) []string
}

func startTwoNodes(t testing.TB) *twoNodes {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skip("FUSE is absent (/dev/fuse): the two-node LiteFS test needs it")
	}
	if testing.Short() {
		t.Skip("-short: the two-node LiteFS test starts four processes")
	}
	litefs := litefsBinary(t)
	if _, err := exec.LookPath("fusermount3"); err != nil {
		t.Fatal("fusermount3 is not installed: `make litefs` installs fuse3")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	started := time.Now()

	// WeChat: one sandbox, counted by who calls it.
	creds := sandboxCredentials(bytes.Repeat([]byte{7}, 32))
	var mu sync.Mutex
	calls := map[string][]string{} // "p"/"r" → paths
	var sb *sandbox.Sandbox
	mux := http.NewServeMux()
	for _, who := range []string{"p", "r"} {
		mux.Handle("/"+who+"/", http.StripPrefix("/"+who, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			calls[who] = append(calls[who], r.URL.Path)
			mu.Unlock()
			sb.ServeHTTP(w, r)
		})))
	}
	wx := httptest.NewServer(mux)
	t.Cleanup(wx.Close)
	countOf := func(who, path string) int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, p := range calls[who] {
			if path == "" || strings.HasSuffix(p, path) {
				n++
			}
		}
		return n
	}

	fsPrimaryHTTP, fsReplicaHTTP := freePort(t), freePort(t)
	appPrimaryPort, appReplicaPort := freePort(t), freePort(t)
	secret := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	config := filepath.Join("..", "litefs.static.yml")
	newNode := func(name string, primary bool, fsPort, appPort int, wxPrefix string) *litefsNode {
		n := &litefsNode{mount: filepath.Join(root, name, "mnt"), data: filepath.Join(root, name, "litefs"),
			appURL: fmt.Sprintf("http://127.0.0.1:%d", appPort)}
		for _, d := range []string{n.mount, n.data} {
			if err := os.MkdirAll(d, 0o700); err != nil {
				t.Fatal(err)
			}
		}
		n.fs = startProc(t, "litefs "+name, []string{
			"LITEFS_DIR=" + n.mount, "LITEFS_DATA_DIR=" + n.data,
			fmt.Sprintf("LITEFS_HTTP_ADDR=127.0.0.1:%d", fsPort),
			fmt.Sprintf("LITEFS_CANDIDATE=%t", primary),
			"LITEFS_PRIMARY_HOST=127.0.0.1",
			fmt.Sprintf("LITEFS_PRIMARY_URL=http://127.0.0.1:%d", fsPrimaryHTTP),
		}, litefs, "mount", "-config", config)
		t.Cleanup(func() { exec.Command("fusermount3", "-u", n.mount).Run() })
		waitFor(t, name+"'s LiteFS mount", 20*time.Second, func() bool { return mounted(n.mount) })
		env := []string{
			"MINIFLEET_TEST_SERVE=1",
			fmt.Sprintf("MINIFLEET_ADDR=127.0.0.1:%d", appPort),
			"MINIFLEET_BASE_URL=" + n.appURL,
			"MINIFLEET_DATA_DIR=" + filepath.Join(root, name, "data"),
			"MINIFLEET_LITEFS_DIR=" + n.mount,
			fmt.Sprintf("MINIFLEET_PRIMARY_URL=http://{host}:%d", appPrimaryPort),
			"MINIFLEET_SECRET_KEY=" + secret,
			"MINIFLEET_SANDBOX=off",
			"MINIFLEET_LOG_LEVEL=info",
			"MINIFLEET_WECHAT_COMPONENT_APPID=" + creds.ComponentAppID,
			"MINIFLEET_WECHAT_COMPONENT_SECRET=" + creds.ComponentSecret,
			"MINIFLEET_WECHAT_TOKEN=" + creds.Token,
			"MINIFLEET_WECHAT_AES_KEY=" + creds.AESKey,
			"MINIFLEET_WECHAT_API_BASE=" + wx.URL + wxPrefix,
			"MINIFLEET_WECHAT_MP_BASE=" + wx.URL + wxPrefix,
			"MINIFLEET_WECHAT_OPEN_BASE=" + wx.URL + wxPrefix,
			"FLY_APP_NAME=",
		}
		n.app = startProc(t, "minifleet "+name, env, self, "-test.run=^$")
		waitFor(t, name+" answering /readyz", 30*time.Second, func() bool {
			resp, err := http.Get(n.appURL + "/readyz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == 200
		})
		return n
	}
	// WeChat pushes its ticket to the replica: the replica hands it to the
	// primary and answers WeChat with the primary's answer.
	sb, err = sandbox.New(sandbox.Options{
		ComponentAppID: creds.ComponentAppID, ComponentSecret: creds.ComponentSecret,
		Token: creds.Token, EncodingAESKey: creds.AESKey,
		ComponentEventsURL: fmt.Sprintf("http://127.0.0.1:%d/wechat/component/events", appReplicaPort),
		AppEventsURL:       fmt.Sprintf("http://127.0.0.1:%d/wechat/apps/$APPID$/events", appReplicaPort),
		PublicBase:         wx.URL + "/p",
		PushTimeout:        5 * time.Second,
		PushAttempts:       1,
	})
	if err != nil {
		t.Fatal(err)
	}
	primary := newNode("primary", true, fsPrimaryHTTP, appPrimaryPort, "/p")
	replica := newNode("replica", false, fsReplicaHTTP, appReplicaPort, "/r")
	if _, err := os.Stat(filepath.Join(replica.mount, ".primary")); err != nil {
		t.Fatalf("the replica's mount has no .primary file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(primary.mount, ".primary")); err == nil {
		t.Fatal("the primary's mount has a .primary file")
	}
	t.Logf("two nodes up in %s", time.Since(started).Round(time.Millisecond))
	return &twoNodes{primary: primary, replica: replica, sb: sb, countOf: countOf, calls: func(who string) []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), calls[who]...)
	}}
}

func TestLiteFSTwoNodes(t *testing.T) {
	started := time.Now()
	nodes := startTwoNodes(t)
	primary, replica, sb, countOf := nodes.primary, nodes.replica, nodes.sb, nodes.countOf

	sctx, stopSandbox := context.WithCancel(context.Background())
	defer stopSandbox()
	if err := sb.Start(sctx); err != nil {
		t.Fatal(err)
	}
	sb.WaitPushes()
	acked := 0
	for _, p := range sb.Pushes() {
		if !p.Delivered || p.Reply != "success" {
			t.Fatalf("a ticket pushed to the replica was not acknowledged: %+v", p)
		}
		acked++
	}
	// Only the primary asks WeChat for the component token (its refresh
	// loop runs only there), once the forwarded ticket is in.
	waitFor(t, "the primary to fetch a component token", 15*time.Second, func() bool {
		return countOf("p", "api_component_token") > 0
	})

	// Sign-up through the replica lands on the primary and shows on the replica.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(u string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("Accept-Language", "zh-CN")
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	csrfRe := regexp.MustCompile(`name="_csrf" value="([^"]+)"`)
	post := func(u string, form url.Values) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept-Language", "zh-CN")
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatalf("POST %s: %v", u, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	code, page := get(replica.appURL + "/signup")
	m := csrfRe.FindStringSubmatch(page)
	if code != 200 || m == nil {
		t.Fatalf("GET /signup on the replica: %d, csrf field found: %v", code, m != nil)
	}
	tenant := fmt.Sprintf("双节点商户 %d", time.Now().UnixNano()%100000)
	form := url.Values{"_csrf": {m[1]}, "tenant": {tenant}, "name": {"王小明"},
		"email": {"owner@two-node.test"}, "password": {"a-long-password-1"}}
	wrote := time.Now()
	resp, body := post(replica.appURL+"/signup", form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-up through the replica: status %d, want 303\n%s", resp.StatusCode, body)
	}
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, "/t/") {
		t.Fatalf("sign-up redirected to %q", loc)
	}
	code, page = get(replica.appURL + loc)
	seen := time.Since(wrote)
	if code != 200 || !strings.Contains(page, tenant) {
		t.Fatalf("the replica's tenant page after sign-up: %d, shows the tenant: %v", code, strings.Contains(page, tenant))
	}
	t.Logf("sign-up through the replica, then its page on the replica: %s", seen.Round(time.Millisecond))
	// It was written on the primary (the replica's file is read-only).
	if n := countRows(t, primary.mount, `SELECT COUNT(*) FROM tenants WHERE name = ?`, tenant); n != 1 {
		t.Fatalf("tenants named %q on the primary: %d", tenant, n)
	}

	// A live stream on the replica moves with the primary: start an
	// authorization attempt and watch its page's stream on the replica while
	// the attempt is cancelled (both writes go through the replica to the primary).
	tid := strings.TrimPrefix(loc, "/t/")
	resp, body = post(replica.appURL+"/t/"+tid+"/authorize", url.Values{"_csrf": {m[1]}})
	attempt := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(attempt, "/authorize/") {
		t.Fatalf("starting an authorization through the replica: %d %q\n%.300s", resp.StatusCode, attempt, body)
	}
	events := make(chan string, 16)
	sreq, _ := http.NewRequest("GET", replica.appURL+attempt+"/events", nil)
	sctxStream, stopStream := context.WithCancel(context.Background())
	defer stopStream()
	sresp, err := browser.Do(sreq.WithContext(sctxStream))
	if err != nil || sresp.StatusCode != 200 {
		t.Fatalf("the attempt's stream on the replica: %v %v", err, sresp)
	}
	go func() {
		defer sresp.Body.Close()
		sc := bufio.NewScanner(sresp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if name, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
				events <- name
			}
		}
		close(events)
	}()
	nextEvent := func(within time.Duration) (string, bool) {
		select {
		case e, ok := <-events:
			return e, ok
		case <-time.After(within):
			return "", false
		}
	}
	if e, ok := nextEvent(5 * time.Second); !ok || e != "attempt" {
		t.Fatalf("the stream's first event: %q %v", e, ok)
	}
	resp, body = post(replica.appURL+attempt+"/cancel", url.Values{"_csrf": {m[1]}})
	cancelled := time.Now()
	if resp.StatusCode >= 400 {
		t.Fatalf("cancelling the attempt through the replica: %d\n%.300s", resp.StatusCode, body)
	}
	if e, ok := nextEvent(10 * time.Second); !ok || e != "attempt" {
		t.Fatalf("the replica's stream did not move after the primary cancelled the attempt: %q %v", e, ok)
	}
	t.Logf("the primary's change reached the replica's live stream in %s", time.Since(cancelled).Round(time.Millisecond))
	stopStream()

	// The primary stops: the replica keeps serving reads and refuses writes.
	primary.app.stop()
	primary.fs.stop()
	exec.Command("fusermount3", "-u", primary.mount).Run()
	code, page = get(replica.appURL + loc)
	if code != 200 || !strings.Contains(page, tenant) {
		t.Fatalf("the replica's tenant page with the primary gone: %d", code)
	}
	code, page = get(replica.appURL + "/signup")
	m = csrfRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("GET /signup on the replica with the primary gone: %d, no csrf field", code)
	}
	form.Set("_csrf", m[1])
	form.Set("email", "second@two-node.test")
	resp, body = post(replica.appURL+"/signup", form)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "只读") {
		t.Fatalf("a write on the replica with the primary gone: %d, want 503 with the read-only page\n%.400s", resp.StatusCode, body)
	}
	// A push now is not acknowledged (WeChat will send it again).
	before := len(sb.Pushes())
	sb.PushTicket()
	sb.WaitPushes()
	ps := sb.Pushes()
	if len(ps) != before+1 || ps[len(ps)-1].Delivered || ps[len(ps)-1].Status != http.StatusServiceUnavailable {
		t.Fatalf("a push to the replica with the primary gone: %+v, want refused with 503", ps[len(ps)-1])
	}
	// Nothing acknowledged is lost: the replica's copy holds every push it
	// answered "success" to, and the sign-up.
	if n := countRows(t, replica.mount, `SELECT COUNT(*) FROM wechat_pushes WHERE route = 'component'`); n < acked {
		t.Fatalf("the replica holds %d component pushes, %d were acknowledged", n, acked)
	}
	if n := countRows(t, replica.mount, `SELECT COUNT(*) FROM users WHERE email = 'owner@two-node.test'`); n != 1 {
		t.Fatalf("the signed-up owner on the replica: %d rows", n)
	}
	if n := countRows(t, replica.mount, `SELECT COUNT(*) FROM users WHERE email = 'second@two-node.test'`); n != 0 {
		t.Fatal("the refused sign-up was written")
	}
	// The replica never called WeChat.
	if n := countOf("r", ""); n != 0 {
		t.Fatalf("the replica called WeChat %d times: %v", n, nodes.calls("r"))
	}
	t.Logf("two-node test: %s", time.Since(started).Round(time.Millisecond))
}

// countRows runs a count on a node's database through its LiteFS mount, read-only.
func countRows(t testing.TB, mount, q string, args ...any) int {
	t.Helper()
	d, err := sql.Open("sqlite", "file:"+filepath.Join(mount, "minifleet.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var n int
	if err := d.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// BenchmarkLiteFSWrite measures a signed-in user's write (the language
// preference, POST /lang) followed by the next page (GET /account), on the
// primary and through the replica (forwarded, then the replica waits for
// the write's TXID); lag-ms is how long after the primary answered the
// replica's LiteFS position reached the write. Figures in docs/benchmarks.md.
func BenchmarkLiteFSWrite(b *testing.B) {
	nodes := startTwoNodes(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := nodes.sb.Start(ctx); err != nil {
		b.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	csrfRe := regexp.MustCompile(`name="_csrf" value="([^"]+)"`)
	do := func(method, u string, form url.Values) (*http.Response, string) {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, u, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := browser.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp, string(raw)
	}
	_, page := do("GET", nodes.primary.appURL+"/signup", nil)
	tok := csrfRe.FindStringSubmatch(page)[1]
	if resp, body := do("POST", nodes.primary.appURL+"/signup", url.Values{"_csrf": {tok}, "tenant": {"基准商户"}, "name": {"基准"},
		"email": {"bench@two-node.test"}, "password": {"a-long-password-1"}}); resp.StatusCode != http.StatusSeeOther {
		b.Fatalf("sign-up: %d %.300s", resp.StatusCode, body)
	}
	langs := []string{"en", "zh-CN"}
	for _, node := range []struct {
		name string
		n    *litefsNode
	}{{"primary", nodes.primary}, {"replica", nodes.replica}} {
		b.Run(node.name, func(b *testing.B) {
			var lag time.Duration
			for i := 0; b.Loop(); i++ {
				resp, _ := do("POST", node.n.appURL+"/lang", url.Values{"_csrf": {tok}, "lang": {langs[i%2]}, "next": {"/account"}})
				answered := time.Now()
				if resp.StatusCode != http.StatusSeeOther {
					b.Fatalf("POST /lang: %d", resp.StatusCode)
				}
				txid, _ := strconv.ParseUint(resp.Header.Get("Minifleet-Txid"), 16, 64)
				for {
					raw, _ := os.ReadFile(filepath.Join(nodes.replica.mount, "minifleet.db-pos"))
					if pos, err := cluster.ParsePos(string(raw)); err == nil && pos >= txid {
						break
					}
					time.Sleep(200 * time.Microsecond)
				}
				lag += time.Since(answered)
				if resp, _ := do("GET", node.n.appURL+"/account", nil); resp.StatusCode != 200 {
					b.Fatalf("GET /account: %d", resp.StatusCode)
				}
			}
			b.ReportMetric(float64(lag.Microseconds())/1000/float64(b.N), "lag-ms")
		})
	}
}
