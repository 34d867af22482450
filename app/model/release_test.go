package model

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// want is the state machine written out independently of ReleaseTable:
// "from event" → to. Every pair not listed must be refused.
var want = map[string]ReleaseState{
	"draft amend":                RelDraft,
	"draft commit":               RelCommitting,
	"draft cancel":               RelCancelled,
	"commit_failed commit":       RelCommitting,
	"commit_failed edit":         RelDraft,
	"commit_failed cancel":       RelCancelled,
	"committing commit_ok":       RelCommitted,
	"committing commit_fail":     RelCommitFailed,
	"committed scan":             RelPrivacyScan,
	"committed edit":             RelDraft,
	"committed cancel":           RelCancelled,
	"privacy_scan scan_done":     RelPreflight,
	"privacy_scan scan_fail":     RelPreflightFailed,
	"privacy_scan edit":          RelDraft,
	"privacy_scan cancel":        RelCancelled,
	"preflight amend":            RelPreflight,
	"preflight preflight_ok":     RelAwaitingApproval,
	"preflight preflight_fail":   RelPreflightFailed,
	"preflight edit":             RelDraft,
	"preflight cancel":           RelCancelled,
	"preflight_failed amend":     RelPreflightFailed,
	"preflight_failed recheck":   RelPreflight,
	"preflight_failed edit":      RelDraft,
	"preflight_failed cancel":    RelCancelled,
	"awaiting_approval recheck":  RelPreflight,
	"awaiting_approval amend":    RelPreflight,
	"awaiting_approval approve":  RelSubmitting,
	"awaiting_approval edit":     RelDraft,
	"awaiting_approval cancel":   RelCancelled,
	"submitting submit_ok":       RelAuditing,
	"submitting submit_fail":     RelSubmitFailed,
	"submit_failed approve":      RelSubmitting,
	"submit_failed recheck":      RelPreflight,
	"submit_failed amend":        RelPreflight,
	"submit_failed edit":         RelDraft,
	"submit_failed cancel":       RelCancelled,
	"auditing audit_pass":        RelApproved,
	"auditing audit_fail":        RelRejected,
	"auditing audit_delay":       RelDelayed,
	"auditing undo":              RelWithdrawn,
	"auditing speed_up":          RelAuditing,
	"delayed audit_pass":         RelApproved,
	"delayed audit_fail":         RelRejected,
	"delayed undo":               RelWithdrawn,
	"delayed speed_up":           RelDelayed,
	"rejected recheck":           RelPreflight,
	"rejected edit":              RelDraft,
	"rejected cancel":            RelCancelled,
	"withdrawn recheck":          RelPreflight,
	"withdrawn edit":             RelDraft,
	"withdrawn cancel":           RelCancelled,
	"approved release":           RelReleasing,
	"approved gray":              RelGray,
	"approved cancel":            RelCancelled,
	"gray gray":                  RelGray,
	"gray gray_revert":           RelApproved,
	"gray gray_done":             RelReleased,
	"gray release":               RelReleasing,
	"releasing release_ok":       RelReleased,
	"releasing release_fail":     RelReleaseFailed,
	"release_failed release":     RelReleasing,
	"release_failed dismiss":     RelApproved,
	"release_failed cancel":      RelCancelled,
	"released rollback":          RelRollingBack,
	"rolling_back rollback_ok":   RelRolledBack,
	"rolling_back rollback_fail": RelRollbackFailed,
	"rollback_failed rollback":   RelRollingBack,
	"rollback_failed dismiss":    RelReleased,
}

