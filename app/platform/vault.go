package platform

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat"
)

// Errors of the vault that callers may want to tell apart.
var (
	ErrNoTicket = model.Errorf(model.CodeConflict, "wechat.no_ticket")
	// ErrRefreshBusy: another process holds the refresh lease and did not
	// finish in time.
	ErrRefreshBusy = errors.New("platform: token refresh by another process did not finish in time")
)

// Vault implements wechat.TokenSource. Tickets and tokens live in SQLite,
// sealed; memory is only a read-through cache that is re-checked against
// the database every CacheRecheck. Refreshes run under single-flight in the
// process and a lease row across processes.
type Vault struct {
	p    *Platform
	st   *store.Store
	wc   *wechat.Client
	log  *slog.Logger
	sf   singleflight.Group
	kick chan struct{}

	mu   sync.Mutex
	comp cached
	auth map[string]cached
	rnd  *rand.Rand

	// Tunables; tests shorten them.
	RefreshAhead  time.Duration // refresh at least this long before expiry
	RefreshSpread time.Duration // and up to this much earlier still, at random per token
	UsableMargin  time.Duration // a token closer than this to expiry is not handed out
	CacheRecheck  time.Duration // re-read the database after this long
	LeaseTTL      time.Duration // a refresh lease; longer than any refresh call
	LeaseWait     time.Duration // how long to wait for another process's refresh
	PollEvery     time.Duration // how often to look while waiting
	Tick          time.Duration // background loop period
	TicketMaxAge  time.Duration // older than this, ask WeChat to push a ticket
	TicketAskGap  time.Duration // at most one automatic ask per this long
	Sweep         int           // authorizers refreshed concurrently by the loop
}

type cached struct {
	value     string
	expiresAt time.Time
	checkedAt time.Time
	tenantID  int64 // authorizer tokens: the tenant the app is bound to (0: unbound)
}

func newVault(p *Platform) *Vault {
	return &Vault{
		p: p, st: p.Store, wc: p.Client, log: p.log,
		kick:          make(chan struct{}, 1),
		auth:          map[string]cached{},
		rnd:           rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
		RefreshAhead:  10 * time.Minute,
		RefreshSpread: 30 * time.Minute,
		UsableMargin:  time.Minute,
		CacheRecheck:  time.Minute,
		LeaseTTL:      30 * time.Second,
		LeaseWait:     15 * time.Second,
		PollEvery:     25 * time.Millisecond,
		Tick:          5 * time.Second,
		TicketMaxAge:  20 * time.Minute,
		TicketAskGap:  10 * time.Minute,
		Sweep:         4,
	}
}

func (v *Vault) now() time.Time { return v.p.now() }

func (v *Vault) usable(expiresAt, now time.Time) bool {
	return now.Before(expiresAt.Add(-v.UsableMargin))
}

// Schedule picks when to refresh a token expiring at expiresAt: between
// RefreshAhead and RefreshAhead+RefreshSpread early, at random, so that
// tokens issued together are not refreshed together. Short-lived tokens
// are refreshed halfway through their life.
func (v *Vault) Schedule(expiresAt time.Time) time.Time {
	now := v.now()
	v.mu.Lock()
	jitter := time.Duration(v.rnd.Int64N(int64(v.RefreshSpread) + 1))
	v.mu.Unlock()
	at := expiresAt.Add(-v.RefreshAhead - jitter)
	if half := now.Add(expiresAt.Sub(now) / 2); at.Before(half) {
		at = half
	}
	return at
}

// retryAfter is the wait after the n-th consecutive refresh failure: 30 s
// doubling up to 10 min (before jitter).
func retryAfter(n int) time.Duration { return backoff(30*time.Second, 10*time.Minute, n) }

