package platform_test

import (
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat/sandbox"
)

// TestCampaign200AppsWithFaults ships to 200 apps while WeChat fails in
// every way the retry policy names, and checks each app's end state and
// that nothing was committed or submitted twice.
func TestCampaign200AppsWithFaults(t *testing.T) {
	// The reviewers reject the 50th submission (past the canary); which app
	// that is depends on who got through first.
	var (
		mu        sync.Mutex
		subs      int
		rejectApp string
	)
	cr := newCampRig(t, 200, func(o *sandbox.Options) {
		o.AuditDecider = func(s sandbox.AuditSubmission) sandbox.AuditDecision {
			mu.Lock()
			defer mu.Unlock()
			if subs++; subs == 50 {
				rejectApp = s.AppID
				return sandbox.AuditDecision{Outcome: sandbox.AuditReject, Reason: "页面内容不完整", ScreenShot: "media1"}
			}
			return sandbox.AuditDecision{Outcome: sandbox.AuditApprove}
		}
	})
	c := cr.createApproved(t, cr.input("1.4.2", "修复支付"))

	// The canary (3 apps) goes through clean; then WeChat misbehaves.
	cr.run(t, cr.camp, c.ID, 5*time.Second, 60, func(c model.Campaign) bool { return c.Wave >= 2 })
	cr.sb.InjectError("commit", -1, 3)
	cr.sb.InjectError("commit", 45009, 2)
	cr.sb.InjectError("commit", 85013, 1) // a Stop code: one app is left to a person
	cr.sb.InjectError("submit_audit", 61039, 2)
	cr.sb.InjectError("submit_audit", 85009, 2)
	cr.sb.InjectError("submit_audit", -1, 2)
	cr.sb.InjectError("submit_audit", 85085, 1)
	c = cr.run(t, cr.camp, c.ID, 5*time.Second, 400, ended)
	if c.State != model.CampDone {
		t.Fatalf("campaign ended %s, want done", c.State)
	}
	apps := cr.phases(t, c.ID)
	mu.Lock()
	rejected := rejectApp
	mu.Unlock()
	if rejected == "" {
		t.Fatal("the reviewers saw fewer than 50 submissions")
	}
	counts := map[model.Phase]int{}
	var stopped []string
	for id, a := range apps {
		ph := a.Phase()
		counts[ph]++
		switch {
		case id == rejected:
			if ph != model.PhRejected {
				t.Errorf("%s: %s, want rejected", id, ph)
			}
		case ph == model.PhFailed:
			stopped = append(stopped, id)
			if a.RelState != model.RelCommitFailed || a.Errcode != 85013 {
				t.Errorf("%s: failed in %s errcode %d, want commit_failed 85013", id, a.RelState, a.Errcode)
			}
		case ph != model.PhReleased:
			t.Errorf("%s: %s (release %s errcode %d), want released", id, ph, a.RelState, a.Errcode)
		}
	}
	if len(stopped) != 1 || counts[model.PhReleased] != 198 {
		t.Fatalf("counts %v, stopped %v; want 198 released, 1 rejected, 1 failed with 85013", counts, stopped)
	}
	submitted := map[string]bool{}
	for id := range apps {
		if id != stopped[0] {
			submitted[id] = true
		}
	}
	cr.onceEach(t, submitted)
	// Each injected failure cost exactly one more call: retried once, never
	// re-sent after success, and the Stop code not retried at all.
	if got := cr.sb.CallCount("commit"); got != 200+5 {
		t.Errorf("commit called %d times, want 205 (200 apps, 5 transient failures retried once each)", got)
	}
	if got := cr.sb.CallCount("submit_audit"); got != 199+7 {
		t.Errorf("submit_audit called %d times, want 206 (199 submissions, 7 failures retried once each)", got)
	}
	if n := cr.count(`SELECT COUNT(*) FROM activity WHERE action = 'campaign_waiting_quota'`); n != 1 {
		t.Errorf("85085 moved the campaign to waiting_quota %d times, want 1", n)
	}
}

