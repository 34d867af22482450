package platform

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/minifleet/minifleet/app/extconfig"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
)

// campaignTask is one thing to do for one app of a campaign.
type campaignTask func(ctx context.Context, c model.Campaign, a store.CampaignApp) error

// engineStates are the release states the engine moves on by itself for
// an active campaign (the resume loop leaves them to it); audits in review
// and phased releases stay with the resume loop's polling.
var engineStates = map[model.ReleaseState]bool{
	model.RelCommitting: true, model.RelCommitted: true, model.RelPrivacyScan: true, model.RelPreflight: true,
	model.RelSubmitting: true, model.RelReleasing: true,
}

// taskFor picks what an app needs now, or nil.
func (e *Campaigns) taskFor(c model.Campaign, a store.CampaignApp, now time.Time, pendingJobs map[int64]bool) campaignTask {
	live := c.State == model.CampRunning
	switch a.State {
	case model.CAQueued:
		if live && a.Wave > 0 && a.Wave <= c.Wave {
			return e.taskStart
		}
		return nil
	case model.CAStarted:
	default:
		return nil
	}
	switch {
	case a.RelState == "":
		if live {
			return e.taskStart // the release was lost between two writes: find or make it
		}
	case a.RelState == model.RelDraft:
		if live {
			return e.taskCommit
		}
	case engineStates[a.RelState]:
		// Machine states move on by themselves; one left behind by a crash
		// (no task here, no job pending) is driven on, its call markers
		// reconciled first.
		if !pendingJobs[a.ReleaseID] {
			return e.taskDrive
		}
	case a.RelState == model.RelAwaitingApproval:
		if live && c.Approved() {
			return e.taskApprove
		}
	case a.Phase() == model.PhFailed:
		if live && a.RetrySeq == a.RelSeq && !a.RetryAt.IsZero() && !now.Before(a.RetryAt) {
			return e.taskRetry
		}
	case a.RelState == model.RelApproved:
		waiting := a.RetrySeq == a.RelSeq && (a.RetryAt.IsZero() || now.Before(a.RetryAt)) // a refused gray release
		if live && !waiting && (c.ReleaseMode == model.ReleaseEach || !now.Before(c.ReleaseAt)) {
			return e.taskRelease
		}
	case a.RelState == model.RelReleaseFailed:
		if live && a.RetrySeq == a.RelSeq && !a.RetryAt.IsZero() && !now.Before(a.RetryAt) {
			return e.taskRelease
		}
	}
	return nil
}

// launch runs task in a goroutine, marking the app as driven here.
func (e *Campaigns) launch(ctx context.Context, c model.Campaign, a store.CampaignApp, task campaignTask) {
	e.mu.Lock()
	if e.driving[c.ID] == nil {
		e.driving[c.ID] = map[string]bool{}
	}
	e.driving[c.ID][a.AppID] = true
	e.mu.Unlock()
	go func() {
		defer func() {
			if r := recover(); r != nil {
				e.Log.Error("campaign task panicked", "campaign", c.ID, "appid", a.AppID, "panic", r)
			}
			e.mu.Lock()
			delete(e.driving[c.ID], a.AppID)
			e.mu.Unlock()
			e.Kick() // the next pass publishes the progress
		}()
		if err := task(ctx, c, a); err != nil && ctx.Err() == nil {
			e.Log.Warn("campaign task", "campaign", c.ID, "appid", a.AppID, "err", err)
		}
	}()
}

func (c *campaignActors) detail() string { return fmt.Sprintf("campaign #%d", c.id) }

type campaignActors struct {
	id       int64
	creator  model.Actor
	approver model.Actor
}

func actorsOf(c model.Campaign) *campaignActors {
	return &campaignActors{id: c.ID, creator: model.Actor{UserID: c.CreatorID, Label: c.Creator},
		approver: model.Actor{UserID: c.ApproverID, Label: c.Approver}}
}