// backoff is base doubled for each failure after the first, capped.
func backoff(base, limit time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// jitter spreads d by up to a fifth more, never less: processes and tokens
// that failed together do not retry together, and no retry comes sooner
// than the doubling says.
func (v *Vault) jitter(d time.Duration) time.Duration {
	v.mu.Lock()
	defer v.mu.Unlock()
	return d + time.Duration(v.rnd.Int64N(int64(d)/5+1))
}

// Backoff is the answer while a token's upstream call backs off after
// failures: nothing is called until Next, by this process or another (the
// time is in the database). Callers get the last error at once.
type Backoff struct {
	What      string // "component token", "authorizer token wx…"
	Failures  int
	LastError string
	Next      time.Time
}

func (e *Backoff) Error() string {
	return fmt.Sprintf("%s: backing off after %d failures until %s; last error: %s", e.What, e.Failures, e.Next.UTC().Format(time.RFC3339), e.LastError)
}

// componentBackoff is the Backoff in force for the component token, if any.
func componentBackoff(c store.ComponentCreds, now time.Time) error {
	if c.Failures > 0 && now.Before(c.NextRefreshAt) {
		return &Backoff{What: "component token", Failures: c.Failures, LastError: c.LastError, Next: c.NextRefreshAt}
	}
	return nil
}

// authorizerBackoff is the Backoff in force for an authorizer's token, if any.
func authorizerBackoff(a store.Authorizer, now time.Time) error {
	if a.Failures > 0 && now.Before(a.NextRefreshAt) {
		return &Backoff{What: "authorizer token " + a.AppID, Failures: a.Failures, LastError: a.LastError, Next: a.NextRefreshAt}
	}
	return nil
}

// Kick wakes the background loop (a new ticket may allow a component token).
// It never forces a call: the loop still waits for each token's next
// attempt time, so a ticket flood during an outage calls nothing.
func (v *Vault) Kick() {
	select {
	case v.kick <- struct{}{}:
	default:
	}
}

// ---- component token ----

// ComponentAccessToken returns a usable component access token, fetching
// one if none is stored.
func (v *Vault) ComponentAccessToken(ctx context.Context) (string, error) {
	now := v.now()
	v.mu.Lock()
	c := v.comp
	v.mu.Unlock()
	if c.value != "" && v.usable(c.expiresAt, now) && now.Sub(c.checkedAt) < v.CacheRecheck {
		return c.value, nil
	}
	return v.componentToken(ctx, "")
}

func (v *Vault) componentToken(ctx context.Context, failed string) (string, error) {
	need := func(c store.ComponentCreds) bool {
		return c.Token == "" || c.Token == failed || !v.usable(c.TokenExpiresAt, v.now())
	}
	c, err := v.st.ComponentCreds(ctx, v.p.componentAppID)
	if err == nil && !need(c) {
		v.cacheComponent(c)
		return c.Token, nil
	}
	if err != nil && !model.IsNotFound(err) {
		return "", err
	}
	if err := componentBackoff(c, v.now()); err != nil {
		return "", err
	}
	return v.refreshComponent(ctx, need)
}

func (v *Vault) cacheComponent(c store.ComponentCreds) {
	v.mu.Lock()
	v.comp = cached{value: c.Token, expiresAt: c.TokenExpiresAt, checkedAt: v.now()}
	v.mu.Unlock()
}

// refreshComponent fetches a new component token if need still holds once
// the lease is taken (another process may have just refreshed it).
func (v *Vault) refreshComponent(ctx context.Context, need func(store.ComponentCreds) bool) (string, error) {
	res, err, _ := v.sf.Do("component", func() (any, error) {
		// One caller's cancellation must not fail everyone sharing the flight.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), v.LeaseTTL)
		defer cancel()
		return v.underLease(fctx, "token:component", func() (string, bool, error) {
			c, err := v.st.ComponentCreds(fctx, v.p.componentAppID)
			if err == nil && !need(c) {
				v.cacheComponent(c)
				return c.Token, true, nil
			}
			if err == nil {
				// Another process's failure just set a backoff: respect it.
				if err := componentBackoff(c, v.now()); err != nil {
					return "", true, err
				}
			}
			return "", false, ignoreNotFound(err)
		}, func() (string, error) { return v.fetchComponent(fctx) })
	})
	if err != nil {
		return "", err
	}
	return res.(string), nil
}

func (v *Vault) fetchComponent(ctx context.Context) (string, error) {
	c, err := v.st.ComponentCreds(ctx, v.p.componentAppID)
	if err != nil && !model.IsNotFound(err) {
		return "", err
	}
	if c.Ticket == "" {
		return "", ErrNoTicket
	}
	tok, err := v.wc.ComponentToken(ctx, c.Ticket)
	if err != nil {
		v.p.Metrics.TokenRefresh("component", "failed")
		if ferr := v.st.ComponentTokenFailed(ctx, v.p.componentAppID, err.Error(), v.now().Add(v.jitter(retryAfter(c.Failures+1)))); ferr != nil {
			v.log.Error("record component token failure", "err", ferr)
		}
		return "", fmt.Errorf("component token: %w", err)
	}
	if err := v.st.SaveComponentToken(ctx, v.p.componentAppID, tok.AccessToken, tok.ExpiresAt, v.Schedule(tok.ExpiresAt)); err != nil {
		return "", err
	}
	v.cacheComponent(store.ComponentCreds{Token: tok.AccessToken, TokenExpiresAt: tok.ExpiresAt})
	v.p.Metrics.TokenRefresh("component", "ok")
	v.log.Info("component token refreshed", "expires_at", tok.ExpiresAt)
	return tok.AccessToken, nil
}

// ExpireComponentAccessToken drops the token only if it is still the one
// that failed (compare-then-expire).
func (v *Vault) ExpireComponentAccessToken(ctx context.Context, failed string) {
	v.mu.Lock()
	if v.comp.value == failed {
		v.comp = cached{}
	}
	v.mu.Unlock()
	if _, err := v.st.ExpireComponentTokenIf(ctx, v.p.componentAppID, failed); err != nil {
		v.log.Error("expire component token", "err", err)
	}
}

// ---- authorizer tokens ----

// Coded errors of authorizer tokens.
var (
	ErrNotAuthorized = model.Errorf(model.CodeConflict, "wechat.not_authorized")
	ErrNeedsReauth   = model.Errorf(model.CodeConflict, "wechat.needs_reauth")
)

// AuthorizerAccessToken returns a usable access token of an authorized app.
func (v *Vault) AuthorizerAccessToken(ctx context.Context, appID string) (string, error) {
	now := v.now()
	v.mu.Lock()
	c := v.auth[appID]
	v.mu.Unlock()
	if c.value != "" && v.usable(c.expiresAt, now) && now.Sub(c.checkedAt) < v.CacheRecheck {
		return c.value, nil
	}
	return v.authorizerToken(ctx, appID, "")
}

// Token is a token handed to the provider's own backends (the token
// service, app/api): its value, when WeChat expires it, and for an
// authorizer token the tenant its app is bound to.
type Token struct {
	Value     string
	ExpiresAt time.Time
	TenantID  int64
}

// AuthorizerToken is AuthorizerAccessToken with the token's expiry and the
// app's tenant. A cached hit reads no SQL; a miss goes through the same
// single-flight, lease and backoff as every other caller.
func (v *Vault) AuthorizerToken(ctx context.Context, appID string) (Token, error) {
	now := v.now()
	v.mu.Lock()
	c := v.auth[appID]
	v.mu.Unlock()
	if c.value != "" && v.usable(c.expiresAt, now) && now.Sub(c.checkedAt) < v.CacheRecheck {
		return Token{Value: c.value, ExpiresAt: c.expiresAt, TenantID: c.tenantID}, nil
	}
	tok, err := v.authorizerToken(ctx, appID, "")
	if err != nil {
		return Token{}, err
	}
	// The paths above cached the token with its tenant and expiry; should an
	// Evict have raced them, read both from the database.
	v.mu.Lock()
	c = v.auth[appID]
	v.mu.Unlock()
	if c.value == tok {
		return Token{Value: tok, ExpiresAt: c.expiresAt, TenantID: c.tenantID}, nil
	}
	a, err := v.st.Authorizer(ctx, appID)
	if err != nil {
		return Token{}, err
	}
	return Token{Value: tok, ExpiresAt: a.AccessExpiresAt, TenantID: a.TenantID}, nil
}

// CachedTenant is the tenant of an app whose token the vault holds in
// memory (no SQL); false when it holds none.
func (v *Vault) CachedTenant(appID string) (int64, bool) {
	now := v.now()
	v.mu.Lock()
	c := v.auth[appID]
	v.mu.Unlock()
	if c.value == "" || now.Sub(c.checkedAt) >= v.CacheRecheck {
		return 0, false
	}
	return c.tenantID, true
}

// HealAuthorizerToken is the token service's answer to a backend that saw
// failed rejected (40001): the vault expires it only if it is still the
// current token (compare-then-expire) and hands out a usable one, fetched
// once under the usual single-flight and lease. healed says whether failed
// was current (a stale report changes nothing).
func (v *Vault) HealAuthorizerToken(ctx context.Context, appID, failed string) (tok Token, healed bool, err error) {
	if failed != "" {
		v.mu.Lock()
		if v.auth[appID].value == failed {
			delete(v.auth, appID)
		}
		v.mu.Unlock()
		if healed, err = v.st.ExpireAuthorizerTokenIf(ctx, appID, failed); err != nil {
			return Token{}, false, err
		}
	}
	tok, err = v.AuthorizerToken(ctx, appID)
	return tok, healed, err
}

// ComponentToken is ComponentAccessToken with its expiry.
func (v *Vault) ComponentToken(ctx context.Context) (Token, error) {
	tok, err := v.ComponentAccessToken(ctx)
	if err != nil {
		return Token{}, err
	}
	v.mu.Lock()
	c := v.comp
	v.mu.Unlock()
	if c.value == tok {
		return Token{Value: tok, ExpiresAt: c.expiresAt}, nil
	}
	cc, err := v.st.ComponentCreds(ctx, v.p.componentAppID)
	if err != nil {
		return Token{}, err
	}
	return Token{Value: tok, ExpiresAt: cc.TokenExpiresAt}, nil
}

// authState is what the vault reads about an authorizer.
type authState struct {
	a       store.Authorizer
	access  string
	refresh string
}

func (v *Vault) readAuthorizer(ctx context.Context, appID string) (authState, error) {
	a, err := v.st.Authorizer(ctx, appID)
	if err != nil {
		return authState{}, err
	}
	access, refresh, err := v.st.AuthorizerSecrets(ctx, appID)
	return authState{a: a, access: access, refresh: refresh}, err
}

func (v *Vault) authorizerToken(ctx context.Context, appID, failed string) (string, error) {
	need := func(s authState) bool {
		return s.access == "" || s.access == failed || !v.usable(s.a.AccessExpiresAt, v.now())
	}
	s, err := v.readAuthorizer(ctx, appID)
	if err != nil {
		return "", err
	}
	if err := checkAuthorized(s.a); err != nil {
		return "", err
	}
	if !need(s) {
		v.cacheAuthorizer(appID, s.access, s.a.AccessExpiresAt, s.a.TenantID)
		return s.access, nil
	}
	if err := authorizerBackoff(s.a, v.now()); err != nil {
		return "", err
	}
	return v.refreshAuthorizer(ctx, appID, need)
}

func checkAuthorized(a store.Authorizer) error {
	switch {
	case a.Status != store.AuthorizerAuthorized:
		return ErrNotAuthorized
	case a.TokenState == store.TokenNeedsReauth:
		return ErrNeedsReauth
	}
	return nil
}

func (v *Vault) cacheAuthorizer(appID, token string, expiresAt time.Time, tenantID int64) {
	v.mu.Lock()
	v.auth[appID] = cached{value: token, expiresAt: expiresAt, checkedAt: v.now(), tenantID: tenantID}
	v.mu.Unlock()
}

// Evict forgets an authorizer's cached token (re-authorization, revocation).
func (v *Vault) Evict(appID string) {
	v.mu.Lock()
	delete(v.auth, appID)
	v.mu.Unlock()
}

func (v *Vault) refreshAuthorizer(ctx context.Context, appID string, need func(authState) bool) (string, error) {
	res, err, _ := v.sf.Do("authorizer:"+appID, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), v.LeaseTTL)
		defer cancel()
		return v.underLease(fctx, "token:authorizer:"+appID, func() (string, bool, error) {
			s, err := v.readAuthorizer(fctx, appID)
			if err != nil {
				return "", false, err
			}
			if err := checkAuthorized(s.a); err != nil {
				return "", false, err
			}
			if !need(s) {
				v.cacheAuthorizer(appID, s.access, s.a.AccessExpiresAt, s.a.TenantID)
				return s.access, true, nil
			}
			if err := authorizerBackoff(s.a, v.now()); err != nil {
				return "", true, err
			}
			return "", false, nil
		}, func() (string, error) { return v.fetchAuthorizer(fctx, appID) })
	})
	if err != nil {
		return "", err
	}
	return res.(string), nil
}

