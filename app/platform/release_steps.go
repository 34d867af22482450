package platform

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat"
)

// runStep is the JobReleaseStep handler. A job for a Seq the release has
// moved past does nothing. An error retries the job with backoff; on its
// last attempt the release moves to the failed state of its step instead,
// so it is never left without a next action.
func (r *Releases) runStep(ctx context.Context, j store.Job) error {
	var p ReleaseJob
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return Permanent(err)
	}
	rel, err := r.Store.Release(ctx, p.TenantID, p.ReleaseID)
	if model.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if rel.Seq != p.Seq {
		return nil
	}
	ctx = context.WithValue(ctx, inJobKey{}, true)
	_, err = r.drive(ctx, rel, p.Poll)
	if err != nil && j.Attempts >= j.MaxAttempts {
		r.giveUp(ctx, rel, err)
		return nil
	}
	return err
}

// giveUp moves a release whose step kept failing to its failed state.
func (r *Releases) giveUp(ctx context.Context, rel model.Release, cause error) {
	ev, ok := map[model.ReleaseState]model.ReleaseEvent{
		model.RelCommitting: model.EvCommitFail, model.RelPrivacyScan: model.EvScanFail,
		model.RelPreflight: model.EvPreflightErr, model.RelSubmitting: model.EvSubmitFail,
		model.RelReleasing: model.EvReleaseFail, model.RelRollingBack: model.EvRollbackFail,
	}[rel.State]
	if !ok {
		return
	}
	c := systemCause("gave up: " + cause.Error())
	c.Errcode = wechatCode(cause)
	if _, err := r.move(ctx, rel, ev, c); err != nil {
		r.Log.Warn("release give up", "release", rel.ID, "err", err)
	}
}

// drive runs the step of rel's state and, when it moves on, the next ones.
func (r *Releases) drive(ctx context.Context, rel model.Release, poll int) (model.Release, error) {
	switch rel.State {
	case model.RelCommitting:
		return r.stepCommit(ctx, rel)
	case model.RelCommitted:
		return r.stepCommitted(ctx, rel)
	case model.RelPrivacyScan:
		return r.stepScan(ctx, rel, poll)
	case model.RelPreflight:
		return r.stepPreflight(ctx, rel)
	case model.RelSubmitting:
		return r.stepSubmit(ctx, rel, poll)
	case model.RelAuditing, model.RelDelayed:
		return r.pollAudit(ctx, rel)
	case model.RelReleasing:
		return r.stepRelease(ctx, rel)
	case model.RelRollingBack:
		return r.reconcileRollback(ctx, rel)
	case model.RelGray:
		return r.pollGray(ctx, rel)
	}
	return rel, nil
}

// moved applies a system/poll event; a conflict means someone else (a push,
// a poll, a user) moved the release first, which is not an error: the
// current release is returned.
//
// ops ride in the transition's transaction; when it loses, they are applied
// on their own, as if they had been written first.
func (r *Releases) moved(ctx context.Context, rel model.Release, ev model.ReleaseEvent, c model.Cause, ops ...store.TxOp) (model.Release, bool, error) {
	n, err := r.move(ctx, rel, ev, c, ops...)
	if model.ErrorCode(err) == model.CodeConflict {
		if err := r.Store.ApplyOps(ctx, ops...); err != nil {
			return rel, false, err
		}
		cur, rerr := r.Store.Release(ctx, rel.TenantID, rel.ID)
		if rerr != nil {
			return rel, false, rerr
		}
		return cur, false, nil
	}
	return n, err == nil, err
}

func (r *Releases) failWith(ctx context.Context, rel model.Release, ev model.ReleaseEvent, code int, detail string, ops ...store.TxOp) (model.Release, error) {
	c := systemCause(detail)
	c.Errcode = code
	n, _, err := r.moved(ctx, rel, ev, c, ops...)
	return n, err
}

// transient reports whether err should be retried by the job: no answer,
// or an errcode whose action is Retry.
func transient(err error) bool {
	code := wechatCode(err)
	return code == 0 || model.ErrActionFor(code).Retry
}

