package platform_test

import (
	"context"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat"
	"github.com/minifleet/minifleet/app/wechat/sandbox"
)

const shopSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "x-minifleet": {"allowedKeys": ["window"]},
  "required": ["shopName"],
  "properties": {
    "shopName": {"type": "string", "minLength": 2, "maxLength": 20,
      "x-label": {"zh-CN": "店铺名称", "en": "Shop name"}},
    "open": {"type": "boolean", "default": true, "x-label": {"zh-CN": "营业中", "en": "Open"}}
  }
}`

// relRig is a tenant with a bound Mini Program, a template with a schema,
// a config, a contact, a developer (preparer) and two approvers.
type relRig struct {
	*rig
	rel      *platform.Releases
	lib      *platform.Library
	tenantID int64
	dev      model.Actor
	boss     model.Actor
	boss2    model.Actor
	appID    string
	tplID    int64
}

func newRelRig(t *testing.T, draftID int64) *relRig {
	t.Helper()
	return newRelRigWith(t, draftID, nil)
}

// newRelRigWith is newRelRig with bind, when set, binding the app to the
// tenant instead of the staff assignment (webhooks_test.go authorizes it
// through the sandbox's authorization flow).
func newRelRigWith(t *testing.T, draftID int64, bind func(rr *relRig) string) *relRig {
	t.Helper()
	r := newRig(t, rigOpts{deliver: true, start: true, ticketInterval: 24 * time.Hour})
	rr := &relRig{rig: r}
	rr.rel, rr.lib = r.p.Releases, r.p.Library
	ctx := r.ctx
	u, tn, err := r.st.Signup(ctx, model.User{Email: "dev@example.com", Name: "dev", PasswordHash: "x"}, "Shop Co", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	rr.tenantID, rr.dev = tn.ID, model.Actor{UserID: u.ID, Label: u.Email}
	for i, p := range []*model.Actor{&rr.boss, &rr.boss2} {
		email := []string{"boss@example.com", "boss2@example.com"}[i]
		b, err := r.st.CreateUser(ctx, rr.dev, model.User{Email: email, Name: email, PasswordHash: "x"})
		if err != nil {
			t.Fatal(err)
		}
		*p = model.Actor{UserID: b.ID, Label: b.Email}
	}
	if bind != nil {
		rr.appID = bind(rr)
	} else {
		rr.appID = r.sb.AddApps(1)[0]
		r.seedAuthorizer(r.st, rr.appID)
		if err := r.st.AssignApp(ctx, rr.dev, rr.appID, rr.tenantID); err != nil {
			t.Fatal(err)
		}
	}
	if err := rr.lib.AddDraft(ctx, rr.dev, draftID); err != nil {
		t.Fatal(err)
	}
	ts, err := r.st.ListTemplates(ctx, false)
	if err != nil || len(ts) != 1 {
		t.Fatalf("templates = %v, %v", ts, err)
	}
	rr.tplID = ts[0].TemplateID
	if err := rr.lib.SetSchema(ctx, rr.dev, rr.tplID, shopSchema); err != nil {
		t.Fatal(err)
	}
	if _, err := rr.rel.SaveConfig(ctx, rr.dev, rr.tenantID, rr.appID, rr.tplID, url.Values{"shopName": {"老王面馆"}}, ""); err != nil {
		t.Fatal(err)
	}
	if err := rr.rel.SaveContact(ctx, rr.dev, rr.tenantID, store.TenantContact{Name: "王", Email: "wang@example.com"}); err != nil {
		t.Fatal(err)
	}
	return rr
}

func (rr *relRig) get(t *testing.T, id int64) model.Release {
	t.Helper()
	rel, err := rr.st.Release(rr.ctx, rr.tenantID, id)
	if err != nil {
		t.Fatal(err)
	}
	return rel
}

func (rr *relRig) runJobs(t *testing.T) {
	t.Helper()
	if _, err := rr.p.Jobs.RunDue(rr.ctx); err != nil {
		t.Fatal(err)
	}
}

func (rr *relRig) want(t *testing.T, id int64, st model.ReleaseState) model.Release {
	t.Helper()
	rel := rr.get(t, id)
	if rel.State != st {
		evs, _ := rr.st.ReleaseEvents(rr.ctx, rr.tenantID, id)
		var b strings.Builder
		for _, e := range evs {
			b.WriteString("\n  " + string(e.From) + " -" + string(e.Event) + "-> " + string(e.To) + " (" + string(e.Cause) + ") " + e.Detail)
		}
		t.Fatalf("release %d is %s (errcode %d), want %s; events:%s\nlogs:\n%s", id, rel.State, rel.Errcode, st, b.String(), rr.logs.String())
	}
	return rel
}

// prepareToApproval prepares userDesc's release and drives it through
// commit, the privacy scan (61039 first) and preflight.
func (rr *relRig) prepareToApproval(t *testing.T, version, desc string) model.Release {
	t.Helper()
	rel, err := rr.rel.PrepareRelease(rr.ctx, rr.tenantID, rr.appID, rr.tplID, version, desc, rr.dev)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rr.rel.Commit(rr.ctx, rr.tenantID, rel.ID, rr.dev, rel.Seq); err != nil {
		t.Fatal(err)
	}
	rr.runJobs(t)
	rr.want(t, rel.ID, model.RelPrivacyScan) // 61039: still scanning
	rr.clock.Advance(25 * time.Second)
	rr.runJobs(t)
	return rr.want(t, rel.ID, model.RelAwaitingApproval)
}

func (rr *relRig) approve(t *testing.T, rel model.Release) model.Release {
	t.Helper()
	if _, err := rr.rel.Approve(rr.ctx, rr.tenantID, rel.ID, rr.boss, rel.PayloadHash); err != nil {
		t.Fatal(err)
	}
	return rr.want(t, rel.ID, model.RelAuditing)
}

func (rr *relRig) decide(t *testing.T, d sandbox.AuditDecision) {
	t.Helper()
	if err := rr.sb.DecideAudit(rr.appID, d); err != nil {
		t.Fatal(err)
	}
	rr.sb.WaitPushes()
}

func TestReleaseHappyPath(t *testing.T) {
	rr := newRelRig(t, 1)
	sub := rr.p.Hub.Subscribe(platform.TenantTopic(rr.tenantID))
	defer sub.Close()

	rel, err := rr.rel.PrepareRelease(rr.ctx, rr.tenantID, rr.appID, rr.tplID, "1.0.0", "first", rr.dev)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"extAppid":"` + rr.appID + `"`, `"extEnable":true`, `"shopName":"老王面馆"`} {
		if !strings.Contains(rel.ExtJSON, s) {
			t.Errorf("ext_json %s lacks %s", rel.ExtJSON, s)
		}
	}
	if rel.PayloadHash != model.PayloadHash(rel.ReleasePayload) || len(rel.Submit.Items) != 1 || rel.Submit.Items[0].FirstID == 0 {
		t.Errorf("draft = %+v; want a hash and a category from get_category", rel)
	}
	if _, err := rr.rel.PrepareRelease(rr.ctx, rr.tenantID, rr.appID, rr.tplID, "1.0.1", "", rr.dev); model.ErrorCode(err) != model.CodeConflict {
		t.Errorf("second open release: err = %v, want conflict", err)
	}
	if _, err := rr.rel.Commit(rr.ctx, rr.tenantID, rel.ID, rr.dev, rel.Seq); err != nil {
		t.Fatal(err)
	}
	if _, err := rr.rel.Commit(rr.ctx, rr.tenantID, rel.ID, rr.dev, rel.Seq); model.ErrorCode(err) != model.CodeConflict {
		t.Errorf("double click on commit: err = %v, want conflict", err)
	}
	rr.runJobs(t)
	rr.want(t, rel.ID, model.RelPrivacyScan)
	if img, ct, err := rr.rel.QRCode(rr.ctx, rr.tenantID, rel.ID); err != nil || len(img) == 0 || ct != "image/jpeg" {
		t.Errorf("QR = %d bytes %q %v", len(img), ct, err)
	}
	rr.clock.Advance(25 * time.Second)
	rr.runJobs(t)
	rel = rr.want(t, rel.ID, model.RelAwaitingApproval)
	if n := rr.sb.CallCount("commit"); n != 1 {
		t.Errorf("commit called %d times, want 1", n)
	}
	if n := rr.sb.CallCount("get_code_privacy_info"); n < 2 {
		t.Errorf("get_code_privacy_info called %d times, want a 61039 then an answer", n)
	}
	d, err := rr.rel.Detail(rr.ctx, rr.tenantID, rel.ID)
	if err != nil || !d.Artifacts.HasQR || d.Artifacts.ScannedAt.IsZero() || len(d.Artifacts.Preflight) != 4 {
		t.Fatalf("detail = %+v, %v", d.Artifacts, err)
	}

	rel = rr.approve(t, rel)
	if rel.ApproverID != rr.boss.UserID || rel.AuditID == 0 {
		t.Errorf("approved = %+v", rel)
	}
	rr.decide(t, sandbox.AuditDecision{Outcome: sandbox.AuditApprove})
	rel = rr.want(t, rel.ID, model.RelApproved)
	if _, err := rr.rel.Release(rr.ctx, rr.tenantID, rel.ID, rr.boss); err != nil {
		t.Fatal(err)
	}
	rr.want(t, rel.ID, model.RelReleased)

	evs, err := rr.st.ReleaseEvents(rr.ctx, rr.tenantID, rel.ID)
	if err != nil {
		t.Fatal(err)
	}
	causes := map[model.ReleaseEvent]model.CauseKind{}
	for _, e := range evs {
		causes[e.Event] = e.Cause
		if e.At.IsZero() {
			t.Errorf("event %s without time", e.Event)
		}
	}
	if causes[model.EvAuditPass] != model.CausePush || causes[model.EvApprove] != model.CauseUser || causes[model.EvCommitOK] != model.CauseSystem || causes[model.EvScanDone] != model.CausePoll {
		t.Errorf("causes = %v", causes)
	}
	if len(sub.C) < len(evs)-1 {
		t.Errorf("hub got %d events for %d transitions", len(sub.C), len(evs)-1)
	}
	runs, err := rr.st.TemplateRuns(rr.ctx, 0)
	if err != nil || len(runs) != 1 || runs[0].AppID != rr.appID || runs[0].UserVersion != "1.0.0" {
		t.Errorf("runs = %+v, %v", runs, err)
	}
	months, err := rr.rel.SubmissionsPerMonth(rr.ctx, 3)
	if err != nil || len(months) != 3 || months[2].Count != 1 || months[2].Month != rr.now().UTC().Format("2006-01") {
		t.Errorf("submissions per month = %+v, %v", months, err)
	}
	q, err := rr.rel.Quota(rr.ctx, rr.appID)
	if err != nil || q.Limit == 0 || q.Rest != q.Limit-1 {
		t.Errorf("quota = %+v, %v", q, err)
	}
	if _, err := rr.rel.Quota(rr.ctx, rr.appID); err != nil || rr.sb.CallCount("queryquota") != 1 {
		t.Errorf("quota not cached: %d calls", rr.sb.CallCount("queryquota"))
	}
	u, err := rr.lib.Usage(rr.ctx)
	if err != nil || u.Normal != 1 || u.Cap != 200 {
		t.Errorf("usage = %+v, %v", u, err)
	}
}

