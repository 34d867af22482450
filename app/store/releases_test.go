package store_test

import (
	"bytes"
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
)

var relKey = bytes.Repeat([]byte{7}, 32)

type relFixture struct {
	st       *store.Store
	path     string
	tenant   model.Tenant
	dev      model.User // prepares
	boss     model.User // approves
	boss2    model.User // approves too
	other    model.Tenant
	clockNow time.Time
}

func relOpen(t *testing.T) *relFixture {
	t.Helper()
	ctx := context.Background()
	f := &relFixture{path: filepath.Join(t.TempDir(), "r.db"), clockNow: time.Unix(1_800_000_000, 0)}
	var err error
	if f.st, err = store.Open(ctx, f.path, relKey); err != nil {
		t.Fatal(err)
	}
	f.st.Now = func() time.Time { return f.clockNow }
	t.Cleanup(func() { f.st.Close() })
	if f.dev, f.tenant, err = f.st.Signup(ctx, model.User{Email: "dev@shop.test", Name: "Dev", PasswordHash: "h"}, "面馆", ""); err != nil {
		t.Fatal(err)
	}
	for _, u := range []*model.User{&f.boss, &f.boss2} {
		email := "boss@shop.test"
		if u == &f.boss2 {
			email = "boss2@shop.test"
		}
		if *u, err = f.st.CreateUser(ctx, model.SystemActor, model.User{Email: email, Name: "Boss", PasswordHash: "h"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, f.other, err = f.st.Signup(ctx, model.User{Email: "o@other.test", Name: "O", PasswordHash: "h"}, "别家", ""); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *relFixture) actor(u model.User) model.Actor {
	return model.Actor{UserID: u.ID, Label: u.Email}
}

func (f *relFixture) user(u model.User, seq int64) model.Cause {
	return model.Cause{Kind: model.CauseUser, ActorID: u.ID, Actor: u.Email, Seq: seq}
}

var sysCause = model.Cause{Kind: model.CauseSystem, Actor: "system"}

func (f *relFixture) draft(t *testing.T, appID string) model.Release {
	t.Helper()
	p := model.ReleasePayload{TemplateID: 12, UserVersion: "1.0.0", UserDesc: "首发",
		ExtJSON: `{"ext":{"shopName":"面馆"},"extAppid":"` + appID + `","extEnable":true}`}
	r, err := model.NewRelease(f.tenant.ID, appID, 1, p, f.actor(f.dev), f.clockNow)
	if err != nil {
		t.Fatal(err)
	}
	if r, err = f.st.CreateRelease(context.Background(), f.tenant.ID, r); err != nil {
		t.Fatal(err)
	}
	return r
}

func (f *relFixture) step(t *testing.T, r model.Release, ev model.ReleaseEvent, c model.Cause) model.Release {
	t.Helper()
	n, err := f.st.TransitionRelease(context.Background(), f.tenant.ID, r.ID, ev, c)
	if err != nil {
		t.Fatalf("%s from %s: %v", ev, r.State, err)
	}
	return n
}

// toAwaiting drives a draft to awaiting approval as the pipeline would.
func (f *relFixture) toAwaiting(t *testing.T, r model.Release) model.Release {
	r = f.step(t, r, model.EvCommit, f.user(f.dev, r.Seq))
	r = f.step(t, r, model.EvCommitOK, sysCause)
	r = f.step(t, r, model.EvScan, sysCause)
	r = f.step(t, r, model.EvScanDone, model.Cause{Kind: model.CausePoll})
	p := r.ReleasePayload
	p.Submit = model.SubmitChoices{Items: []model.AuditItemChoice{{Address: "pages/index/index", FirstClass: "餐饮", SecondClass: "点餐", FirstID: 1, SecondID: 2}}}
	c := f.user(f.dev, r.Seq)
	c.Payload = &p
	r = f.step(t, r, model.EvAmend, c)
	return f.step(t, r, model.EvPreflightOK, sysCause)
}

func TestReleaseLifecyclePersisted(t *testing.T) {
	ctx := context.Background()
	f := relOpen(t)
	r := f.toAwaiting(t, f.draft(t, "wxapp1"))
	if r.State != model.RelAwaitingApproval || r.Submit.Items[0].SecondClass != "点餐" {
		t.Fatalf("state %s submit %+v", r.State, r.Submit)
	}
	// The preparer cannot submit; an approver can, bound to what they saw.
	if _, err := f.st.TransitionRelease(ctx, f.tenant.ID, r.ID, model.EvApprove, model.Cause{Kind: model.CauseUser, ActorID: f.dev.ID, SeenHash: r.PayloadHash}); model.ErrorCode(err) != model.CodeForbidden {
		t.Fatalf("preparer approving: %v", err)
	}
	c := f.user(f.boss, r.Seq)
	c.SeenHash = r.PayloadHash
	r = f.step(t, r, model.EvApprove, c)
	f.clockNow = f.clockNow.Add(time.Minute)
	r = f.step(t, r, model.EvSubmitOK, model.Cause{Kind: model.CauseSystem, AuditID: 424242})
	r = f.step(t, r, model.EvAuditFail, model.Cause{Kind: model.CausePush, Reason: "1:名称不符<br>", ScreenShots: "m1|m2", Detail: "push 17"})

	got, err := f.st.Release(ctx, f.tenant.ID, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Errorf("stored release differs from the returned one:\n got %+v\nwant %+v", got, r)
	}
	if got.State != model.RelRejected || got.AuditID != 424242 || got.Reason != "1:名称不符<br>" || got.ScreenShots != "m1|m2" ||
		got.ApproverID != f.boss.ID || !got.ApprovalValid() || !got.SubmittedAt.Equal(f.clockNow) || !got.DecidedAt.Equal(f.clockNow) {
		t.Errorf("stored = %+v", got)
	}
	evs, err := f.st.ReleaseEvents(ctx, f.tenant.ID, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	var line []string
	for i, e := range evs {
		if e.Seq != int64(i) {
			t.Errorf("event %d has seq %d", i, e.Seq)
		}
		line = append(line, string(e.Event)+":"+string(e.Cause))
	}
	want := "create:user commit:user commit_ok:system scan:system scan_done:poll amend:user preflight_ok:system approve:user submit_ok:system audit_fail:push"
	if strings.Join(line, " ") != want {
		t.Errorf("events:\n got %s\nwant %s", strings.Join(line, " "), want)
	}
	last := evs[len(evs)-1]
	if last.From != model.RelAuditing || last.To != model.RelRejected || last.Detail != "push 17" || !last.At.Equal(f.clockNow) {
		t.Errorf("last event = %+v", last)
	}
	if evs[7].ActorID != f.boss.ID || evs[7].Actor != "boss@shop.test" {
		t.Errorf("approve event actor = %d %q", evs[7].ActorID, evs[7].Actor)
	}
	// People's steps are in the activity log too, in the same transaction.
	acts, err := f.st.ListActivity(ctx, store.ActivityFilter{TenantID: f.tenant.ID, Action: store.ActReleaseStep})
	if err != nil || len(acts) != 3 {
		t.Errorf("activity rows = %d, %v; want commit, amend, approve", len(acts), err)
	}
	// Event rows are immutable.
	if _, err := f.st.W.ExecContext(ctx, `UPDATE release_events SET detail = 'x'`); err == nil || !strings.Contains(err.Error(), "immutable") {
		t.Errorf("updating events: %v", err)
	}
	if _, err := f.st.W.ExecContext(ctx, `DELETE FROM release_events`); err == nil {
		t.Error("deleting events worked")
	}
}

func TestReleaseTenantScoped(t *testing.T) {
	ctx := context.Background()
	f := relOpen(t)
	r := f.draft(t, "wxapp1")
	if _, err := f.st.Release(ctx, f.other.ID, r.ID); !model.IsNotFound(err) {
		t.Errorf("other tenant reads release: %v", err)
	}
	if _, err := f.st.TransitionRelease(ctx, f.other.ID, r.ID, model.EvCommit, f.user(f.dev, 0)); !model.IsNotFound(err) {
		t.Errorf("other tenant moves release: %v", err)
	}
	if evs, _ := f.st.ReleaseEvents(ctx, f.other.ID, r.ID); len(evs) != 0 {
		t.Errorf("other tenant sees %d events", len(evs))
	}
	if _, err := f.st.OpenRelease(ctx, f.other.ID, "wxapp1"); !model.IsNotFound(err) {
		t.Errorf("other tenant's open release: %v", err)
	}
}

func TestOneOpenReleasePerApp(t *testing.T) {
	ctx := context.Background()
	f := relOpen(t)
	r := f.draft(t, "wxapp1")
	p := r.ReleasePayload
	second, _ := model.NewRelease(f.tenant.ID, "wxapp1", 1, p, f.actor(f.dev), f.clockNow)
	if _, err := f.st.CreateRelease(ctx, f.tenant.ID, second); model.ErrorCode(err) != model.CodeConflict {
		t.Fatalf("second open release: %v", err)
	}
	open, err := f.st.OpenRelease(ctx, f.tenant.ID, "wxapp1")
	if err != nil || open.ID != r.ID {
		t.Fatalf("OpenRelease = %d, %v", open.ID, err)
	}
	f.step(t, r, model.EvCancel, f.user(f.dev, 0))
	if _, err := f.st.OpenRelease(ctx, f.tenant.ID, "wxapp1"); !model.IsNotFound(err) {
		t.Errorf("cancelled release still open: %v", err)
	}
	n, err := f.st.CreateRelease(ctx, f.tenant.ID, second)
	if err != nil {
		t.Fatalf("new release after cancel: %v", err)
	}
	if list, _ := f.st.ListReleases(ctx, f.tenant.ID, "wxapp1", 0); len(list) != 2 || list[0].ID != n.ID {
		t.Errorf("ListReleases = %d rows", len(list))
	}
	// A draft that does not match its hash is refused.
	bad := second
	bad.ExtJSON = "{}"
	if _, err := f.st.CreateRelease(ctx, f.tenant.ID, bad); model.ErrorCode(err) != model.CodeInvalid {
		t.Errorf("draft with a stale hash: %v", err)
	}
}

// Two approvers click at the same moment: exactly one submission.
func TestConcurrentApproversOneWins(t *testing.T) {
	ctx := context.Background()
	f := relOpen(t)
	for round := 0; round < 10; round++ {
		app := "wxrace" + string(rune('a'+round))
		r := f.toAwaiting(t, f.draft(t, app))
		var wg sync.WaitGroup
		errs := make([]error, 4)
		start := make(chan struct{})
		for i := range errs {
			u := f.boss
			if i%2 == 1 {
				u = f.boss2
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := f.user(u, r.Seq) // both saw the same release
				c.SeenHash = r.PayloadHash
				<-start
				_, errs[i] = f.st.TransitionRelease(ctx, f.tenant.ID, r.ID, model.EvApprove, c)
			}()
		}
		close(start)
		wg.Wait()
		wins := 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case model.ErrorCode(err) != model.CodeConflict:
				t.Errorf("loser error = %v, want conflict", err)
			}
		}
		if wins != 1 {
			t.Fatalf("round %d: %d approvals applied, want 1 (%v)", round, wins, errs)
		}
		evs, _ := f.st.ReleaseEvents(ctx, f.tenant.ID, r.ID)
		n := 0
		for _, e := range evs {
			if e.Event == model.EvApprove {
				n++
			}
		}
		if n != 1 {
			t.Errorf("round %d: %d approve events", round, n)
		}
	}
}

// A double click on a self-loop (speed-up) is caught by the seq the page carried.
func TestDoubleClickSameState(t *testing.T) {
	ctx := context.Background()
	f := relOpen(t)
	r := f.toAwaiting(t, f.draft(t, "wxapp1"))
	c := f.user(f.boss, r.Seq)
	c.SeenHash = r.PayloadHash
	r = f.step(t, r, model.EvApprove, c)
	r = f.step(t, r, model.EvSubmitOK, model.Cause{Kind: model.CauseSystem, AuditID: 9})
	seen := r.Seq
	f.step(t, r, model.EvSpeedUp, f.user(f.boss, seen))
	if _, err := f.st.TransitionRelease(ctx, f.tenant.ID, r.ID, model.EvSpeedUp, f.user(f.boss, seen)); model.ErrorCode(err) != model.CodeConflict {
		t.Errorf("second speed-up click: %v, want conflict", err)
	}
	// A push and a poll reporting the same result: the second is illegal, not applied.
	f.step(t, r, model.EvAuditPass, model.Cause{Kind: model.CausePush})
	if _, err := f.st.TransitionRelease(ctx, f.tenant.ID, r.ID, model.EvAuditPass, model.Cause{Kind: model.CausePoll}); model.ErrorCode(err) != model.CodeConflict {
		t.Errorf("audit result applied twice: %v", err)
	}
}

// A restart in any state resumes: state, seq and facts come back from disk,
// and in-flight releases are found for reconciliation.
func TestReleaseResumesAfterRestart(t *testing.T) {
	ctx := context.Background()
	f := relOpen(t)
	r := f.toAwaiting(t, f.draft(t, "wxapp1"))
	c := f.user(f.boss, r.Seq)
	c.SeenHash = r.PayloadHash
	r = f.step(t, r, model.EvApprove, c) // the process dies before submit_audit answers
	f.draft(t, "wxapp2")
	f.st.Close()

	st, err := store.Open(ctx, f.path, relKey)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var inflight []model.ReleaseState
	for _, s := range model.ReleaseStates {
		if s.InFlight() {
			inflight = append(inflight, s)
		}
	}
	list, err := st.ReleasesInStates(ctx, inflight, 0)
	if err != nil || len(list) != 1 || list[0].ID != r.ID {
		t.Fatalf("in-flight after restart = %+v, %v", list, err)
	}
	got := list[0]
	if got.State != model.RelSubmitting || got.Seq != r.Seq || !got.ApprovalValid() || got.ApproverID != f.boss.ID {
		t.Errorf("resumed = %+v", got)
	}
	// Reconciliation found the audit (get_latest_auditstatus): record it.
	n, err := st.TransitionRelease(ctx, f.tenant.ID, got.ID, model.EvSubmitOK, model.Cause{Kind: model.CauseSystem, AuditID: 77, Detail: "reconciled"})
	if err != nil || n.State != model.RelAuditing || n.AuditID != 77 {
		t.Errorf("resume: %v %+v", err, n)
	}
	if drafts, _ := st.ReleasesInStates(ctx, []model.ReleaseState{model.RelDraft}, 0); len(drafts) != 1 || drafts[0].AppID != "wxapp2" {
		t.Errorf("drafts after restart = %+v", drafts)
	}
}

func TestFailedReleaseKeepsErrcode(t *testing.T) {
	f := relOpen(t)
	r := f.draft(t, "wxapp1")
	r = f.step(t, r, model.EvCommit, f.user(f.dev, 0))
	r = f.step(t, r, model.EvCommitFail, model.Cause{Kind: model.CauseSystem, Errcode: 85045, Detail: "some path in ext_json not exist rid: 1"})
	got, _ := f.st.Release(context.Background(), f.tenant.ID, r.ID)
	act, ok := got.ErrAction()
	if got.State != model.RelCommitFailed || got.Errcode != 85045 || !ok || !act.Stop {
		t.Errorf("failed release = %s %d %+v", got.State, got.Errcode, act)
	}
	evs, _ := f.st.ReleaseEvents(context.Background(), f.tenant.ID, r.ID)
	if e := evs[len(evs)-1]; e.Errcode != 85045 || !strings.Contains(e.Detail, "rid") {
		t.Errorf("event = %+v", e)
	}
}