// stepCommit sends wxa/commit once. A marker left unfinished by a crash is
// reconciled first: a privacy scan running (61039) means the commit landed.
// Otherwise the commit is sent (again): it carries the same template and
// ext_json, and only restarts the scan — safer than approving stale code.
func (r *Releases) stepCommit(ctx context.Context, rel model.Release) (model.Release, error) {
	call, fresh, err := r.Store.StartReleaseCall(ctx, rel.ID, "commit", rel.Seq, "")
	if err != nil {
		return rel, err
	}
	return r.sendCommit(ctx, rel, call, fresh)
}

// sendCommit is stepCommit once the marker is written: fresh when this
// caller wrote it (with the move to committing, or just now), so nothing
// can have been sent before.
func (r *Releases) sendCommit(ctx context.Context, rel model.Release, call store.ReleaseCall, fresh bool) (model.Release, error) {
	if !fresh {
		switch {
		case call.Finished() && call.Outcome == "ok":
			return r.commitOK(ctx, rel, "commit answered before a restart")
		case call.Finished():
			code, _ := strconv.Atoi(strings.TrimPrefix(call.Outcome, "errcode:"))
			return r.failWith(ctx, rel, model.EvCommitFail, code, "commit refused before a restart")
		}
		if landed, how := r.commitLanded(ctx, rel, call.StartedAt); landed {
			return r.commitOK(ctx, rel, "reconciled: "+how, r.Store.FinishCallOp(rel.ID, "commit", rel.Seq, "ok"))
		}
		r.Log.Info("release: commit outcome unknown, sending it again", "release", rel.ID)
	}
	err := r.WeChat.Commit(ctx, rel.AppID, wechat.CommitRequest{TemplateID: rel.TemplateID, ExtJSON: rel.ExtJSON,
		UserVersion: rel.UserVersion, UserDesc: rel.UserDesc})
	if err != nil {
		code := wechatCode(err)
		if code == 0 {
			return rel, err // no answer: the marker stays, the retry reconciles
		}
		if model.ErrActionFor(code).Retry {
			return rel, errors.Join(r.Store.ClearReleaseCall(ctx, rel.ID, "commit", rel.Seq), err)
		}
		return r.failWith(ctx, rel, model.EvCommitFail, code, err.Error(), r.Store.FinishCallOp(rel.ID, "commit", rel.Seq, errOutcome(code)))
	}
	return r.commitOK(ctx, rel, "wxa/commit", r.Store.FinishCallOp(rel.ID, "commit", rel.Seq, "ok"))
}

// clockSlack allows for WeChat's clock and ours disagreeing when a commit's
// time is compared with our marker.
const clockSlack = 5 * time.Minute

// commitLanded tells whether a commit whose answer was lost reached WeChat:
// the trial version getversioninfo reports is this release's version and
// description, committed after the marker was written; failing that, a
// privacy scan running means some commit just landed.
func (r *Releases) commitLanded(ctx context.Context, rel model.Release, sentAt time.Time) (bool, string) {
	if v, err := r.WeChat.VersionInfo(ctx, rel.AppID); err == nil {
		e := v.ExpInfo
		if e.ExpVersion == rel.UserVersion && e.ExpDesc == rel.UserDesc && !time.Unix(e.ExpTime, 0).Before(sentAt.Add(-clockSlack)) {
			return true, "getversioninfo shows the trial version " + e.ExpVersion
		}
		return false, ""
	}
	if _, err := r.WeChat.CodePrivacyInfo(ctx, rel.AppID); wechatCode(err) == 61039 {
		return true, "the privacy scan of the commit is running"
	}
	return false, ""
}

func (r *Releases) commitOK(ctx context.Context, rel model.Release, detail string, ops ...store.TxOp) (model.Release, error) {
	n, ok, err := r.moved(ctx, rel, model.EvCommitOK, systemCause(detail), ops...)
	if err != nil || !ok {
		return n, err
	}
	return r.stepCommitted(ctx, n)
}

