package platform_test

import (
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/wechat/sandbox"
)

// TestCampaign200AppsWithFaults ships to 200 apps while WeChat fails in
// every way the retry policy names, and checks each app's end state and
// that nothing was committed or submitted twice.
func TestCampaign200AppsWithFaults(t *testing.T) {
	var rejectApp string
	cr := newCampRig(t, 200, func(o *sandbox.Options) {
		o.AuditDecider = func(s sandbox.AuditSubmission) sandbox.AuditDecision {
			if s.AppID == rejectApp {
				return sandbox.AuditDecision{Outcome: sandbox.AuditReject, Reason: "页面内容不完整", ScreenShot: "media1"}
			}
			return sandbox.AuditDecision{Outcome: sandbox.AuditApprove}
		}
	})
	rejectApp = cr.apps[100] // past the canary
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
	counts := map[model.Phase]int{}
	var stopped []string
	for id, a := range apps {
		ph := a.Phase()
		counts[ph]++
		switch {
		case id == rejectApp:
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
