package platform_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat/sandbox"
)

// A job claimed by a process that dies is run by the next one once the
// claim's lease ends; a queued job survives a restart.
func TestJobsSurviveRestart(t *testing.T) {
	r := newRig(t, rigOpts{})
	id, _, err := r.st.EnqueueJob(r.ctx, store.NewJob{Kind: "test.echo", DedupeKey: "a", Payload: map[string]string{"x": "y"}})
	if err != nil {
		t.Fatal(err)
	}
	queued, _, _ := r.st.EnqueueJob(r.ctx, store.NewJob{Kind: "test.echo", DedupeKey: "b", RunAt: r.now().Add(time.Minute)})
	if _, dup, _ := r.st.EnqueueJob(r.ctx, store.NewJob{Kind: "test.echo", DedupeKey: "a"}); !dup {
		t.Error("same dedupe key enqueued twice")
	}
	// The first process claims job a and dies with it.
	if j, err := r.st.ClaimJob(r.ctx, "dead-process", r.now(), 2*time.Minute); err != nil || j.ID != id {
		t.Fatalf("claim: %+v %v", j, err)
	}
	r.st.Close()

	st, p := r.open()
	var ran atomic.Int32
	p.Jobs.Handle("test.echo", func(ctx context.Context, j store.Job) error { ran.Add(1); return nil })
	if n, _ := p.Jobs.RunDue(r.ctx); n != 0 {
		t.Fatalf("ran %d jobs while the dead process's lease lasts", n)
	}
	r.clock.Advance(2 * time.Minute)
	if n, err := p.Jobs.RunDue(r.ctx); n != 2 || err != nil {
		t.Fatalf("ran %d, %v; want the reclaimed and the queued job", n, err)
	}
	for _, jid := range []int64{id, queued} {
		j, _ := st.JobByID(r.ctx, jid)
		if j.State != store.JobDone {
			t.Errorf("job %d state %s", jid, j.State)
		}
	}
	if j, _ := st.JobByID(r.ctx, id); j.Attempts != 2 {
		t.Errorf("attempts = %d, want 2", j.Attempts)
	}
}