func TestTwoPersonRuleAndHashVoiding(t *testing.T) {
	rr := newRelRig(t, 1)
	rel := rr.prepareToApproval(t, "1.0.0", "first")
	if _, err := rr.rel.Approve(rr.ctx, rr.tenantID, rel.ID, rr.dev, rel.PayloadHash); model.ErrorCode(err) != model.CodeForbidden {
		t.Errorf("preparer approving: err = %v, want forbidden", err)
	}
	// The approver was shown a payload; then the preflight choices changed.
	shown := rel.PayloadHash
	ch := rel.Submit
	ch.VersionDesc = "changed after review"
	if _, err := rr.rel.Recheck(rr.ctx, rr.tenantID, rel.ID, rr.dev, rel.Seq); err != nil {
		t.Fatal(err)
	}
	rel = rr.want(t, rel.ID, model.RelPreflight)
	if _, err := rr.rel.AmendSubmit(rr.ctx, rr.tenantID, rel.ID, rr.dev, rel.Seq, ch); err != nil {
		t.Fatal(err)
	}
	rr.runJobs(t)
	rel = rr.want(t, rel.ID, model.RelAwaitingApproval)
	if _, err := rr.rel.Approve(rr.ctx, rr.tenantID, rel.ID, rr.boss, shown); model.ErrorCode(err) != model.CodeConflict {
		t.Errorf("approval of the old payload: err = %v, want conflict", err)
	}
	if n := rr.sb.CallCount("submit_audit"); n != 0 {
		t.Fatalf("submit_audit called %d times", n)
	}
	rr.approve(t, rel)
}

