package platform

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat"
)

// Onboarding is the merchant authorization flow: attempts bound to a tenant
// and user, the redirect back, the authorized/updateauthorized/unauthorized
// follow-ups, and binding apps to tenants without ever moving one silently.
type Onboarding struct {
	Store  *store.Store
	WeChat *wechat.Client
	Hub    *Hub
	// EvictToken drops an authorizer's cached access token (the vault's
	// memory); nil when there is no cache.
	EvictToken func(appID string)
	Now        func() time.Time
	Log        *slog.Logger
	// BaseURL is the portal's public origin; redirect_uri is built on it.
	BaseURL string
	// Grace is how long after its pre_auth_code expires an attempt still
	// accepts the code WeChat sends back (the merchant approved in time).
	Grace time.Duration
	// SpentCodeWait is how long the redirect waits, when WeChat says its
	// code was already used, for our own authorized-push job (which spent
	// it) to bind the attempt; 0 means 5 s, negative means do not wait.
	SpentCodeWait time.Duration
	// Jobs runs the retries of failed exchanges.
	Jobs *Jobs
	// Holder names this process in the reconcile lease.
	Holder string
}

// JobAttemptExchange retries an attempt's failed api_query_auth. Its payload
// names the attempt; the auth code stays sealed in the attempt's row.
const JobAttemptExchange = "attempt_exchange"

// exchangeTries bounds the exchanges of one code: the first, then the
// retries of the job queue (with its backoff, about two and a half minutes
// in all); then the attempt fails for good.
const exchangeTries = 5

// firstRetryDelay is how long after a failed exchange the job first runs.
const firstRetryDelay = 5 * time.Second

type attemptJob struct {
	AttemptID int64 `json:"attempt_id"`
	TenantID  int64 `json:"tenant_id"`
}

// newOnboarding builds the flow over p; its exchange retries run on p's
// job queue (leases, backoff, survives restarts).
func newOnboarding(p *Platform, baseURL string) *Onboarding {
	return &Onboarding{Store: p.Store, WeChat: p.Client, Hub: p.Hub, EvictToken: p.Vault.Evict,
		Now: p.now, Log: p.log.With("component", "onboarding"), BaseURL: baseURL, Jobs: p.Jobs, Holder: p.holder}
}

// KeyOtherSession is the message of a callback that does not prove it
// belongs to its attempt and the browser session that started it.
const KeyOtherSession = "authorize.other_session"

// System is the actor of work nobody clicked (pushes, reconcile, retries).
var System = model.Actor{Label: "system"}

func (o *Onboarding) now() time.Time {
	if o.Now == nil {
		return time.Now()
	}
	return o.Now()
}

func (o *Onboarding) log() *slog.Logger {
	if o.Log == nil {
		return slog.Default()
	}
	return o.Log
}

func (o *Onboarding) grace() time.Duration {
	if o.Grace == 0 {
		return 10 * time.Minute
	}
	return o.Grace
}

// Start creates a fresh single-use pre_auth_code for tenantID and the actor.
// bizAppID restricts the page to one app (re-authorization).
func (o *Onboarding) Start(ctx context.Context, actor model.Actor, tenantID int64, bizAppID string) (model.AuthAttempt, error) {
	pre, err := o.WeChat.CreatePreAuthCode(ctx)
	if err != nil {
		o.log().Warn("create pre_auth_code", "err", err)
		return model.AuthAttempt{}, &model.Error{Code: model.CodeConflict, Key: "authorize.wechat_unavailable", Err: err}
	}
	a, err := o.Store.CreateAttempt(ctx, actor, tenantID, pre.Code, bizAppID, pre.ExpiresAt)
	if err != nil {
		return a, err
	}
	o.Hub.Publish(Event{Name: EventAttempt, TenantID: tenantID, AttemptID: a.ID})
	return a, nil
}

// RedirectURI is where WeChat sends the merchant back for attempt a: its
// callback carrying a.CallbackState (WeChat keeps the redirect_uri's query
// and appends auth_code and expires_in). Without the state (a page shown
// to a session that did not start the attempt) the redirect binds nothing
// and the authorized push completes the attempt.
func (o *Onboarding) RedirectURI(a model.AuthAttempt) string {
	return strings.TrimRight(o.BaseURL, "/") + paths.AttemptCallbackState(a.TenantID, a.ID, a.CallbackState)
}

