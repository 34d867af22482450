package platform_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat/sandbox"
)

// authorizedXML is WeChat's authorized push for an attempt's pre_auth_code.
func authorizedXML(appID, code, pre string, createTime int64) string {
	return "<xml><AppId><![CDATA[" + testAppID + "]]></AppId><CreateTime>" + strconv.FormatInt(createTime, 10) +
		"</CreateTime><InfoType><![CDATA[authorized]]></InfoType><AuthorizerAppid><![CDATA[" + appID + "]]></AuthorizerAppid>" +
		"<AuthorizationCode><![CDATA[" + code + "]]></AuthorizationCode><AuthorizationCodeExpiredTime>" +
		strconv.FormatInt(createTime+3600, 10) + "</AuthorizationCodeExpiredTime><PreAuthCode><![CDATA[" + pre + "]]></PreAuthCode></xml>"
}

func (r *rig) failedJobs() int {
	return r.count(`SELECT COUNT(*) FROM jobs WHERE state = ?`, store.JobFailed)
}

// raceAttempt starts an attempt and has the merchant approve it in the
// sandbox: the code the redirect and the push both carry.
func raceAttempt(t *testing.T, r *rig) (model.AuthAttempt, string, string) {
	t.Helper()
	if _, err := r.st.SaveTicket(r.ctx, testAppID, r.sb.Ticket(), 1, r.now()); err != nil {
		t.Fatal(err)
	}
	u, tn, err := r.st.Signup(r.ctx, model.User{Email: "race@example.com", Name: "Race", PasswordHash: "x"}, "Race Co", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	a, err := r.p.Onboarding.Start(r.ctx, model.Actor{UserID: u.ID, Label: u.Email}, tn.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	appID, code, err := r.sb.AuthorizeApp(a.PreAuthCode, sandbox.AppSpec{Nickname: "Race 竞速"})
	if err != nil {
		t.Fatal(err)
	}
	return a, appID, code
}

// The redirect claimed the code and exchanged it; before it stored the
// tokens, the authorized push's job tries the same code and gets 61009. It
// must finish quietly (no failed job on the WeChat health page), and the
// redirect's exchange binds.
func TestAuthorizedPushLosingToTheRedirectIsQuiet(t *testing.T) {
	r := newRig(t, rigOpts{start: true})
	a, appID, code := raceAttempt(t, r)
	if ok, err := r.st.ClaimAttempt(r.ctx, a.ID, code, r.now().Add(-time.Minute)); err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	if _, err := r.p.Client.QueryAuth(r.ctx, code); err != nil { // the redirect's exchange, mid-flight
		t.Fatal(err)
	}
	if res := r.receive(authorizedXML(appID, code, a.PreAuthCode, r.now().Unix()), ""); res.Outcome != store.PushQueued {
		t.Fatalf("push: %+v", res)
	}
	if _, err := r.p.Jobs.RunDue(r.ctx); err != nil {
		t.Fatal(err)
	}
	jobs, _ := r.st.JobsByKind(r.ctx, platform.JobAuthorized)
	if len(jobs) != 1 || jobs[0].State == store.JobFailed {
		t.Fatalf("authorized job: %+v", jobs)
	}
	if n := r.failedJobs(); n != 0 {
		t.Errorf("%d failed jobs, want 0", n)
	}
}

// With nothing of ours holding the code (no attempt claimed it, no tokens),
// a spent code is still a real failure.
func TestAuthorizedPushWithASpentCodeAndNothingHeldFails(t *testing.T) {
	r := newRig(t, rigOpts{start: true})
	a, appID, code := raceAttempt(t, r)
	if _, err := r.p.Client.QueryAuth(r.ctx, code); err != nil {
		t.Fatal(err)
	}
	r.receive(authorizedXML(appID, code, a.PreAuthCode, r.now().Unix()), "")
	if _, err := r.p.Jobs.RunDue(r.ctx); err != nil {
		t.Fatal(err)
	}
	if n := r.failedJobs(); n != 1 {
		t.Errorf("%d failed jobs, want 1", n)
	}
}

// The redirect's exchange failed for a moment and left the attempt
// retrying on its job; meanwhile the push's job spent the code. The
// attempt-exchange job then gets 61009: it must not fail either, and the
// push's grant binds the attempt.
func TestAttemptExchangeLosingToThePushIsQuiet(t *testing.T) {
	r := newRig(t, rigOpts{start: true})
	r.p.Onboarding.SpentCodeWait = 50 * time.Millisecond
	a, appID, code := raceAttempt(t, r)
	if ok, err := r.st.ClaimAttempt(r.ctx, a.ID, code, r.now().Add(-time.Minute)); err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	if err := r.st.RetryAttempt(r.ctx, a.ID, code, "authorize.exchange_retrying", store.NewJob{Kind: platform.JobAttemptExchange,
		DedupeKey: platform.JobAttemptExchange + ":" + strconv.FormatInt(a.ID, 10),
		Payload:   map[string]int64{"attempt_id": a.ID, "tenant_id": a.TenantID}, RunAt: r.now(), MaxAttempts: 5}); err != nil {
		t.Fatal(err)
	}
	info, err := r.p.Client.QueryAuth(r.ctx, code) // the push's job, mid-flight
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.p.Jobs.RunDue(r.ctx); err != nil {
		t.Fatal(err)
	}
	if n := r.failedJobs(); n != 0 {
		jobs, _ := r.st.JobsByKind(r.ctx, platform.JobAttemptExchange)
		t.Fatalf("%d failed jobs, want 0: %+v", n, jobs)
	}
	// The push's job finishes: its grant binds the attempt.
	if _, err := r.st.SaveAuthorizerGrant(r.ctx, appID, store.AuthorizerGrant{AccessToken: info.AuthorizerAccessToken, AccessExpiresAt: info.ExpiresAt,
		RefreshToken: info.AuthorizerRefreshToken, PermissionSets: info.PermissionSets(), EventAt: r.now().Unix()}); err != nil {
		t.Fatal(err)
	}
	if err := r.p.Onboarding.GrantApplied(r.ctx, appID, a.PreAuthCode, code); err != nil {
		t.Fatal(err)
	}
	got, err := r.st.Attempt(r.ctx, a.TenantID, a.ID)
	if err != nil || got.State != model.AttemptBound || got.AppID != appID {
		t.Errorf("attempt = %s %q, %v; want bound to %s", got.State, got.AppID, err, appID)
	}
}
