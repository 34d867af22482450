package platform

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat"
)

// Audit results reach a release two ways: WeChat's push
// (weapp_audit_success/fail/delay on /wechat/apps/:appid/events, applied
// inside the push's own transaction) and polling get_latest_auditstatus
// (the fallback, run by the resume loop for releases in review). Both go
// through the same compare-and-set transition, so whichever comes second
// finds the release already moved and changes nothing.

// auditEvent maps an audit status to the release event it means.
func auditEvent(status int) (model.ReleaseEvent, bool) {
	switch status {
	case wechat.AuditApproved:
		return model.EvAuditPass, true
	case wechat.AuditRejected:
		return model.EvAuditFail, true
	case wechat.AuditDelayed:
		return model.EvAuditDelay, true
	case wechat.AuditWithdrawn:
		return model.EvUndo, true
	}
	return "", false
}

// applyAuditStatus moves rel by an observed audit status (status 2, still
// in review, and a delay already recorded change nothing).
func (r *Releases) applyAuditStatus(ctx context.Context, rel model.Release, st *wechat.AuditStatus, kind model.CauseKind) (model.Release, error) {
	ev, ok := auditEvent(st.Status)
	if !ok || (ev == model.EvAuditDelay && rel.State == model.RelDelayed) {
		return rel, nil
	}
	c := model.Cause{Kind: kind, Actor: "system", Detail: "get_latest_auditstatus: status " + strconv.Itoa(st.Status),
		Reason: st.Reason, ScreenShots: st.ScreenShot}
	n, _, err := r.moved(ctx, rel, ev, c)
	return n, err
}

// pollAudit is the polling fallback for a release in review.
func (r *Releases) pollAudit(ctx context.Context, rel model.Release) (model.Release, error) {
	if rel.State != model.RelAuditing && rel.State != model.RelDelayed {
		return rel, nil
	}
	st, err := r.WeChat.LatestAuditStatus(ctx, rel.AppID)
	if err != nil {
		return rel, err
	}
	if st.AuditID != rel.AuditID {
		r.Log.Warn("release: latest audit is not this release's", "release", rel.ID, "auditid", rel.AuditID, "latest", st.AuditID)
		return rel, nil
	}
	return r.applyAuditStatus(ctx, rel, st, model.CausePoll)
}

// onAuditPush applies an audit push to the app's open release inside the
// push transaction. A push that finds no release in review (none open, or
// its submission not recorded yet) is recorded and reconciled by a job
// that polls get_latest_auditstatus; one already applied (by a poll or an
// earlier copy) is recorded as stale.
func (r *Releases) onAuditPush(ctx context.Context, tx *store.PushTx, p wechat.Push) (string, error) {
	appID := tx.Push.AppID
	c := model.Cause{Kind: model.CausePush, Actor: "wechat", Detail: "push #" + strconv.FormatInt(tx.Push.ID, 10), At: r.now()}
	var ev model.ReleaseEvent
	var target model.ReleaseState
	switch t := p.(type) {
	case *wechat.AuditSuccess:
		ev, target = model.EvAuditPass, model.RelApproved
	case *wechat.AuditFail:
		ev, target = model.EvAuditFail, model.RelRejected
		c.Reason, c.ScreenShots = t.Reason, t.ScreenShot
	case *wechat.AuditDelay:
		ev, target = model.EvAuditDelay, model.RelDelayed
		c.Reason = t.Reason
	default:
		return store.PushRecorded, nil
	}
	rel, err := tx.TransitionOpenRelease(appID, ev, c)
	if err == nil {
		tx.AfterCommit(func() { r.publish(rel) })
		return store.PushApplied, nil
	}
	if !model.IsNotFound(err) && model.ErrorCode(err) != model.CodeConflict {
		return "", err
	}
	if model.ErrorCode(err) == model.CodeConflict && rel.State == target {
		return store.PushStale, nil // already applied (a poll or an earlier copy got there first)
	}
	_, _, err = tx.Enqueue(store.NewJob{
		Kind:      JobReleaseReconcile,
		DedupeKey: "release-app:" + appID + ":push:" + strconv.FormatInt(tx.Push.ID, 10),
		Payload:   ReleaseJob{AppID: appID},
	})
	return store.PushQueued, err
}

// runReconcile is the JobReleaseReconcile handler: it looks at the app's
// open release and applies WeChat's latest audit to it when it is in
// review or being submitted (never sending anything).
func (r *Releases) runReconcile(ctx context.Context, j store.Job) error {
	var p ReleaseJob
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return Permanent(err)
	}
	tenantID, err := r.Store.TenantOfApp(ctx, p.AppID)
	if model.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	rel, err := r.Store.OpenRelease(ctx, tenantID, p.AppID)
	if model.IsNotFound(err) {
		return nil // recorded; nothing in flight to apply it to
	}
	if err != nil {
		return err
	}
	switch rel.State {
	case model.RelAuditing, model.RelDelayed:
		_, err = r.pollAudit(ctx, rel)
	case model.RelSubmitting:
		_, _, err = r.reconcileSubmit(ctx, rel)
	}
	return err
}