func TestTwoApproversAtOnceSubmitOnce(t *testing.T) {
	rr := newRelRig(t, 1)
	rel := rr.prepareToApproval(t, "1.0.0", "first")
	rr.sb.SetLatency(30 * time.Millisecond)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			who := rr.boss
			if i%2 == 1 {
				who = rr.boss2
			}
			_, errs[i] = rr.rel.Approve(rr.ctx, rr.tenantID, rel.ID, who, rel.PayloadHash)
		}()
	}
	wg.Wait()
	rr.sb.SetLatency(0)
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else if model.ErrorCode(err) != model.CodeConflict {
			t.Errorf("err = %v, want conflict", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d approvals went through, want 1", ok)
	}
	if n := rr.sb.CallCount("submit_audit"); n != 1 {
		t.Errorf("submit_audit called %d times, want 1", n)
	}
	rr.want(t, rel.ID, model.RelAuditing)
}

func TestRejectedThenDelayedThenApproved(t *testing.T) {
	rr := newRelRig(t, 1)
	rel := rr.approve(t, rr.prepareToApproval(t, "1.0.0", "first"))
	rr.decide(t, sandbox.AuditDecision{Outcome: sandbox.AuditReject, Reason: "页面存在测试内容", ScreenShot: "m1|m2"})
	rel = rr.want(t, rel.ID, model.RelRejected)
	if rel.Reason != "页面存在测试内容" || rel.ScreenShots != "m1|m2" {
		t.Errorf("rejected = %q %q", rel.Reason, rel.ScreenShots)
	}
	// Fix and submit again: recheck, approve.
	if _, err := rr.rel.Recheck(rr.ctx, rr.tenantID, rel.ID, rr.dev, rel.Seq); err != nil {
		t.Fatal(err)
	}
	rr.runJobs(t)
	rel = rr.approve(t, rr.want(t, rel.ID, model.RelAwaitingApproval))
	rr.decide(t, sandbox.AuditDecision{Outcome: sandbox.AuditDelay, Reason: "需要进一步核实"})
	rel = rr.want(t, rel.ID, model.RelDelayed)
	if rel.Reason != "需要进一步核实" {
		t.Errorf("delay reason = %q", rel.Reason)
	}
	rr.decide(t, sandbox.AuditDecision{Outcome: sandbox.AuditApprove})
	rr.want(t, rel.ID, model.RelApproved)
	if n := rr.sb.CallCount("submit_audit"); n != 2 {
		t.Errorf("submit_audit called %d times, want 2", n)
	}
}