// stepCommitted keeps the experience QR (best effort: it can be fetched on
// demand) and starts the privacy scan polling.
//
// The first look at the scan goes out with the QR request, not after it.
func (r *Releases) stepCommitted(ctx context.Context, rel model.Release) (model.Release, error) {
	var (
		wg      sync.WaitGroup
		info    *wechat.CodePrivacyInfo
		infoErr error
	)
	wg.Add(1)
	go func() { defer wg.Done(); info, infoErr = r.WeChat.CodePrivacyInfo(ctx, rel.AppID) }()
	var ops []store.TxOp
	if qr, err := r.WeChat.TrialQRCode(ctx, rel.AppID, ""); err == nil {
		ops = append(ops, r.Store.QROp(rel.TenantID, rel.ID, qr.Image, qr.ContentType))
	} else {
		r.Log.Warn("release: get_qrcode", "release", rel.ID, "err", err)
	}
	wg.Wait()
	n, ok, err := r.moved(ctx, rel, model.EvScan, systemCause("get_qrcode"), ops...)
	if err != nil || !ok {
		return n, err
	}
	return r.scanned(ctx, n, 0, info, infoErr)
}

// stepScan polls get_code_privacy_info: 61039 (still scanning) waits
// ScanPoll and polls again — it never re-commits, which would restart the scan.
func (r *Releases) stepScan(ctx context.Context, rel model.Release, poll int) (model.Release, error) {
	info, err := r.WeChat.CodePrivacyInfo(ctx, rel.AppID)
	return r.scanned(ctx, rel, poll, info, err)
}

// scanned moves on from a get_code_privacy_info answer.
func (r *Releases) scanned(ctx context.Context, rel model.Release, poll int, info *wechat.CodePrivacyInfo, err error) (model.Release, error) {
	if err != nil {
		code := wechatCode(err)
		switch {
		case transient(err):
			return rel, err
		case model.ErrActionFor(code).Wait:
			if poll >= r.ScanMaxPolls {
				return r.failWith(ctx, rel, model.EvScanFail, code, "privacy scan did not finish")
			}
			return rel, r.enqueueStep(ctx, rel, r.now().Add(r.ScanPoll), poll+1)
		default:
			return r.failWith(ctx, rel, model.EvScanFail, code, err.Error())
		}
	}
	c := model.Cause{Kind: model.CausePoll, Actor: "system",
		Detail: fmt.Sprintf("privacy scan: %d without authorization, %d without configuration", len(info.WithoutAuthList), len(info.WithoutConfList))}
	n, ok, err := r.moved(ctx, rel, model.EvScanDone, c, r.Store.ScanOp(rel.TenantID, rel.ID, info.WithoutAuthList, info.WithoutConfList))
	if err != nil || !ok {
		return n, err
	}
	return r.stepPreflight(ctx, n)
}

// Default texts for the privacy guideline, per privacy key.
const (
	defaultNoticeMethod = "弹窗"
	defaultPrivacyText  = "为你提供小程序内的相关服务"
)

