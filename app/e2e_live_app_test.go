package main

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat/sandbox"
)

// merchantApp is a merchant's Mini Program as the browser tests of the app
// page start from: authorized through onboarding, the demo template in the
// library, a privacy contact and a config saved.
type merchantApp struct {
	a                     *e2eApp
	ctx                   context.Context
	tenantID              int64
	appID                 string
	templateID            int64
	ownerActor, apprActor model.Actor
}

// authorizedApp authorizes a sandbox Mini Program called nickname for the
// tenant and saves a config with shopName.
func authorizedApp(t *testing.T, a *e2eApp, ctx context.Context, tn model.Tenant, ownerActor, apprActor model.Actor, email, nickname, shopName string) merchantApp {
	t.Helper()
	att, err := a.platform.Onboarding.Start(ctx, ownerActor, tn.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	appID, code, err := a.sandbox.sb.AuthorizeApp(att.PreAuthCode, sandbox.AppSpec{Nickname: nickname})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.platform.Onboarding.Callback(ctx, ownerActor, tn.ID, att.ID, att.CallbackState, code); err != nil {
		t.Fatal(err)
	}
	if err := seedDemoTemplate(ctx, a.app); err != nil {
		t.Fatal(err)
	}
	if err := a.platform.Releases.SaveContact(ctx, ownerActor, tn.ID, store.TenantContact{Name: "王", Email: email}); err != nil {
		t.Fatal(err)
	}
	tpls, err := a.store.ListTemplates(ctx, false)
	if err != nil || len(tpls) == 0 {
		t.Fatalf("templates: %v %v", tpls, err)
	}
	if _, err := a.platform.Releases.SaveConfig(ctx, ownerActor, tn.ID, appID, tpls[0].TemplateID, url.Values{"shopName": {shopName}, "theme": {"light"}}, ""); err != nil {
		t.Fatalf("config: %v", err)
	}
	return merchantApp{a: a, ctx: ctx, tenantID: tn.ID, appID: appID, templateID: tpls[0].TemplateID, ownerActor: ownerActor, apprActor: apprActor}
}

// waitState waits (60 s at most) for release id to reach want.
func (m merchantApp) waitState(t *testing.T, id int64, want model.ReleaseState) model.Release {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		r, err := m.a.store.Release(m.ctx, m.tenantID, id)
		if err == nil && r.State == want {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("release %d never reached %s: %s %v", id, want, r.State, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// goLive takes 1.0.0 live through the real pipeline (commit, QR, scan,
// preflight, approval, audit, release).
func (m merchantApp) goLive(t *testing.T) {
	t.Helper()
	rel := m.a.platform.Releases
	r, err := rel.PrepareRelease(m.ctx, m.tenantID, m.appID, m.templateID, "1.0.0", "首个版本", m.ownerActor)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rel.Commit(m.ctx, m.tenantID, r.ID, m.ownerActor, r.Seq); err != nil {
		t.Fatal(err)
	}
	r = m.waitState(t, r.ID, model.RelAwaitingApproval)
	if _, err := rel.Approve(m.ctx, m.tenantID, r.ID, m.apprActor, r.PayloadHash); err != nil {
		t.Fatal(err)
	}
	m.waitState(t, r.ID, model.RelAuditing)
	if err := m.a.sandbox.sb.DecideAudit(m.appID, sandbox.AuditDecision{Outcome: sandbox.AuditApprove}); err != nil {
		t.Fatal(err)
	}
	m.waitState(t, r.ID, model.RelApproved)
	if _, err := rel.Release(m.ctx, m.tenantID, r.ID, m.apprActor); err != nil {
		t.Fatal(err)
	}
	m.waitState(t, r.ID, model.RelReleased)
}
