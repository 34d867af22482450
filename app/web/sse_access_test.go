package web

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/app/platform"
)

// liveStream is an SSE stream read over a real listener, line by line.
type liveStream struct {
	t     *testing.T
	lines chan string // closed when the server ends the stream
}

// openLive opens target as c over the real listener at addr and waits for
// the stream's opening (its retry line) and its subscription on the hub.
func openLive(t *testing.T, h *harness, addr string, c *client, target string) *liveStream {
	t.Helper()
	hub := h.srv.Hub
	before := hub.Subscribers()
	req, err := http.NewRequest("GET", "http://"+addr+target, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range c.cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: v})
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("GET %s: status %d, %s", target, res.StatusCode, res.Header.Get("Content-Type"))
	}
	s := &liveStream{t: t, lines: make(chan string, 1024)}
	go func() {
		defer close(s.lines)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
	}()
	s.until("retry: 2000")
	for i := 0; hub.Subscribers() == before; i++ {
		if i > 400 {
			t.Fatal("the stream never subscribed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return s
}

// until reads lines until one equal to want.
func (s *liveStream) until(want string) {
	s.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-s.lines:
			if !ok {
				s.t.Fatalf("the stream ended before %q", want)
			}
			if l == want {
				return
			}
		case <-timeout:
			s.t.Fatalf("no %q within 10 s", want)
		}
	}
}

// ends waits for the server to end the stream and fails on any event it
// sent before.
func (s *liveStream) ends() {
	s.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-s.lines:
			if !ok {
				return
			}
			if strings.HasPrefix(l, "event:") || strings.HasPrefix(l, "data:") {
				s.t.Fatalf("the stream sent %q after access ended", l)
			}
		case <-timeout:
			s.t.Fatal("the stream still runs 10 s after access ended")
		}
	}
}

// TestStreamsEndWhenAccessEnds: a live stream checks session and
// permission before each event. After logout, a password change in
// another session, removal from the tenant, a role downgrade that takes the
// stream's permission, or the tenant's suspension, the next event is not
// sent and the stream ends (issue #12).
func TestStreamsEndWhenAccessEnds(t *testing.T) {
	appsEvent := func(f *fixture) platform.Event {
		return platform.Event{Name: platform.EventApp, TenantID: f.A.ID, AppID: "wxappa0000000001"}
	}
	cases := []struct {
		name string
		who  string
		// open returns the stream's URL and the event it updates on.
		open   func(t *testing.T, h *harness, f *fixture, c *client) (string, platform.Event)
		change func(t *testing.T, h *harness, f *fixture, c *client)
	}{
		{"logout", "viewerA",
			func(t *testing.T, h *harness, f *fixture, c *client) (string, platform.Event) {
				return paths.TenantAppsListEvents(f.A.ID), appsEvent(f)
			},
			func(t *testing.T, h *harness, f *fixture, c *client) {
				wantStatus(t, "logout", c.post(paths.Logout, nil), 303)
			}},
		{"password changed in another session", "viewerA",
			func(t *testing.T, h *harness, f *fixture, c *client) (string, platform.Event) {
				return paths.TenantAppsListEvents(f.A.ID), appsEvent(f)
			},
			func(t *testing.T, h *harness, f *fixture, c *client) {
				laptop := h.client().login("viewer@a.test")
				wantStatus(t, "change", laptop.post(paths.AccountPassword, form("current", testPassword, "password", "another new password")), 303)
			}},
		{"removed from the tenant", "viewerA",
			func(t *testing.T, h *harness, f *fixture, c *client) (string, platform.Event) {
				return paths.TenantAppsListEvents(f.A.ID), appsEvent(f)
			},
			func(t *testing.T, h *harness, f *fixture, c *client) {
				owner := h.client().login("owner@a.test")
				wantStatus(t, "remove", owner.post(paths.MemberRemove(f.A.ID, f.users["viewerA"].ID), nil), 303)
			}},
		{"role downgrade takes the stream's permission", "developerA",
			func(t *testing.T, h *harness, f *fixture, c *client) (string, platform.Event) {
				a := startAttempt(h, c, f.A.ID) // the attempt's stream needs apps authorize
				return paths.AttemptEvents(f.A.ID, a.ID), platform.Event{Name: platform.EventAttempt, TenantID: f.A.ID, AttemptID: a.ID}
			},
			func(t *testing.T, h *harness, f *fixture, c *client) {
				owner := h.client().login("owner@a.test")
				wantStatus(t, "downgrade", owner.post(paths.MemberRole(f.A.ID, f.users["developerA"].ID), form("role", "viewer")), 303)
			}},
		{"tenant suspended", "viewerA",
			func(t *testing.T, h *harness, f *fixture, c *client) (string, platform.Event) {
				return paths.TenantAppsListEvents(f.A.ID), appsEvent(f)
			},
			func(t *testing.T, h *harness, f *fixture, c *client) {
				staff := h.client().login("admin@staff.test")
				wantStatus(t, "suspend", staff.post(paths.StaffTenantStatus(f.A.ID), form("status", "suspended", "reason", "unpaid")), 303)
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.srv.SSEMaxLife = time.Minute // only a failed check ends it in time
			f := h.fixture()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			go func() { _ = h.app.Listener(ln) }()
			c := h.client().login(f.users[tc.who].Email)
			target, e := tc.open(t, h, f, c)
			s := openLive(t, h, ln.Addr().String(), c, target)
			if e.Name == platform.EventAttempt {
				s.until("event: attempt") // the attempt's stream renders on connect
				s.until("")
			}
			// While access holds, the event is sent.
			h.srv.Hub.Publish(e)
			if e.Name == platform.EventAttempt {
				s.until("event: attempt")
			} else {
				s.until("event: apps")
			}
			s.until("") // the event's end
			tc.change(t, h, f, c)
			h.srv.Hub.Publish(e)
			s.ends()
		})
	}
}
