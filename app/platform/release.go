package platform

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minifleet/minifleet/app/extconfig"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat"
)

// EventRelease is published on the Hub whenever a release of an app moves
// (every transition, whatever caused it). It carries TenantID and AppID;
// subscribers re-read the app's releases.
const EventRelease = "release"

// Job kinds of the release pipeline.
const (
	// JobReleaseStep drives one release from a machine state (committing,
	// committed, privacy_scan, preflight, submitting, auditing, delayed,
	// releasing, rolling_back, gray) to the next. Payload: ReleaseJob.
	JobReleaseStep = "release.step"
	// JobReleaseReconcile polls an app's latest audit after a push that
	// found no audit in flight. Payload: ReleaseJob (AppID set).
	JobReleaseReconcile = "release.reconcile"
)

// ReleaseJob is the payload of the release jobs.
type ReleaseJob struct {
	TenantID  int64  `json:"tenant_id"`
	ReleaseID int64  `json:"release_id"`
	Seq       int64  `json:"seq"`             // the release's Seq when enqueued; a moved release makes the job a no-op
	AppID     string `json:"appid,omitempty"` // JobReleaseReconcile
	Poll      int    `json:"poll,omitempty"`  // privacy-scan or 61039 wait round
}

// Releases is the release pipeline of every app: prepare → commit →
// privacy scan → preflight → approval (two-person rule) → audit →
// release, gray release, rollback. Every transition goes through
// store.TransitionRelease (compare-and-set on Seq), is recorded with its
// cause, and is published on Hub as EventRelease.
//
// WeChat calls that must not be repeated (commit, submit_audit, release,
// revertcoderelease) are preceded by a persisted in-flight state and a call
// marker; a marker left unfinished by a crash is reconciled with WeChat
// before anything is sent again. Platform.New builds it; Platform.Run runs
// its resume loop.
type Releases struct {
	Store  *store.Store
	WeChat *wechat.Client
	Jobs   *Jobs
	Hub    *Hub
	Now    func() time.Time
	Log    *slog.Logger
	Holder string // lease holder name of this process

	// ScanPoll is the wait between get_code_privacy_info polls while the
	// scan runs (61039); ScanMaxPolls bounds them before the release fails
	// with 61039 and a "check again" action.
	ScanPoll     time.Duration
	ScanMaxPolls int
	// SubmitWaitPolls bounds how often a submit answered 61039 is retried
	// (every ScanPoll) before the release fails with 61039.
	SubmitWaitPolls int
	// AuditPoll is the polling fallback period for releases in review.
	AuditPoll time.Duration
	// InFlightGrace is how long a release may sit in an in-flight state
	// (releasing, rolling_back, submitting) before the resume loop takes
	// it over: longer than any WeChat call.
	InFlightGrace time.Duration
	// ResumeEvery is the resume loop's period.
	ResumeEvery time.Duration
	// QuotaTTL is how long a queryquota answer is reused.
	QuotaTTL time.Duration

	quotaMu sync.Mutex
	quota   cachedQuota

	// BaseURL is the portal's public origin: uploaded images are served
	// under it (content.go).
	BaseURL string

	schemaMu sync.Mutex
	schemas  map[int64]cachedSchema // compiled config schemas by template
}

type cachedSchema struct {
	raw    string
	schema *extconfig.Schema
}

// schemaOf returns the template's compiled config schema, compiled once per
// schema text (a campaign renders a thousand apps' ext_json from one).
func (r *Releases) schemaOf(tpl model.Template) (*extconfig.Schema, error) {
	r.schemaMu.Lock()
	c, ok := r.schemas[tpl.TemplateID]
	r.schemaMu.Unlock()
	if ok && c.raw == tpl.SchemaJSON {
		return c.schema, nil
	}
	sc, err := extconfig.ParseSchema([]byte(tpl.SchemaJSON))
	if err != nil {
		return nil, err
	}
	r.schemaMu.Lock()
	if r.schemas == nil {
		r.schemas = map[int64]cachedSchema{}
	}
	r.schemas[tpl.TemplateID] = cachedSchema{raw: tpl.SchemaJSON, schema: sc}
	r.schemaMu.Unlock()
	return sc, nil
}

