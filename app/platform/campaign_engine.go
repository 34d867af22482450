package platform

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
)

// campaignsLease is held by the one process that drives campaigns.
const campaignsLease = "campaigns"

// Run drives active campaigns while this process holds the "campaigns"
// lease, until ctx ends: every Tick, when kicked, and when a release moves
// (an audit push), spaced by MinGap.
func (e *Campaigns) Run(ctx context.Context) {
	t := time.NewTicker(e.Tick)
	defer t.Stop()
	defer e.Store.ReleaseLease(context.WithoutCancel(ctx), campaignsLease, e.Holder)
	var events <-chan Event
	if e.Hub != nil {
		sub := e.Hub.Subscribe(TopicStaff)
		defer sub.Close()
		events = sub.C
	}
	for {
		ok, err := e.Store.AcquireLease(ctx, campaignsLease, e.Holder, e.Now(), 3*e.Tick+5*time.Second)
		if err != nil && ctx.Err() == nil {
			e.Log.Error("campaigns lease", "err", err)
		}
		gap := e.MinGap
		if ok {
			began := time.Now()
			if err := e.TickOnce(ctx); err != nil && ctx.Err() == nil {
				e.Log.Error("campaigns", "err", err)
			}
			// A pass over a thousand apps costs milliseconds: space passes
			// so they never take more than a fifth of a core.
			gap = max(gap, 4*time.Since(began))
		}
	wait:
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				break wait
			case <-e.kick:
				break wait
			case ev := <-events:
				if ev.Name == EventRelease { // other events (its own progress) do not wake it
					break wait
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(gap):
		}
	}
}