// taskStart prepares the app's release for the campaign (or finds the one
// a crash left) and commits it.
func (e *Campaigns) taskStart(ctx context.Context, c model.Campaign, a store.CampaignApp) error {
	rel, err := e.Store.CampaignRelease(ctx, c.ID, a.AppID)
	if model.IsNotFound(err) {
		rel, err = e.Rel.prepare(ctx, a.TenantID, a.AppID, c.TemplateID, c.UserVersion, c.UserDesc, actorsOf(c).creator, c.ID)
		var fe extconfig.FieldErrors
		switch {
		case errors.As(err, &fe) || model.ErrorCode(err) == model.CodeInvalid:
			return e.Store.SetCampaignApp(ctx, c.ID, a.AppID, model.CASkipped, model.SkipConfigInvalid, 0, time.Time{}, -1, "skipped at start: config invalid")
		case model.ErrorKey(err) == "release.err.open_exists":
			return e.Store.SetCampaignApp(ctx, c.ID, a.AppID, model.CASkipped, model.SkipOpenRelease, 0, time.Time{}, -1, "skipped at start: another release is open")
		case model.ErrorCode(err) == model.CodeNotFound:
			return e.Store.SetCampaignApp(ctx, c.ID, a.AppID, model.CASkipped, model.SkipUnauthorized, 0, time.Time{}, -1, "skipped at start: app no longer bound")
		case model.ErrorKey(err) == "release.err.campaign_exists":
			rel, err = e.Store.CampaignRelease(ctx, c.ID, a.AppID)
		}
	}
	if err != nil {
		return err
	}
	if rel.State != model.RelDraft {
		return nil
	}
	return e.commit(ctx, c, rel)
}

func (e *Campaigns) taskCommit(ctx context.Context, c model.Campaign, a store.CampaignApp) error {
	rel, err := e.Store.Release(ctx, a.TenantID, a.ReleaseID)
	if err != nil || rel.State != model.RelDraft {
		return err
	}
	return e.commit(ctx, c, rel)
}

// commit moves the release to committing (the creator's campaign is the
// click) and drives it inline through commit, the privacy scan and
// preflight; waits and transient failures go to the job runner.
func (e *Campaigns) commit(ctx context.Context, c model.Campaign, rel model.Release) error {
	ac := actorsOf(c)
	// Content that turned risky since the campaign was planned is refused
	// as a person's commit is: the app leaves the campaign with the reason
	// and its draft is cancelled; content still being checked waits for
	// the next pass.
	if err := e.Rel.contentGate(ctx, rel); err != nil {
		switch model.ErrorKey(err) {
		case "content.err.risky":
			if _, cerr := e.Rel.Cancel(ctx, rel.TenantID, rel.ID, ac.creator, rel.Seq); cerr != nil {
				return cerr
			}
			return e.Store.SetCampaignApp(ctx, c.ID, rel.AppID, model.CASkipped, model.SkipContentRisky, 0, time.Time{}, -1, "skipped: content risky")
		case "content.err.pending":
			return nil
		}
		return err
	}
	cause := userCause(ac.creator, rel.Seq)
	cause.Detail = ac.detail()
	_, err := e.Rel.commitInline(ctx, rel, cause)
	return err
}

func (e *Campaigns) drive(ctx context.Context, rel model.Release) error {
	n, err := e.Rel.drive(ctx, rel, 0)
	if err != nil {
		return e.Rel.retryLater(ctx, n, err)
	}
	return nil
}

func (e *Campaigns) taskDrive(ctx context.Context, c model.Campaign, a store.CampaignApp) error {
	rel, err := e.Store.Release(ctx, a.TenantID, a.ReleaseID)
	if err != nil || !engineStates[rel.State] {
		return err
	}
	if pending, err := e.Store.ReleaseHasPendingJob(ctx, rel.ID); err != nil || pending {
		return err
	}
	// Inline calls of submitting and releasing are the engine's own, so one
	// found here was cut short by a crash: the steps reconcile their call
	// markers with WeChat before sending anything again.
	return e.drive(ctx, rel)
}

// taskApprove submits the app under the campaign's approval, unless its
// payload moved away from what the approver approved: then the app drops
// out of the approval and needs its own.
func (e *Campaigns) taskApprove(ctx context.Context, c model.Campaign, a store.CampaignApp) error {
	rel, err := e.Store.Release(ctx, a.TenantID, a.ReleaseID)
	if err != nil {
		return err
	}
	if rel.State != model.RelAwaitingApproval && rel.State != model.RelSubmitFailed {
		return nil
	}
	if why := dropReason(c, a, rel); why != "" {
		return e.Store.SetCampaignApp(ctx, c.ID, a.AppID, model.CADropped, why, a.Attempts, time.Time{}, rel.Seq,
			"dropped from the campaign's approval: "+why)
	}
	ac := actorsOf(c)
	cause := userCause(ac.approver, 0)
	cause.SeenHash, cause.Detail = rel.PayloadHash, ac.detail()+" approval"
	_, err = e.Rel.approveAndSubmit(ctx, rel, cause)
	return err
}