// A canary whose audits are rejected halts the campaign before any other
// app is committed; cancelling it then cancels the rest.
func TestCampaignRejectedCanaryHalts(t *testing.T) {
	cr := newCampRig(t, 20, nil)
	// The sandbox rejects audits whose description says "reject".
	c := cr.createApproved(t, cr.input("2.0.0", "reject: 新版首页"))
	c = cr.run(t, cr.camp, c.ID, 5*time.Second, 80, ended)
	if c.State != model.CampHalted || c.Notice != "campaign.notice.halted" {
		t.Fatalf("campaign %s notice %q, want halted", c.State, c.Notice)
	}
	data := model.ParseNoticeData(c.NoticeData)
	if data["Wave"] != 1 || data["Rejected"] != 3 || data["Percent"] != 100 {
		t.Errorf("halt notice data %v", data)
	}
	// Halted: nothing more starts, however long we wait.
	cr.spin(t, cr.camp, time.Minute, 5)
	if got := cr.sb.CallCount("commit"); got != 3 {
		t.Errorf("%d commits, want only the canary's 3", got)
	}
	c, err := cr.camp.Decide(cr.ctx, 0, c.ID, model.CampActCancel, cr.creator, c.Seq, "")
	if err != nil {
		t.Fatal(err)
	}
	p, err := cr.camp.Progress(cr.ctx, 0, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Counts[model.PhRejected] != 3 || p.Counts[model.PhCancelled] != 17 || c.State != model.CampCancelled {
		t.Errorf("after cancel: %s %v, want 3 rejected and 17 cancelled", c.State, p.Counts)
	}
}

// The creator cannot approve; an approval is bound to the payload set the
// approver saw; an app whose config changes after the approval drops out
// of it and is never submitted under it.
func TestCampaignTwoPersonRuleAndDrop(t *testing.T) {
	cr := newCampRig(t, 8, nil)
	c, _, err := cr.camp.Create(cr.ctx, cr.input("3.0.0", "春季活动"), cr.creator)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cr.camp.Decide(cr.ctx, 0, c.ID, model.CampActApprove, cr.creator, c.Seq, c.SetHash); model.ErrorCode(err) != model.CodeForbidden {
		t.Fatalf("creator approving: %v, want forbidden", err)
	}
	if _, err := cr.camp.Decide(cr.ctx, 0, c.ID, model.CampActApprove, cr.approver, c.Seq, "sha256:other"); model.ErrorCode(err) != model.CodeConflict {
		t.Fatalf("approving another payload set: %v, want conflict", err)
	}
	if _, err := cr.camp.Decide(cr.ctx, cr.tenants[0], c.ID, model.CampActApprove, cr.approver, c.Seq, c.SetHash); !model.IsNotFound(err) {
		t.Fatalf("a tenant acting on a staff campaign: %v, want not found", err)
	}
	// Not approved yet: nothing moves.
	cr.spin(t, cr.camp, 5*time.Second, 3)
	if n := cr.sb.CallCount("commit"); n != 0 {
		t.Fatalf("%d commits before the approval", n)
	}
	c, err = cr.camp.Decide(cr.ctx, 0, c.ID, model.CampActApprove, cr.approver, c.Seq, c.SetHash)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cr.camp.Decide(cr.ctx, 0, c.ID, model.CampActApprove, cr.approver, c.Seq-1, c.SetHash); model.ErrorCode(err) != model.CodeConflict {
		t.Fatalf("second approval: %v, want conflict", err)
	}
	// After the approval, a merchant edits one app's config (past the canary).
	changed := cr.apps[5]
	tn, err := cr.st.TenantOfApp(cr.ctx, changed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cr.rel.SaveConfig(cr.ctx, cr.creator, tn, changed, cr.tplID, url.Values{"shopName": {"改过的店名"}}, ""); err != nil {
		t.Fatal(err)
	}
	c = cr.run(t, cr.camp, c.ID, 5*time.Second, 120, ended)
	apps := cr.phases(t, c.ID)
	if a := apps[changed]; a.Phase() != model.PhDropped || a.Reason != "campaign.drop.config_changed" || a.RelState != model.RelAwaitingApproval {
		t.Errorf("changed app: %s %q release %s, want dropped (config changed) awaiting its own approval", a.Phase(), a.Reason, a.RelState)
	}
	if c.State != model.CampDone {
		t.Fatalf("campaign %s, want done", c.State)
	}
	want := map[string]bool{}
	for _, id := range cr.apps {
		if id != changed {
			want[id] = true
			if ph := apps[id].Phase(); ph != model.PhReleased {
				t.Errorf("%s: %s, want released", id, ph)
			}
		}
	}
	cr.onceEach(t, want)
	if n := cr.sb.AppSuccessCount("submit_audit", changed); n != 0 {
		t.Errorf("the dropped app was submitted %d times", n)
	}
	// The dropped app's release still takes an approval of its own.
	rel, err := cr.st.CampaignRelease(cr.ctx, c.ID, changed)
	if err != nil {
		t.Fatal(err)
	}
	if rel.PreparerID != cr.creator.UserID || rel.ApproverID != 0 {
		t.Errorf("dropped release preparer %d approver %d", rel.PreparerID, rel.ApproverID)
	}
}

// The preview says which apps a campaign skips and why.
func TestCampaignPreviewSkips(t *testing.T) {
	cr := newCampRig(t, 7, nil)
	ctx := cr.ctx
	unauth, noPerm, open, invalid := cr.apps[0], cr.apps[1], cr.apps[2], cr.apps[3]
	if _, err := cr.st.UnauthorizeAuthorizer(ctx, unauth, cr.now().Unix()+1); err != nil {
		t.Fatal(err)
	}
	if _, err := cr.st.SaveAuthorizerGrant(ctx, noPerm, store.AuthorizerGrant{RefreshToken: cr.sb.RefreshToken(noPerm), PermissionSets: []int{1, 17}}); err != nil {
		t.Fatal(err)
	}
	tn := func(id string) int64 {
		v, err := cr.st.TenantOfApp(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if _, err := cr.rel.PrepareRelease(ctx, tn(open), open, cr.tplID, "0.9.0", "hand made", cr.creator); err != nil {
		t.Fatal(err)
	}
	if _, err := cr.rel.SaveConfig(ctx, cr.creator, tn(invalid), invalid, cr.tplID, url.Values{"hotline": {"12345"}}, ""); err != nil {
		t.Fatal(err)
	}
	// A stricter schema: the saved hotline no longer validates.
	if err := cr.lib.SetSchema(ctx, cr.creator, cr.tplID, strings.Replace(campSchema, "{5,20}", "{8,20}", 1)); err != nil {
		t.Fatal(err)
	}
	p, err := cr.camp.Preview(ctx, cr.input("4.0.0", "x"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range p.Skipped {
		got[s.AppID] = s.Reason
	}
	want := map[string]string{unauth: model.SkipUnauthorized, noPerm: model.SkipNoCodePerm, open: model.SkipOpenRelease, invalid: model.SkipConfigInvalid}
	if len(got) != len(want) || len(p.Targets) != 3 {
		t.Fatalf("skipped %v, %d targets; want %v and 3 targets", got, len(p.Targets), want)
	}
	for id, r := range want {
		if got[id] != r {
			t.Errorf("%s skipped for %q, want %q", id, got[id], r)
		}
	}
	// One tenant's campaign sees only that tenant's apps.
	in := cr.input("4.0.0", "x")
	in.TenantID = cr.tenants[1]
	p, err = cr.camp.Preview(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range append(p.Targets, p.Skipped...) {
		if r.TenantID != cr.tenants[1] {
			t.Errorf("tenant campaign lists %s of tenant %d", r.AppID, r.TenantID)
		}
	}
	if _, _, err := cr.camp.Create(ctx, platform.CampaignInput{}, cr.creator); model.ErrorCode(err) != model.CodeInvalid {
		t.Errorf("empty input: %v, want invalid", err)
	}
}

// Waves never ask for more audits than the month has left: the rest waits
// for the next quota window, with a notice, and goes out when it opens.
func TestCampaignWavesWithinQuota(t *testing.T) {
	cr := newCampRig(t, 10, func(o *sandbox.Options) { o.AuditQuota = 6 })
	in := cr.input("5.0.0", "双十二")
	in.CanarySize = 2
	c := cr.createApproved(t, in)
	c = cr.run(t, cr.camp, c.ID, 5*time.Second, 120, func(c model.Campaign) bool { return c.State == model.CampWaitingQuota })
	data := model.ParseNoticeData(c.NoticeData)
	if c.Notice != "campaign.notice.quota" || data["Apps"] != 4 || data["Window"] != "2026-12-01" {
		t.Errorf("notice %q %v, want 4 apps moved to the window of 2026-12-01", c.Notice, data)
	}
	if n := cr.sb.CallCount("submit_audit"); n != 6 {
		t.Errorf("%d submissions, want exactly the quota of 6 (never a refused one)", n)
	}
	cr.spin(t, cr.camp, time.Hour, 3)
	if n := cr.sb.CallCount("commit"); n != 6 {
		t.Errorf("%d commits while waiting for quota, want 6", n)
	}
	// December: the quota is back.
	cr.clock.Advance(model.NextQuotaWindow(cr.now()).Sub(cr.now()) + time.Minute)
	c = cr.run(t, cr.camp, c.ID, 5*time.Second, 120, ended)
	if c.State != model.CampDone {
		t.Fatalf("campaign %s, want done", c.State)
	}
	want := map[string]bool{}
	for _, id := range cr.apps {
		want[id] = true
	}
	cr.onceEach(t, want)
}

// Released all together at a chosen time, as a phased release: approved
// apps wait for the time. Nothing is live yet on the first release, which
// cannot be phased (85079): those go out fully. The next campaign's apps
// then go to 10% of users.
func TestCampaignReleaseAtTimeAsGray(t *testing.T) {
	cr := newCampRig(t, 4, nil)
	in := cr.input("7.0.0", "定时灰度")
	in.CanarySize = 1
	in.ReleaseMode, in.ReleaseAt, in.GrayPercent = model.ReleaseAt, cr.now().Add(2*time.Hour), 10
	c := cr.createApproved(t, in)
	cr.run(t, cr.camp, c.ID, 10*time.Second, 120, func(model.Campaign) bool {
		p, err := cr.camp.Progress(cr.ctx, 0, c.ID)
		return err == nil && p.Counts[model.PhApproved] == 4
	})
	if n := cr.sb.CallCount("grayrelease") + cr.sb.CallCount("release"); n != 0 {
		t.Fatalf("%d release calls before the chosen time", n)
	}
	cr.clock.Advance(2 * time.Hour)
	c = cr.run(t, cr.camp, c.ID, 10*time.Second, 20, ended)
	if c.State != model.CampDone {
		t.Fatalf("campaign %s, want done", c.State)
	}
	for id, a := range cr.phases(t, c.ID) {
		if a.RelState != model.RelReleased {
			t.Errorf("%s: release %s, want released (a first release cannot be phased)", id, a.RelState)
		}
	}
	if n := cr.count(`SELECT COUNT(*) FROM activity WHERE action = 'campaign_decision' AND detail LIKE '%85079%'`); n != 4 {
		t.Errorf("%d fall-back decisions logged, want 4", n)
	}

	in = cr.input("7.1.0", "灰度")
	in.CanarySize, in.GrayPercent = 1, 10
	c = cr.createApproved(t, in)
	c = cr.run(t, cr.camp, c.ID, 10*time.Second, 120, ended)
	if c.State != model.CampDone {
		t.Fatalf("second campaign %s, want done", c.State)
	}
	for id, a := range cr.phases(t, c.ID) {
		if a.RelState != model.RelGray {
			t.Errorf("%s: release %s, want gray", id, a.RelState)
		}
	}
}