func TestNextEveryStateAndEvent(t *testing.T) {
	legal := 0
	for _, s := range ReleaseStates {
		for _, ev := range ReleaseEvents {
			got, err := Next(s, ev)
			exp, ok := want[string(s)+" "+string(ev)]
			if ok {
				legal++
				if err != nil || got != exp {
					t.Errorf("Next(%s, %s) = %q, %v; want %q", s, ev, got, err, exp)
				}
				continue
			}
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeConflict || e.Key != "release.err.illegal" {
				t.Errorf("Next(%s, %s) = %q, %v; want illegal-transition conflict", s, ev, got, err)
			}
			if got != "" {
				t.Errorf("Next(%s, %s) returned state %q with its error", s, ev, got)
			}
		}
	}
	if legal != len(want) || len(ReleaseTable) != len(want) {
		t.Errorf("table has %d rules, test expects %d (matched %d)", len(ReleaseTable), len(want), legal)
	}
}

func TestNextUnknown(t *testing.T) {
	for _, tc := range []struct {
		s  ReleaseState
		ev ReleaseEvent
	}{{"nope", EvCommit}, {RelDraft, "nope"}, {"", ""}, {RelDraft, EvCreate}} {
		if _, err := Next(tc.s, tc.ev); ErrorCode(err) != CodeInvalid {
			t.Errorf("Next(%q, %q) err = %v, want invalid", tc.s, tc.ev, err)
		}
	}
}

// No state may strand a release: every non-terminal state has a way on,
// failed states have a button, in-flight states have outcomes to reconcile.
func TestEveryStateHasANextAction(t *testing.T) {
	for _, s := range ReleaseStates {
		evs := s.Events()
		switch {
		case s.Terminal():
			if len(evs) != 0 {
				t.Errorf("terminal %s has events %v", s, evs)
			}
		case len(evs) == 0:
			t.Errorf("%s has no way on", s)
		}
		if s.Failed() && len(s.UserEvents()) < 2 {
			t.Errorf("failed %s offers %v; want retry and a way out", s, s.UserEvents())
		}
		if s.InFlight() {
			var outcomes int
			for _, ev := range evs {
				if slices.Contains(EventCauses(ev), CauseSystem) {
					outcomes++
				}
			}
			if outcomes != 2 {
				t.Errorf("in-flight %s has %d system outcomes, want ok and fail", s, outcomes)
			}
			if len(s.UserEvents()) != 0 {
				t.Errorf("in-flight %s lets users %v while a call is out", s, s.UserEvents())
			}
		}
	}
	for _, ev := range ReleaseEvents {
		if len(EventCauses(ev)) == 0 {
			t.Errorf("event %s has no allowed cause", ev)
		}
	}
}

func TestStateFlags(t *testing.T) {
	if RelReleased.Open() || RelCancelled.Open() || !RelRejected.Open() || !RelGray.Open() {
		t.Error("Open: released/cancelled must free the app; rejected and gray must hold it")
	}
	if !RelSubmitting.InFlight() || RelAuditing.InFlight() {
		t.Error("InFlight: submitting is, auditing is not (WeChat holds it)")
	}
	if ReleaseState("x").Valid() || !RelDelayed.Valid() {
		t.Error("Valid")
	}
}

var t0 = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

func payload() ReleasePayload {
	return ReleasePayload{TemplateID: 12, UserVersion: "1.4.2", UserDesc: "shop 1.4.2",
		ExtJSON: `{"ext":{"shopId":"S1001"},"extAppid":"wx1","extEnable":true}`}
}