// A push and a poll report the same result: it is applied once.
func TestPushAndPollAppliedOnce(t *testing.T) {
	rr := newRelRig(t, 1)
	rel := rr.approve(t, rr.prepareToApproval(t, "1.0.0", "first"))
	// The push is lost (delivery to a dead URL); the poll finds the result.
	rr.rig.sb.SetFailureRate("none", 0, 0)
	if err := rr.sb.DecideAudit(rr.appID, sandbox.AuditDecision{Outcome: sandbox.AuditApprove}); err != nil {
		t.Fatal(err)
	}
	// Poll before the push is processed: whichever comes second is a no-op.
	rr.clock.Advance(11 * time.Minute)
	if _, err := rr.rel.ResumeOnce(rr.ctx); err != nil {
		t.Fatal(err)
	}
	rr.runJobs(t)
	rr.sb.WaitPushes()
	rr.want(t, rel.ID, model.RelApproved)
	if n := rr.count(`SELECT COUNT(*) FROM release_events WHERE release_id = ? AND event = 'audit_pass'`, rel.ID); n != 1 {
		t.Errorf("audit_pass recorded %d times, want 1", n)
	}
	if n := rr.count(`SELECT COUNT(*) FROM wechat_pushes WHERE kind = 'weapp_audit_success'`); n != 1 {
		t.Errorf("%d audit pushes recorded, want 1", n)
	}
	// A push for an app with nothing in review is recorded and reconciled.
	if err := rr.sb.DecideAudit(rr.appID, sandbox.AuditDecision{}); err == nil {
		t.Fatal("sandbox decided an audit that is not in flight")
	}
}

func TestWithdrawAndUndoLimit(t *testing.T) {
	rr := newRelRig(t, 1)
	rel := rr.approve(t, rr.prepareToApproval(t, "1.0.0", "first"))
	rr.sb.InjectError("undocodeaudit", 87013, 1)
	_, err := rr.rel.Undo(rr.ctx, rr.tenantID, rel.ID, rr.boss)
	var me *model.Error
	if !asModelError(err, &me) || me.Key != "wechat.err.87013" {
		t.Fatalf("undo over the limit: err = %v, want wechat.err.87013", err)
	}
	rr.want(t, rel.ID, model.RelAuditing)
	if _, err := rr.rel.Undo(rr.ctx, rr.tenantID, rel.ID, rr.boss); err != nil {
		t.Fatal(err)
	}
	rr.want(t, rel.ID, model.RelWithdrawn)
	if _, err := rr.rel.SpeedUp(rr.ctx, rr.tenantID, rel.ID, rr.boss); model.ErrorCode(err) != model.CodeConflict {
		t.Errorf("speed-up after withdrawal: err = %v, want conflict", err)
	}
}

func TestSpeedUp(t *testing.T) {
	rr := newRelRig(t, 1)
	rel := rr.approve(t, rr.prepareToApproval(t, "1.0.0", "first"))
	if _, err := rr.rel.SpeedUp(rr.ctx, rr.tenantID, rel.ID, rr.boss); err != nil {
		t.Fatal(err)
	}
	if _, err := rr.rel.SpeedUp(rr.ctx, rr.tenantID, rel.ID, rr.boss); err == nil || !strings.Contains(err.Error(), "wechat.err.89404") {
		t.Errorf("second speed-up: err = %v, want wechat.err.89404", err)
	}
	rr.want(t, rel.ID, model.RelAuditing)
}

