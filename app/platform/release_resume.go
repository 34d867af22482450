package platform

import (
	"context"
	"fmt"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
)

// releasesLease is the lease the resume loop holds: one node drives releases.
const releasesLease = "releases"

// resumeStates are the machine states: a release in one of them moves on
// without anybody clicking.
var resumeStates = []model.ReleaseState{
	model.RelCommitting, model.RelCommitted, model.RelPrivacyScan, model.RelPreflight,
	model.RelSubmitting, model.RelAuditing, model.RelDelayed, model.RelReleasing, model.RelRollingBack, model.RelGray,
}

// Run drives releases on, at start and every ResumeEvery, while this
// process holds the "releases" lease, until ctx ends. The work itself runs
// as JobReleaseStep jobs (see Platform.Jobs).
func (r *Releases) Run(ctx context.Context) {
	t := time.NewTicker(r.ResumeEvery)
	defer t.Stop()
	defer r.Store.ReleaseLease(context.WithoutCancel(ctx), releasesLease, r.Holder)
	for {
		ok, err := r.Store.AcquireLease(ctx, releasesLease, r.Holder, r.now(), 3*r.ResumeEvery)
		if err != nil && ctx.Err() == nil {
			r.Log.Error("releases lease", "err", err)
		}
		if ok {
			if _, err := r.ResumeOnce(ctx); err != nil && ctx.Err() == nil {
				r.Log.Error("releases resume", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ResumeOnce enqueues a step job for every release in a machine state that
// has none pending: committing … preflight at once; submitting, releasing
// and rolling_back once they have sat InFlightGrace (an inline call may
// still be running); auditing, delayed and gray at most once per AuditPoll
// (the polling fallback). It returns how many jobs it enqueued. The caller
// must hold the "releases" lease (Run does).
func (r *Releases) ResumeOnce(ctx context.Context) (int, error) {
	rels, err := r.Store.ReleasesInStates(ctx, resumeStates, 1000)
	if err != nil {
		return 0, err
	}
	campaigns, err := r.Store.ActiveCampaignIDs(ctx)
	if err != nil {
		return 0, err
	}
	now := r.now()
	n := 0
	for _, rel := range rels {
		if campaigns[rel.CampaignID] && engineStates[rel.State] {
			continue // the campaign engine drives these (and resumes them after a crash)
		}
		pending, err := r.Store.ReleaseHasPendingJob(ctx, rel.ID)
		if err != nil {
			return n, err
		}
		if pending {
			continue
		}
		var key string
		switch rel.State {
		case model.RelSubmitting, model.RelReleasing, model.RelRollingBack:
			if now.Sub(rel.UpdatedAt) < r.InFlightGrace {
				continue
			}
			key = fmt.Sprintf("release:%d:%d:resume:%d", rel.ID, rel.Seq, now.Unix()/int64(r.ResumeEvery/time.Second+1))
		case model.RelAuditing, model.RelDelayed, model.RelGray:
			key = fmt.Sprintf("release:%d:%d:poll:%d", rel.ID, rel.Seq, now.Unix()/int64(r.AuditPoll/time.Second+1))
		default:
			key = fmt.Sprintf("release:%d:%d:resume:%d", rel.ID, rel.Seq, now.Unix()/int64(r.ResumeEvery/time.Second+1))
		}
		_, dup, err := r.Store.EnqueueJob(ctx, store.NewJob{Kind: JobReleaseStep, DedupeKey: key,
			Payload: ReleaseJob{TenantID: rel.TenantID, ReleaseID: rel.ID, Seq: rel.Seq}, MaxAttempts: 12})
		if err != nil {
			return n, err
		}
		if !dup {
			n++
		}
	}
	if n > 0 {
		r.Jobs.Kick()
	}
	return n, nil
}
