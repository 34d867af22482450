package platform_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat/sandbox"
)

// The sandbox pushes a ticket over HTTP at start; the background loop
// fetches a component token within seconds without anyone asking.
func TestComponentTokenFetchedSoonAfterTicket(t *testing.T) {
	r := newRig(t, rigOpts{deliver: true, start: true})
	if c, err := r.st.ComponentCreds(r.ctx, testAppID); err != nil || c.Ticket != r.sb.Ticket() {
		t.Fatalf("ticket not stored from the push: %+v %v", c, err)
	}
	go r.p.Run(r.ctx)
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, _ := r.st.ComponentCreds(r.ctx, testAppID)
		if c.Token != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no component token 5 s after the ticket")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := r.sb.CallCount("api_component_token"); n != 1 {
		t.Errorf("api_component_token called %d times, want 1", n)
	}
	tok, err := r.p.Vault.ComponentAccessToken(r.ctx)
	if err != nil || tok == "" {
		t.Fatal(tok, err)
	}
	if n := r.sb.CallCount("api_component_token"); n != 1 {
		t.Errorf("asking for the token refetched it (%d calls)", n)
	}
}

func TestNoTicketNoToken(t *testing.T) {
	r := newRig(t, rigOpts{})
	if _, err := r.p.Vault.ComponentAccessToken(r.ctx); !errors.Is(err, platform.ErrNoTicket) {
		t.Fatalf("err = %v, want ErrNoTicket", err)
	}
	if n := r.sb.CallCount("api_component_token"); n != 0 {
		t.Errorf("%d upstream calls without a ticket", n)
	}
}