func draft(t *testing.T) Release {
	t.Helper()
	r, err := NewRelease(1, "wx1", 3, payload(), Actor{UserID: 10, Label: "dev@x"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	r.ID = 7
	return r
}

func user(id int64) Cause { return Cause{Kind: CauseUser, ActorID: id, Actor: "u", At: t0} }
func sys() Cause          { return Cause{Kind: CauseSystem, Actor: "system", At: t0} }

// walk applies events in order and fails the test on any error.
func walk(t *testing.T, r Release, steps ...any) Release {
	t.Helper()
	for i := 0; i < len(steps); i += 2 {
		ev, c := steps[i].(ReleaseEvent), steps[i+1].(Cause)
		var err error
		if r, _, err = r.Apply(ev, c); err != nil {
			t.Fatalf("step %s: %v", ev, err)
		}
	}
	return r
}

func toAwaiting(t *testing.T) Release {
	return walk(t, draft(t), EvCommit, user(10), EvCommitOK, sys(), EvScan, sys(),
		EvScanDone, Cause{Kind: CausePoll, At: t0}, EvPreflightOK, sys())
}

func TestApplyRecordsTheTransition(t *testing.T) {
	r := draft(t)
	n, tr, err := r.Apply(EvCommit, Cause{Kind: CauseUser, ActorID: 10, Actor: "dev@x", Detail: "go", At: t0.Add(time.Minute), Seq: 0})
	if err != nil {
		t.Fatal(err)
	}
	if n.State != RelCommitting || n.Seq != 1 || !n.UpdatedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("release after commit = %s seq %d at %v", n.State, n.Seq, n.UpdatedAt)
	}
	wantTr := ReleaseTransition{ReleaseID: 7, TenantID: 1, Seq: 1, From: RelDraft, Event: EvCommit, To: RelCommitting,
		Cause: CauseUser, ActorID: 10, Actor: "dev@x", Detail: "go", At: t0.Add(time.Minute)}
	if tr != wantTr {
		t.Errorf("transition = %+v\nwant %+v", tr, wantTr)
	}
	if r.State != RelDraft || r.Seq != 0 {
		t.Error("Apply changed its receiver")
	}
}

func TestApplyCauseKinds(t *testing.T) {
	r := draft(t)
	if _, _, err := r.Apply(EvCommit, sys()); ErrorCode(err) != CodeForbidden {
		t.Errorf("system commit: %v, want forbidden (only people commit)", err)
	}
	if _, _, err := r.Apply(EvCommit, Cause{Kind: CauseUser}); ErrorCode(err) != CodeForbidden {
		t.Errorf("user commit without actor: %v, want forbidden", err)
	}
	c := walk(t, r, EvCommit, user(10))
	if _, _, err := c.Apply(EvCommitOK, user(10)); ErrorCode(err) != CodeForbidden {
		t.Errorf("user reporting commit_ok: %v, want forbidden", err)
	}
	a := walk(t, toAwaiting(t), EvApprove, Cause{Kind: CauseUser, ActorID: 20, SeenHash: r.PayloadHash, At: t0},
		EvSubmitOK, Cause{Kind: CauseSystem, AuditID: 99, At: t0})
	if _, _, err := a.Apply(EvAuditPass, user(20)); ErrorCode(err) != CodeForbidden {
		t.Errorf("user approving the audit result: %v, want forbidden", err)
	}
	for _, k := range []CauseKind{CausePush, CausePoll} {
		if n, _, err := a.Apply(EvAuditPass, Cause{Kind: k, At: t0}); err != nil || n.State != RelApproved {
			t.Errorf("%s audit_pass: %v %s", k, err, n.State)
		}
	}
	if n, _, err := a.Apply(EvUndo, Cause{Kind: CausePoll, At: t0}); err != nil || n.State != RelWithdrawn {
		t.Errorf("poll finding a console withdrawal: %v", err)
	}
}

func TestApplySeqCompareAndSet(t *testing.T) {
	r := walk(t, draft(t), EvCommit, user(10), EvCommitOK, sys()) // seq 2
	c := user(10)
	c.Seq = 1
	if _, _, err := r.Apply(EvEdit, c); ErrorCode(err) != CodeConflict {
		t.Errorf("stale seq: %v, want conflict", err)
	}
	c.Seq = 2
	if _, _, err := r.Apply(EvEdit, c); err != nil {
		t.Errorf("current seq: %v", err)
	}
}

func TestTwoPersonRule(t *testing.T) {
	r := toAwaiting(t)
	if _, _, err := r.Apply(EvApprove, Cause{Kind: CauseUser, ActorID: 10, SeenHash: r.PayloadHash, At: t0}); ErrorCode(err) != CodeForbidden {
		t.Fatalf("preparer approving: %v, want forbidden", err)
	}
	n, _, err := r.Apply(EvApprove, Cause{Kind: CauseUser, ActorID: 20, Actor: "boss@x", SeenHash: r.PayloadHash, At: t0})
	if err != nil {
		t.Fatal(err)
	}
	if n.State != RelSubmitting || n.ApproverID != 20 || n.Approver != "boss@x" || n.ApprovalHash != r.PayloadHash || !n.ApprovalValid() {
		t.Errorf("approved release = %+v", n)
	}
	// The submission fails; the preparer still cannot retry it.
	f := walk(t, n, EvSubmitFail, Cause{Kind: CauseSystem, Errcode: 61039, At: t0})
	if _, _, err := f.Apply(EvApprove, Cause{Kind: CauseUser, ActorID: 10, SeenHash: f.PayloadHash, At: t0}); ErrorCode(err) != CodeForbidden {
		t.Errorf("preparer retrying submission: %v", err)
	}
}

func TestApprovalBoundToPayloadHash(t *testing.T) {
	r := toAwaiting(t)
	stale := r.PayloadHash
	// The approver was shown an older payload.
	if _, _, err := r.Apply(EvApprove, Cause{Kind: CauseUser, ActorID: 20, SeenHash: "sha256:old", At: t0}); ErrorCode(err) != CodeConflict {
		t.Errorf("approving a hash not current: %v, want conflict", err)
	}
	if _, _, err := r.Apply(EvApprove, Cause{Kind: CauseUser, ActorID: 20, At: t0}); ErrorCode(err) != CodeConflict {
		t.Errorf("approving without a hash: %v, want conflict", err)
	}
	// Someone rewrote ext_json behind the store's back: the stored hash no longer matches.
	tampered := r
	tampered.ExtJSON = `{"ext":{"shopId":"S1002"},"extAppid":"wx1","extEnable":true}`
	if _, _, err := tampered.Apply(EvApprove, Cause{Kind: CauseUser, ActorID: 20, SeenHash: stale, At: t0}); ErrorCode(err) != CodeConflict {
		t.Errorf("approving a tampered payload: %v, want conflict", err)
	}
	// An approval, then any change to any bound field voids it.
	a := walk(t, r, EvApprove, Cause{Kind: CauseUser, ActorID: 20, SeenHash: stale, At: t0})
	mutations := map[string]func(*Release){
		"template":  func(r *Release) { r.TemplateID++ },
		"version":   func(r *Release) { r.UserVersion = "1.4.3" },
		"desc":      func(r *Release) { r.UserDesc += " " },
		"ext_json":  func(r *Release) { r.ExtJSON = r.ExtJSON[:len(r.ExtJSON)-1] + " }" },
		"category":  func(r *Release) { r.Submit.Items = []AuditItemChoice{{FirstID: 1, SecondID: 2}} },
		"privacy":   func(r *Release) { r.Submit.PrivacyAPINotUse = true },
		"order":     func(r *Release) { r.Submit.OrderPath = "pages/order" },
		"feedback":  func(r *Release) { r.Submit.FeedbackInfo = "note" },
		"verdesc":   func(r *Release) { r.Submit.VersionDesc = "x" },
		"self":      func(r *Release) { r.ApproverID = r.PreparerID },
		"hash":      func(r *Release) { r.PayloadHash = PayloadHash(r.ReleasePayload) + "0" },
		"no-hash":   func(r *Release) { r.ApprovalHash = "" },
		"no-person": func(r *Release) { r.ApproverID = 0 },
	}
	for name, mutate := range mutations {
		m := a
		m.Submit.Items = slices.Clone(a.Submit.Items)
		mutate(&m)
		if m.ApprovalValid() {
			t.Errorf("%s: approval still valid after the change", name)
		}
	}
	if !a.ApprovalValid() {
		t.Error("unchanged approval invalid")
	}
}

func TestAmendVoidsApproval(t *testing.T) {
	r := walk(t, toAwaiting(t), EvApprove, Cause{Kind: CauseUser, ActorID: 20, SeenHash: payloadHashOf(t), At: t0},
		EvSubmitFail, Cause{Kind: CauseSystem, Errcode: 61040, At: t0}, EvRecheck, user(10))
	if r.State != RelPreflight || r.ApproverID != 20 {
		t.Fatalf("state %s approver %d", r.State, r.ApproverID)
	}
	p := r.ReleasePayload
	p.Submit.PrivacyAPINotUse = true
	c := user(10)
	c.Payload = &p
	n := walk(t, r, EvAmend, c)
	if n.ApprovalValid() || n.ApproverID != 0 || n.ApprovalHash != "" || n.PayloadHash != PayloadHash(p) || n.PayloadHash == r.PayloadHash {
		t.Errorf("after amend: approver %d hash %q payload hash %q", n.ApproverID, n.ApprovalHash, n.PayloadHash)
	}
	// Once committed, the code is fixed: only preflight choices may change.
	p.ExtJSON = `{}`
	c.Payload = &p
	if _, _, err := r.Apply(EvAmend, c); ErrorCode(err) != CodeConflict {
		t.Errorf("amending ext_json after commit: %v, want conflict", err)
	}
	// In draft anything may change.
	d := draft(t)
	if n := walk(t, d, EvAmend, c); n.ExtJSON != `{}` || n.PayloadHash != PayloadHash(p) {
		t.Errorf("draft amend kept %q", n.ExtJSON)
	}
	bad := p
	bad.UserVersion = ""
	c.Payload = &bad
	if _, _, err := d.Apply(EvAmend, c); ErrorCode(err) != CodeInvalid {
		t.Errorf("amend to an invalid payload: %v", err)
	}
	c.Payload = nil
	if _, _, err := d.Apply(EvAmend, c); ErrorCode(err) != CodeInvalid {
		t.Errorf("amend without a payload: %v", err)
	}
}

func payloadHashOf(t *testing.T) string { return draft(t).PayloadHash }

func TestEventFacts(t *testing.T) {
	r := walk(t, toAwaiting(t), EvApprove, Cause{Kind: CauseUser, ActorID: 20, SeenHash: payloadHashOf(t), At: t0})
	if _, _, err := r.Apply(EvSubmitOK, sys()); ErrorCode(err) != CodeInvalid {
		t.Errorf("submit_ok without auditid: %v", err)
	}
	later := t0.Add(time.Hour)
	a := walk(t, r, EvSubmitOK, Cause{Kind: CauseSystem, AuditID: 1234567, At: later},
		EvAuditDelay, Cause{Kind: CausePush, Reason: "needs more time", At: later},
		EvSpeedUp, user(20),
		EvAuditFail, Cause{Kind: CausePush, Reason: "1:账号信息不符合规范", ScreenShots: "m1|m2", At: later})
	if a.State != RelRejected || a.AuditID != 1234567 || a.Reason != "1:账号信息不符合规范" || a.ScreenShots != "m1|m2" ||
		!a.SubmittedAt.Equal(later) || !a.DecidedAt.Equal(later) || a.Seq != r.Seq+4 {
		t.Errorf("rejected release = %+v", a)
	}
	e := walk(t, a, EvEdit, user(10))
	if e.State != RelDraft || e.AuditID != 0 || e.Reason != "" || e.ApproverID != 0 || e.ApprovalHash != "" {
		t.Errorf("edit kept old submission facts: %+v", e)
	}
}

func TestFailedStatesCarryErrcode(t *testing.T) {
	c := walk(t, draft(t), EvCommit, user(10))
	f := walk(t, c, EvCommitFail, Cause{Kind: CauseSystem, Errcode: 85045, At: t0})
	act, ok := f.ErrAction()
	if f.State != RelCommitFailed || f.Errcode != 85045 || !ok || act.Key != "wechat.err.85045" || !act.Stop {
		t.Errorf("commit_failed: %s %d %+v", f.State, f.Errcode, act)
	}
	g := walk(t, f, EvCommit, user(10), EvCommitOK, sys())
	if _, ok := g.ErrAction(); ok || g.Errcode != 0 {
		t.Errorf("success kept errcode %d", g.Errcode)
	}
	// A network failure has no errcode and must still say what to do.
	n := walk(t, c, EvCommitFail, sys())
	if act, ok := n.ErrAction(); !ok || !act.Retry {
		t.Errorf("transport failure action = %+v", act)
	}
}

func TestGrayPercent(t *testing.T) {
	r := walk(t, toAwaiting(t), EvApprove, Cause{Kind: CauseUser, ActorID: 20, SeenHash: payloadHashOf(t), At: t0},
		EvSubmitOK, Cause{Kind: CauseSystem, AuditID: 5, At: t0}, EvAuditPass, Cause{Kind: CausePush, At: t0})
	for _, p := range []int{0, 101, -5} {
		c := user(20)
		c.GrayPercent = p
		if _, _, err := r.Apply(EvGray, c); ErrorCode(err) != CodeInvalid {
			t.Errorf("gray %d%%: %v", p, err)
		}
	}
	c := user(20)
	c.GrayPercent = 10
	g := walk(t, r, EvGray, c)
	c.GrayPercent = 10
	if _, _, err := g.Apply(EvGray, c); ErrorCode(err) != CodeInvalid {
		t.Errorf("gray not higher than current: %v", err)
	}
	c.GrayPercent = 50
	g = walk(t, g, EvGray, c)
	if g.State != RelGray || g.GrayPercent != 50 {
		t.Errorf("gray = %s %d", g.State, g.GrayPercent)
	}
	if b := walk(t, g, EvGrayRevert, user(20)); b.State != RelApproved || b.GrayPercent != 0 {
		t.Errorf("gray revert = %s %d", b.State, b.GrayPercent)
	}
	if d := walk(t, g, EvGrayDone, Cause{Kind: CausePoll, At: t0.Add(time.Hour)}); d.State != RelReleased || !d.ReleasedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("gray done = %s %v", d.State, d.ReleasedAt)
	}
}