func (v *Vault) fetchAuthorizer(ctx context.Context, appID string) (string, error) {
	s, err := v.readAuthorizer(ctx, appID)
	if err != nil {
		return "", err
	}
	if s.refresh == "" {
		return "", v.needsReauth(ctx, appID, "no refresh token stored")
	}
	if err := v.st.MarkAuthorizerRefreshing(ctx, appID); err != nil {
		return "", err
	}
	tok, err := v.wc.RefreshAuthorizerToken(ctx, appID, s.refresh)
	if wechat.IsCode(err, 61023) {
		// The refresh token we hold is dead, usually because the merchant
		// re-authorized and the new one was lost. WeChat lists the live one.
		var recovered string
		recovered, err = v.recoverRefreshToken(ctx, appID, s.refresh)
		if err == nil {
			tok, err = v.wc.RefreshAuthorizerToken(ctx, appID, recovered)
		}
		if wechat.IsCode(err, 61023) || errors.Is(err, errNotListed) {
			return "", v.needsReauth(ctx, appID, "refresh token rejected (61023) and no newer one in the authorizer list")
		}
	}
	if wechat.IsCode(err, 61003) {
		return "", v.needsReauth(ctx, appID, "component is not authorized by this account (61003)")
	}
	if err != nil {
		v.p.Metrics.TokenRefresh("authorizer", "failed")
		if ferr := v.st.AuthorizerRefreshFailed(ctx, appID, err.Error(), v.now().Add(v.jitter(retryAfter(s.a.Failures+1))), false); ferr != nil {
			v.log.Error("record authorizer refresh failure", "appid", appID, "err", ferr)
		}
		return "", fmt.Errorf("authorizer token %s: %w", appID, err)
	}
	newRefresh := ""
	if tok.RefreshToken != "" && tok.RefreshToken != s.refresh {
		newRefresh = tok.RefreshToken
	}
	if err := v.st.SaveAuthorizerToken(ctx, appID, tok.AccessToken, tok.ExpiresAt, newRefresh, v.Schedule(tok.ExpiresAt)); err != nil {
		return "", err
	}
	v.cacheAuthorizer(appID, tok.AccessToken, tok.ExpiresAt, s.a.TenantID)
	v.p.Metrics.TokenRefresh("authorizer", "ok")
	return tok.AccessToken, nil
}

