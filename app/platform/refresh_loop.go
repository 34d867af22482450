package platform

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
)

// refresherLease is held by the one process that sweeps authorizer tokens
// and watches the ticket. Component token fetches need no loop lease: each
// token has its own.
const refresherLease = "token-refresher"

// Run refreshes tokens ahead of expiry and watches the ticket until ctx ends.
func (v *Vault) Run(ctx context.Context) {
	t := time.NewTicker(v.Tick)
	defer t.Stop()
	defer v.st.ReleaseLease(context.WithoutCancel(ctx), refresherLease, v.p.holder)
	for {
		if err := v.RunOnce(ctx); err != nil && ctx.Err() == nil {
			v.log.Error("token refresh loop", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-v.kick:
		}
	}
}

// RunOnce is one pass of the background loop: get a component token when a
// ticket allows and none is valid or it is due; then, where the refresher
// lease is held, watch the ticket and refresh every due authorizer token.
func (v *Vault) RunOnce(ctx context.Context) error {
	errComp := v.refreshComponentIfDue(ctx)
	held, err := v.st.AcquireLease(ctx, refresherLease, v.p.holder, v.now(), 3*v.Tick+10*time.Second)
	if err != nil || !held {
		return errors.Join(errComp, err)
	}
	return errors.Join(errComp, v.WatchTicket(ctx), v.RefreshDueAuthorizers(ctx))
}

func (v *Vault) refreshComponentIfDue(ctx context.Context) error {
	c, err := v.st.ComponentCreds(ctx, v.p.componentAppID)
	if model.IsNotFound(err) || (err == nil && c.Ticket == "") {
		return nil // nothing to exchange yet
	}
	if err != nil {
		return err
	}
	now := v.now()
	due := func(c store.ComponentCreds) bool {
		if componentBackoff(c, now) != nil {
			return false // backing off: not even a missing token is due
		}
		return c.Token == "" || !now.Before(c.NextRefreshAt) || !v.usable(c.TokenExpiresAt, now)
	}
	if !due(c) {
		return nil
	}
	_, err = v.refreshComponent(ctx, due)
	return err
}

// RefreshDueAuthorizers refreshes every authorizer token whose scheduled
// refresh time has come, Sweep at a time.
func (v *Vault) RefreshDueAuthorizers(ctx context.Context) error {
	var errs []error
	seen := map[string]bool{}
	for ctx.Err() == nil {
		now := v.now()
		ids, err := v.st.DueAuthorizers(ctx, now, 100)
		if err != nil {
			return err
		}
		var batch []string
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				batch = append(batch, id)
			}
		}
		if len(batch) == 0 {
			break
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		sem := make(chan struct{}, max(v.Sweep, 1))
		for _, id := range batch {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				due := func(s authState) bool {
					if authorizerBackoff(s.a, now) != nil {
						return false
					}
					return s.access == "" || !now.Before(s.a.NextRefreshAt) || !v.usable(s.a.AccessExpiresAt, now)
				}
				var bo *Backoff
				if _, err := v.refreshAuthorizer(ctx, id, due); err != nil && !errors.Is(err, ErrNeedsReauth) && !errors.Is(err, ErrNotAuthorized) && !errors.As(err, &bo) {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
	}
	if len(errs) > 3 {
		return fmt.Errorf("%d authorizer refreshes failed, first: %w", len(errs), errs[0])
	}
	return errors.Join(errs...)
}

// WatchTicket asks WeChat to push a ticket when the newest one is older
// than TicketMaxAge (or none was ever received), at most once per
// TicketAskGap across processes, and tells staff.
func (v *Vault) WatchTicket(ctx context.Context) error {
	c, err := v.st.ComponentCreds(ctx, v.p.componentAppID)
	if err != nil && !model.IsNotFound(err) {
		return err
	}
	now := v.now()
	if c.Ticket != "" && now.Sub(c.TicketReceivedAt) <= v.TicketMaxAge {
		return nil
	}
	if c.TicketFailures > 0 && now.Before(c.TicketRetryAt) {
		return nil // the last asks failed: wait for the backoff
	}
	ok, err := v.st.ClaimTicketRequest(ctx, v.p.componentAppID, now, v.TicketAskGap)
	if err != nil || !ok {
		return err
	}
	detail := "no ticket received yet; asked WeChat to push one"
	if c.Ticket != "" {
		detail = fmt.Sprintf("newest ticket is %s old; asked WeChat to push one", now.Sub(c.TicketReceivedAt).Round(time.Minute))
	}
	callErr := v.wc.StartPushTicket(ctx)
	if callErr != nil {
		detail += ", which failed: " + callErr.Error()
		// TicketAskGap doubling per consecutive failure, up to an hour, jittered.
		retry := v.jitter(backoff(v.TicketAskGap, max(time.Hour, v.TicketAskGap), c.TicketFailures+1))
		callErr = errors.Join(callErr, v.st.TicketRequestFailed(ctx, v.p.componentAppID, callErr.Error(), now.Add(retry)))
	} else if c.TicketFailures > 0 {
		callErr = v.st.TicketRequestOK(ctx, v.p.componentAppID)
	}
	v.log.Warn("ticket watchdog", "detail", detail)
	return errors.Join(callErr, v.st.AddWarning(ctx, "ticket_stale", "", detail, now))
}

// RequestTicketPush calls api_start_push_ticket now (staff button); at most
// once a minute across processes.
func (v *Vault) RequestTicketPush(ctx context.Context) error {
	ok, err := v.st.ClaimTicketRequest(ctx, v.p.componentAppID, v.now(), time.Minute)
	if err != nil {
		return err
	}
	if !ok {
		return model.Errorf(model.CodeThrottled, "wechat.ticket_throttled")
	}
	return v.wc.StartPushTicket(ctx)
}
