package platform_test

import (
	"bytes"
	"image"
	_ "image/png"
	"testing"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/wechat/sandbox"
)

func (rr *relRig) countEvents(t *testing.T, id int64, ev model.ReleaseEvent) int {
	t.Helper()
	evs, err := rr.st.ReleaseEvents(rr.ctx, rr.tenantID, id)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range evs {
		if e.Event == ev {
			n++
		}
	}
	return n
}

// Amending the audit choices of a release awaiting approval sends it back
// to preflight: the checks run again on the new choices, and an approval of
// the payload the approver was shown before is refused.
func TestAmendFromAwaitingApprovalRerunsPreflightAndVoidsApproval(t *testing.T) {
	rr := newRelRig(t, 1)
	rel := rr.prepareToApproval(t, "1.0.0", "first")
	shown, checks := rel.PayloadHash, rr.countEvents(t, rel.ID, model.EvPreflightOK)

	// A category the app does not have: preflight, run again, says so.
	bad := rel.Submit
	bad.Items = []model.AuditItemChoice{{Address: "pages/index/index", Title: "首页", FirstClass: "餐饮", SecondClass: "点餐平台", FirstID: 9901, SecondID: 9902}}
	got, err := rr.rel.AmendSubmit(rr.ctx, rr.tenantID, rel.ID, rr.dev, rel.Seq, bad)
	if err != nil || got.State != model.RelPreflight {
		t.Fatalf("amend from awaiting_approval: %s %v, want preflight", got.State, err)
	}
	rr.runJobs(t)
	rel = rr.want(t, rel.ID, model.RelPreflightFailed)
	if d, _ := rr.rel.Detail(rr.ctx, rr.tenantID, rel.ID); d.Next.Key != "release.preflight.category_gone" {
		t.Errorf("next = %q, want the category check's", d.Next.Key)
	}

	// The app's real category: preflight passes again, on a new payload.
	_, cats, _, err := rr.rel.AuditChoices(rr.ctx, rr.tenantID, rel.ID)
	if err != nil || len(cats) == 0 {
		t.Fatalf("categories: %v %v", cats, err)
	}
	good := bad
	good.Items = []model.AuditItemChoice{{Address: "pages/index/index", Title: "首页", FirstClass: cats[0].FirstClass, SecondClass: cats[0].SecondClass,
		FirstID: cats[0].FirstID, SecondID: cats[0].SecondID}}
	if _, err := rr.rel.AmendSubmit(rr.ctx, rr.tenantID, rel.ID, rr.dev, rel.Seq, good); err != nil {
		t.Fatal(err)
	}
	rel = rr.want(t, rel.ID, model.RelPreflightFailed) // amending there keeps the state …
	if _, err := rr.rel.Recheck(rr.ctx, rr.tenantID, rel.ID, rr.dev, rel.Seq); err != nil {
		t.Fatal(err)
	}
	rr.runJobs(t) // … until the checks run again
	rel = rr.want(t, rel.ID, model.RelAwaitingApproval)
	if n := rr.countEvents(t, rel.ID, model.EvPreflightOK); n != checks+1 {
		t.Errorf("preflight passed %d times, want %d", n, checks+1)
	}
	if rel.PayloadHash == shown {
		t.Fatal("payload hash unchanged by the amended choices")
	}
	if _, err := rr.rel.Approve(rr.ctx, rr.tenantID, rel.ID, rr.boss, shown); model.ErrorCode(err) != model.CodeConflict {
		t.Errorf("approving what was shown before the amendment: err = %v, want conflict", err)
	}
	if n := rr.sb.CallCount("submit_audit"); n != 0 {
		t.Fatalf("submit_audit called %d times", n)
	}
	rel = rr.approve(t, rel)
	if rel.ApprovalHash != rel.PayloadHash || len(rel.Submit.Items) != 1 || rel.Submit.Items[0].FirstID != cats[0].FirstID {
		t.Errorf("submitted: %+v", rel)
	}
}

// After an approved submission failed, amending the choices voids that
// approval: it is cleared, preflight runs, and a new approval is needed.
func TestAmendAfterSubmitFailedVoidsTheApproval(t *testing.T) {
	rr := newRelRig(t, 1)
	rel := rr.prepareToApproval(t, "1.0.0", "first")
	rr.sb.InjectError("submit_audit", 85085, 1) // the month's quota is spent
	if _, err := rr.rel.Approve(rr.ctx, rr.tenantID, rel.ID, rr.boss, rel.PayloadHash); err != nil {
		t.Fatal(err)
	}
	rel = rr.want(t, rel.ID, model.RelSubmitFailed)
	if rel.ApproverID != rr.boss.UserID {
		t.Fatalf("approver = %d, want %d", rel.ApproverID, rr.boss.UserID)
	}
	approved := rel.PayloadHash
	ch := rel.Submit
	ch.VersionDesc = "修改了审核说明"
	if _, err := rr.rel.AmendSubmit(rr.ctx, rr.tenantID, rel.ID, rr.dev, rel.Seq, ch); err != nil {
		t.Fatal(err)
	}
	rel = rr.want(t, rel.ID, model.RelPreflight)
	if rel.ApproverID != 0 || rel.ApprovalHash != "" {
		t.Errorf("approval kept after the amendment: %d %q", rel.ApproverID, rel.ApprovalHash)
	}
	rr.runJobs(t)
	rel = rr.want(t, rel.ID, model.RelAwaitingApproval)
	if _, err := rr.rel.Approve(rr.ctx, rr.tenantID, rel.ID, rr.boss, approved); model.ErrorCode(err) != model.CodeConflict {
		t.Errorf("re-approving the old payload: err = %v, want conflict", err)
	}
	rr.approve(t, rel)
	if n := rr.sb.CallCount("submit_audit"); n != 2 {
		t.Errorf("submit_audit called %d times, want 2 (the failed one and the new approval)", n)
	}
}