// The loop refreshes ahead of expiry; a second process still holding the
// previous token keeps working during WeChat's 5-minute overlap and, once
// that token dies (40001), heals from the database without a new refresh.
func TestExpiryOverlapAndHealing(t *testing.T) {
	r := newRig(t, rigOpts{deliver: true, start: true, ticketInterval: 24 * time.Hour})
	a := r.p
	_, b := r.open()
	b.Vault.CacheRecheck = 24 * time.Hour // B trusts its cache until WeChat says otherwise

	if err := a.Vault.RunOnce(r.ctx); err != nil {
		t.Fatal(err)
	}
	t1, err := b.Vault.ComponentAccessToken(r.ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := r.st.ComponentCreds(r.ctx, testAppID)
	lead := c.TokenExpiresAt.Sub(c.NextRefreshAt)
	if lead < 10*time.Minute || lead > 40*time.Minute {
		t.Fatalf("refresh scheduled %s before expiry, want 10–40 min", lead)
	}

	// Before it is due nothing happens; once due, one refresh.
	r.clock.Advance(c.NextRefreshAt.Sub(r.now()) - time.Second)
	a.Vault.RunOnce(r.ctx)
	if n := r.sb.CallCount("api_component_token"); n != 1 {
		t.Fatalf("refreshed early: %d calls", n)
	}
	r.clock.Advance(time.Second)
	if err := a.Vault.RunOnce(r.ctx); err != nil {
		t.Fatal(err)
	}
	if n := r.sb.CallCount("api_component_token"); n != 2 {
		t.Fatalf("api_component_token calls = %d, want 2", n)
	}
	t2, _ := a.Vault.ComponentAccessToken(r.ctx)
	if t2 == t1 {
		t.Fatal("token not replaced")
	}

	// Within the overlap, B's cached t1 still works.
	r.clock.Advance(4 * time.Minute)
	if _, err := b.Client.CreatePreAuthCode(r.ctx); err != nil {
		t.Fatalf("old token within overlap: %v", err)
	}
	// Past it, t1 is dead: the client expires it (compare-then-expire keeps
	// t2 in the database) and retries with t2.
	r.clock.Advance(2 * time.Minute)
	before := r.sb.CallCount("api_create_preauthcode")
	if _, err := b.Client.CreatePreAuthCode(r.ctx); err != nil {
		t.Fatalf("healing after 40001: %v", err)
	}
	if n := r.sb.CallCount("api_create_preauthcode") - before; n != 2 {
		t.Errorf("create_preauthcode calls = %d, want 2 (fail, retry)", n)
	}
	if n := r.sb.CallCount("api_component_token"); n != 2 {
		t.Errorf("healing refreshed the token again (%d calls)", n)
	}
	if got, _ := b.Vault.ComponentAccessToken(r.ctx); got != t2 {
		t.Errorf("B did not switch to t2")
	}
}

// A token WeChat rejects although we think it valid is expired only if it
// is still the stored one, then refreshed once.
func TestCompareThenExpire(t *testing.T) {
	r := newRig(t, rigOpts{deliver: true, start: true, ticketInterval: 24 * time.Hour})
	t1, err := r.p.Vault.ComponentAccessToken(r.ctx)
	if err != nil {
		t.Fatal(err)
	}
	r.p.Vault.ExpireComponentAccessToken(r.ctx, "some-older-token")
	if got, _ := r.p.Vault.ComponentAccessToken(r.ctx); got != t1 || r.sb.CallCount("api_component_token") != 1 {
		t.Fatalf("expiring another token changed ours")
	}
	r.sb.InjectError("api_create_preauthcode", 40001, 1)
	if _, err := r.p.Client.CreatePreAuthCode(r.ctx); err != nil {
		t.Fatalf("40001 not healed: %v", err)
	}
	if n := r.sb.CallCount("api_component_token"); n != 2 {
		t.Errorf("api_component_token calls = %d, want 2", n)
	}
	if got, _ := r.p.Vault.ComponentAccessToken(r.ctx); got == t1 {
		t.Errorf("still the failed token")
	}

	// The same for an authorizer token.
	app := r.sb.AddApps(1)[0]
	r.seedAuthorizer(r.st, app)
	a1, err := r.p.Vault.AuthorizerAccessToken(r.ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	r.p.Vault.ExpireAuthorizerAccessToken(r.ctx, app, "not-ours")
	if got, _ := r.p.Vault.AuthorizerAccessToken(r.ctx, app); got != a1 {
		t.Fatal("expiring another token changed ours")
	}
	r.sb.InjectError("get_category", 40001, 1)
	if _, err := r.p.Client.Categories(r.ctx, app); err != nil {
		t.Fatalf("40001 not healed: %v", err)
	}
	if n := r.sb.CallCount("api_authorizer_token"); n != 2 {
		t.Errorf("api_authorizer_token calls = %d, want 2", n)
	}
}

func TestTicketWatchdog(t *testing.T) {
	r := newRig(t, rigOpts{}) // pushes go nowhere: the ticket only ages
	if _, err := r.st.SaveTicket(r.ctx, testAppID, "ticket@@@a", r.now().Unix(), r.now()); err != nil {
		t.Fatal(err)
	}
	v := r.p.Vault
	v.WatchTicket(r.ctx)
	if n := r.sb.CallCount("api_start_push_ticket"); n != 0 {
		t.Fatalf("asked for a ticket while it was fresh")
	}
	r.clock.Advance(21 * time.Minute)
	if err := v.WatchTicket(r.ctx); err != nil {
		t.Fatal(err)
	}
	if n := r.sb.CallCount("api_start_push_ticket"); n != 1 {
		t.Fatalf("api_start_push_ticket calls = %d, want 1", n)
	}
	ws, _ := r.st.Warnings(r.ctx, 10)
	if len(ws) != 1 || ws[0].Kind != "ticket_stale" || !strings.Contains(ws[0].Detail, "21m") {
		t.Errorf("warnings = %+v", ws)
	}
	// Rate limited: not again within 10 minutes, even from another process.
	_, b := r.open()
	r.clock.Advance(5 * time.Minute)
	v.WatchTicket(r.ctx)
	b.Vault.WatchTicket(r.ctx)
	if n := r.sb.CallCount("api_start_push_ticket"); n != 1 {
		t.Fatalf("rate limit broken: %d calls", n)
	}
	r.clock.Advance(6 * time.Minute)
	b.Vault.WatchTicket(r.ctx)
	if n := r.sb.CallCount("api_start_push_ticket"); n != 2 {
		t.Fatalf("api_start_push_ticket calls = %d, want 2", n)
	}
	// Staff can ask too, at most once a minute.
	r.clock.Advance(time.Minute)
	if err := v.RequestTicketPush(r.ctx); err != nil {
		t.Fatal(err)
	}
	if err := v.RequestTicketPush(r.ctx); err == nil {
		t.Error("second request within a minute was not throttled")
	}
}

// A dead refresh token (the merchant re-authorized and the exchange was
// lost) is recovered from api_get_authorizer_list, reading every page.
func TestRefreshTokenRecoveryFromList(t *testing.T) {
	r := newRig(t, rigOpts{deliver: false})
	r.st.SaveTicket(r.ctx, testAppID, r.sb.Ticket(), r.now().Unix(), r.now())
	r.sb.PushTicket()
	r.st.SaveTicket(r.ctx, testAppID, r.sb.Ticket(), r.now().Unix(), r.now())
	apps := r.sb.AddApps(620)
	target, lost := apps[600], apps[601] // both on the second page
	r.seedAuthorizer(r.st, target)
	r.seedAuthorizer(r.st, lost)
	oldRefresh := r.sb.RefreshToken(target)

	code, err := r.sb.Authorize(r.sb.CreatePreAuthCode(), sandbox.AppSpec{AppID: target})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.p.Client.QueryAuth(r.ctx, code); err != nil { // exchanged, result lost
		t.Fatal(err)
	}
	tok, err := r.p.Vault.AuthorizerAccessToken(r.ctx, target)
	if err != nil || tok == "" {
		t.Fatalf("not recovered: %v", err)
	}
	if n := r.sb.CallCount("api_get_authorizer_list"); n != 2 {
		t.Errorf("authorizer list pages read = %d, want 2", n)
	}
	if _, refresh, _ := r.st.AuthorizerSecrets(r.ctx, target); refresh != r.sb.RefreshToken(target) || refresh == oldRefresh {
		t.Errorf("recovered refresh token not stored")
	}

	// Revoked: not in the list either, so the app needs re-authorization.
	if err := r.sb.Revoke(lost); err != nil {
		t.Fatal(err)
	}
	if _, err := r.p.Vault.AuthorizerAccessToken(r.ctx, lost); !errors.Is(err, platform.ErrNeedsReauth) {
		t.Fatalf("err = %v, want ErrNeedsReauth", err)
	}
	a, _ := r.st.Authorizer(r.ctx, lost)
	if a.TokenState != store.TokenNeedsReauth {
		t.Errorf("state = %s", a.TokenState)
	}
	calls := r.sb.CallCount("api_authorizer_token")
	if _, err := r.p.Vault.AuthorizerAccessToken(r.ctx, lost); !errors.Is(err, platform.ErrNeedsReauth) || r.sb.CallCount("api_authorizer_token") != calls {
		t.Errorf("a needs_reauth app is still refreshed upstream")
	}
	ws, _ := r.st.Warnings(r.ctx, 10)
	if len(ws) == 0 || ws[0].Kind != "needs_reauth" || ws[0].AppID != lost {
		t.Errorf("warnings = %+v", ws)
	}
	for _, secret := range []string{oldRefresh, r.sb.RefreshToken(target), tok} {
		if strings.Contains(r.logs.String(), secret) {
			t.Errorf("a token reached the log")
		}
	}
}

// Two processes on one database, 1,000 goroutines asking for expired
// tokens: exactly one upstream refresh each.
func TestTwoProcessesNeverDoubleRefresh(t *testing.T) {
	r := newRig(t, rigOpts{})
	r.st.SaveTicket(r.ctx, testAppID, r.sb.Ticket(), r.now().Unix(), r.now())
	r.sb.PushTicket()
	r.st.SaveTicket(r.ctx, testAppID, r.sb.Ticket(), r.now().Unix(), r.now())
	app := r.sb.AddApps(1)[0]
	r.seedAuthorizer(r.st, app)
	_, b := r.open()
	procs := []*platform.Platform{r.p, b}
	r.sb.SetLatency(20 * time.Millisecond) // widen the race window

	for _, get := range []struct {
		api string
		fn  func(p *platform.Platform) (string, error)
	}{
		{"api_component_token", func(p *platform.Platform) (string, error) { return p.Vault.ComponentAccessToken(r.ctx) }},
		{"api_authorizer_token", func(p *platform.Platform) (string, error) { return p.Vault.AuthorizerAccessToken(r.ctx, app) }},
	} {
		var wg sync.WaitGroup
		var mu sync.Mutex
		tokens := map[string]int{}
		start := make(chan struct{})
		for i := range 1000 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				tok, err := get.fn(procs[i%2])
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Errorf("%s: %v", get.api, err)
				}
				tokens[tok]++
			}()
		}
		close(start)
		wg.Wait()
		if n := r.sb.CallCount(get.api); n != 1 {
			t.Errorf("%s called %d times, want 1", get.api, n)
		}
		if len(tokens) != 1 {
			t.Errorf("%s: %d distinct tokens handed out", get.api, len(tokens))
		}
	}
}

