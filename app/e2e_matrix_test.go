package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/store"
)

// The role matrix (issue #13's tests): for each tenant role (owner,
// developer, approver, viewer) and each staff role (admin, operator,
// approver, support), at 375 px and 1280 px, in zh-CN and en, every page of
// the role's journey is reached by clicking from where the role lands after
// signing in (never by typing a URL), shows the seeded data, speaks the
// browser's language, and every primary control on it is clickable: the
// element at its centre, once scrolled into view, is the control itself.
//
// One seeded app process serves the whole matrix; each (width, language)
// gets one browser and each role a fresh browser context of its own.

const matrixPassword = "matrix-password-1"

// mstep is one click of a journey: click (a nav link's test id when menu is
// set: a menu on a phone, a column on a desk; else a selector on the page),
// then wait for the page's proof and check its primary controls.
type mstep struct {
	what     string
	menu     string   // nav test id; "" clicks sel
	sel      string   // the element clicked (when menu is "")
	wait     string   // the page is there when this is visible
	controls []string // each must be the element at its own centre
	text     string   // a selector whose text must contain want (true data)
	want     string
	check    func(b *tab, what string)
}

// sandboxStyled fails unless the sandbox's WeChat page (served under
// /sandbox with its own CSP) has its stylesheet applied: the body's
// background and the main box differ from the browser's defaults.
func sandboxStyled(b *tab, what string) {
	b.t.Helper()
	if p := b.path(); !strings.HasPrefix(p, "/sandbox/") {
		b.fail(fmt.Errorf("at %s, want the sandbox's page under /sandbox/", p), what)
	}
	msg, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(() => {
		const body = getComputedStyle(document.body), main = getComputedStyle(document.querySelector('main'));
		if (body.backgroundColor === 'rgba(0, 0, 0, 0)') return 'the body has the default transparent background';
		if (body.marginTop === '8px') return 'the body keeps the default 8px margin';
		if (main.maxWidth === 'none') return 'the main box has no max width';
		const btn = getComputedStyle(document.querySelector('[data-testid=approve]'));
		if (btn.backgroundColor === 'rgb(239, 239, 239)' || btn.backgroundColor === 'buttonface') return 'the button has the default face';
		return '';
	})()`))
	if err != nil || msg != "" {
		b.fail(fmt.Errorf("%v %s", err, msg), what+": unstyled")
	}
}

type journey struct {
	role  string
	email string
	land  string // the landing page's proof
	steps []mstep
}

// matrixWorld is what the seeding left for the journeys to find.
type matrixWorld struct {
	tenantID, soloID     int64
	appID, app2          string
	releaseID, soloRelID int64
	campaignID, staffCID int64
	templateID           int64
}

// seedMatrix: the demo tenant (12 authorized apps with configs, the
// template with its schema) gets a developer, an approver and a viewer, a
// release awaiting approval prepared by the developer, and a campaign
// awaiting approval created by the owner; a second merchant whose releases
// the provider's staff approve has one awaiting them; the staff admin has a
// staff campaign awaiting approval; one staff user per staff role.
func seedMatrix(t *testing.T, a *e2eApp, tenantID int64) matrixWorld {
	t.Helper()
	ctx := context.Background()
	w := matrixWorld{tenantID: tenantID, templateID: demoTemplateID(t, a)}
	hash, err := cheapHasher.Hash(matrixPassword)
	if err != nil {
		t.Fatal(err)
	}
	owner, err := a.store.UserByEmail(ctx, demoOwnerEmail)
	if err != nil {
		t.Fatal(err)
	}
	ownerActor := model.Actor{UserID: owner.ID, Label: owner.Email}
	member := func(email, name string, role model.TenantRole) model.User {
		u, err := a.store.CreateUser(ctx, ownerActor, model.User{Email: email, Name: name, PasswordHash: hash})
		if err != nil {
			t.Fatal(err)
		}
		_, tok, err := a.store.CreateInvite(ctx, ownerActor, tenantID, role, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := a.store.AcceptInvite(ctx, tok, u.ID, nil, ""); err != nil {
			t.Fatal(err)
		}
		a.authz.SetTenantRole(u.ID, tenantID, role)
		return u
	}
	dev := member("dev@matrix.example", "开发 Dev", model.RoleDeveloper)
	member("appr@matrix.example", "审批 Appr", model.RoleApprover)
	member("viewer@matrix.example", "只读 Viewer", model.RoleViewer)
	staff := map[model.StaffRole]model.User{}
	for _, r := range []model.StaffRole{model.StaffAdmin, model.StaffOperator, model.StaffApprover, model.StaffSupport} {
		u, err := a.store.CreateUser(ctx, model.SystemActor, model.User{Email: string(r) + "@staff.matrix.example", Name: "员工 " + string(r), PasswordHash: hash, StaffRole: r})
		if err != nil {
			t.Fatal(err)
		}
		a.authz.SetStaffRole(u.ID, r)
		staff[r] = u
	}

	// The developer's release of the first demo app, through the real
	// pipeline to 待审批 (commit, trial QR, privacy scan, preflight).
	apps, err := a.store.TenantApps(ctx, tenantID)
	if err != nil || len(apps) < 2 {
		t.Fatalf("demo apps: %v %v", apps, err)
	}
	w.appID, w.app2 = apps[0].AppID, apps[1].AppID
	devActor := model.Actor{UserID: dev.ID, Label: dev.Email}
	r, err := a.platform.Releases.PrepareRelease(ctx, tenantID, w.appID, w.templateID, "1.1.0", "矩阵测试版本", devActor)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.platform.Releases.Commit(ctx, tenantID, r.ID, devActor, r.Seq); err != nil {
		t.Fatal(err)
	}
	w.releaseID = r.ID

	// The owner's campaign over the demo fleet, awaiting the approver.
	in := platform.CampaignInput{TenantID: tenantID, Name: "矩阵春季升级", TemplateID: w.templateID, UserVersion: "2.0.0", UserDesc: "春季上新",
		Filter:           store.CandidateFilter{TenantID: tenantID, Tag: demoFleetTag, BoundOnly: true},
		CampaignSettings: model.CampaignSettings{CanarySize: 3, WaveMax: 200, Concurrency: 20, HaltRate: 0.2, ReleaseMode: model.ReleaseEach}}
	c, _, err := a.platform.Campaigns.Create(ctx, in, ownerActor)
	if err != nil {
		t.Fatalf("campaign: %v", err)
	}
	w.campaignID = c.ID
	// The staff admin's campaign, awaiting a staff approver.
	in.TenantID, in.Filter.TenantID, in.Name = 0, 0, "平台批量升级"
	sc, _, err := a.platform.Campaigns.Create(ctx, in, model.Actor{UserID: staff[model.StaffAdmin].ID, Label: staff[model.StaffAdmin].Email})
	if err != nil {
		t.Fatalf("staff campaign: %v", err)
	}
	w.staffCID = sc.ID

	// A one-person merchant whose releases the provider's staff approve,
	// with a release awaiting them.
	solo, stn, err := a.store.Signup(ctx, model.User{Email: "solo@matrix.example", Name: "独自店主", PasswordHash: hash}, "一人花店 Solo", "")
	if err != nil {
		t.Fatal(err)
	}
	a.authz.SetTenantRole(solo.ID, stn.ID, model.RoleOwner)
	soloActor := model.Actor{UserID: solo.ID, Label: solo.Email}
	if err := a.store.SetTenantApprovals(ctx, soloActor, stn.ID, model.ApprovalsStaff); err != nil {
		t.Fatal(err)
	}
	const soloApp = "wxmatrixsolo0001"
	if err := a.store.EnsureAuthorizer(ctx, soloApp); err != nil {
		t.Fatal(err)
	}
	if err := a.store.SaveAppDetails(ctx, soloApp, store.AppDetails{Nickname: "一人花店小程序", AccountKind: "miniprogram", AccountStatus: 1, PermissionSets: []int{18}}); err != nil {
		t.Fatal(err)
	}
	if err := a.store.AssignApp(ctx, model.SystemActor, soloApp, stn.ID); err != nil {
		t.Fatal(err)
	}
	sr, err := model.NewRelease(stn.ID, soloApp, 0, model.ReleasePayload{TemplateID: w.templateID, UserVersion: "1.0.1", UserDesc: "春季花束上新",
		ExtJSON: `{"ext":{"shopName":"一人花店"},"extAppid":"` + soloApp + `","extEnable":true}`}, soloActor, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if sr, err = a.store.CreateRelease(ctx, stn.ID, sr); err != nil {
		t.Fatal(err)
	}
	for _, ev := range []model.ReleaseEvent{model.EvCommit, model.EvCommitOK, model.EvScan, model.EvScanDone, model.EvPreflightOK} {
		cause := model.Cause{Kind: model.CauseSystem, Actor: "system", At: time.Now()}
		if ev == model.EvCommit {
			cause = model.Cause{Kind: model.CauseUser, ActorID: solo.ID, Actor: solo.Email, At: time.Now()}
		}
		if sr, err = a.store.TransitionRelease(ctx, stn.ID, sr.ID, ev, cause); err != nil {
			t.Fatalf("%s: %v", ev, err)
		}
	}
	w.soloID, w.soloRelID = stn.ID, sr.ID

	// The demo release reaches 待审批 on its own.
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, err := a.store.Release(ctx, tenantID, w.releaseID)
		if err == nil && got.State == model.RelAwaitingApproval {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("release %d never reached awaiting approval: %s %v", w.releaseID, got.State, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return w
}

// journeys lists, per role, the pages reached by clicking and their
// primary controls. Every selector is on the page the previous step left.
func (w matrixWorld) journeys() []journey {
	tid := strconv.FormatInt(w.tenantID, 10)
	rel := strconv.FormatInt(w.releaseID, 10)
	camp := strconv.FormatInt(w.campaignID, 10)
	appRow := `[data-testid=app-row-` + w.appID + `] a`
	hub := mstep{what: "the app from the overview", sel: appRow, wait: `[data-testid=app-hub]`,
		controls: []string{`[data-testid=tab-config]`, `[data-testid=tab-releases]`, `[data-testid=tab-settings]`},
		text:     `[data-testid=block-audit]`, want: "1.1.0"}
	appsList := mstep{what: "the apps list", menu: "nav-apps", wait: `[data-testid=apps]`, controls: []string{appRow}}
	releases := mstep{what: "the releases tab", sel: `[data-testid=tab-releases]`, wait: `[data-testid=releases]`,
		controls: []string{`[data-testid=release-row-` + rel + `] a`}, text: `[data-testid=release-row-` + rel + `]`, want: "1.1.0"}
	release := mstep{what: "the release", sel: `[data-testid=release-row-` + rel + `] a`, wait: `[data-testid=release]`,
		text: `[data-testid=release]`, want: "1.1.0"}
	settings := mstep{what: "the settings tab", sel: `[data-testid=tab-settings]`, wait: `[data-testid=testers]`}
	campaigns := mstep{what: "the campaigns", menu: "nav-campaigns", wait: `[data-testid=campaigns]`,
		controls: []string{`[data-testid=campaign-row-` + camp + `] a`}, text: `[data-testid=campaign-row-` + camp + `]`, want: "矩阵春季升级"}
	campaign := mstep{what: "the campaign", sel: `[data-testid=campaign-row-` + camp + `] a`, wait: `[data-testid=campaign]`,
		text: `[data-testid=campaign-version]`, want: "2.0.0"}
	members := mstep{what: "the members", menu: "nav-members", wait: `[data-testid=members]`, text: `[data-testid=members]`, want: "viewer@matrix.example"}
	account := mstep{what: "the account", menu: "nav-account", wait: `[data-testid=password-form]`,
		controls: []string{`[data-testid=password-form] button[type=submit]`, `[data-testid=prefs-form] button[type=submit]`}}
	overview := mstep{what: "the overview", menu: "nav-overview", wait: `[data-testid=apps-count]`}

	withControls := func(s mstep, c ...string) mstep {
		s.controls = append(append([]string{}, s.controls...), c...)
		return s
	}
	tenantLand := `[data-testid=apps-count]`
	staffLand := `[data-testid=tenants]`
	soloRow := `[data-testid=tenant-row-` + strconv.FormatInt(w.soloID, 10) + `] a`
	demoRow := `[data-testid=tenant-row-` + tid + `] a`
	staffCamp := strconv.FormatInt(w.staffCID, 10)
	staffTenant := mstep{what: "the demo merchant", sel: demoRow, wait: `[data-testid=tenant-status]`,
		text: `[data-testid=tenant-apps]`, want: w.app2}
	staffApps := mstep{what: "the staff apps list", menu: "nav-staff-apps", wait: `[data-testid=staff-apps]`,
		controls: []string{`[data-testid=staff-app-` + w.appID + `] a`}}
	staffApp := mstep{what: "an app", sel: `[data-testid=staff-app-` + w.appID + `] a`, wait: `[data-testid=app-summary]`, text: `[data-testid=app-summary]`, want: w.appID}
	fleet := mstep{what: "the fleet", menu: "nav-staff-fleet", wait: `[data-testid=fleet]`, text: `[data-testid=fleet]`, want: w.app2}
	staffCampaigns := mstep{what: "the campaigns", menu: "nav-staff-campaigns", wait: `[data-testid=campaigns]`,
		controls: []string{`[data-testid=campaign-row-` + staffCamp + `] a`}, text: `[data-testid=campaigns]`, want: "平台批量升级"}
	staffCampaign := mstep{what: "the staff campaign", sel: `[data-testid=campaign-row-` + staffCamp + `] a`, wait: `[data-testid=campaign]`,
		text: `[data-testid=campaign-version]`, want: "2.0.0"}
	templates := mstep{what: "the templates", menu: "nav-staff-templates", wait: `[data-testid=templates]`,
		text: `[data-testid=templates]`, want: "1.0.0"}
	wechat := mstep{what: "WeChat health", menu: "nav-staff-wechat", wait: `[data-testid=wechat-component]`}
	domains := mstep{what: "the domains", menu: "nav-staff-domains", wait: `[data-testid=domains-form]`}
	siteFiles := mstep{what: "the verification files", menu: "nav-staff-site-files", wait: `[data-testid=site-files], [data-testid=site-files-empty]`}
	activity := mstep{what: "the activity", menu: "nav-staff-activity", wait: `[data-testid=activity]`, controls: []string{`[data-testid=activity-csv]`}}

	return []journey{
		{role: "owner", email: demoOwnerEmail, land: tenantLand, steps: []mstep{
			{what: "landing", wait: tenantLand, controls: []string{appRow}, text: `[data-testid=apps-count]`, want: strconv.Itoa(demoFleetSize)},
			withControls(hub, `[data-testid=next-step-button]`),
			{what: "the config tab", sel: `[data-testid=tab-config]`, wait: `[data-testid=config-form]`, controls: []string{`[data-testid=config-save]`}},
			withControls(releases, `[data-testid=open-release-link]`),
			withControls(release, `[data-testid=go-review]`),
			{what: "the review", sel: `[data-testid=go-review]`, wait: `[data-testid=review]`, controls: []string{`[data-testid=submit-audit]`},
				text: `[data-testid=review-version]`, want: "1.1.0"},
			{what: "back to the release", sel: `[data-testid=review-back]`, wait: `[data-testid=release]`, controls: []string{`[data-testid=tab-settings]`}},
			withControls(settings, `[data-testid=tester-bind]`),
			appsList,
			withControls(campaigns, `[data-testid=campaign-new]`),
			withControls(campaign, `[data-testid=campaign-report]`),
			withControls(members, `[data-testid=invite-create]`),
			{what: "the activity", menu: "nav-activity", wait: `[data-testid=activity]`, controls: []string{`[data-testid=activity-csv]`}},
			{what: "the contact", menu: "nav-contact", wait: `[data-testid=contact-form]`, controls: []string{`[data-testid=contact-save]`}},
			{what: "who approves", menu: "nav-approvals", wait: `[data-testid=approvals-form]`, controls: []string{`[data-testid=approvals-save]`}},
			account,
			{what: "home from the brand", sel: `.topbar .brand`, wait: tenantLand},
			withControls(appsList, `[data-testid=authorize-start]`),
			{what: "authorize another app", sel: `[data-testid=authorize-start]`, wait: `[data-testid=pc-link]`,
				controls: []string{`[data-testid=pc-link]`, `[data-testid=mobile-link]`}},
			{what: "WeChat's authorization page (sandbox)", sel: `[data-testid=pc-link]`, wait: `[data-testid=auth-page]`,
				controls: []string{`[data-testid=approve]`, `[data-testid=cancel]`}, check: sandboxStyled},
		}},
		{role: "developer", email: "dev@matrix.example", land: tenantLand, steps: []mstep{
			{what: "landing", wait: tenantLand, controls: []string{appRow}, text: `[data-testid=apps-count]`, want: strconv.Itoa(demoFleetSize)},
			hub,
			{what: "the config tab", sel: `[data-testid=tab-config]`, wait: `[data-testid=config-form]`, controls: []string{`[data-testid=config-save]`}},
			withControls(settings, `[data-testid=tester-bind]`),
			withControls(releases, `[data-testid=open-release-link]`),
			withControls(release, `[data-testid=edit-items]`),
			{what: "the audit items", sel: `[data-testid=edit-items]`, wait: `[data-testid=items-form]`, controls: []string{`[data-testid=items-save]`}},
			appsList,
			withControls(campaigns, `[data-testid=campaign-new]`),
			{what: "a new campaign", sel: `[data-testid=campaign-new]`, wait: `[data-testid=campaign-form]`, controls: []string{`[data-testid=campaign-preview-button]`}},
			members,
			account,
		}},
		{role: "approver", email: "appr@matrix.example", land: tenantLand, steps: []mstep{
			{what: "landing", wait: `[data-testid=approval-inbox]`, controls: []string{`[data-testid=inbox-release] [data-testid=inbox-link]`, `[data-testid=inbox-campaign] [data-testid=inbox-link]`},
				text: `[data-testid=approval-inbox]`, want: "矩阵春季升级"},
			{what: "the release from the inbox", sel: `[data-testid=inbox-release] [data-testid=inbox-link]`, wait: `[data-testid=review]`,
				controls: []string{`[data-testid=submit-audit]`}, text: `[data-testid=review-version]`, want: "1.1.0"},
			overview,
			{what: "the campaign from the inbox", sel: `[data-testid=inbox-campaign] [data-testid=inbox-link]`, wait: `[data-testid=campaign]`,
				controls: []string{`[data-testid=campaign-approve]`}, text: `[data-testid=campaign-version]`, want: "2.0.0"},
			appsList,
			{what: "an app from the list", sel: appRow, wait: `[data-testid=app-hub]`, controls: []string{`[data-testid=tab-releases]`}},
			releases,
			withControls(release, `[data-testid=go-review]`),
			members,
			account,
		}},
		{role: "viewer", email: "viewer@matrix.example", land: tenantLand, steps: []mstep{
			{what: "landing", wait: tenantLand, controls: []string{appRow}, text: `[data-testid=apps-count]`, want: strconv.Itoa(demoFleetSize)},
			hub,
			{what: "the config tab", sel: `[data-testid=tab-config]`, wait: `[data-testid=config-history]`},
			releases,
			release,
			settings,
			campaigns,
			campaign,
			members,
			account,
		}},
		{role: "staff admin", email: "admin@staff.matrix.example", land: staffLand, steps: []mstep{
			{what: "landing", wait: staffLand, controls: []string{demoRow}, text: `[data-testid=tenants]`, want: "一人花店"},
			withControls(staffTenant, `[data-testid=suspend]`),
			{what: "the go-live checklist", menu: "nav-staff-golive", wait: `[data-testid=golive]`},
			withControls(staffApps, `[data-testid=reconcile-now]`),
			staffApp,
			fleet,
			staffCampaigns,
			staffCampaign,
			withControls(templates, `[data-testid=templates-sync]`, `[data-testid=schema-`+strconv.FormatInt(w.templateID, 10)+`]`),
			{what: "a template's schema", sel: `[data-testid=schema-` + strconv.FormatInt(w.templateID, 10) + `]`, wait: `[data-testid=schema-form]`,
				controls: []string{`[data-testid=schema-save]`}},
			withControls(wechat, `[data-testid=request-ticket]`),
			withControls(domains, `[data-testid=domains-save]`),
			withControls(siteFiles, `[data-testid=site-file-upload]`),
			activity,
			account,
		}},
		{role: "staff operator", email: "operator@staff.matrix.example", land: staffLand, steps: []mstep{
			{what: "landing", wait: staffLand, controls: []string{demoRow}, text: `[data-testid=tenants]`, want: "一人花店"},
			withControls(staffTenant, `[data-testid=suspend]`),
			withControls(staffApps, `[data-testid=reconcile-now]`),
			staffApp,
			fleet,
			withControls(staffCampaigns, `[data-testid=campaign-new]`),
			staffCampaign,
			withControls(templates, `[data-testid=templates-sync]`),
			withControls(wechat, `[data-testid=request-ticket]`),
			withControls(domains, `[data-testid=domains-save]`),
			siteFiles,
			activity,
			account,
		}},
		{role: "staff approver", email: "approver@staff.matrix.example", land: staffLand, steps: []mstep{
			{what: "landing", wait: `[data-testid=approval-inbox]`, controls: []string{`[data-testid=inbox-release] [data-testid=inbox-link]`, `[data-testid=inbox-campaign] [data-testid=inbox-link]`},
				text: `[data-testid=approval-inbox]`, want: "平台批量升级"},
			{what: "the release from the inbox", sel: `[data-testid=inbox-release] [data-testid=inbox-link]`, wait: `[data-testid=review]`,
				controls: []string{`[data-testid=submit-audit]`}, text: `[data-testid=review-version]`, want: "1.0.1"},
			{what: "the tenants", menu: "nav-staff-tenants", wait: staffLand},
			{what: "the campaign from the inbox", sel: `[data-testid=inbox-campaign] [data-testid=inbox-link]`, wait: `[data-testid=campaign]`,
				controls: []string{`[data-testid=campaign-approve]`}, text: `[data-testid=campaign-version]`, want: "2.0.0"},
			{what: "the tenants", menu: "nav-staff-tenants", wait: staffLand, controls: []string{soloRow}},
			{what: "the solo merchant", sel: soloRow, wait: `[data-testid=tenant-status]`, text: `[data-testid=tenant-apps]`, want: "wxmatrixsolo0001"},
			staffApps,
			staffApp,
			fleet,
			templates,
			wechat,
			activity,
			account,
		}},
		{role: "staff support", email: "support@staff.matrix.example", land: staffLand, steps: []mstep{
			{what: "landing", wait: staffLand, controls: []string{demoRow}, text: `[data-testid=tenants]`, want: "一人花店"},
			staffTenant,
			staffApps,
			staffApp,
			fleet,
			staffCampaigns,
			staffCampaign,
			templates,
			wechat,
			domains,
			siteFiles,
			activity,
			account,
		}},
	}
}

// walk signs the role in, as a new person on the combination's tab (no
// cookies left from the role before), and clicks through its journey.
func (j journey) walk(b *tab, width int, lang, password string) int {
	b.t.Helper()
	b.name = fmt.Sprintf("%s-%d-%s", j.role, width, lang)
	phone := width < 600
	if _, err := chromedp.Call(b.ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		b.fail(err, "a new person: no cookies")
	}
	b.open("/login", 200)
	b.nav("log in",
		chromedp.SendKeys(css("#f-email"), j.email),
		chromedp.SendKeys(css("#f-password"), password),
		chromedp.Click(css(`[data-testid=login-submit]`)),
		chromedp.WaitVisible(css(j.land)),
	)
	outer := b
	for i, s := range j.steps {
		what := fmt.Sprintf("step %d, %s", i, s.what)
		// A step that cannot find its page fails in seconds, not at the budget.
		sctx, cancel := context.WithTimeout(outer.ctx, 30*time.Second)
		step := *outer
		step.ctx = sctx
		b := &step
		switch {
		case s.menu != "" && phone: // the toggle was checked on the page before
			b.do("open the menu", chromedp.Click(css(`[data-testid=nav-menu-toggle]`)))
			b.control(what, `a[data-testid=`+s.menu+`]`)
			b.nav(what, chromedp.Click(css(`a[data-testid=`+s.menu+`]`)), chromedp.WaitVisible(css(s.wait)))
		case s.menu != "":
			b.nav(what, chromedp.Click(css(`a[data-testid=`+s.menu+`]`)), chromedp.WaitVisible(css(s.wait)))
		case s.sel != "":
			b.nav(what, chromedp.Click(css(s.sel)), chromedp.WaitVisible(css(s.wait)))
		default:
			b.do(what, chromedp.WaitVisible(css(s.wait)))
		}
		// One round trip checks the page: its language, its data, its
		// controls and what the next step clicks, its width on a phone.
		controls := append([]string{}, s.controls...)
		if i+1 < len(j.steps) {
			switch next := j.steps[i+1]; {
			case next.menu != "" && phone:
				controls = append(controls, `[data-testid=nav-menu-toggle]`)
			case next.menu != "":
				controls = append(controls, `a[data-testid=`+next.menu+`]`)
			case next.sel != "":
				controls = append(controls, next.sel)
			}
		}
		arg, _ := json.Marshal(map[string]any{"lang": lang, "text": s.text, "want": s.want, "controls": controls, "phone": phone})
		msg, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](pageCheckJS+"("+string(arg)+")"))
		if err != nil || msg != "" {
			b.fail(fmt.Errorf("%v %s", err, msg), what)
		}
		if s.check != nil {
			s.check(b, what)
		}
		cancel()
	}
	b = outer
	if lang == "zh-CN" {
		b.shot(fmt.Sprintf("matrix-%s-%d-%s", strings.ReplaceAll(j.role, " ", "-"), width, lang))
	}
	return len(j.steps)
}

func TestE2ERoleMatrix(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skip("chromium is not installed (make chromium)")
	}
	if testing.Short() {
		t.Skip("browser test skipped with -short")
	}
	start := time.Now()
	a, tenantID, budget := startCampaignRig(t, 10*time.Minute)
	w := seedMatrix(t, a, tenantID)
	t.Logf("seeded in %v", time.Since(start).Round(time.Millisecond))

	type combo struct {
		width int
		lang  string
	}
	combos := []combo{{375, "zh-CN"}, {1280, "zh-CN"}, {375, "en"}, {1280, "en"}}
	var mu sync.Mutex
	pages := 0
	t.Run("combos", func(t *testing.T) {
		for _, c := range combos {
			t.Run(fmt.Sprintf("%d-%s", c.width, c.lang), func(t *testing.T) {
				t.Parallel()
				cs := time.Now()
				br := startBrowser(t, budget, a.base, c.width, 900, c.lang)
				b := br.tab("matrix")
				if c.width < 600 {
					b.do("phone", chromedp.EmulateViewport(int64(c.width), 812, chromedp.EmulateMobile))
				} else {
					b.do("desk", chromedp.EmulateViewport(int64(c.width), 900))
				}
				n := 0
				for _, j := range w.journeys() {
					pass := matrixPassword
					if j.email == demoOwnerEmail {
						pass = demoPassword
					}
					n += j.walk(b, c.width, c.lang, pass)
				}
				mu.Lock()
				pages += n
				mu.Unlock()
				t.Logf("%d px %s: %d pages in %v", c.width, c.lang, n, time.Since(cs).Round(time.Millisecond))
			})
		}
	})
	t.Logf("matrix: %d pages in %v (seeding included)", pages, time.Since(start).Round(time.Millisecond))
}

// controlJS says why the element at sel's centre, once scrolled into view,
// is not sel itself (or inside it): "" when nothing covers it.
const controlJS = `((sel) => {
	const el = document.querySelector(sel);
	if (!el) return 'missing';
	el.scrollIntoView({block: 'center'});
	// A link that wraps has one box per line: its first line is where the eye goes.
	const r = el.getClientRects()[0] || el.getBoundingClientRect();
	if (r.width === 0 || r.height === 0) return 'not shown';
	const x = r.left + r.width / 2, y = r.top + r.height / 2;
	if (x < 0 || y < 0 || x > window.innerWidth || y > window.innerHeight) return 'off screen at ' + Math.round(x) + ',' + Math.round(y);
	const hit = document.elementFromPoint(x, y);
	if (!hit) return 'nothing at its centre';
	if (hit === el || el.contains(hit)) return '';
	return 'covered by ' + hit.tagName.toLowerCase() + (hit.className ? '.' + hit.className : '') + ' "' + (hit.textContent || '').trim().slice(0, 40) + '"';
})`

// pageCheckJS checks a page in one evaluation: the document's language
// (WeChat's own pages, the sandbox's, speak Chinese only), that the text of
// a selector holds the seeded data, that each control is the element at its
// centre, and on a phone that nothing makes the page scroll sideways.
const pageCheckJS = `((a) => {
	const sandbox = location.pathname.startsWith('/sandbox/');
	if (!sandbox && document.documentElement.lang !== a.lang) return 'page language ' + document.documentElement.lang + ', want ' + a.lang;
	if (a.text) {
		const el = document.querySelector(a.text);
		if (!el) return a.text + ' is missing';
		if (!el.innerText.includes(a.want)) return a.text + ' says ' + JSON.stringify(el.innerText.slice(0, 200)) + ', want ' + JSON.stringify(a.want);
	}
	for (const c of a.controls || []) {
		const why = (` + controlJS + `)(c);
		if (why) return 'control ' + c + ': ' + why;
	}
	if (a.phone && document.documentElement.scrollWidth > window.innerWidth) return 'the page is ' + (document.documentElement.scrollWidth - window.innerWidth) + ' px wider than the phone';
	return '';
})`

// control fails unless the control at sel can be clicked at its centre.
func (b *tab) control(what, sel string) {
	b.t.Helper()
	msg, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](fmt.Sprintf("%s(%q)", controlJS, sel)))
	if err != nil {
		b.fail(err, what+": "+sel)
	}
	if msg != "" {
		b.fail(fmt.Errorf("%s", msg), what+": control "+sel)
	}
}