// dropReason says why an app's release is no longer what the campaign's
// approver approved ("" when it still is).
func dropReason(c model.Campaign, a store.CampaignApp, rel model.Release) string {
	switch {
	case !c.Approved():
		return "campaign.drop.unapproved"
	case rel.TemplateID != c.TemplateID || rel.UserVersion != c.UserVersion || rel.UserDesc != c.UserDesc:
		return "campaign.drop.payload_changed"
	case model.ExtHash(rel.ExtJSON) != a.ExtHash:
		return "campaign.drop.config_changed"
	case rel.MayApprove(c.ApproverID) != "":
		// The campaign's approver amended this app's release (or prepared
		// it): the two-person rule leaves it to someone else.
		return "campaign.drop.approver_amended"
	}
	return ""
}

// taskRetry sends the failed step again, as the policy planned.
func (e *Campaigns) taskRetry(ctx context.Context, c model.Campaign, a store.CampaignApp) error {
	if err := e.Store.SetCampaignApp(ctx, c.ID, a.AppID, model.CAStarted, "", a.Attempts, time.Time{}, a.RetrySeq, ""); err != nil {
		return err
	}
	rel, err := e.Store.Release(ctx, a.TenantID, a.ReleaseID)
	if err != nil || rel.Seq != a.RetrySeq {
		return err // it moved since (a person acted): nothing to retry
	}
	ac := actorsOf(c)
	switch rel.State {
	case model.RelCommitFailed:
		return e.commit(ctx, c, rel)
	case model.RelPreflightFailed:
		cause := userCause(ac.creator, rel.Seq)
		cause.Detail = ac.detail() + " retry"
		n, err := e.Rel.move(ctx, rel, model.EvRecheck, cause)
		if err != nil {
			return err
		}
		return e.drive(ctx, n)
	case model.RelSubmitFailed:
		return e.taskApprove(ctx, c, a)
	case model.RelReleaseFailed:
		return e.taskRelease(ctx, c, a)
	}
	return nil
}

// taskRelease publishes an approved app: fully, or as a phased release to
// the campaign's percentage. The approver's approval of the campaign
// covers it.
func (e *Campaigns) taskRelease(ctx context.Context, c model.Campaign, a store.CampaignApp) error {
	rel, err := e.Store.Release(ctx, a.TenantID, a.ReleaseID)
	if err != nil {
		return err
	}
	ac := actorsOf(c)
	if c.GrayPercent > 0 && c.GrayPercent < 100 && rel.State == model.RelApproved {
		_, err = e.Rel.Gray(ctx, rel.TenantID, rel.ID, ac.approver, c.GrayPercent)
		switch code := errcodeOf(err); {
		case err == nil:
			return nil
		case code == 85079:
			// No version is live yet: a first release cannot be phased.
			if err := e.Store.SetCampaignApp(ctx, c.ID, a.AppID, model.CAStarted, "", a.Attempts, time.Time{}, a.RetrySeq,
				"nothing live yet (85079): released fully instead of to a share"); err != nil {
				return err
			}
		default:
			// The state did not move: the retry timer keeps the engine from
			// asking again at once.
			a.Errcode = code
			return errors.Join(err, e.planRetry(ctx, &c, &a, e.Now()))
		}
	}
	if rel.State != model.RelApproved && rel.State != model.RelReleaseFailed {
		return nil
	}
	_, err = e.Rel.Release(ctx, rel.TenantID, rel.ID, ac.approver)
	return err
}

// errcodeOf is the errcode a WeChat refusal carries (0 when none).
func errcodeOf(err error) int {
	var me *model.Error
	if errors.As(err, &me) {
		if code, ok := me.Data["Errcode"].(int); ok {
			return code
		}
	}
	return wechatCode(err)
}