// newReleases builds the pipeline over p (its jobs and audit pushes are
// registered by New).
func newReleases(p *Platform) *Releases {
	return &Releases{
		Store: p.Store, WeChat: p.Client, Jobs: p.Jobs, Hub: p.Hub, Now: p.now, Log: p.log, Holder: p.holder,
		ScanPoll: 15 * time.Second, ScanMaxPolls: 80, SubmitWaitPolls: 20,
		AuditPoll: 10 * time.Minute, InFlightGrace: 3 * time.Minute, ResumeEvery: time.Minute, QuotaTTL: time.Minute,
	}
}

func (r *Releases) now() time.Time { return r.Now() }

func (r *Releases) publish(rel model.Release) {
	r.Hub.Publish(Event{Name: EventRelease, TenantID: rel.TenantID, AppID: rel.AppID})
}

func userCause(a model.Actor, seq int64) model.Cause {
	return model.Cause{Kind: model.CauseUser, ActorID: a.UserID, Actor: a.Label, Seq: seq}
}

func systemCause(detail string) model.Cause {
	return model.Cause{Kind: model.CauseSystem, Actor: "system", Detail: detail}
}

// move applies ev, with ops in the same transaction, and publishes the result.
func (r *Releases) move(ctx context.Context, rel model.Release, ev model.ReleaseEvent, c model.Cause, ops ...store.TxOp) (model.Release, error) {
	if c.At.IsZero() {
		c.At = r.now()
	}
	n, err := r.Store.TransitionRelease(ctx, rel.TenantID, rel.ID, ev, c, ops...)
	if err != nil {
		return rel, err
	}
	r.publish(n)
	return n, nil
}