// After a restart the stored ticket and tokens are used at once.
func TestRestartUsesStoredCredentials(t *testing.T) {
	r := newRig(t, rigOpts{deliver: true, start: true, ticketInterval: 24 * time.Hour})
	app := r.sb.AddApps(1)[0]
	r.seedAuthorizer(r.st, app)
	ct, err := r.p.Vault.ComponentAccessToken(r.ctx)
	if err != nil {
		t.Fatal(err)
	}
	at, err := r.p.Vault.AuthorizerAccessToken(r.ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	r.st.Close()

	st2, p2 := r.open() // a new process; no push arrives
	_ = st2
	if got, err := p2.Vault.ComponentAccessToken(r.ctx); err != nil || got != ct {
		t.Fatalf("component token after restart: %v", err)
	}
	if got, err := p2.Vault.AuthorizerAccessToken(r.ctx, app); err != nil || got != at {
		t.Fatalf("authorizer token after restart: %v", err)
	}
	if _, err := p2.Client.Categories(r.ctx, app); err != nil {
		t.Fatal(err)
	}
	if r.sb.CallCount("api_component_token") != 1 || r.sb.CallCount("api_authorizer_token") != 1 {
		t.Errorf("restart refetched tokens")
	}
	// And once the component token is gone, the stored ticket gets a new one.
	if _, err := st2.ExpireComponentTokenIf(r.ctx, testAppID, ct); err != nil {
		t.Fatal(err)
	}
	if _, err := p2.Vault.ComponentAccessToken(r.ctx); err != nil {
		t.Fatalf("stored ticket not usable after restart: %v", err)
	}
}

// Authorizer refreshes are spread over time, not done all at once.
func TestAuthorizerRefreshSpread(t *testing.T) {
	r := newRig(t, rigOpts{deliver: true, start: true, ticketInterval: 24 * time.Hour})
	apps := r.sb.AddApps(200)
	for _, a := range apps {
		r.seedAuthorizer(r.st, a)
	}
	if err := r.p.Vault.RunOnce(r.ctx); err != nil {
		t.Fatal(err)
	}
	if n := r.sb.CallCount("api_authorizer_token"); n != len(apps) {
		t.Fatalf("refreshed %d of %d", n, len(apps))
	}
	minutes, _ := r.st.RefreshMinutes(r.ctx)
	busiest := 0
	for _, n := range minutes {
		busiest = max(busiest, n)
	}
	if len(minutes) < 20 || busiest > len(apps)/5 {
		t.Errorf("refreshes fall in %d minutes, busiest has %d of %d", len(minutes), busiest, len(apps))
	}
	for _, a := range apps[:5] {
		x, _ := r.st.Authorizer(r.ctx, a)
		lead := x.AccessExpiresAt.Sub(x.NextRefreshAt)
		if lead < 10*time.Minute || lead > 40*time.Minute {
			t.Errorf("%s: refresh %s before expiry", a, lead)
		}
	}
	// Nothing is due right after: a second pass calls nothing.
	r.p.Vault.RunOnce(r.ctx)
	if n := r.sb.CallCount("api_authorizer_token"); n != len(apps) {
		t.Errorf("second pass refreshed again")
	}
}