// stepPreflight checks category, pages, privacy guideline and server
// domains; every check is kept in the release's artifacts. WeChat calls
// that fail transiently retry the job.
func (r *Releases) stepPreflight(ctx context.Context, rel model.Release) (model.Release, error) {
	var checks []store.PreflightCheck
	fromErr := func(name string, err error) store.PreflightCheck {
		code := wechatCode(err)
		return store.PreflightCheck{Name: name, Key: model.ErrActionFor(code).Key, Errcode: code, Detail: err.Error()}
	}

	// The checks ask WeChat independent questions: ask them at once (a
	// campaign waits out each round trip a thousand times over).
	var (
		wg                sync.WaitGroup
		cats              []wechat.Category
		pages             []string
		catsErr, pagesErr error
		privCk            store.PreflightCheck
		ops               []store.TxOp
		privErr           error
	)
	wg.Add(3)
	go func() { defer wg.Done(); cats, catsErr = r.WeChat.Categories(ctx, rel.AppID) }()
	go func() { defer wg.Done(); pages, pagesErr = r.WeChat.Pages(ctx, rel.AppID) }()
	go func() { defer wg.Done(); privCk, ops, privErr = r.preflightPrivacy(ctx, rel) }()
	wg.Wait()

	// Category: every audit item names one of the app's categories.
	err := catsErr
	switch {
	case err != nil && transient(err):
		return rel, err
	case err != nil:
		checks = append(checks, fromErr("category", err))
	case len(rel.Submit.Items) == 0 || len(cats) == 0:
		checks = append(checks, store.PreflightCheck{Name: "category", Key: "release.preflight.no_category", Errcode: 0})
	default:
		ck := store.PreflightCheck{Name: "category", OK: true}
		for _, it := range rel.Submit.Items {
			if !slices.ContainsFunc(cats, func(c wechat.Category) bool {
				return c.FirstID == it.FirstID && c.SecondID == it.SecondID && c.ThirdID == it.ThirdID
			}) {
				ck = store.PreflightCheck{Name: "category", Key: "release.preflight.category_gone", Detail: it.FirstClass + "/" + it.SecondClass}
				break
			}
		}
		checks = append(checks, ck)
	}

	// Pages: the committed code's pages belong to the template, and the audit
	// items point at existing pages.
	err = pagesErr
	switch {
	case err != nil && transient(err):
		return rel, err
	case err != nil:
		checks = append(checks, fromErr("pages", err))
	default:
		ck := store.PreflightCheck{Name: "pages", OK: true}
		tpl, err := r.Store.Template(ctx, rel.TemplateID)
		if err != nil {
			return rel, err
		}
		if len(tpl.Pages) == 0 && len(pages) > 0 {
			// First commit of this template: learn its pages.
			if err := r.Store.SetTemplatePages(ctx, rel.TemplateID, pages); err != nil {
				return rel, err
			}
			tpl.Pages = pages
		}
		for _, p := range pages {
			if !slices.Contains(tpl.Pages, p) {
				ck = store.PreflightCheck{Name: "pages", Key: "release.preflight.page_missing", Detail: p}
			}
		}
		for _, it := range rel.Submit.Items {
			if it.Address != "" && !slices.Contains(pages, it.Address) {
				ck = store.PreflightCheck{Name: "pages", Key: "release.preflight.page_missing", Detail: it.Address}
			}
		}
		checks = append(checks, ck)
	}

	// Privacy guideline: cover the privacy keys the code uses, with the
	// tenant's contact; then no privacy API may stay undeclared (61040).
	if privErr != nil {
		return rel, privErr
	}
	checks = append(checks, privCk)

	// Server domains from the platform settings.
	var domains wechat.ServerDomains
	switch err := r.Store.Setting(ctx, SettingServerDomains, &domains); {
	case model.IsNotFound(err):
		checks = append(checks, store.PreflightCheck{Name: "domains", OK: true, Skipped: true})
	case err != nil:
		return rel, err
	default:
		if _, err := r.WeChat.ModifyDomain(ctx, rel.AppID, wechat.DomainSet, domains); err != nil {
			if transient(err) {
				return rel, err
			}
			checks = append(checks, fromErr("domains", err))
		} else {
			checks = append(checks, store.PreflightCheck{Name: "domains", OK: true})
		}
	}

	ops = append(ops, r.Store.PreflightOp(rel.TenantID, rel.ID, checks))
	for _, c := range checks {
		if !c.OK {
			return r.failWith(ctx, rel, model.EvPreflightErr, c.Errcode, c.Name+": "+c.Key+" "+c.Detail, ops...)
		}
	}
	n, _, err := r.moved(ctx, rel, model.EvPreflightOK, systemCause("category, pages, privacy, domains"), ops...)
	return n, err
}

// preflightPrivacy checks the privacy guideline; ops keep what it found
// (privacy keys, the scan) with the preflight's outcome.
func (r *Releases) preflightPrivacy(ctx context.Context, rel model.Release) (store.PreflightCheck, []store.TxOp, error) {
	var ops []store.TxOp
	fail := func(err error) (store.PreflightCheck, []store.TxOp, error) {
		if transient(err) {
			return store.PreflightCheck{}, nil, err
		}
		code := wechatCode(err)
		return store.PreflightCheck{Name: "privacy", Key: model.ErrActionFor(code).Key, Errcode: code, Detail: err.Error()}, ops, nil
	}
	cur, err := r.WeChat.PrivacySetting(ctx, rel.AppID, wechat.PrivacyDev)
	if err != nil {
		return fail(err)
	}
	ops = append(ops, r.Store.PrivacyKeysOp(rel.TenantID, rel.ID, cur.PrivacyList))
	ck := store.PreflightCheck{Name: "privacy", OK: true}
	if len(cur.PrivacyList) == 0 {
		ck.Skipped = true
	} else {
		contact, err := r.Store.TenantContact(ctx, rel.TenantID)
		if err != nil && !model.IsNotFound(err) {
			return ck, nil, err
		}
		set, changed := mergePrivacy(cur, contact)
		o := set.OwnerSetting
		if o.ContactEmail == "" && o.ContactPhone == "" && o.ContactQQ == "" && o.ContactWeixin == "" {
			return store.PreflightCheck{Name: "privacy", Key: "release.preflight.no_contact"}, ops, nil
		}
		if changed {
			if err := r.WeChat.SetPrivacySetting(ctx, rel.AppID, set); err != nil {
				return fail(err)
			}
		}
	}
	info, err := r.WeChat.CodePrivacyInfo(ctx, rel.AppID)
	if err != nil {
		return fail(err)
	}
	ops = append(ops, r.Store.ScanOp(rel.TenantID, rel.ID, info.WithoutAuthList, info.WithoutConfList))
	if undeclared := append(slices.Clone(info.WithoutAuthList), info.WithoutConfList...); len(undeclared) > 0 && !rel.Submit.PrivacyAPINotUse {
		return store.PreflightCheck{Name: "privacy", Key: model.ErrActionFor(61040).Key, Errcode: 61040,
			Detail: strings.Join(undeclared, ", ")}, ops, nil
	}
	return ck, ops, nil
}