// wechatCode returns the errcode of a WeChat error, or 0 when the call got
// no answer (transport, HTTP status, undecodable body).
func wechatCode(err error) int {
	var e *wechat.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

// ActionError is returned by user actions that WeChat refused: the
// localized next action (model.ErrActionFor) and the errcode.
func actionError(err error) error {
	code := wechatCode(err)
	a := model.ErrActionFor(code)
	return &model.Error{Code: model.CodeConflict, Key: a.Key, Data: map[string]any{"Errcode": code}, Err: err}
}

func errOutcome(code int) string { return "errcode:" + strconv.Itoa(code) }

// enqueueStep schedules the step job for rel at its current Seq.
func (r *Releases) enqueueStep(ctx context.Context, rel model.Release, at time.Time, poll int) error {
	_, _, err := r.Store.EnqueueJob(ctx, store.NewJob{
		Kind:        JobReleaseStep,
		DedupeKey:   fmt.Sprintf("release:%d:%d:step:%d", rel.ID, rel.Seq, poll),
		Payload:     ReleaseJob{TenantID: rel.TenantID, ReleaseID: rel.ID, Seq: rel.Seq, Poll: poll},
		RunAt:       at,
		MaxAttempts: 12,
	})
	if err == nil {
		r.Jobs.Kick()
	}
	return err
}

// PrepareRelease starts a draft release of templateID for the app, with the
// app's newest config rendered into the exact ext_json string commit will
// send (extAppid = appID, extEnable true) and the payload hash an approver
// will be bound to. The audit items get the template's first page and the
// app's first category from get_category when WeChat answers (change them
// with AmendSubmit). Errors: the template has no schema or is deleted
// (conflict), the config does not validate (extconfig.FieldErrors), the
// app already has an open release (conflict "release.err.open_exists").
func (r *Releases) PrepareRelease(ctx context.Context, tenantID int64, appID string, templateID int64, userVersion, userDesc string, actor model.Actor) (model.Release, error) {
	return r.prepare(ctx, tenantID, appID, templateID, userVersion, userDesc, actor, 0)
}

// prepare is PrepareRelease for a campaign (campaignID, 0 for none): one
// release per app per campaign (conflict "release.err.campaign_exists").
func (r *Releases) prepare(ctx context.Context, tenantID int64, appID string, templateID int64, userVersion, userDesc string, actor model.Actor, campaignID int64) (model.Release, error) {
	if _, err := r.Store.App(ctx, tenantID, appID); err != nil {
		return model.Release{}, err
	}
	ext, cfgVersion, tpl, err := r.renderExtJSON(ctx, tenantID, appID, templateID)
	if err != nil {
		return model.Release{}, err
	}
	p := model.ReleasePayload{TemplateID: templateID, UserVersion: userVersion, UserDesc: userDesc, ExtJSON: ext}
	if cats, err := r.WeChat.Categories(ctx, appID); err == nil && len(cats) > 0 {
		c := cats[0]
		item := model.AuditItemChoice{FirstClass: c.FirstClass, SecondClass: c.SecondClass, ThirdClass: c.ThirdClass,
			FirstID: c.FirstID, SecondID: c.SecondID, ThirdID: c.ThirdID}
		if len(tpl.Pages) > 0 {
			item.Address = tpl.Pages[0]
		}
		p.Submit.Items = []model.AuditItemChoice{item}
	} else if err != nil {
		r.Log.Warn("prepare: get_category", "appid", appID, "err", err)
	}
	rel, err := model.NewRelease(tenantID, appID, cfgVersion, p, actor, r.now())
	if err != nil {
		return rel, err
	}
	rel.CampaignID = campaignID
	rel, err = r.Store.CreateRelease(ctx, tenantID, rel)
	if err != nil {
		return rel, err
	}
	r.publish(rel)
	return rel, nil
}

// PreviewExtJSON renders the ext_json string a release of templateID would
// send for the app now, from its newest config. It only reads.
func (r *Releases) PreviewExtJSON(ctx context.Context, tenantID int64, appID string, templateID int64) (string, error) {
	ext, _, _, err := r.renderExtJSON(ctx, tenantID, appID, templateID)
	return ext, err
}

func (r *Releases) renderExtJSON(ctx context.Context, tenantID int64, appID string, templateID int64) (string, int64, model.Template, error) {
	tpl, err := r.Store.Template(ctx, templateID)
	if err != nil {
		return "", 0, tpl, err
	}
	if !tpl.DeletedAt.IsZero() {
		return "", 0, tpl, model.Errorf(model.CodeConflict, "release.err.template_deleted")
	}
	if tpl.SchemaJSON == "" {
		return "", 0, tpl, model.Errorf(model.CodeConflict, "release.err.no_schema")
	}
	schema, err := r.schemaOf(tpl)
	if err != nil {
		return "", 0, tpl, &model.Error{Code: model.CodeConflict, Key: "release.err.no_schema", Err: err}
	}
	cfg, extra := schema.Defaults(), map[string]any{}
	var version int64
	c, err := r.Store.LatestConfig(ctx, tenantID, appID)
	switch {
	case err == nil:
		if cfg, err = extconfig.DecodeConfig([]byte(c.JSON)); err != nil {
			return "", 0, tpl, &model.Error{Code: model.CodeInvalid, Key: "config.err.invalid", Err: err}
		}
		if extra, err = extconfig.DecodeExtra(c.Extra); err != nil {
			return "", 0, tpl, &model.Error{Code: model.CodeInvalid, Key: "config.err.invalid", Err: err}
		}
		version = c.Version
	case !model.IsNotFound(err):
		return "", 0, tpl, err
	}
	ext, err := schema.RenderExtJSONWith(appID, cfg, extra, tpl.Pages, func(hash string) string { return r.ImageURL(tenantID, hash) })
	return ext, version, tpl, err
}

// AmendSubmit replaces the audit choices (items with page and category,
// privacy_api_not_use, version_desc, feedback, order path) of a release in
// draft, preflight or preflight_failed; awaiting_approval and submit_failed
// go back to preflight. seenSeq is the Seq the editor saw.
// Any approval is void afterwards (the payload hash changes). In preflight
// the checks run again with the new choices.
func (r *Releases) AmendSubmit(ctx context.Context, tenantID, releaseID int64, actor model.Actor, seenSeq int64, choices model.SubmitChoices) (model.Release, error) {
	rel, err := r.Store.Release(ctx, tenantID, releaseID)
	if err != nil {
		return rel, err
	}
	p := rel.ReleasePayload
	p.Submit = choices
	c := userCause(actor, seenSeq)
	c.Payload = &p
	rel, err = r.move(ctx, rel, model.EvAmend, c)
	if err != nil || rel.State != model.RelPreflight {
		return rel, err
	}
	return rel, r.enqueueStep(ctx, rel, time.Time{}, 0) // check the new choices
}

// Commit sends the release to WeChat: it moves a draft (or a failed commit)
// to committing and enqueues JobReleaseStep, which commits, fetches the
// experience QR, waits for the privacy scan and runs preflight, ending in
// awaiting_approval or preflight_failed. seenSeq is the Seq the user saw
// (a double click gets a conflict).
func (r *Releases) Commit(ctx context.Context, tenantID, releaseID int64, actor model.Actor, seenSeq int64) (model.Release, error) {
	// Content security first: a risky or pending image or text blocks it.
	rel, err := r.Store.Release(ctx, tenantID, releaseID)
	if err != nil {
		return rel, err
	}
	if err := r.contentGate(ctx, rel); err != nil {
		return rel, err
	}
	return r.userStep(ctx, tenantID, releaseID, model.EvCommit, userCause(actor, seenSeq))
}

// Recheck runs preflight again (after the tenant fixed a contact, a page,
// a category …) from preflight_failed, awaiting_approval, submit_failed,
// rejected or withdrawn. Any approval is void: a new one is needed.
func (r *Releases) Recheck(ctx context.Context, tenantID, releaseID int64, actor model.Actor, seenSeq int64) (model.Release, error) {
	return r.userStep(ctx, tenantID, releaseID, model.EvRecheck, userCause(actor, seenSeq))
}

func (r *Releases) userStep(ctx context.Context, tenantID, releaseID int64, ev model.ReleaseEvent, c model.Cause) (model.Release, error) {
	rel, err := r.Store.Release(ctx, tenantID, releaseID)
	if err != nil {
		return rel, err
	}
	rel, err = r.move(ctx, rel, ev, c)
	if err != nil {
		return rel, err
	}
	return rel, r.enqueueStep(ctx, rel, time.Time{}, 0)
}

// Approve is the approver's click: it submits the release for audit. It
// refuses the preparer (two-person rule, forbidden
// "release.err.preparer_cannot_approve") and an approval for another
// payload than shownHash (conflict "release.err.payload_changed": the
// approval is void). The state moves to submitting before submit_audit is
// sent, under compare-and-set: of two approvers or a double click exactly
// one gets through and WeChat sees one submission; the others get a
// conflict. The answer is applied before Approve returns when WeChat
// answers; otherwise the submission is reconciled later (never re-sent
// blindly).
//
// Approve is a tenant approver's: it refuses (forbidden
// "approvals.by_staff") when the tenant chose the provider's staff to
// approve; StaffApprove is theirs.
func (r *Releases) Approve(ctx context.Context, tenantID, releaseID int64, approver model.Actor, shownHash string) (model.Release, error) {
	return r.approve(ctx, tenantID, releaseID, approver, shownHash, model.ApprovalsTenant)
}

// StaffApprove is a staff approver's 提交审核 for a tenant that chose staff
// approval; another tenant's release is not found (tenant isolation). The
// two-person rule holds as for Approve.
func (r *Releases) StaffApprove(ctx context.Context, tenantID, releaseID int64, approver model.Actor, shownHash string) (model.Release, error) {
	return r.approve(ctx, tenantID, releaseID, approver, shownHash, model.ApprovalsStaff)
}

func (r *Releases) approve(ctx context.Context, tenantID, releaseID int64, approver model.Actor, shownHash string, by model.Approvals) (model.Release, error) {
	if err := r.ApprovalsAre(ctx, tenantID, by); err != nil {
		return model.Release{}, err
	}
	rel, err := r.Store.Release(ctx, tenantID, releaseID)
	if err != nil {
		return rel, err
	}
	c := userCause(approver, 0)
	c.SeenHash = shownHash
	return r.approveAndSubmit(ctx, rel, c)
}

// approveAndSubmit moves rel to submitting with the submit marker in the
// same transaction, then sends submit_audit.
func (r *Releases) approveAndSubmit(ctx context.Context, rel model.Release, c model.Cause) (model.Release, error) {
	rel, err := r.move(ctx, rel, model.EvApprove, c, r.Store.StartCallOp(rel.ID, "submit", rel.Seq+1))
	if err != nil {
		return rel, err
	}
	return r.sendSubmit(ctx, rel, 0, true)
}

// commitInline moves rel to committing with the commit marker in the same
// transaction and drives it on (commit, QR, scan, preflight) in this
// goroutine; waits and transient failures are left to the job runner.
func (r *Releases) commitInline(ctx context.Context, rel model.Release, c model.Cause) (model.Release, error) {
	rel, err := r.move(ctx, rel, model.EvCommit, c, r.Store.StartCallOp(rel.ID, "commit", rel.Seq+1))
	if err != nil {
		return rel, err
	}
	n, err := r.sendCommit(ctx, rel, store.ReleaseCall{}, true)
	if err != nil {
		return n, r.retryLater(ctx, n, err)
	}
	return n, nil
}

// Edit sends a release back to draft for a new commit (from committed,
// privacy_scan, preflight, preflight_failed, awaiting_approval,
// commit_failed, submit_failed, rejected, withdrawn). The approval and the
// audit data are cleared.
func (r *Releases) Edit(ctx context.Context, tenantID, releaseID int64, actor model.Actor, seenSeq int64) (model.Release, error) {
	rel, err := r.Store.Release(ctx, tenantID, releaseID)
	if err != nil {
		return rel, err
	}
	return r.move(ctx, rel, model.EvEdit, userCause(actor, seenSeq))
}

// Cancel abandons a release that is not in review or live; the app is free
// for a new one.
func (r *Releases) Cancel(ctx context.Context, tenantID, releaseID int64, actor model.Actor, seenSeq int64) (model.Release, error) {
	rel, err := r.Store.Release(ctx, tenantID, releaseID)
	if err != nil {
		return rel, err
	}
	return r.move(ctx, rel, model.EvCancel, userCause(actor, seenSeq))
}

// Dismiss gives up on a failed release or rollback: release_failed goes back
// to approved, rollback_failed to released.
func (r *Releases) Dismiss(ctx context.Context, tenantID, releaseID int64, actor model.Actor, seenSeq int64) (model.Release, error) {
	rel, err := r.Store.Release(ctx, tenantID, releaseID)
	if err != nil {
		return rel, err
	}
	return r.move(ctx, rel, model.EvDismiss, userCause(actor, seenSeq))
}

// Undo withdraws the audit in review (undocodeaudit). WeChat allows 5 a day
// and 10 a month per app: past that the error's key is "wechat.err.87013"
// and the release stays in review.
func (r *Releases) Undo(ctx context.Context, tenantID, releaseID int64, actor model.Actor) (model.Release, error) {
	rel, err := r.Store.Release(ctx, tenantID, releaseID)
	if err != nil {
		return rel, err
	}
	if _, err := model.Next(rel.State, model.EvUndo); err != nil {
		return rel, err
	}
	if err := r.WeChat.UndoAudit(ctx, rel.AppID); err != nil {
		if wechatCode(err) == 85019 { // nothing in review: find out what happened instead
			return r.pollAudit(ctx, rel)
		}
		return rel, actionError(err)
	}
	c := userCause(actor, 0)
	c.Detail = "undocodeaudit"
	return r.move(ctx, rel, model.EvUndo, c)
}

// SpeedUp asks WeChat to expedite the audit in review (speedupaudit); the
// state does not change, the request is recorded. Quota errors come back
// with their key ("wechat.err.89405" …).
func (r *Releases) SpeedUp(ctx context.Context, tenantID, releaseID int64, actor model.Actor) (model.Release, error) {
	rel, err := r.Store.Release(ctx, tenantID, releaseID)
	if err != nil {
		return rel, err
	}
	if _, err := model.Next(rel.State, model.EvSpeedUp); err != nil {
		return rel, err
	}
	if err := r.WeChat.SpeedUpAudit(ctx, rel.AppID, rel.AuditID); err != nil {
		return rel, actionError(err)
	}
	r.quotaInvalidate()
	return r.move(ctx, rel, model.EvSpeedUp, userCause(actor, 0))
}

// Release publishes an approved release (or finishes a gray one) with
// wxa/release. The state is persisted as releasing before the call; a
// release that WeChat says is already live (85052) counts as released.
// Refusals leave it in release_failed with the errcode's next action.
func (r *Releases) Release(ctx context.Context, tenantID, releaseID int64, actor model.Actor) (model.Release, error) {
	rel, err := r.Store.Release(ctx, tenantID, releaseID)
	if err != nil {
		return rel, err
	}
	rel, err = r.move(ctx, rel, model.EvRelease, userCause(actor, 0))
	if err != nil {
		return rel, err
	}
	return r.stepRelease(ctx, rel)
}

// Gray starts or widens a phased release to percent (1–100, higher than
// the current one) of an approved release (grayrelease).
func (r *Releases) Gray(ctx context.Context, tenantID, releaseID int64, actor model.Actor, percent int) (model.Release, error) {
	rel, err := r.Store.Release(ctx, tenantID, releaseID)
	if err != nil {
		return rel, err
	}
	c := userCause(actor, rel.Seq)
	c.GrayPercent, c.At = percent, r.now()
	if _, _, err := rel.Apply(model.EvGray, c); err != nil { // the model's checks first, before WeChat's
		return rel, err
	}
	if err := r.WeChat.GrayRelease(ctx, rel.AppID, wechat.GrayReleaseRequest{GrayPercentage: percent}); err != nil {
		return rel, actionError(err)
	}
	c.Seq = 0
	return r.move(ctx, rel, model.EvGray, c)
}

// RevertGray cancels a phased release (revertgrayrelease): back to approved.
func (r *Releases) RevertGray(ctx context.Context, tenantID, releaseID int64, actor model.Actor) (model.Release, error) {
	rel, err := r.Store.Release(ctx, tenantID, releaseID)
	if err != nil {
		return rel, err
	}
	if _, err := model.Next(rel.State, model.EvGrayRevert); err != nil {
		return rel, err
	}
	if err := r.WeChat.RevertGrayRelease(ctx, rel.AppID); err != nil {
		return rel, actionError(err)
	}
	return r.move(ctx, rel, model.EvGrayRevert, userCause(actor, 0))
}

// History lists the versions an app can roll back to (at most 5, newest
// first), as WeChat reports them.
func (r *Releases) History(ctx context.Context, tenantID int64, appID string) ([]wechat.HistoryVersion, error) {
	if _, err := r.Store.App(ctx, tenantID, appID); err != nil {
		return nil, err
	}
	h, err := r.WeChat.ReleaseHistory(ctx, appID)
	if err != nil {
		return nil, actionError(err)
	}
	return h, nil
}

// Rollback takes a released release back to appVersion (from History; 0
// means the newest earlier version) with revertcoderelease. The target is
// persisted with the rolling_back state before the call, so a crash is
// reconciled against the history rather than rolling back twice. 87011
// (phased release running) and 87012 leave it in rollback_failed.
func (r *Releases) Rollback(ctx context.Context, tenantID, releaseID int64, actor model.Actor, appVersion int64) (model.Release, error) {
	rel, err := r.Store.Release(ctx, tenantID, releaseID)
	if err != nil {
		return rel, err
	}
	if _, err := model.Next(rel.State, model.EvRollback); err != nil {
		return rel, err
	}
	if appVersion == 0 {
		h, err := r.WeChat.ReleaseHistory(ctx, rel.AppID)
		if err != nil {
			return rel, actionError(err)
		}
		if len(h) == 0 {
			return rel, &model.Error{Code: model.CodeConflict, Key: "wechat.err.87012", Data: map[string]any{"Errcode": 87012}}
		}
		appVersion = h[0].AppVersion
	}
	c := userCause(actor, 0)
	c.Detail = "app_version " + strconv.FormatInt(appVersion, 10)
	rel, err = r.move(ctx, rel, model.EvRollback, c)
	if err != nil {
		return rel, err
	}
	if _, _, err := r.Store.StartReleaseCall(ctx, rel.ID, "rollback", rel.Seq, strconv.FormatInt(appVersion, 10)); err != nil {
		return rel, err
	}
	return r.stepRollback(ctx, rel)
}

// QRCode returns the experience version's QR image: the one stored after
// commit, else fetched from WeChat now (not stored: GET never writes).
func (r *Releases) QRCode(ctx context.Context, tenantID, releaseID int64) ([]byte, string, error) {
	img, ct, err := r.Store.ReleaseQR(ctx, tenantID, releaseID)
	if err == nil || !model.IsNotFound(err) {
		return img, ct, err
	}
	rel, err := r.Store.Release(ctx, tenantID, releaseID)
	if err != nil {
		return nil, "", err
	}
	qr, err := r.WeChat.TrialQRCode(ctx, rel.AppID, "")
	if err != nil {
		return nil, "", actionError(err)
	}
	return qr.Image, qr.ContentType, nil
}

// Screenshot fetches one of a rejected release's audit screenshots through
// the app's token (the permanent-material API). Only a media id the
// release's audit result names is fetched; any other is not found.
func (r *Releases) Screenshot(ctx context.Context, tenantID, releaseID int64, mediaID string) (*wechat.Media, error) {
	rel, err := r.Store.Release(ctx, tenantID, releaseID)
	if err != nil {
		return nil, err
	}
	if mediaID == "" || !slices.Contains(strings.Split(rel.ScreenShots, "|"), mediaID) {
		return nil, model.NotFound("screenshot")
	}
	m, err := r.WeChat.Material(ctx, rel.AppID, mediaID)
	if err != nil {
		return nil, actionError(err)
	}
	return m, nil
}

// ReleaseDetail is everything a release page shows.
type ReleaseDetail struct {
	Release   model.Release
	Events    []model.ReleaseTransition // oldest first
	Artifacts store.ReleaseArtifacts    // QR presence, privacy scan, preflight checks
	Next      NextAction
}

// NextAction says what should happen next to a release, so none is ever
// left without one.
type NextAction struct {
	// Key is a translation key: the errcode's action ("wechat.err.N") in a
	// failed state, a preflight check's key, or "release.next.<state>".
	Key     string
	Errcode int
	Retry   bool                 // try the same step again
	Wait    bool                 // WeChat is busy or a quota is spent: wait (the pipeline polls)
	Stop    bool                 // a person must fix something first
	Events  []model.ReleaseEvent // the buttons: user events legal now
}

// Detail loads a release with its timeline, artifacts and next action.
func (r *Releases) Detail(ctx context.Context, tenantID, releaseID int64) (ReleaseDetail, error) {
	rel, err := r.Store.Release(ctx, tenantID, releaseID)
	if err != nil {
		return ReleaseDetail{}, err
	}
	evs, err := r.Store.ReleaseEvents(ctx, tenantID, releaseID)
	if err != nil {
		return ReleaseDetail{}, err
	}
	art, err := r.Store.ReleaseArtifacts(ctx, tenantID, releaseID)
	if err != nil {
		return ReleaseDetail{}, err
	}
	return ReleaseDetail{Release: rel, Events: evs, Artifacts: art, Next: NextFor(rel, art)}, nil
}

// NextFor computes a release's next action from its state, its last
// errcode and its preflight report.
func NextFor(rel model.Release, art store.ReleaseArtifacts) NextAction {
	n := NextAction{Key: "release.next." + string(rel.State), Events: rel.State.UserEvents()}
	if !rel.State.Failed() {
		return n
	}
	if rel.State == model.RelPreflightFailed && rel.Errcode == 0 {
		for _, c := range art.Preflight {
			if !c.OK && !c.Skipped {
				n.Key, n.Stop = c.Key, true
				return n
			}
		}
	}
	a := model.ErrActionFor(rel.Errcode)
	n.Key, n.Errcode, n.Retry, n.Wait, n.Stop = a.Key, rel.Errcode, a.Retry, a.Wait, a.Stop
	return n
}

// ApprovalsAre checks that the tenant's releases are approved by `by`: a
// staff approver asking about a tenant that approves its own gets not
// found; a tenant approver of a tenant that chose staff gets forbidden
// "approvals.by_staff".
func (r *Releases) ApprovalsAre(ctx context.Context, tenantID int64, by model.Approvals) error {
	cur, err := r.Store.TenantApprovals(ctx, tenantID)
	if err != nil {
		return err
	}
	switch {
	case cur == by:
		return nil
	case by == model.ApprovalsStaff:
		return model.NotFound("release")
	default:
		return model.Errorf(model.CodeForbidden, "approvals.by_staff")
	}
}