func TestNewReleaseChecks(t *testing.T) {
	if _, err := NewRelease(1, "wx1", 1, payload(), Actor{}, t0); ErrorCode(err) != CodeInvalid {
		t.Errorf("no preparer: %v", err)
	}
	for name, mutate := range map[string]func(*ReleasePayload){
		"template": func(p *ReleasePayload) { p.TemplateID = 0 },
		"version":  func(p *ReleasePayload) { p.UserVersion = " " },
		"long":     func(p *ReleasePayload) { p.UserVersion = string(make([]byte, 65)) },
		"ext_json": func(p *ReleasePayload) { p.ExtJSON = "{" },
		"items":    func(p *ReleasePayload) { p.Submit.Items = make([]AuditItemChoice, 6) },
		"title": func(p *ReleasePayload) {
			p.Submit.Items = []AuditItemChoice{{Title: "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三"}}
		},
		"feedback": func(p *ReleasePayload) { p.Submit.FeedbackInfo = string(make([]rune, 201)) },
	} {
		p := payload()
		mutate(&p)
		if _, err := NewRelease(1, "wx1", 1, p, Actor{UserID: 1}, t0); ErrorCode(err) != CodeInvalid {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
}

func TestPayloadHash(t *testing.T) {
	p := payload()
	h := PayloadHash(p)
	// Hashes are stored with approvals: the encoding must never drift.
	// Computed independently: printf 'minifleet/release-payload/v1\n<canonical JSON>\n' | sha256sum.
	const golden = "sha256:4685c85c019a41e930ce7003c6b28d4062e5b4db20724a6dd2c7eb8f0ee1cd97"
	if h != golden {
		t.Fatalf("PayloadHash = %s, want %s", h, golden)
	}
	q := p
	q.Submit.Items = []AuditItemChoice{}
	if PayloadHash(q) != h {
		t.Error("nil and empty item lists hash differently")
	}
	q.ExtJSON = `{"ext":{"shopId":"S1001"}, "extAppid":"wx1","extEnable":true}` // one space
	if PayloadHash(q) == h {
		t.Error("ext_json whitespace change kept the hash")
	}
	q = p
	q.Submit.Items = []AuditItemChoice{{Address: "a", FirstID: 1}, {Address: "b", FirstID: 2}}
	r := q
	r.Submit.Items = []AuditItemChoice{q.Submit.Items[1], q.Submit.Items[0]}
	if PayloadHash(q) == PayloadHash(r) {
		t.Error("item order does not count")
	}
	u := p
	u.UserDesc = "<b>&"
	if PayloadHash(u) == h || len(PayloadHash(u)) != len("sha256:")+64 {
		t.Error("hash shape")
	}
}

// Issue #12 item 6: the two-person rule covers everyone who wrote the
// payload. A developer (10) prepares, the owner (30) amends the audit items,
// and the owner cannot approve the result alone; a third person (20) can.
func TestTwoPersonRuleCoversAmenders(t *testing.T) {
	r := toAwaiting(t) // prepared by 10
	p := r.ReleasePayload
	p.Submit.Items = []AuditItemChoice{{Address: "pages/index/index", FirstClass: "工具", FirstID: 287, SecondID: 612}}
	owner := user(30)
	owner.Payload = &p
	r = walk(t, r, EvAmend, owner, EvPreflightOK, sys())
	if !slices.Equal(r.Amenders, []int64{30}) || r.State != RelAwaitingApproval {
		t.Fatalf("after the owner's amendment: amenders %v, state %s", r.Amenders, r.State)
	}
	_, _, err := r.Apply(EvApprove, Cause{Kind: CauseUser, ActorID: 30, SeenHash: r.PayloadHash, At: t0})
	if ErrorCode(err) != CodeForbidden || ErrorKey(err) != "release.err.amender_cannot_approve" {
		t.Fatalf("the amender approving: %v, want forbidden (amender_cannot_approve)", err)
	}
	if r.MayApprove(10) == "" || r.MayApprove(30) == "" || r.MayApprove(20) != "" {
		t.Errorf("MayApprove: preparer %q, amender %q, third %q", r.MayApprove(10), r.MayApprove(30), r.MayApprove(20))
	}
	n := walk(t, r, EvApprove, Cause{Kind: CauseUser, ActorID: 20, Actor: "boss@x", SeenHash: r.PayloadHash, At: t0})
	if !n.ApprovalValid() || n.ApproverID != 20 {
		t.Errorf("third person's approval: %+v", n)
	}
	// An approval recorded for an amender is never valid.
	forged := n
	forged.ApproverID = 30
	if forged.ApprovalValid() {
		t.Error("an amender's approval counts as valid")
	}
	// Amending back to the original payload still leaves the amender an author;
	// the preparer amending is not added twice; an unchanged amend adds no one.
	q := r.ReleasePayload
	q.Submit.Items = nil
	back := user(30)
	back.Payload = &q
	prep := user(10)
	pp := q
	pp.Submit.VersionDesc = "v"
	prep.Payload = &pp
	same := user(40)
	same.Payload = &pp
	m := walk(t, r, EvAmend, back, EvAmend, prep, EvAmend, same)
	if !slices.Equal(m.Amenders, []int64{30}) {
		t.Errorf("amenders = %v, want [30]", m.Amenders)
	}
}