// mergePrivacy adds to the app's current privacy guideline what the code
// needs and it lacks: a setting for every privacy key the scan found (with
// a default text) and, only where the merchant left them empty, the
// tenant's contact and notice method. Everything else the merchant set in
// WeChat (keys added by hand, their texts, contact_qq, contact_weixin,
// store_expire_timestamp, ext_file_media_id, store_region) is kept as it
// is. changed says whether anything was added.
func mergePrivacy(cur *wechat.PrivacySettingResult, contact store.TenantContact) (wechat.PrivacySetting, bool) {
	set := wechat.PrivacySetting{PrivacyVer: wechat.PrivacyDev, OwnerSetting: cur.OwnerSetting}
	changed := false
	o := &set.OwnerSetting
	if o.ContactEmail == "" && o.ContactPhone == "" && o.ContactQQ == "" && o.ContactWeixin == "" &&
		(contact.Email != "" || contact.Phone != "") {
		o.ContactEmail, o.ContactPhone, changed = contact.Email, contact.Phone, true
	}
	if o.NoticeMethod == "" {
		o.NoticeMethod = cmp.Or(contact.NoticeMethod, defaultNoticeMethod)
		changed = true
	}
	for _, it := range cur.SettingList {
		it.PrivacyLabel = "" // response only
		if it.PrivacyText == "" {
			it.PrivacyText, changed = defaultPrivacyText, true
		}
		set.SettingList = append(set.SettingList, it)
	}
	for _, k := range cur.PrivacyList {
		if !slices.ContainsFunc(set.SettingList, func(it wechat.PrivacyItem) bool { return it.PrivacyKey == k }) {
			set.SettingList = append(set.SettingList, wechat.PrivacyItem{PrivacyKey: k, PrivacyText: defaultPrivacyText})
			changed = true
		}
	}
	return set, changed
}

func submitRequest(rel model.Release) wechat.SubmitAuditRequest {
	req := wechat.SubmitAuditRequest{FeedbackInfo: rel.Submit.FeedbackInfo, VersionDesc: rel.Submit.VersionDesc,
		PrivacyAPINotUse: rel.Submit.PrivacyAPINotUse, OrderPath: rel.Submit.OrderPath}
	for _, it := range rel.Submit.Items {
		req.ItemList = append(req.ItemList, wechat.AuditItem{Address: it.Address, Tag: it.Tag, Title: it.Title,
			FirstClass: it.FirstClass, SecondClass: it.SecondClass, ThirdClass: it.ThirdClass,
			FirstID: it.FirstID, SecondID: it.SecondID, ThirdID: it.ThirdID})
	}
	return req
}

// stepSubmit sends submit_audit for a release in submitting, exactly once:
// when a marker shows an earlier attempt got as far as sending, WeChat's
// latest audit is checked first (get_latest_auditstatus) and adopted if it
// is this release's. 85009 (an audit is already in review) is reconciled
// the same way; 61039 (scan still running) waits and retries; Stop and
// quota codes move to submit_failed with the errcode's next action.
func (r *Releases) stepSubmit(ctx context.Context, rel model.Release, poll int) (model.Release, error) {
	if rel.State != model.RelSubmitting {
		return rel, nil
	}
	_, fresh, err := r.Store.StartReleaseCall(ctx, rel.ID, "submit", rel.Seq, "")
	if err != nil {
		return rel, err
	}
	return r.sendSubmit(ctx, rel, poll, fresh)
}

