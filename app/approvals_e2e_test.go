package main

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
)

// centreIsControl reports whether the element at sel's centre is sel itself
// (or inside it): nothing covers the control.
func centreIsControl(b *tab, sel string) bool {
	b.t.Helper()
	ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(() => { const e = document.querySelector('`+sel+`'); if (!e) return false;
		e.scrollIntoView({block: "center"}); const r = e.getBoundingClientRect();
		const x = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2); return e === x || e.contains(x); })()`))
	if err != nil {
		b.t.Fatalf("centre of %s: %v", sel, err)
	}
	return ok
}

// A merchant with one member chooses the provider's staff to approve (on a
// phone, by clicking from the landing page); a staff approver finds the
// release in 待我审批 on their landing page and reaches its review page by
// clicking, with 提交审核 usable.
func TestE2EApprovalsByStaff(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skip("chromium is not installed (make chromium)")
	}
	if testing.Short() {
		t.Skip("browser test skipped with -short")
	}
	a := startE2EApp(t, cheapHasher)
	ctx := context.Background()
	hash, err := cheapHasher.Hash("owner-password-1")
	if err != nil {
		t.Fatal(err)
	}
	owner, tn, err := a.store.Signup(ctx, model.User{Email: "solo@flower.example", Name: "独自店主", PasswordHash: hash}, "一人花店 Solo Flowers", "")
	if err != nil {
		t.Fatal(err)
	}
	a.authz.SetTenantRole(owner.ID, tn.ID, model.RoleOwner)
	staff, err := createStaff(ctx, a.store, "approver@provider.example", "审批 Approver", "staff-password-1", model.StaffApprover)
	if err != nil {
		t.Fatal(err)
	}
	a.authz.SetStaffRole(staff.ID, model.StaffApprover)
	// The owner's own release, awaiting approval.
	const appID = "wxsolo000000001"
	if err := a.store.SyncTemplates(ctx, []model.Template{{TemplateID: 7001, DraftID: 1, UserVersion: "1.0.0", UserDesc: "花店模板", SourceName: "模板"}}); err != nil {
		t.Fatal(err)
	}
	if err := a.store.EnsureAuthorizer(ctx, appID); err != nil {
		t.Fatal(err)
	}
	if err := a.store.SaveAppDetails(ctx, appID, store.AppDetails{Nickname: "一人花店小程序", AccountKind: "miniprogram", AccountStatus: 1, PermissionSets: []int{18}}); err != nil {
		t.Fatal(err)
	}
	if err := a.store.AssignApp(ctx, model.SystemActor, appID, tn.ID); err != nil {
		t.Fatal(err)
	}
	who := model.Actor{UserID: owner.ID, Label: owner.Email}
	r, err := model.NewRelease(tn.ID, appID, 0, model.ReleasePayload{TemplateID: 7001, UserVersion: "1.0.1", UserDesc: "春季花束上新",
		ExtJSON: `{"ext":{"shopName":"一人花店"},"extAppid":"` + appID + `","extEnable":true}`}, who, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if r, err = a.store.CreateRelease(ctx, tn.ID, r); err != nil {
		t.Fatal(err)
	}
	for _, ev := range []model.ReleaseEvent{model.EvCommit, model.EvCommitOK, model.EvScan, model.EvScanDone, model.EvPreflightOK} {
		c := model.Cause{Kind: model.CauseSystem, Actor: "system", At: time.Now()}
		if ev == model.EvCommit {
			c = model.Cause{Kind: model.CauseUser, ActorID: owner.ID, Actor: owner.Email, At: time.Now()}
		}
		if r, err = a.store.TransitionRelease(ctx, tn.ID, r.ID, ev, c); err != nil {
			t.Fatalf("%s: %v", ev, err)
		}
	}

	budget, stop := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(stop)
	br := startBrowser(t, budget, a.base, 1280, 800, "zh-CN")
	login := func(b *tab, email, pass string) {
		b.open("/login", 200)
		b.do("fill login", chromedp.SendKeys(css("#f-email"), email), chromedp.SendKeys(css("#f-password"), pass))
		b.nav("log in", chromedp.Click(css("[data-testid=login-submit]")))
	}

	// The owner, on a phone: landing page → 审批设置 → the provider's approvers.
	m := br.tab("owner")
	m.do("phone viewport", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile))
	login(m, owner.Email, "owner-password-1")
	if p := m.path(); !strings.HasPrefix(p, "/t/") {
		t.Fatalf("owner landed at %s", p)
	}
	m.menu("open approvals from the phone menu", "nav-approvals", "[data-testid=approvals-staff]")
	m.wantText("[data-testid=page-title]", "审批设置")
	m.do("choose staff", chromedp.Click(css("[data-testid=approvals-staff]")))
	if !centreIsControl(m, "[data-testid=approvals-save]") {
		t.Fatal("the save button is covered")
	}
	m.nav("save", chromedp.Click(css("[data-testid=approvals-save]")))
	m.wantText("[data-testid=approvals-current]", "服务商的审批人")
	m.shot("approvals-setting-phone")
	if got, _ := a.store.TenantApprovals(ctx, tn.ID); got != model.ApprovalsStaff {
		t.Fatalf("approvals = %q after saving", got)
	}

	// The staff approver: landing page → 待我审批 → the review.
	s := br.tab("staff")
	login(s, staff.Email, "staff-password-1")
	s.wantText("[data-testid=approval-inbox] h3", "待我审批")
	s.shot("staff-inbox")
	s.nav("open the review", chromedp.Click(css("[data-testid=inbox-release] [data-testid=inbox-link]")))
	if p := s.path(); p != "/staff/approvals/"+strconv.FormatInt(tn.ID, 10)+"/"+strconv.FormatInt(r.ID, 10) {
		t.Fatalf("review at %s", p)
	}
	s.wantText("[data-testid=review-version]", "1.0.1")
	if !centreIsControl(s, "[data-testid=submit-audit]") {
		t.Fatal("提交审核 is covered")
	}
	s.shot("staff-review")
}
