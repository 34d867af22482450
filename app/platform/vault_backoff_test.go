package platform_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/platform"
)

// An hour of WeChat refusing every token call (61004: this server is not
// on the IP whitelist) while tickets keep arriving every 10 minutes, a
// ticket flood kicks the loop, and pages ask for tokens every minute: the
// upstream calls stay a handful, because every retry waits for the
// persisted, jittered, doubling next-attempt time and nothing bypasses it.
// When WeChat answers again, the token comes at the next scheduled attempt.
func TestUpstreamBackoffDuringOutage(t *testing.T) {
	r := newRig(t, rigOpts{})
	v := r.p.Vault
	app := r.sb.AddApps(1)[0]
	r.seedAuthorizer(r.st, app)
	r.sb.PushTicket()
	r.st.SaveTicket(r.ctx, testAppID, r.sb.Ticket(), r.now().Unix(), r.now())
	r.sb.SetAllowedIPs([]string{"203.0.113.7"}) // not us: every component call is 61004

	_, other := r.open() // a second process over the same database
	start := r.now()
	for step := 1; r.now().Sub(start) < time.Hour; step++ {
		r.clock.Advance(10 * time.Second)
		if err := v.RunOnce(r.ctx); err != nil && !strings.Contains(err.Error(), "61004") && !isBackoff(err) {
			t.Fatalf("RunOnce: %v", err)
		}
		if step%60 == 0 { // a ticket push every 10 minutes, each one kicking both loops
			if res := r.receive(ticketXML(r.sb.Ticket(), r.now().Unix()), ""); res.Err != nil {
				t.Fatalf("ticket push: %v", res.Err)
			}
			v.Kick()
			other.Vault.Kick()
			v.RunOnce(r.ctx)
			other.Vault.RunOnce(r.ctx)
		}
		if step%6 == 0 { // a page needing tokens every minute, in both processes
			for _, p := range []*platform.Platform{r.p, other} {
				t0 := time.Now()
				_, errC := p.Vault.ComponentAccessToken(r.ctx)
				_, errA := p.Vault.AuthorizerAccessToken(r.ctx, app)
				if errC == nil || errA == nil {
					t.Fatalf("a token was handed out during the outage: %v %v", errC, errA)
				}
				if d := time.Since(t0); d > time.Second {
					t.Errorf("an inline caller waited %s during the backoff", d)
				}
				if _, err := p.Health(r.ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
		if step == 180 { // a ticket flood in the middle of the hour: 500 kicks and inline callers at once
			var wg sync.WaitGroup
			for i := range 500 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					p := []*platform.Platform{r.p, other}[i%2]
					p.Vault.Kick()
					p.Vault.ComponentAccessToken(r.ctx)
				}()
			}
			wg.Wait()
			v.RunOnce(r.ctx)
		}
	}
	comp, auth := r.sb.CallCount("api_component_token"), r.sb.CallCount("api_authorizer_token")
	t.Logf("an hour of outage: %d api_component_token, %d api_authorizer_token calls", comp, auth)
	if comp < 2 || comp > 12 {
		t.Errorf("api_component_token called %d times in the hour, want 2..12", comp)
	}
	if auth > 12 {
		t.Errorf("api_authorizer_token called %d times in the hour, want ≤ 12", auth)
	}

	// The backoff is in the database: the last error and the next attempt.
	c, err := r.st.ComponentCreds(r.ctx, testAppID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Failures != comp || !strings.Contains(c.LastError, "61004") || !c.NextRefreshAt.After(r.now()) ||
		c.NextRefreshAt.Sub(r.now()) > 12*time.Minute {
		t.Fatalf("component row: failures %d, last error %q, next %s (now %s)", c.Failures, c.LastError, c.NextRefreshAt, r.now())
	}
	_, err = v.ComponentAccessToken(r.ctx)
	var bo *platform.Backoff
	if !errors.As(err, &bo) || !strings.Contains(bo.LastError, "61004") || !bo.Next.Equal(c.NextRefreshAt) {
		t.Fatalf("inline caller got %v, want the Backoff with the last error", err)
	}

	// WeChat answers again: nothing is called before the scheduled attempt,
	// and the token comes at it.
	r.sb.SetAllowedIPs(nil)
	r.clock.Advance(c.NextRefreshAt.Sub(r.now()) - time.Second)
	v.Kick()
	v.RunOnce(r.ctx)
	if n := r.sb.CallCount("api_component_token"); n != comp {
		t.Fatalf("called before the scheduled attempt (%d calls)", n)
	}
	r.clock.Advance(2 * time.Second)
	v.RunOnce(r.ctx)
	if n := r.sb.CallCount("api_component_token"); n != comp+1 {
		t.Fatalf("api_component_token calls = %d at the scheduled attempt, want %d", n, comp+1)
	}
	if tok, err := other.Vault.ComponentAccessToken(r.ctx); err != nil || tok == "" {
		t.Fatalf("no component token after recovery: %v", err)
	}
	if c, _ := r.st.ComponentCreds(r.ctx, testAppID); c.Failures != 0 || c.LastError != "" {
		t.Errorf("failures not cleared: %d %q", c.Failures, c.LastError)
	}
	// The authorizer token follows at its own next attempt (≤ 12 min away).
	for range 80 {
		if _, err := v.AuthorizerAccessToken(r.ctx, app); err == nil {
			break
		}
		r.clock.Advance(10 * time.Second)
		v.RunOnce(r.ctx)
	}
	if tok, err := v.AuthorizerAccessToken(r.ctx, app); err != nil || tok == "" {
		t.Fatalf("no authorizer token after recovery: %v", err)
	}
}

func isBackoff(err error) bool {
	var bo *platform.Backoff
	return errors.As(err, &bo)
}

// The ticket watchdog's api_start_push_ticket backs off too when it fails:
// 10 minutes doubling (jittered) instead of every 10 minutes for ever.
func TestTicketRequestBacksOff(t *testing.T) {
	r := newRig(t, rigOpts{}) // pushes go nowhere: the ticket only ages
	v := r.p.Vault
	r.st.SaveTicket(r.ctx, testAppID, "ticket@@@a", r.now().Unix(), r.now())
	r.sb.SetAllowedIPs([]string{"203.0.113.7"})
	start := r.now()
	for r.now().Sub(start) < 90*time.Minute {
		r.clock.Advance(10 * time.Second)
		v.RunOnce(r.ctx)
	}
	// Stale from minute 20; asks at ~20, ~31, ~52, then not before ~93.
	if n := r.sb.CallCount("api_start_push_ticket"); n < 2 || n > 3 {
		t.Errorf("api_start_push_ticket called %d times in 90 minutes, want 2..3", n)
	}
	h, err := r.p.Health(r.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if h.Component.TicketFailures == 0 || !strings.Contains(h.Component.TicketLastError, "61004") || !h.Component.TicketRetryAt.After(r.now()) {
		t.Errorf("ticket backoff not recorded: %+v", h.Component)
	}
}