// sendSubmit is stepSubmit once the marker is written (fresh: by this caller).
func (r *Releases) sendSubmit(ctx context.Context, rel model.Release, poll int, fresh bool) (model.Release, error) {
	if !fresh {
		n, landed, err := r.reconcileSubmit(ctx, rel)
		if err != nil || landed {
			return n, err
		}
		r.Log.Info("release: no submission found at WeChat, sending it", "release", rel.ID)
	}
	req, err := r.submitRequest(ctx, rel) // uploads the reviewers' files
	var auditID int64
	if err == nil {
		auditID, err = r.WeChat.SubmitAudit(ctx, rel.AppID, req)
	}
	if err != nil {
		code := wechatCode(err)
		switch {
		case code == 0:
			return rel, r.retryLater(ctx, rel, err) // no answer: the marker stays, the retry reconciles
		case code == 85009:
			n, landed, rerr := r.reconcileSubmit(ctx, rel)
			if rerr != nil || landed {
				return n, rerr
			}
		case code == 61039:
			if err := r.Store.ClearReleaseCall(ctx, rel.ID, "submit", rel.Seq); err != nil {
				return rel, err
			}
			if poll < r.SubmitWaitPolls {
				return rel, r.enqueueStep(ctx, rel, r.now().Add(r.ScanPoll), poll+1)
			}
		case model.ErrActionFor(code).Retry:
			if err := r.Store.ClearReleaseCall(ctx, rel.ID, "submit", rel.Seq); err != nil {
				return rel, err
			}
			return rel, r.retryLater(ctx, rel, err)
		}
		return r.failWith(ctx, rel, model.EvSubmitFail, code, err.Error(), r.Store.FinishCallOp(rel.ID, "submit", rel.Seq, errOutcome(code)))
	}
	r.quotaInvalidate()
	c := systemCause("submit_audit")
	c.AuditID = auditID
	n, _, err := r.moved(ctx, rel, model.EvSubmitOK, c, r.Store.FinishCallOp(rel.ID, "submit", rel.Seq, "ok"))
	return n, err
}

// reconcileSubmit adopts WeChat's latest audit when it is this release's
// (same user_version, submitted at or after the approval): landed is true
// and the release moves to auditing (and on, if already decided).
func (r *Releases) reconcileSubmit(ctx context.Context, rel model.Release) (model.Release, bool, error) {
	st, err := r.WeChat.LatestAuditStatus(ctx, rel.AppID)
	if wechatCode(err) == 85058 {
		return rel, false, nil
	}
	if err != nil {
		return rel, false, err
	}
	if st.AuditID == 0 || st.UserVersion != rel.UserVersion || st.SubmitAuditTime < rel.ApprovedAt.Unix() {
		return rel, false, nil
	}
	if err := r.Store.ApplyOps(ctx, r.Store.FinishCallOp(rel.ID, "submit", rel.Seq, "ok")); err != nil {
		return rel, false, err
	}
	c := systemCause("reconciled with get_latest_auditstatus")
	c.AuditID = st.AuditID
	n, ok, err := r.moved(ctx, rel, model.EvSubmitOK, c)
	if err != nil || !ok {
		return n, true, err
	}
	n, err = r.applyAuditStatus(ctx, n, st, model.CausePoll)
	return n, true, err
}