var errNotListed = errors.New("no newer refresh token in the authorizer list")

// recoverRefreshToken reads every page of api_get_authorizer_list for a
// refresh token of appID other than the dead one, and stores it.
func (v *Vault) recoverRefreshToken(ctx context.Context, appID, dead string) (string, error) {
	all, err := v.wc.AllAuthorizers(ctx)
	if err != nil {
		return "", fmt.Errorf("recover refresh token: %w", err)
	}
	for _, it := range all {
		if it.AuthorizerAppID == appID && it.RefreshToken != "" && it.RefreshToken != dead {
			if err := v.st.SetAuthorizerRefreshToken(ctx, appID, it.RefreshToken); err != nil {
				return "", err
			}
			v.log.Info("refresh token recovered from the authorizer list", "appid", appID)
			return it.RefreshToken, nil
		}
	}
	return "", errNotListed
}

func (v *Vault) needsReauth(ctx context.Context, appID, why string) error {
	v.p.Metrics.TokenRefresh("authorizer", "needs_reauth")
	now := v.now()
	if err := v.st.AuthorizerRefreshFailed(ctx, appID, why, now, true); err != nil {
		return err
	}
	if err := v.st.AddWarning(ctx, "needs_reauth", appID, why, now); err != nil {
		v.log.Error("add warning", "err", err)
	}
	v.Evict(appID)
	v.log.Warn("authorizer needs re-authorization", "appid", appID, "why", why)
	return ErrNeedsReauth
}