func TestJobsRetryWithBackoffThenGiveUp(t *testing.T) {
	r := newRig(t, rigOpts{})
	r.p.Jobs.BaseBackoff = time.Minute
	var calls atomic.Int32
	r.p.Jobs.Handle("test.flaky", func(ctx context.Context, j store.Job) error {
		if calls.Add(1) < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	r.p.Jobs.Handle("test.doomed", func(ctx context.Context, j store.Job) error { return errors.New("never") })
	r.p.Jobs.Handle("test.permanent", func(ctx context.Context, j store.Job) error { return platform.Permanent(errors.New("bad payload")) })
	flaky, _, _ := r.st.EnqueueJob(r.ctx, store.NewJob{Kind: "test.flaky"})
	doomed, _, _ := r.st.EnqueueJob(r.ctx, store.NewJob{Kind: "test.doomed", MaxAttempts: 3})
	perm, _, _ := r.st.EnqueueJob(r.ctx, store.NewJob{Kind: "test.permanent"})

	r.p.Jobs.RunDue(r.ctx)
	j, _ := r.st.JobByID(r.ctx, flaky)
	if j.State != store.JobQueued || j.LastError != "not yet" {
		t.Fatalf("after a failure: %+v", j)
	}
	if wait := j.RunAt.Sub(r.now()); wait < 30*time.Second || wait > time.Minute {
		t.Errorf("first retry in %s, want 30s–1m", wait)
	}
	for range 10 {
		r.clock.Advance(10 * time.Minute)
		r.p.Jobs.RunDue(r.ctx)
	}
	for id, want := range map[int64]string{flaky: store.JobDone, doomed: store.JobFailed, perm: store.JobFailed} {
		if j, _ := r.st.JobByID(r.ctx, id); j.State != want {
			t.Errorf("job %d: %s after %d attempts, want %s", id, j.State, j.Attempts, want)
		}
	}
	if j, _ := r.st.JobByID(r.ctx, doomed); j.Attempts != 3 {
		t.Errorf("doomed job ran %d times, want 3", j.Attempts)
	}
	if j, _ := r.st.JobByID(r.ctx, perm); j.Attempts != 1 {
		t.Errorf("permanent failure retried")
	}
}

// The whole loop: a merchant authorizes in the sandbox, the push arrives
// over HTTP, its job exchanges the code and stores the tokens; then the
// merchant narrows permissions (new refresh token) and finally revokes.
func TestAuthorizationPushesEndToEnd(t *testing.T) {
	r := newRig(t, rigOpts{deliver: true, start: true, ticketInterval: 24 * time.Hour})

	appID, _, err := r.sb.AuthorizeApp(r.sb.CreatePreAuthCode(), sandbox.AppSpec{Nickname: "Shop"})
	if err != nil {
		t.Fatal(err)
	}
	r.sb.WaitPushes()
	if n, err := r.p.Jobs.RunDue(r.ctx); n != 1 || err != nil {
		t.Fatalf("jobs run = %d, %v", n, err)
	}
	a, err := r.st.Authorizer(r.ctx, appID)
	if err != nil || a.Status != store.AuthorizerAuthorized || !a.HasRefreshToken || a.Nickname != "Shop" || a.UserName != r.sb.UserName(appID) {
		t.Fatalf("authorizer = %+v, %v", a, err)
	}
	if _, refresh, _ := r.st.AuthorizerSecrets(r.ctx, appID); refresh != r.sb.RefreshToken(appID) {
		t.Error("refresh token not stored")
	}
	tok1, err := r.p.Vault.AuthorizerAccessToken(r.ctx, appID)
	if err != nil {
		t.Fatal(err)
	}

	// Re-authorization with fewer permission sets: updateauthorized.
	if _, err := r.sb.Authorize(r.sb.CreatePreAuthCode(), sandbox.AppSpec{AppID: appID, PermissionSets: []int{17, 18}}); err != nil {
		t.Fatal(err)
	}
	r.sb.WaitPushes()
	r.clock.Advance(time.Second)
	if n, _ := r.p.Jobs.RunDue(r.ctx); n != 1 {
		t.Fatalf("updateauthorized job not run")
	}
	if _, refresh, _ := r.st.AuthorizerSecrets(r.ctx, appID); refresh != r.sb.RefreshToken(appID) {
		t.Error("new refresh token not stored")
	}
	if tok2, _ := r.p.Vault.AuthorizerAccessToken(r.ctx, appID); tok2 == tok1 {
		t.Error("cached token not evicted on re-authorization")
	}
	if a, _ := r.st.Authorizer(r.ctx, appID); len(a.PermissionSets) != 2 {
		t.Errorf("permission sets = %v", a.PermissionSets)
	}

	// Revocation: tokens destroyed, row and pushes kept, live pages told once.
	sub := r.p.Hub.Subscribe(platform.TopicStaff)
	defer sub.Close()
	r.clock.Advance(time.Second)
	if err := r.sb.Revoke(appID); err != nil {
		t.Fatal(err)
	}
	r.sb.WaitPushes()
	r.p.Jobs.RunDue(r.ctx)
	a, _ = r.st.Authorizer(r.ctx, appID)
	if a.Status != store.AuthorizerUnauthorized || a.HasRefreshToken || a.HasAccessToken || a.Nickname != "Shop" {
		t.Errorf("after revoke: %+v", a)
	}
	if _, err := r.p.Vault.AuthorizerAccessToken(r.ctx, appID); !errors.Is(err, platform.ErrNotAuthorized) {
		t.Errorf("token of a revoked app: %v", err)
	}
	var told []platform.Event
	for len(sub.C) > 0 {
		told = append(told, <-sub.C)
	}
	if len(told) != 1 || told[0].Name != platform.EventApp || told[0].AppID != appID {
		t.Errorf("events after the revocation = %+v, want one %q event for %s", told, platform.EventApp, appID)
	}
	if n := r.count(`SELECT COUNT(*) FROM wechat_pushes WHERE appid = ?`, appID); n != 3 {
		t.Errorf("%d pushes kept for the app, want 3", n)
	}
}