// TickOnce runs one pass over every active campaign: it settles retries
// and deferrals, checks the halt rule, plans the next wave, starts the
// tasks that are due (up to each campaign's concurrency), and finishes
// campaigns whose apps are all settled. Tasks run in goroutines; Wait
// waits for them. The caller must hold the "campaigns" lease (Run does).
func (e *Campaigns) TickOnce(ctx context.Context) error {
	cs, err := e.Store.ActiveCampaigns(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range cs {
		if err := e.step(ctx, c); err != nil && model.ErrorCode(err) != model.CodeConflict {
			errs = append(errs, fmt.Errorf("campaign %d: %w", c.ID, err))
		}
	}
	return errors.Join(errs...)
}

// Wait blocks until no task of this process runs (tests and shutdown).
func (e *Campaigns) Wait(ctx context.Context) {
	for ctx.Err() == nil {
		e.mu.Lock()
		n := 0
		for _, m := range e.driving {
			n += len(m)
		}
		e.mu.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waveStat is one wave's outcome so far.
type waveStat struct {
	size, decided, rejected, open int // open: not yet submitted (or failed with a retry pending)
	blocking                      int // canary: not yet decided
}

func (e *Campaigns) step(ctx context.Context, c model.Campaign) error {
	apps, err := e.Store.CampaignAppStates(ctx, c.ID)
	if err != nil {
		return err
	}
	now := e.Now()
	if c.State == model.CampCancelled {
		// Releases that reached a cancellable state after the cancel (their
		// in-flight step finished) are cancelled as the creator.
		e.cancelReleases(ctx, c, apps, model.Actor{UserID: c.CreatorID, Label: c.Creator})
		return nil
	}
	pending, err := e.Store.CampaignPendingJobs(ctx, c.ID)
	if err != nil {
		return err
	}
	// Failures first: plan retries, defer on 85085, leave Stop codes to a person.
	for i := range apps {
		a := &apps[i]
		if a.State != model.CAStarted || !a.Failing() || a.RetrySeq == a.RelSeq || e.isDriving(c.ID, a.AppID) {
			continue
		}
		if err := e.planRetry(ctx, &c, a, now); err != nil {
			return err
		}
	}
	waves := map[int]*waveStat{}
	queued, unsubmitted, settled := 0, 0, 0
	quotaApp := "" // queryquota needs any authorized app's token
	for _, a := range apps {
		if quotaApp == "" && (a.State == model.CAQueued || a.State == model.CAStarted || a.State == model.CADeferred) {
			quotaApp = a.AppID
		}
		ph := a.Phase()
		if ph.Settled() || a.Stuck() || (ph == model.PhFailed && a.RetryAt.IsZero()) {
			settled++
		}
		if a.State == model.CAQueued && a.Wave == 0 {
			queued++
			continue
		}
		if a.Wave == 0 {
			continue
		}
		w := waves[a.Wave]
		if w == nil {
			w = &waveStat{}
			waves[a.Wave] = w
		}
		w.size++
		if ph.Decided() {
			w.decided++
		}
		if ph == model.PhRejected {
			w.rejected++
		}
		switch ph {
		case model.PhQueued, model.PhPreparing, model.PhAwaiting:
			w.open++
			unsubmitted++
		case model.PhFailed:
			if !a.RetryAt.IsZero() {
				w.open++
				unsubmitted++
			}
		}
		if !ph.Decided() && !ph.Settled() && !a.Stuck() && !(ph == model.PhFailed && a.RetryAt.IsZero()) && ph != model.PhDeferred {
			w.blocking++
		}
	}

	switch c.State {
	case model.CampRunning:
		for n := 1; n <= c.Wave; n++ {
			w := waves[n]
			if w == nil {
				continue
			}
			if halt, rate := model.WaveVerdict(w.size, w.decided, w.rejected, c.HaltRate); halt {
				_, err := e.move(ctx, c, store.CampaignMove{From: c.State, To: model.CampHalted, Notice: "campaign.notice.halted",
					NoticeData: map[string]any{"Wave": n, "Rejected": w.rejected, "Decided": w.decided, "Percent": int(rate*100 + 0.5)},
					Action:     store.ActCampaignHalt, Detail: fmt.Sprintf("wave %d: %d of %d decided rejected (%.0f%% > %.0f%%)", n, w.rejected, w.decided, rate*100, c.HaltRate*100)})
				return err
			}
		}
		if queued > 0 && e.waveGateOpen(c, waves) {
			planned, err := e.planWave(ctx, c, queued, unsubmitted, quotaApp)
			if err != nil || !planned {
				return err
			}
			// Start the wave's tasks in this pass (the gate is closed now).
			if c, err = e.Store.Campaign(ctx, 0, c.ID); err != nil {
				return err
			}
			return e.step(ctx, c)
		}
	case model.CampWaitingQuota:
		return e.checkQuotaWindow(ctx, c, now, quotaApp)
	}

	// Tasks: apps already under way first (a submission is one call away),
	// then new ones, up to the concurrency.
	running := e.runningCount(c.ID)
	var starts []store.CampaignApp
	for _, a := range apps {
		if running >= c.Concurrency {
			break
		}
		if e.isDriving(c.ID, a.AppID) {
			continue
		}
		if a.State == model.CAQueued {
			starts = append(starts, a)
			continue
		}
		if task := e.taskFor(c, a, now, pending); task != nil {
			e.launch(ctx, c, a, task)
			running++
		}
	}
	for _, a := range starts {
		if running >= c.Concurrency {
			break
		}
		if task := e.taskFor(c, a, now, pending); task != nil {
			e.launch(ctx, c, a, task)
			running++
		}
	}

	if c.State == model.CampRunning && queued == 0 && settled == len(apps) && e.runningCount(c.ID) == 0 {
		_, err := e.move(ctx, c, store.CampaignMove{From: c.State, To: model.CampDone, Action: store.ActCampaignDone,
			Detail: fmt.Sprintf("%d apps", len(apps))})
		return err
	}
	e.publishIfMoved(c, apps)
	return nil
}

// publishIfMoved tells live pages about the campaign once a pass, and only
// when something moved since the last pass (a release's seq, an app's
// record, the tasks running): pages re-render the whole progress, so one
// event per finished task would cost a render each.
func (e *Campaigns) publishIfMoved(c model.Campaign, apps []store.CampaignApp) {
	h := fnv.New64a()
	fmt.Fprint(h, c.Seq, c.Wave, e.runningCount(c.ID))
	for _, a := range apps {
		fmt.Fprint(h, a.RelSeq, a.State, a.RetrySeq)
	}
	sig := h.Sum64()
	e.mu.Lock()
	moved := e.sigs[c.ID] != sig
	e.sigs[c.ID] = sig
	e.mu.Unlock()
	if moved {
		e.publish(c)
	}
}

// waveGateOpen reports whether the next wave may start: the canary must be
// wholly decided (its verdict known); a later wave must have been wholly
// submitted, so a halt still catches the waves after it.
func (e *Campaigns) waveGateOpen(c model.Campaign, waves map[int]*waveStat) bool {
	if c.Wave == 0 {
		return true
	}
	w := waves[c.Wave]
	if w == nil {
		return true
	}
	if c.Wave == 1 {
		return w.blocking == 0
	}
	return w.open == 0
}

// planWave sizes and records the next wave from the quota left; with no
// quota left and nothing still to spend it, the campaign waits for the
// next window.
// It reports whether a wave was planned.
func (e *Campaigns) planWave(ctx context.Context, c model.Campaign, queued, unsubmitted int, quotaApp string) (bool, error) {
	e.Rel.quotaInvalidate()
	q, err := e.Rel.Quota(ctx, quotaApp)
	if err != nil {
		return false, err
	}
	n := model.PlanWave(model.WavePlan{Wave: c.Wave + 1, Queued: queued, QuotaRest: q.Rest, Unsubmitted: unsubmitted, Settings: c.CampaignSettings})
	if n == 0 {
		if unsubmitted > 0 {
			return false, nil // the apps started will spend what is left; plan again after them
		}
		return false, e.waitForQuota(ctx, c, fmt.Sprintf("quota rest %d of %d", q.Rest, q.Limit))
	}
	if _, err := e.Store.PlanCampaignWave(ctx, c.ID, c.Wave+1, n, fmt.Sprintf("quota rest %d of %d, %d queued", q.Rest, q.Limit, queued)); err != nil {
		return false, err
	}
	e.publish(c)
	return true, nil
}

func (e *Campaigns) waitForQuota(ctx context.Context, c model.Campaign, detail string) error {
	n, err := e.Store.DeferQueued(ctx, c.ID)
	if err != nil {
		return err
	}
	window := model.NextQuotaWindow(e.Now())
	_, err = e.move(ctx, c, store.CampaignMove{From: c.State, To: model.CampWaitingQuota, Notice: "campaign.notice.quota",
		NoticeData: map[string]any{"Apps": n, "Window": window.Format("2006-01-02")}, ResumeAt: window,
		Action: store.ActCampaignQuota, Detail: fmt.Sprintf("%s; %d apps moved to the window of %s", detail, n, window.Format("2006-01-02"))})
	return err
}

// checkQuotaWindow reopens a campaign waiting for quota once the next
// window starts, or earlier when queryquota shows quota again.
func (e *Campaigns) checkQuotaWindow(ctx context.Context, c model.Campaign, now time.Time, quotaApp string) error {
	open := !now.Before(c.ResumeAt)
	if !open {
		e.mu.Lock()
		due := now.Sub(e.quotaAt[c.ID]) >= e.QuotaRecheck
		if due {
			e.quotaAt[c.ID] = now
		}
		e.mu.Unlock()
		if !due {
			return nil
		}
		e.Rel.quotaInvalidate()
		q, err := e.Rel.Quota(ctx, quotaApp)
		if err != nil {
			return err
		}
		open = q.Rest > 0
	}
	if !open {
		return nil
	}
	n, err := e.Store.RequeueDeferred(ctx, c.ID)
	if err != nil {
		return err
	}
	_, err = e.move(ctx, c, store.CampaignMove{From: c.State, To: model.CampRunning, Action: store.ActCampaignResume,
		Detail: fmt.Sprintf("quota window open: %d deferred apps back in the queue", n)})
	return err
}

// planRetry decides, once per failure (per release seq), what the policy
// says: a timed retry, a deferral to the next quota window, or nothing
// (a person must act; the errcode's action says how).
func (e *Campaigns) planRetry(ctx context.Context, c *model.Campaign, a *store.CampaignApp, now time.Time) error {
	code := a.Errcode
	verb, delay := e.Policy.Decide(code, a.Attempts+1)
	if a.RelState == model.RelPreflightFailed && code == 0 {
		verb = model.RetryStop // a preflight check failed: the tenant must fix it
	}
	switch verb {
	case model.RetryStop:
		a.RetryAt, a.RetrySeq = time.Time{}, a.RelSeq
		return e.Store.SetCampaignApp(ctx, c.ID, a.AppID, model.CAStarted, "", a.Attempts, time.Time{}, a.RelSeq,
			fmt.Sprintf("left for a person: %s errcode %d", a.RelState, code))
	case model.RetryDefer:
		a.State, a.RetrySeq = model.CADeferred, a.RelSeq
		if err := e.Store.SetCampaignApp(ctx, c.ID, a.AppID, model.CADeferred, "", a.Attempts, time.Time{}, a.RelSeq,
			"deferred to the next quota window (85085)"); err != nil {
			return err
		}
		if c.State == model.CampRunning {
			if err := e.waitForQuota(ctx, *c, "submit_audit answered 85085"); err != nil {
				return err
			}
			c.State = model.CampWaitingQuota
		}
		return nil
	}
	a.Attempts++
	a.RetryAt, a.RetrySeq = now.Add(delay), a.RelSeq
	return e.Store.SetCampaignApp(ctx, c.ID, a.AppID, model.CAStarted, "", a.Attempts, a.RetryAt, a.RelSeq,
		fmt.Sprintf("%s errcode %d: %s, attempt %d in %s", a.RelState, code, verb, a.Attempts, delay.Round(time.Second)))
}

func (e *Campaigns) move(ctx context.Context, c model.Campaign, m store.CampaignMove) (model.Campaign, error) {
	n, err := e.Store.MoveCampaign(ctx, c.ID, m)
	if err == nil {
		e.publish(n)
	}
	return n, err
}

func (e *Campaigns) runningCount(id int64) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.driving[id])
}