// ExpireAuthorizerAccessToken drops the token only if it is still the one
// that failed (compare-then-expire).
func (v *Vault) ExpireAuthorizerAccessToken(ctx context.Context, appID, failed string) {
	v.mu.Lock()
	if v.auth[appID].value == failed {
		delete(v.auth, appID)
	}
	v.mu.Unlock()
	if _, err := v.st.ExpireAuthorizerTokenIf(ctx, appID, failed); err != nil {
		v.log.Error("expire authorizer token", "appid", appID, "err", err)
	}
}

// ---- leases ----

// underLease runs fetch while holding the lease name, unless check (run
// after taking the lease, and while waiting for another holder) finds the
// work already done. Waiting is bounded by LeaseWait.
func (v *Vault) underLease(ctx context.Context, name string, check func() (string, bool, error), fetch func() (string, error)) (string, error) {
	deadline := time.Now().Add(v.LeaseWait)
	for {
		ok, err := v.st.AcquireLease(ctx, name, v.p.holder, v.now(), v.LeaseTTL)
		if err != nil {
			return "", err
		}
		if ok {
			defer func() {
				if err := v.st.ReleaseLease(context.WithoutCancel(ctx), name, v.p.holder); err != nil {
					v.log.Error("release lease", "lease", name, "err", err)
				}
			}()
			// Another process may have refreshed between our read and the lease.
			if tok, done, err := check(); err != nil || done {
				return tok, err
			}
			return fetch()
		}
		if tok, done, err := check(); err != nil || done {
			return tok, err
		}
		if time.Now().After(deadline) {
			return "", ErrRefreshBusy
		}
		if !sleep(ctx, v.PollEvery) {
			return "", ctx.Err()
		}
	}
}

func ignoreNotFound(err error) error {
	if model.IsNotFound(err) {
		return nil
	}
	return err
}