// A rejection's screenshots are fetched through the app's token from the
// permanent-material API; only media ids the audit named are fetched.
func TestRejectionScreenshots(t *testing.T) {
	rr := newRelRig(t, 1)
	rel := rr.approve(t, rr.prepareToApproval(t, "1.0.0", "first"))
	rr.decide(t, sandbox.AuditDecision{Outcome: sandbox.AuditReject, Reason: "页面存在测试内容", ScreenShot: "sandbox_media_screenshot_1|sandbox_media_screenshot_2"})
	rel = rr.want(t, rel.ID, model.RelRejected)
	var first []byte
	for _, id := range []string{"sandbox_media_screenshot_1", "sandbox_media_screenshot_2"} {
		m, err := rr.rel.Screenshot(rr.ctx, rr.tenantID, rel.ID, id)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		cfg, format, err := image.DecodeConfig(bytes.NewReader(m.Body))
		if err != nil || format != "png" || m.ContentType != "image/png" || cfg.Width != 270 || cfg.Height != 480 {
			t.Fatalf("%s: %v %s %s %dx%d", id, err, format, m.ContentType, cfg.Width, cfg.Height)
		}
		if first == nil {
			first = m.Body
		} else if bytes.Equal(first, m.Body) {
			t.Error("two screenshots are the same image")
		}
	}
	calls := rr.sb.CallCount("get_material")
	if _, err := rr.rel.Screenshot(rr.ctx, rr.tenantID, rel.ID, "sandbox_media_screenshot_3"); !model.IsNotFound(err) {
		t.Errorf("a media id the audit did not name: err = %v, want not found", err)
	}
	if _, err := rr.rel.Screenshot(rr.ctx, rr.tenantID+1, rel.ID, "sandbox_media_screenshot_1"); !model.IsNotFound(err) {
		t.Errorf("another tenant: err = %v, want not found", err)
	}
	if n := rr.sb.CallCount("get_material"); n != calls {
		t.Errorf("refused requests reached WeChat (%d calls)", n-calls)
	}
}

// Issue #12 item 6 through the service: a developer prepares, an owner
// (boss) amends the audit items and cannot then approve alone; a third
// person (boss2) can.
func TestAmenderCannotApprove(t *testing.T) {
	rr := newRelRig(t, 1)
	rel := rr.prepareToApproval(t, "1.0.0", "first")
	_, cats, _, err := rr.rel.AuditChoices(rr.ctx, rr.tenantID, rel.ID)
	if err != nil || len(cats) == 0 {
		t.Fatalf("categories: %v %v", cats, err)
	}
	items := rel.Submit
	items.Items = []model.AuditItemChoice{{Address: "pages/index/index", Title: "店铺", FirstClass: cats[0].FirstClass, SecondClass: cats[0].SecondClass,
		FirstID: cats[0].FirstID, SecondID: cats[0].SecondID}}
	if _, err := rr.rel.AmendSubmit(rr.ctx, rr.tenantID, rel.ID, rr.boss, rel.Seq, items); err != nil {
		t.Fatal(err)
	}
	rr.runJobs(t)
	rel = rr.want(t, rel.ID, model.RelAwaitingApproval)
	if len(rel.Amenders) != 1 || rel.Amenders[0] != rr.boss.UserID {
		t.Fatalf("amenders = %v, want the owner", rel.Amenders)
	}
	_, err = rr.rel.Approve(rr.ctx, rr.tenantID, rel.ID, rr.boss, rel.PayloadHash)
	if model.ErrorCode(err) != model.CodeForbidden || model.ErrorKey(err) != "release.err.amender_cannot_approve" {
		t.Fatalf("the amender approving: %v, want forbidden", err)
	}
	if n := rr.sb.CallCount("submit_audit"); n != 0 {
		t.Fatalf("submit_audit called %d times", n)
	}
	if _, err := rr.rel.Approve(rr.ctx, rr.tenantID, rel.ID, rr.boss2, rel.PayloadHash); err != nil {
		t.Fatalf("a third person approving: %v", err)
	}
	rr.want(t, rel.ID, model.RelAuditing)
}