// Links returns the mobile quick-auth link and the PC scan page link of a.
func (o *Onboarding) Links(a model.AuthAttempt) (mobile, pc string, err error) {
	l := wechat.AuthLink{PreAuthCode: a.PreAuthCode, RedirectURI: o.RedirectURI(a), BizAppID: a.BizAppID}
	if a.BizAppID == "" {
		l.AuthType = wechat.AuthTypeMiniProgram
	}
	if mobile, err = o.WeChat.MobileAuthURL(l); err != nil {
		return "", "", err
	}
	pc, err = o.WeChat.PCAuthURL(l)
	return mobile, pc, err
}

// Cancel closes an open attempt of tenantID.
func (o *Onboarding) Cancel(ctx context.Context, actor model.Actor, tenantID, attemptID int64) error {
	if err := o.Store.CancelAttempt(ctx, actor, tenantID, attemptID); err != nil {
		return err
	}
	o.Hub.Publish(Event{Name: EventAttempt, TenantID: tenantID, AttemptID: attemptID})
	return nil
}

// Callback handles WeChat's redirect back to our domain with authCode. The
// attempt must be tenantID's and the signed-in user's, and state must be
// the one made with the attempt (the web layer also checks that the
// session asking started it): an auth_code someone else brought cannot be
// bound into this attempt (ErrOtherSession's key, nothing written; the
// authorized push still binds what WeChat says this attempt's code
// granted). It returns the attempt as it now stands; a refused or failed
// outcome is a coded error whose message the page shows. Nothing is bound
// unless the code exchanges.
func (o *Onboarding) Callback(ctx context.Context, actor model.Actor, tenantID, attemptID int64, state, authCode string) (model.AuthAttempt, error) {
	a, err := o.Store.Attempt(ctx, tenantID, attemptID)
	if err != nil || a.UserID != actor.UserID {
		return model.AuthAttempt{}, model.Errorf(model.CodeNotFound, "authorize.not_yours")
	}
	if authCode == "" {
		return a, model.Errorf(model.CodeInvalid, "authorize.no_code")
	}
	if ok, err := o.Store.AttemptStateMatches(ctx, tenantID, attemptID, state); err != nil {
		return a, err
	} else if !ok {
		o.log().Warn("authorization callback without its attempt's state: nothing bound", "attempt", a.ID, "tenant", tenantID)
		return a, model.Errorf(model.CodeForbidden, KeyOtherSession)
	}
	if done, err := o.settled(a); done {
		return a, err
	}
	if !o.now().Before(a.ExpiresAt.Add(o.grace())) && a.State == model.AttemptPending {
		return a, model.Errorf(model.CodeConflict, "authorize.expired")
	}
	claimed, err := o.Store.ClaimAttempt(ctx, a.ID, authCode, o.now().Add(-o.grace()))
	if err != nil {
		return a, err
	}
	if !claimed {
		// The push got there first (or is exchanging now): show what it did.
		if a, err = o.Store.Attempt(ctx, tenantID, attemptID); err != nil {
			return a, err
		}
		_, err := o.settled(a)
		return a, err
	}
	o.Hub.Publish(Event{Name: EventAttempt, TenantID: tenantID, AttemptID: a.ID})
	return o.exchange(ctx, actor, a, authCode, false)
}

// settled reports whether a needs no more work, with the error its outcome shows.
func (o *Onboarding) settled(a model.AuthAttempt) (bool, error) {
	switch a.Effective(o.now()) {
	case model.AttemptBound, model.AttemptExchanging, model.AttemptRetrying:
		return true, nil
	case model.AttemptRefused, model.AttemptFailed:
		key := a.Error
		if key == "" {
			key = "authorize.failed"
		}
		return true, model.Errorf(model.CodeConflict, key)
	case model.AttemptCancelled:
		return true, model.Errorf(model.CodeConflict, "authorize.cancelled")
	}
	return false, nil
}