// stepRelease sends wxa/release for a release in releasing. Sending it again
// is safe: WeChat answers 85052 once the version is live, which counts as
// released.
func (r *Releases) stepRelease(ctx context.Context, rel model.Release) (model.Release, error) {
	if _, _, err := r.Store.StartReleaseCall(ctx, rel.ID, "release", rel.Seq, ""); err != nil {
		return rel, err
	}
	err := r.WeChat.Release(ctx, rel.AppID)
	code := wechatCode(err)
	switch {
	case err == nil || code == 85052:
		if err := r.Store.ApplyOps(ctx, r.Store.FinishCallOp(rel.ID, "release", rel.Seq, "ok")); err != nil {
			return rel, err
		}
		n, _, err := r.moved(ctx, rel, model.EvReleaseOK, systemCause("wxa/release"))
		return n, err
	case transient(err):
		return rel, r.retryLater(ctx, rel, err)
	}
	if err := r.Store.ApplyOps(ctx, r.Store.FinishCallOp(rel.ID, "release", rel.Seq, errOutcome(code))); err != nil {
		return rel, err
	}
	return r.failWith(ctx, rel, model.EvReleaseFail, code, err.Error())
}

// retryLater hands a transient failure of an inline call to the job runner
// (which retries with backoff); from inside a job it just returns err.
func (r *Releases) retryLater(ctx context.Context, rel model.Release, err error) error {
	if inJob(ctx) {
		return err
	}
	r.Log.Warn("release: call failed, a job will retry", "release", rel.ID, "state", rel.State, "err", err)
	return r.enqueueStep(ctx, rel, r.now().Add(r.ScanPoll), 1)
}

type inJobKey struct{}

func inJob(ctx context.Context) bool { return ctx.Value(inJobKey{}) != nil }

// stepRollback sends revertcoderelease to the target app_version recorded
// in the call marker.
func (r *Releases) stepRollback(ctx context.Context, rel model.Release) (model.Release, error) {
	target, err := r.rollbackTarget(ctx, rel)
	if err != nil {
		return rel, err
	}
	err = r.WeChat.RevertRelease(ctx, rel.AppID, target)
	code := wechatCode(err)
	switch {
	case err == nil:
		if err := r.Store.ApplyOps(ctx, r.Store.FinishCallOp(rel.ID, "rollback", rel.Seq, "ok")); err != nil {
			return rel, err
		}
		n, _, err := r.moved(ctx, rel, model.EvRollbackOK, systemCause("revertcoderelease to app_version "+strconv.FormatInt(target, 10)))
		return n, err
	case transient(err):
		return rel, r.retryLater(ctx, rel, err)
	}
	if err := r.Store.ApplyOps(ctx, r.Store.FinishCallOp(rel.ID, "rollback", rel.Seq, errOutcome(code))); err != nil {
		return rel, err
	}
	return r.failWith(ctx, rel, model.EvRollbackFail, code, err.Error())
}

func (r *Releases) rollbackTarget(ctx context.Context, rel model.Release) (int64, error) {
	call, _, err := r.Store.StartReleaseCall(ctx, rel.ID, "rollback", rel.Seq, "")
	if err != nil {
		return 0, err
	}
	if call.Detail == "" {
		return 0, nil
	}
	return strconv.ParseInt(call.Detail, 10, 64)
}

// reconcileRollback resumes a rollback found in rolling_back: if the target
// version has left the history, the rollback landed; otherwise it is sent.
func (r *Releases) reconcileRollback(ctx context.Context, rel model.Release) (model.Release, error) {
	target, err := r.rollbackTarget(ctx, rel)
	if err != nil {
		return rel, err
	}
	h, err := r.WeChat.ReleaseHistory(ctx, rel.AppID)
	if err != nil {
		return rel, err
	}
	if target != 0 && !slices.ContainsFunc(h, func(v wechat.HistoryVersion) bool { return v.AppVersion == target }) {
		if err := r.Store.ApplyOps(ctx, r.Store.FinishCallOp(rel.ID, "rollback", rel.Seq, "ok")); err != nil {
			return rel, err
		}
		n, _, err := r.moved(ctx, rel, model.EvRollbackOK, systemCause("reconciled with the release history"))
		return n, err
	}
	return r.stepRollback(ctx, rel)
}

// pollGray finishes a phased release that WeChat reports done.
func (r *Releases) pollGray(ctx context.Context, rel model.Release) (model.Release, error) {
	plan, err := r.WeChat.GrayReleasePlan(ctx, rel.AppID)
	if err != nil {
		return rel, err
	}
	if plan.Status == wechat.GrayDone {
		n, _, err := r.moved(ctx, rel, model.EvGrayDone, model.Cause{Kind: model.CausePoll, Actor: "system", Detail: "getgrayreleaseplan: done"})
		return n, err
	}
	return rel, nil
}
