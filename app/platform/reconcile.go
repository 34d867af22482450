package platform

import (
	"context"
	"fmt"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
)

// Reconcile pages through api_get_authorizer_list (500 a page) and brings
// our authorizers in line with WeChat's: refresh tokens we lack are
// backfilled, apps we hold as authorized that WeChat no longer lists were
// unauthorized silently (tokens destroyed, history kept), and apps WeChat
// lists that no tenant holds are recorded unbound so staff can assign them.
func (o *Onboarding) Reconcile(ctx context.Context, actor model.Actor, trigger string) (model.ReconcileRun, error) {
	run := model.ReconcileRun{Trigger: trigger, StartedAt: o.now()}
	id, err := o.Store.StartReconcileRun(ctx, trigger)
	if err != nil {
		return run, err
	}
	run.ID = id
	err = o.reconcile(ctx, &run)
	if err != nil {
		run.Error = err.Error()
		o.log().Warn("reconcile failed", "err", err)
	}
	if ferr := o.Store.FinishReconcileRun(ctx, run); ferr != nil && err == nil {
		err = ferr
	}
	detail := fmt.Sprintf("listed=%d backfilled=%d unauthorized=%d unbound=%d", run.Listed, run.Backfilled, run.Unauthorized, run.Unbound)
	if run.Error != "" {
		detail += " error"
	}
	_ = o.Store.Activity(ctx, actor, 0, store.ActReconcile, trigger, detail)
	// Merge the staff search index's small segments (one per change since).
	if oerr := o.Store.OptimizeAppSearch(ctx); oerr != nil {
		o.log().Warn("optimize app search", "err", oerr)
	}
	o.Hub.Publish(Event{Name: EventReconcile})
	run.FinishedAt = o.now()
	return run, err
}

func (o *Onboarding) reconcile(ctx context.Context, run *model.ReconcileRun) error {
	items, err := o.WeChat.AllAuthorizers(ctx)
	if err != nil {
		return err
	}
	known, err := o.Store.AuthorizerListings(ctx)
	if err != nil {
		return err
	}
	run.Listed = len(items)
	listed := make(map[string]bool, len(items))
	seen := make([]string, 0, len(items))
	for _, it := range items {
		listed[it.AuthorizerAppID] = true
		seen = append(seen, it.AuthorizerAppID)
		k, ok := known[it.AuthorizerAppID]
		if !ok {
			if err := o.Store.EnsureAuthorizer(ctx, it.AuthorizerAppID); err != nil {
				return err
			}
		}
		if (!ok || !k.HasRefresh) && it.RefreshToken != "" {
			if err := o.Store.SetAuthorizerRefreshToken(ctx, it.AuthorizerAppID, it.RefreshToken); err != nil {
				return err
			}
			if ok {
				run.Backfilled++
			}
		}
		if !ok {
			o.RefreshDetails(ctx, it.AuthorizerAppID)
			o.Hub.Publish(Event{Name: EventApp, AppID: it.AuthorizerAppID})
		}
		if !ok || k.TenantID == 0 {
			run.Unbound++
		}
	}
	for appID, k := range known {
		if k.Status != store.AuthorizerAuthorized || listed[appID] {
			continue
		}
		done, err := o.Store.UnauthorizeAuthorizer(ctx, appID, o.now().Unix())
		if err != nil {
			return err
		}
		if done {
			run.Unauthorized++
			if err := o.Unauthorized(ctx, appID); err != nil {
				return err
			}
		}
	}
	return o.Store.MarkReconciled(ctx, seen, o.now())
}

// Run drives the nightly reconcile until ctx ends, where its lease is.
// Failed exchanges are retried by the job queue.
func (o *Onboarding) Run(ctx context.Context) {
	holder := o.Holder
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	// With no run recorded yet, the first nightly reconcile waits an hour
	// after start instead of racing the first ticket.
	firstDue := o.now().Add(time.Hour)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := o.now()
		last, err := o.Store.LatestReconcileRun(ctx)
		if err != nil && !model.IsNotFound(err) {
			continue
		}
		if (err == nil && now.Sub(last.StartedAt) < 24*time.Hour) || (err != nil && now.Before(firstDue)) {
			continue
		}
		if ok, err := o.Store.AcquireLease(ctx, "onboarding:reconcile", holder, now, 30*time.Minute); err == nil && ok {
			_, _ = o.Reconcile(ctx, System, "nightly")
			_ = o.Store.ReleaseLease(ctx, "onboarding:reconcile", holder)
		}
	}
}