// shipVersion takes a new release all the way to released.
func (rr *relRig) shipVersion(t *testing.T, version string) model.Release {
	t.Helper()
	rel := rr.approve(t, rr.prepareToApproval(t, version, "v"+version))
	rr.decide(t, sandbox.AuditDecision{Outcome: sandbox.AuditApprove})
	rr.want(t, rel.ID, model.RelApproved)
	if _, err := rr.rel.Release(rr.ctx, rr.tenantID, rel.ID, rr.boss); err != nil {
		t.Fatal(err)
	}
	return rr.want(t, rel.ID, model.RelReleased)
}

func TestGrayAndRollback(t *testing.T) {
	rr := newRelRig(t, 1)
	v1 := rr.shipVersion(t, "1.0.0")
	_ = v1
	rel := rr.approve(t, rr.prepareToApproval(t, "1.1.0", "second"))
	rr.decide(t, sandbox.AuditDecision{Outcome: sandbox.AuditApprove})
	rr.want(t, rel.ID, model.RelApproved)

	if _, err := rr.rel.Gray(rr.ctx, rr.tenantID, rel.ID, rr.boss, 30); err != nil {
		t.Fatal(err)
	}
	rel = rr.want(t, rel.ID, model.RelGray)
	if rel.GrayPercent != 30 {
		t.Errorf("gray = %d", rel.GrayPercent)
	}
	if _, err := rr.rel.Gray(rr.ctx, rr.tenantID, rel.ID, rr.boss, 20); model.ErrorCode(err) != model.CodeInvalid {
		t.Errorf("lower gray: err = %v, want invalid", err)
	}
	if n := rr.sb.CallCount("grayrelease"); n != 1 {
		t.Errorf("grayrelease called %d times, want 1 (the lower one refused before WeChat)", n)
	}
	// Rolling back the live version is blocked by the phased release (87011)
	// — checked on v1, which is live.
	if _, err := rr.rel.RevertGray(rr.ctx, rr.tenantID, rel.ID, rr.boss); err != nil {
		t.Fatal(err)
	}
	rr.want(t, rel.ID, model.RelApproved)
	if _, err := rr.rel.Gray(rr.ctx, rr.tenantID, rel.ID, rr.boss, 50); err != nil {
		t.Fatal(err)
	}
	if _, err := rr.rel.Release(rr.ctx, rr.tenantID, rel.ID, rr.boss); err != nil {
		t.Fatal(err)
	}
	rel = rr.want(t, rel.ID, model.RelReleased)

	h, err := rr.rel.History(rr.ctx, rr.tenantID, rr.appID)
	if err != nil || len(h) != 1 || h[0].UserVersion != "1.0.0" {
		t.Fatalf("history = %+v, %v", h, err)
	}
	if _, err := rr.rel.Rollback(rr.ctx, rr.tenantID, rel.ID, rr.boss, 0); err != nil {
		t.Fatal(err)
	}
	rr.want(t, rel.ID, model.RelRolledBack)
	if n := rr.sb.CallCount("revertcoderelease"); n != 3 { // History, the target lookup, the rollback
		t.Errorf("revertcoderelease called %d times, want 3", n)
	}
	runs, _ := rr.st.TemplateRuns(rr.ctx, 0)
	if len(runs) != 1 || runs[0].UserVersion != "1.0.0" {
		t.Errorf("runs after rollback = %+v, want 1.0.0", runs)
	}
}

func TestRollbackBlockedByGray(t *testing.T) {
	rr := newRelRig(t, 1)
	v1 := rr.shipVersion(t, "1.0.0")
	rr.shipVersion(t, "1.1.0")
	// v1 is no longer the newest released, but take the newest.
	_ = v1
	rel := rr.approve(t, rr.prepareToApproval(t, "1.2.0", "third"))
	rr.decide(t, sandbox.AuditDecision{Outcome: sandbox.AuditApprove})
	if _, err := rr.rel.Gray(rr.ctx, rr.tenantID, rel.ID, rr.boss, 10); err != nil {
		t.Fatal(err)
	}
	runs, _ := rr.st.TemplateRuns(rr.ctx, 0)
	live, err := rr.st.Release(rr.ctx, rr.tenantID, runs[0].ReleaseID)
	if err != nil {
		t.Fatal(err)
	}
	// runs shows the gray one as newest live; roll back the 1.1.0 release.
	list, _ := rr.st.ListReleases(rr.ctx, rr.tenantID, rr.appID, 10)
	for _, x := range list {
		if x.UserVersion == "1.1.0" {
			live = x
		}
	}
	if _, err := rr.rel.Rollback(rr.ctx, rr.tenantID, live.ID, rr.boss, 0); err != nil {
		t.Fatal(err)
	}
	got := rr.want(t, live.ID, model.RelRollbackFailed)
	if d, _ := rr.rel.Detail(rr.ctx, rr.tenantID, live.ID); got.Errcode != 87011 || d.Next.Key != "wechat.err.87011" {
		t.Errorf("rollback failed with %d, next %+v", got.Errcode, d.Next)
	}
	if _, err := rr.rel.Dismiss(rr.ctx, rr.tenantID, live.ID, rr.boss, got.Seq); err != nil {
		t.Fatal(err)
	}
	rr.want(t, live.ID, model.RelReleased)
}