// exchange swaps the code for tokens (stored in the vault), fetches the
// app's details and binds it. A failure that may pass leaves the attempt
// retrying with the code sealed and a JobAttemptExchange queued (once per
// attempt); lastTry (the job's last run) makes it fail for good instead.
func (o *Onboarding) exchange(ctx context.Context, actor model.Actor, a model.AuthAttempt, authCode string, lastTry bool) (model.AuthAttempt, error) {
	info, err := o.WeChat.QueryAuth(ctx, authCode)
	if err != nil && wechat.IsCode(err, 61009) && o.awaitPush(ctx, a) {
		// The push got the same code first and bound the attempt (the
		// redirect's exchange, or the retry job's after it).
		return o.Store.Attempt(ctx, a.TenantID, a.ID)
	}
	if err != nil {
		key, final := "authorize.exchange_retrying", false
		switch {
		case wechat.IsCode(err, 61009, 61010, 61003, 61011):
			key, final = "authorize.code_invalid", true
		case lastTry:
			key, final = "authorize.exchange_failed", true
		}
		o.log().Warn("api_query_auth failed", "attempt", a.ID, "final", final, "err", err)
		if final {
			err = o.Store.FinishAttempt(ctx, a.ID, model.AttemptFailed, "", key)
		} else {
			err = o.Store.RetryAttempt(ctx, a.ID, authCode, key, store.NewJob{
				Kind: JobAttemptExchange, DedupeKey: JobAttemptExchange + ":" + strconv.FormatInt(a.ID, 10),
				Payload: attemptJob{AttemptID: a.ID, TenantID: a.TenantID}, RunAt: o.now().Add(firstRetryDelay), MaxAttempts: exchangeTries - 1,
			})
		}
		o.Hub.Publish(Event{Name: EventAttempt, TenantID: a.TenantID, AttemptID: a.ID})
		if err != nil {
			return a, err
		}
		a, _ = o.Store.Attempt(ctx, a.TenantID, a.ID)
		if final {
			return a, model.Errorf(model.CodeConflict, key)
		}
		return a, nil
	}
	grant := store.AuthorizerGrant{
		AccessToken: info.AuthorizerAccessToken, AccessExpiresAt: info.ExpiresAt,
		RefreshToken: info.AuthorizerRefreshToken, PermissionSets: info.PermissionSets(),
		NextRefreshAt: info.ExpiresAt.Add(-15 * time.Minute),
	}
	if _, err := o.Store.SaveAuthorizerGrant(ctx, info.AuthorizerAppID, grant); err != nil {
		return a, err
	}
	if o.EvictToken != nil {
		o.EvictToken(info.AuthorizerAppID)
	}
	return o.bind(ctx, actor, a, info.AuthorizerAppID)
}