func asModelError(err error, target **model.Error) bool {
	e, ok := err.(*model.Error)
	if ok {
		*target = e
	}
	return ok
}

// Errcodes become actions: a release is never left without a next one.
func TestErrcodesBecomeActions(t *testing.T) {
	t.Run("85009 reconciles to the audit in flight", func(t *testing.T) {
		rr := newRelRig(t, 1)
		rel := rr.prepareToApproval(t, "1.0.0", "first")
		rr.sb.InjectError("submit_audit", 85009, 1)
		if _, err := rr.rel.Approve(rr.ctx, rr.tenantID, rel.ID, rr.boss, rel.PayloadHash); err != nil {
			t.Fatal(err)
		}
		got := rr.want(t, rel.ID, model.RelSubmitFailed) // no audit of ours at WeChat
		if got.Errcode != 85009 || !model.ErrActionFor(got.Errcode).Wait {
			t.Errorf("errcode %d", got.Errcode)
		}
		if d, _ := rr.rel.Detail(rr.ctx, rr.tenantID, rel.ID); d.Next.Key != "wechat.err.85009" || len(d.Next.Events) == 0 {
			t.Errorf("next = %+v", d.Next)
		}
	})
	t.Run("85085 quota spent", func(t *testing.T) {
		rr := newRelRig(t, 1)
		rel := rr.prepareToApproval(t, "1.0.0", "first")
		rr.sb.InjectError("submit_audit", 85085, 1)
		if _, err := rr.rel.Approve(rr.ctx, rr.tenantID, rel.ID, rr.boss, rel.PayloadHash); err != nil {
			t.Fatal(err)
		}
		got := rr.want(t, rel.ID, model.RelSubmitFailed)
		if got.Errcode != 85085 {
			t.Errorf("errcode %d", got.Errcode)
		}
		// Next month: an approver submits again.
		if _, err := rr.rel.Approve(rr.ctx, rr.tenantID, rel.ID, rr.boss2, got.PayloadHash); err != nil {
			t.Fatal(err)
		}
		rr.want(t, rel.ID, model.RelAuditing)
	})
	t.Run("61039 at submit waits, never re-commits", func(t *testing.T) {
		rr := newRelRig(t, 1)
		rel := rr.prepareToApproval(t, "1.0.0", "first")
		rr.sb.InjectError("submit_audit", 61039, 2)
		if _, err := rr.rel.Approve(rr.ctx, rr.tenantID, rel.ID, rr.boss, rel.PayloadHash); err != nil {
			t.Fatal(err)
		}
		rr.want(t, rel.ID, model.RelSubmitting)
		for range 2 {
			rr.clock.Advance(20 * time.Second)
			rr.runJobs(t)
		}
		rr.want(t, rel.ID, model.RelAuditing)
		if c, s := rr.sb.CallCount("commit"), rr.sb.CallCount("submit_audit"); c != 1 || s != 3 {
			t.Errorf("commit %d, submit_audit %d; want 1 and 3", c, s)
		}
	})
	t.Run("61040 undeclared privacy API fails preflight", func(t *testing.T) {
		rr := newRelRig(t, 2) // the draft that calls wx.getLocation
		rel, err := rr.rel.PrepareRelease(rr.ctx, rr.tenantID, rr.appID, rr.tplID, "1.0.0", "loc", rr.dev)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rr.rel.Commit(rr.ctx, rr.tenantID, rel.ID, rr.dev, rel.Seq); err != nil {
			t.Fatal(err)
		}
		rr.runJobs(t)
		rr.clock.Advance(25 * time.Second)
		rr.runJobs(t)
		got := rr.want(t, rel.ID, model.RelPreflightFailed)
		d, _ := rr.rel.Detail(rr.ctx, rr.tenantID, rel.ID)
		if got.Errcode != 61040 || d.Next.Key != "wechat.err.61040" || len(d.Artifacts.PrivacyKeys) == 0 {
			t.Errorf("errcode %d, next %+v, keys %v", got.Errcode, d.Next, d.Artifacts.PrivacyKeys)
		}
		if n := rr.sb.CallCount("setprivacysetting"); n != 1 {
			t.Errorf("setprivacysetting called %d times, want 1", n)
		}
	})
	t.Run("86002 account info missing stops", func(t *testing.T) {
		rr := newRelRig(t, 1)
		rel := rr.prepareToApproval(t, "1.0.0", "first")
		rr.sb.InjectError("submit_audit", 86002, 1)
		if _, err := rr.rel.Approve(rr.ctx, rr.tenantID, rel.ID, rr.boss, rel.PayloadHash); err != nil {
			t.Fatal(err)
		}
		got := rr.want(t, rel.ID, model.RelSubmitFailed)
		if a, _ := got.ErrAction(); got.Errcode != 86002 || !a.Stop || a.Key != "wechat.err.86002" {
			t.Errorf("errcode %d action %+v", got.Errcode, a)
		}
	})
	t.Run("85086 nothing committed stops", func(t *testing.T) {
		rr := newRelRig(t, 1)
		rel := rr.prepareToApproval(t, "1.0.0", "first")
		rr.sb.InjectError("submit_audit", 85086, 1)
		if _, err := rr.rel.Approve(rr.ctx, rr.tenantID, rel.ID, rr.boss, rel.PayloadHash); err != nil {
			t.Fatal(err)
		}
		got := rr.want(t, rel.ID, model.RelSubmitFailed)
		if got.Errcode != 85086 {
			t.Errorf("errcode %d", got.Errcode)
		}
		if _, err := rr.rel.Edit(rr.ctx, rr.tenantID, rel.ID, rr.dev, got.Seq); err != nil {
			t.Fatal(err) // the next action: back to draft and commit again
		}
		rr.want(t, rel.ID, model.RelDraft)
	})
	t.Run("-1 at commit retries with backoff", func(t *testing.T) {
		rr := newRelRig(t, 1)
		rel, err := rr.rel.PrepareRelease(rr.ctx, rr.tenantID, rr.appID, rr.tplID, "1.0.0", "x", rr.dev)
		if err != nil {
			t.Fatal(err)
		}
		rr.sb.InjectError("commit", -1, 1)
		if _, err := rr.rel.Commit(rr.ctx, rr.tenantID, rel.ID, rr.dev, rel.Seq); err != nil {
			t.Fatal(err)
		}
		rr.runJobs(t)
		rr.want(t, rel.ID, model.RelCommitting)
		rr.clock.Advance(time.Minute)
		rr.runJobs(t)
		rr.want(t, rel.ID, model.RelPrivacyScan)
		if n := rr.sb.CallCount("commit"); n != 2 {
			t.Errorf("commit called %d times, want 2 (one refused with -1)", n)
		}
	})
}

// A new process over the same database resumes every in-flight state
// without sending anything twice.
func TestCrashResume(t *testing.T) {
	t.Run("submit landed, answer lost", func(t *testing.T) {
		rr := newRelRig(t, 1)
		rel := rr.prepareToApproval(t, "1.0.0", "first")
		// The dying process persisted submitting and its marker, sent
		// submit_audit, and died before recording the answer.
		rel, err := rr.st.TransitionRelease(rr.ctx, rr.tenantID, rel.ID, model.EvApprove,
			model.Cause{Kind: model.CauseUser, ActorID: rr.boss.UserID, Actor: rr.boss.Label, SeenHash: rel.PayloadHash, At: rr.now()})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := rr.st.StartReleaseCall(rr.ctx, rel.ID, "submit", rel.Seq, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := rr.p.Client.SubmitAudit(rr.ctx, rr.appID, wechat.SubmitAuditRequest{}); err != nil {
			t.Fatal(err)
		}
		rr.resumeInNewProcess(t, true)
		// The sandbox decided while we were down: adopted, then polled.
		rr.sb.WaitPushes()
		rr.want(t, rel.ID, model.RelApproved)
		if n := rr.sb.CallCount("submit_audit"); n != 1 {
			t.Errorf("submit_audit called %d times, want 1", n)
		}
	})
	t.Run("submit persisted, never sent", func(t *testing.T) {
		rr := newRelRig(t, 1)
		rel := rr.prepareToApproval(t, "1.0.0", "first")
		// The call is cut off before WeChat handles it.
		rr.sb.SetLatency(time.Second)
		ctx, cancel := context.WithTimeout(rr.ctx, 50*time.Millisecond)
		_, _ = rr.rel.Approve(ctx, rr.tenantID, rel.ID, rr.boss, rel.PayloadHash)
		cancel()
		rr.sb.SetLatency(0)
		rr.want(t, rel.ID, model.RelSubmitting)
		if n := rr.sb.CallCount("submit_audit"); n != 0 {
			t.Fatalf("submit_audit reached WeChat %d times", n)
		}
		rr.resumeInNewProcess(t, true)
		rr.want(t, rel.ID, model.RelAuditing)
		if n := rr.sb.CallCount("submit_audit"); n != 1 {
			t.Errorf("submit_audit called %d times, want 1", n)
		}
	})
	// A commit reached WeChat and its answer was lost: the restart finds it
	// while the scan runs (61039), or after it ended (getversioninfo).
	for _, down := range []time.Duration{0, 10 * time.Minute} {
		t.Run("commit landed, answer lost, down "+down.String(), func(t *testing.T) {
			rr := newRelRig(t, 1)
			rel, err := rr.rel.PrepareRelease(rr.ctx, rr.tenantID, rr.appID, rr.tplID, "1.0.0", "x", rr.dev)
			if err != nil {
				t.Fatal(err)
			}
			rel, err = rr.st.TransitionRelease(rr.ctx, rr.tenantID, rel.ID, model.EvCommit,
				model.Cause{Kind: model.CauseUser, ActorID: rr.dev.UserID, Actor: rr.dev.Label, At: rr.now()})
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := rr.st.StartReleaseCall(rr.ctx, rel.ID, "commit", rel.Seq, ""); err != nil {
				t.Fatal(err)
			}
			if err := rr.p.Client.Commit(rr.ctx, rr.appID, wechat.CommitRequest{TemplateID: rel.TemplateID, ExtJSON: rel.ExtJSON, UserVersion: rel.UserVersion, UserDesc: rel.UserDesc}); err != nil {
				t.Fatal(err)
			}
			rr.clock.Advance(down)
			rr.resumeInNewProcess(t, false) // committing is resumed at start
			if down == 0 {
				rr.want(t, rel.ID, model.RelPrivacyScan) // the scan still runs
				rr.clock.Advance(25 * time.Second)
				rr.runJobs(t)
			}
			rr.want(t, rel.ID, model.RelAwaitingApproval)
			if n := rr.sb.CallCount("commit"); n != 1 {
				t.Errorf("commit called %d times, want 1", n)
			}
		})
	}
	t.Run("commit job never ran", func(t *testing.T) {
		rr := newRelRig(t, 1)
		rel, err := rr.rel.PrepareRelease(rr.ctx, rr.tenantID, rr.appID, rr.tplID, "1.0.0", "x", rr.dev)
		if err != nil {
			t.Fatal(err)
		}
		// committing persisted; the process died before enqueueing its job.
		if _, err := rr.st.TransitionRelease(rr.ctx, rr.tenantID, rel.ID, model.EvCommit,
			model.Cause{Kind: model.CauseUser, ActorID: rr.dev.UserID, Actor: rr.dev.Label, At: rr.now()}); err != nil {
			t.Fatal(err)
		}
		rr.resumeInNewProcess(t, false)
		rr.want(t, rel.ID, model.RelPrivacyScan)
		if n := rr.sb.CallCount("commit"); n != 1 {
			t.Errorf("commit called %d times, want 1", n)
		}
	})
	t.Run("release sent, answer lost", func(t *testing.T) {
		rr := newRelRig(t, 1)
		rel := rr.approve(t, rr.prepareToApproval(t, "1.0.0", "first"))
		rr.decide(t, sandbox.AuditDecision{Outcome: sandbox.AuditApprove})
		rel, err := rr.st.TransitionRelease(rr.ctx, rr.tenantID, rel.ID, model.EvRelease,
			model.Cause{Kind: model.CauseUser, ActorID: rr.boss.UserID, Actor: rr.boss.Label, At: rr.now()})
		if err != nil {
			t.Fatal(err)
		}
		if err := rr.p.Client.Release(rr.ctx, rr.appID); err != nil {
			t.Fatal(err)
		}
		rr.resumeInNewProcess(t, true)
		rr.want(t, rel.ID, model.RelReleased) // 85052: already live
	})
}

// resumeInNewProcess opens a second platform on the same database, waits
// out the in-flight grace when asked, and runs its resume pass and jobs.
func (rr *relRig) resumeInNewProcess(t *testing.T, grace bool) {
	t.Helper()
	st2, p2 := rr.open()
	rel2 := p2.Releases
	if grace {
		rr.clock.Advance(rel2.InFlightGrace + time.Second)
	}
	if _, err := rel2.ResumeOnce(rr.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := p2.Jobs.RunDue(rr.ctx); err != nil {
		t.Fatal(err)
	}
	_ = st2
}

// Every state has its "release.next.<state>" text (NextFor builds the key).
func TestNextKeysTranslated(t *testing.T) {
	for _, f := range []string{"../../locales/en.toml", "../../locales/zh-CN.toml"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range model.ReleaseStates {
			if k := platform.NextFor(model.Release{State: s}, store.ReleaseArtifacts{}).Key; !strings.Contains(string(b), `"`+k+`" =`) {
				t.Errorf("%s: %s missing", f, k)
			}
		}
	}
}