// awaitPush waits up to SpentCodeWait for attempt a to be bound by the
// authorized-push job, and reports whether it was.
func (o *Onboarding) awaitPush(ctx context.Context, a model.AuthAttempt) bool {
	wait := o.SpentCodeWait
	if wait == 0 {
		wait = 5 * time.Second
	}
	if wait < 0 {
		return false
	}
	sub := o.Hub.Subscribe(TenantTopic(a.TenantID))
	defer sub.Close()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		if cur, err := o.Store.Attempt(ctx, a.TenantID, a.ID); err == nil && cur.State == model.AttemptBound {
			return true
		}
		select {
		case <-sub.C:
		case <-timer.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// bind fetches the app's details and binds it to a's tenant, or refuses.
func (o *Onboarding) bind(ctx context.Context, actor model.Actor, a model.AuthAttempt, appID string) (model.AuthAttempt, error) {
	o.RefreshDetails(ctx, appID)
	r, err := o.Store.BindApp(ctx, actor, appID, a.TenantID, a.ID)
	if err != nil {
		return a, err
	}
	// BindApp completed the attempt and logged the binding (or the
	// re-authorization, or the refusal) once, whichever path came first.
	key := ""
	if !r.Bound {
		key = "authorize.bound_elsewhere"
	}
	if r.Bound && !r.Duplicate {
		o.logPermissionChange(ctx, actor, a.TenantID, appID)
	}
	o.Hub.Publish(Event{Name: EventAttempt, TenantID: a.TenantID, AttemptID: a.ID, AppID: appID})
	o.Hub.Publish(Event{Name: EventApp, TenantID: a.TenantID, AppID: appID})
	if r.OwnerTenantID != 0 {
		o.Hub.Publish(Event{Name: EventApp, TenantID: r.OwnerTenantID, AppID: appID})
	}
	a, _ = o.Store.Attempt(ctx, a.TenantID, a.ID)
	if !r.Bound {
		return a, model.Errorf(model.CodeConflict, key)
	}
	return a, nil
}

// RefreshDetails fetches api_get_authorizer_info and stores it. A failure
// is logged and leaves the previous details; the next event or reconcile
// tries again.
func (o *Onboarding) RefreshDetails(ctx context.Context, appID string) {
	d, err := o.WeChat.AuthorizerInfo(ctx, appID)
	if err != nil {
		o.log().Warn("api_get_authorizer_info failed", "appid", appID, "err", err)
		return
	}
	if err := o.Store.SaveAppDetails(ctx, appID, detailsOf(d)); err != nil {
		o.log().Error("save app details", "appid", appID, "err", err)
	}
}

func detailsOf(d *wechat.AuthorizerDetails) store.AppDetails {
	ai := d.AuthorizerInfo
	out := store.AppDetails{
		Nickname: ai.NickName, HeadImg: ai.HeadImg, UserName: ai.UserName, PrincipalName: ai.PrincipalName,
		AccountKind: "official_account", ServiceType: ai.ServiceTypeInfo.ID, VerifyType: ai.VerifyTypeInfo.ID,
		AccountStatus: ai.AccountStatus, PermissionSets: d.AuthorizationInfo.PermissionSets(),
	}
	if mp := ai.MiniProgramInfo; mp != nil {
		out.AccountKind = "miniprogram"
		for _, c := range mp.Categories {
			out.Categories = append(out.Categories, model.AppCategory{First: c.First, Second: c.Second})
		}
		n := mp.Network
		out.Domains = map[string][]string{}
		for k, v := range map[string][]string{"request": n.RequestDomain, "ws": n.WsRequestDomain, "upload": n.UploadDomain,
			"download": n.DownloadDomain, "webview": n.BizDomain, "udp": n.UDPDomain, "tcp": n.TCPDomain} {
			if len(v) > 0 {
				out.Domains[k] = v
			}
		}
	}
	return out
}

// logPermissionChange writes the permission-set difference since the last
// logged grant into the tenant's activity (nothing when unchanged).
func (o *Onboarding) logPermissionChange(ctx context.Context, actor model.Actor, tenantID int64, appID string) {
	sets, err := o.Store.PermissionSetsOf(ctx, appID)
	if err != nil {
		return
	}
	prev, err := o.Store.SwapLoggedSets(ctx, appID, sets)
	if err != nil || prev == nil || tenantID == 0 {
		return
	}
	added, removed := diffSets(prev, sets)
	if len(added) == 0 && len(removed) == 0 {
		return
	}
	detail := "+" + joinInts(added) + " -" + joinInts(removed)
	if err := o.Store.Activity(ctx, actor, tenantID, store.ActAppPermissions, appID, detail); err != nil {
		o.log().Error("log permission change", "appid", appID, "err", err)
	}
}

func diffSets(prev, next []int) (added, removed []int) {
	for _, id := range next {
		if !slices.Contains(prev, id) {
			added = append(added, id)
		}
	}
	for _, id := range prev {
		if !slices.Contains(next, id) {
			removed = append(removed, id)
		}
	}
	slices.Sort(added)
	slices.Sort(removed)
	return added, removed
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	if len(s) == 0 {
		return "∅"
	}
	return strings.Join(s, ",")
}

// GrantApplied is the push intake's hook, called after an authorized or
// updateauthorized push's code was exchanged and its tokens stored. It
// completes the attempt the push's PreAuthCode belongs to (idempotent with
// the redirect, in either order), refreshes the app's details and logs the
// permission-set difference. A push for no attempt of ours leaves the app
// bound where it is (or to no tenant, for staff to assign).
func (o *Onboarding) GrantApplied(ctx context.Context, appID, preAuthCode, authCode string) error {
	if o.EvictToken != nil {
		o.EvictToken(appID)
	}
	a, err := o.Store.AttemptByPreAuthCode(ctx, preAuthCode)
	switch {
	case err == nil && a.State != model.AttemptBound && a.State != model.AttemptRefused && a.State != model.AttemptCancelled:
		// The signed push proves which attempt this grant answers, even
		// past the link's expiry (WeChat checked it) or after the
		// browser's copy of the code failed: bind. Binding is idempotent
		// with the redirect doing the same.
		_, err := o.bind(ctx, System, a, appID)
		if model.ErrorCode(err) == model.CodeConflict {
			return nil // refused and recorded; nothing to retry
		}
		return err
	case err != nil && !model.IsNotFound(err):
		return err
	}
	// Already handled by the redirect, or a grant made outside our links
	// (a permission change in the merchant's console): refresh the details
	// and log what changed.
	o.RefreshDetails(ctx, appID)
	tenantID, err := o.Store.TenantOfApp(ctx, appID)
	if err != nil {
		return err
	}
	o.logPermissionChange(ctx, System, tenantID, appID)
	o.Hub.Publish(Event{Name: EventApp, TenantID: tenantID, AppID: appID})
	return nil
}

// Unauthorized is the hook after an unauthorized push was applied (tokens
// destroyed, row kept): it logs it for the tenant and updates live pages.
func (o *Onboarding) Unauthorized(ctx context.Context, appID string) error {
	if o.EvictToken != nil {
		o.EvictToken(appID)
	}
	tenantID, err := o.Store.TenantOfApp(ctx, appID)
	if err != nil {
		return err
	}
	if tenantID != 0 {
		if err := o.Store.Activity(ctx, System, tenantID, store.ActAppUnauthorized, appID, ""); err != nil {
			return err
		}
	}
	o.Hub.Publish(Event{Name: EventApp, TenantID: tenantID, AppID: appID})
	return nil
}

// jobExchange is JobAttemptExchange: exchange the attempt's sealed code
// again. Nothing to do when the attempt was settled meanwhile (the push
// bound it); a failure that may pass returns an error so the queue retries
// it with backoff; the last run gives up and the attempt shows failed. The
// sealed code is dropped once the attempt is bound, refused or failed.
func (o *Onboarding) jobExchange(ctx context.Context, j store.Job) error {
	var pl attemptJob
	if err := json.Unmarshal(j.Payload, &pl); err != nil {
		return Permanent(err)
	}
	a, code, err := o.Store.ClaimAttemptRetry(ctx, pl.TenantID, pl.AttemptID)
	if model.IsNotFound(err) {
		return nil // settled by the other path, or cancelled
	}
	if err != nil {
		return err
	}
	o.Hub.Publish(Event{Name: EventAttempt, TenantID: a.TenantID, AttemptID: a.ID})
	a, err = o.exchange(ctx, System, a, code, j.Attempts >= j.MaxAttempts)
	switch {
	case model.ErrorKey(err) == "authorize.code_invalid":
		// The code was spent elsewhere: the authorized push's job exchanged
		// it (and binds the attempt, whatever this one says); if not, the
		// attempt page says to authorize again. Not a background failure.
		o.log().Info("attempt exchange: the code was already used", "attempt", a.ID)
		return nil
	case model.ErrorCode(err) == model.CodeConflict:
		return Permanent(err) // refused or failed for good; the attempt shows it
	case err != nil && j.Attempts >= j.MaxAttempts:
		// The last run failed inside: do not leave the attempt exchanging.
		_ = o.Store.FinishAttempt(ctx, a.ID, model.AttemptFailed, "", "authorize.exchange_failed")
		o.Hub.Publish(Event{Name: EventAttempt, TenantID: a.TenantID, AttemptID: a.ID})
		return err
	case err != nil:
		return err
	case a.State == model.AttemptRetrying:
		return fmt.Errorf("attempt %d: api_query_auth still failing", a.ID)
	}
	return nil
}

// Assign binds an unbound app to a tenant (staff).
func (o *Onboarding) Assign(ctx context.Context, actor model.Actor, appID string, tenantID int64) error {
	if err := o.Store.AssignApp(ctx, actor, appID, tenantID); err != nil {
		return err
	}
	if o.EvictToken != nil { // the vault's cache names the app's tenant (the token service checks it)
		o.EvictToken(appID)
	}
	o.logPermissionChange(ctx, actor, tenantID, appID)
	o.Hub.Publish(Event{Name: EventApp, TenantID: tenantID, AppID: appID})
	return nil
}

// ResolveConflict keeps an app with its owner or moves it to the claimant.
func (o *Onboarding) ResolveConflict(ctx context.Context, actor model.Actor, id int64, move bool) error {
	c, err := o.Store.ResolveConflict(ctx, actor, id, move)
	if err != nil {
		return err
	}
	if o.EvictToken != nil { // the vault's cache names the app's tenant (the token service checks it)
		o.EvictToken(c.AppID)
	}
	o.Hub.Publish(Event{Name: EventApp, TenantID: c.OwnerTenantID, AppID: c.AppID})
	o.Hub.Publish(Event{Name: EventApp, TenantID: c.ClaimantTenantID, AppID: c.AppID})
	return nil
}

// RedirectHoldsCode reports whether the attempt preAuthCode belongs to was
// claimed by the merchant's redirect (exchanging, retrying on its job, or
// already bound): the redirect's exchange owns the authorization code then,
// and an authorized push that finds the code spent finishes quietly.
func (o *Onboarding) RedirectHoldsCode(ctx context.Context, preAuthCode string) bool {
	if preAuthCode == "" {
		return false
	}
	a, err := o.Store.AttemptByPreAuthCode(ctx, preAuthCode)
	if err != nil {
		return false
	}
	switch a.State {
	case model.AttemptExchanging, model.AttemptRetrying, model.AttemptBound:
		return true
	}
	return false
}
