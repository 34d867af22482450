package web

import (
	"context"
	"testing"

	"github.com/minifleet/minifleet/app/model"
)

// Approvals (issue #13 item 3): who approves a tenant's releases, the staff
// approvers' review, the 待我审批 inbox.

func TestApprovalsScenarios(t *testing.T) { runScenarios(t, approvalsScenarios()) }

const (
	appF = "wxappf0000000007"
	appG = "wxappg0000000008"
)

// approvalsFixture: tenant F has one member (its owner), who prepared a
// release now awaiting approval, and chose staff approval. Tenant G chose
// staff approval too, and its release was prepared by a member who is also
// a staff approver ("staffPreparer"): the two-person rule binds them.
func approvalsFixture(h *harness, w *world) []string {
	ctx := context.Background()
	uF, tF := h.signup("owner@fx.test", "Fay Owner", "Foxtrot Flowers 己商户")
	w.users["ownerFX"] = uF
	addApp(h, appF, "Foxtrot Flowers 己小程序", []int{18}, tF.ID)
	uG, tG := h.signup("owner@gx.test", "Gus Owner", "Golf Grill 庚商户")
	w.users["ownerGX"] = uG
	sp := h.user("preparer@staff.test", "Staff Preparer", model.StaffApprover)
	h.join(tG.ID, uG.ID, sp.ID, model.RoleDeveloper)
	w.users["staffPreparer"] = sp
	addApp(h, appG, "Golf Grill 庚小程序", []int{18}, tG.ID)
	mk := func(tid int64, appID string, u model.User, ver string) model.Release {
		who := model.Actor{UserID: u.ID, Label: u.Email}
		p := model.ReleasePayload{TemplateID: relTemplateID, UserVersion: ver, UserDesc: "花店上新 " + ver, ExtJSON: `{"ext":{"shopName":"己店"},"extAppid":"` + appID + `","extEnable":true}`}
		r, err := model.NewRelease(tid, appID, 1, p, who, h.clock.Now())
		if err != nil {
			h.t.Fatal(err)
		}
		if r, err = h.st.CreateRelease(ctx, tid, r); err != nil {
			h.t.Fatal(err)
		}
		for _, ev := range []model.ReleaseEvent{model.EvCommit, model.EvCommitOK, model.EvScan, model.EvScanDone, model.EvPreflightOK} {
			c := model.Cause{Kind: model.CauseSystem, Actor: "system", At: h.clock.Now()}
			if ev == model.EvCommit {
				c = model.Cause{Kind: model.CauseUser, ActorID: u.ID, Actor: u.Email, At: h.clock.Now()}
			}
			if r, err = h.st.TransitionRelease(ctx, tid, r.ID, ev, c); err != nil {
				h.t.Fatalf("%s: %v", ev, err)
			}
		}
		if err := h.st.ApplyOps(ctx, h.st.QROp(tid, r.ID, []byte("\x89PNG fake"), "image/png")); err != nil {
			h.t.Fatal(err)
		}
		return r
	}
	relF := mk(tF.ID, appF, uF, "3.1.0")
	relG := mk(tG.ID, appG, sp, "4.2.0")
	for _, tid := range []int64{tF.ID, tG.ID} {
		if err := h.st.SetTenantApprovals(ctx, model.Actor{UserID: uF.ID, Label: "fixture"}, tid, model.ApprovalsStaff); err != nil {
			h.t.Fatal(err)
		}
	}
	return []string{"{FX}", itoa(tF.ID), "{appF}", appF, "{relF}", itoa(relF.ID), "{hashF}", relF.PayloadHash,
		"{GX}", itoa(tG.ID), "{appG}", appG, "{relG}", itoa(relG.ID), "{hashG}", relG.PayloadHash}
}

func approvalsScenarios() []scenario {
	approvals := func(tid func(w *world) int64, want model.Approvals, rows int) func(t *testing.T, h *harness, w *world) {
		return func(t *testing.T, h *harness, w *world) {
			t.Helper()
			got, err := h.st.TenantApprovals(context.Background(), tid(w))
			if err != nil || got != want {
				t.Errorf("approvals = %q, %v; want %q", got, err, want)
			}
			if n := h.count(`SELECT COUNT(*) FROM activity WHERE tenant_id = ? AND action = 'tenant_approvals_set'`, tid(w)); n != rows {
				t.Errorf("activity rows = %d, want %d", n, rows)
			}
		}
	}
	tenantA := func(w *world) int64 { return w.A.ID }
	relState := func(appID string, want model.ReleaseState) func(t *testing.T, h *harness, w *world) {
		return func(t *testing.T, h *harness, w *world) {
			t.Helper()
			var st string
			if err := h.st.R.QueryRow(`SELECT state FROM releases WHERE appid = ?`, appID).Scan(&st); err != nil || model.ReleaseState(st) != want {
				t.Errorf("%s state = %q, %v; want %s", appID, st, err, want)
			}
		}
	}
	staffF := "/staff/approvals/{FX}/{relF}"
	return []scenario{
		// The owner's setting.
		{name: "approvals page owner", method: "GET", url: "/t/{A}/settings/approvals", who: "ownerA", status: 200,
			want: []string{`data-testid="approvals-form"`, `value="tenant" checked`, `data-testid="approvals-staff"`, "t:approvals.staff_help", `data-testid="nav-approvals"`}},
		{name: "approvals page of a staff-approved tenant", method: "GET", url: "/t/{FX}/settings/approvals", who: "ownerFX", status: 200, want: []string{`value="staff" checked`}},
		{name: "approvals page developer", method: "GET", url: "/t/{A}/settings/approvals", who: "developerA", status: 403},
		{name: "approvals page approver", method: "GET", url: "/t/{A}/settings/approvals", who: "approverA", status: 403},
		{name: "approvals page of A from B", method: "GET", url: "/t/{A}/settings/approvals", who: "ownerB", status: 404},
		{name: "approvals save staff", method: "POST", url: "/t/{A}/settings/approvals", form: form("approvals", "staff"), who: "ownerA", status: 303, loc: "/t/{A}/settings/approvals?flash=approvals.saved",
			check: approvals(tenantA, model.ApprovalsStaff, 1)},
		{name: "approvals save nonsense keeps the page", method: "POST", url: "/t/{A}/settings/approvals", form: form("approvals", "everyone"), who: "ownerA", status: 422,
			want: []string{"t:form.invalid_choice", `data-testid="approvals-form"`}, check: approvals(tenantA, model.ApprovalsTenant, 0)},
		{name: "approvals save unchanged", method: "POST", url: "/t/{A}/settings/approvals", form: form("approvals", "tenant"), who: "ownerA", status: 409,
			want: []string{"t:approvals.unchanged"}, check: approvals(tenantA, model.ApprovalsTenant, 0)},
		{name: "approvals save developer", method: "POST", url: "/t/{A}/settings/approvals", form: form("approvals", "staff"), who: "developerA", status: 403, check: approvals(tenantA, model.ApprovalsTenant, 0)},

		// A staff-approved tenant: its own members get no review button.
		{name: "release of a staff-approved tenant: owner sees who approves", method: "GET", url: "/t/{FX}/apps/{appF}/releases/{relF}", who: "ownerFX", status: 200,
			want: []string{`data-testid="staff-approves"`, "t:approvals.waiting_staff"}, notWant: []string{`data-testid="go-review"`}},
		{name: "tenant review refused when staff approve", method: "GET", url: "/t/{FX}/apps/{appF}/releases/{relF}/review", who: "ownerFX", status: 403, want: []string{"t:approvals.by_staff"}},
		{name: "tenant submit refused when staff approve", method: "POST", url: "/t/{FX}/apps/{appF}/releases/{relF}/submit", form: form("hash", "{hashF}"), who: "ownerFX", status: 403,
			check: relState(appF, model.RelAwaitingApproval)},
		{name: "one-member preparer is pointed at the setting", method: "GET", url: "/t/{A}/apps/{appA}/releases/{relA}", who: "ownerA", status: 200,
			want: []string{`data-testid="approve-blocked"`, `data-testid="approvals-hint"`, `href="/t/{A}/settings/approvals"`}},

		// The staff approvers' review.
		{name: "staff review", method: "GET", url: staffF, who: "staffapprover", status: 200,
			want:    []string{`data-testid="review"`, "3.1.0", "花店上新 3.1.0", "Foxtrot Flowers 己商户", `data-testid="submit-audit"`, `action="/staff/approvals/{FX}/{relF}/submit"`, `src="/staff/approvals/{FX}/{relF}/qr"`, "t:inbox.back"},
			notWant: []string{`data-testid="submit-reason"`}},
		{name: "staff review admin", method: "GET", url: staffF, who: "staffadmin", status: 200, want: []string{`data-testid="submit-audit"`}},
		{name: "staff review operator", method: "GET", url: staffF, who: "staffoperator", status: 403},
		{name: "staff review support", method: "GET", url: staffF, who: "staffsupport", status: 403},
		{name: "staff review tenant member", method: "GET", url: staffF, who: "ownerFX", status: 403},
		{name: "staff review of a tenant that approves its own", method: "GET", url: "/staff/approvals/{A}/{relA}", who: "staffapprover", status: 404},
		{name: "staff review of F's release through G", method: "GET", url: "/staff/approvals/{GX}/{relF}", who: "staffapprover", status: 404},
		{name: "staff QR", method: "GET", url: staffF + "/qr", who: "staffapprover", status: 200, want: []string{"PNG fake"}},
		{name: "staff QR operator", method: "GET", url: staffF + "/qr", who: "staffoperator", status: 403},
		{name: "staff QR of a tenant that approves its own", method: "GET", url: "/staff/approvals/{A}/{relA}/qr", who: "staffapprover", status: 404},
		{name: "staff submit", method: "POST", url: staffF + "/submit", form: form("hash", "{hashF}"), who: "staffapprover", status: 303, loc: "/staff/approvals/{FX}/{relF}?flash=release.submitted",
			check: func(t *testing.T, h *harness, w *world) {
				if n := h.count(`SELECT COUNT(*) FROM release_events WHERE event = 'approve' AND actor_id = ?`, w.users["staffapprover"].ID); n != 1 {
					t.Errorf("approvals by the staff approver = %d", n)
				}
			}},
		{name: "staff submit with a changed payload", method: "POST", url: staffF + "/submit", form: form("hash", "sha256:0000"), who: "staffapprover", status: 409,
			want: []string{"t:release.err.payload_changed"}, check: relState(appF, model.RelAwaitingApproval)},
		{name: "staff submit by the preparer (two-person rule)", method: "POST", url: "/staff/approvals/{GX}/{relG}/submit", form: form("hash", "{hashG}"), who: "staffPreparer", status: 403,
			want: []string{"t:release.err.preparer_cannot_approve"}, check: relState(appG, model.RelAwaitingApproval)},
		{name: "staff review by the preparer shows why not", method: "GET", url: "/staff/approvals/{GX}/{relG}", who: "staffPreparer", status: 200,
			want: []string{`data-testid="submit-reason"`, "t:release.review.preparer", "disabled"}},
		{name: "staff submit operator", method: "POST", url: staffF + "/submit", form: form("hash", "{hashF}"), who: "staffoperator", status: 403, check: relState(appF, model.RelAwaitingApproval)},
		{name: "staff submit of a tenant that approves its own", method: "POST", url: "/staff/approvals/{A}/{relA}/submit", form: form("hash", "{hashA}"), who: "staffapprover", status: 404,
			check: relState("wxappa0000000001", model.RelAwaitingApproval)},

		// 待我审批 on the landing pages.
		{name: "staff inbox lists staff-approved releases", method: "GET", url: "/staff/tenants", who: "staffapprover", status: 200,
			want:    []string{`data-testid="approval-inbox"`, `href="/staff/approvals/{FX}/{relF}"`, `href="/staff/approvals/{GX}/{relG}"`, "Foxtrot Flowers 己商户"},
			notWant: []string{`/releases/{relA}/review`}},
		{name: "staff inbox leaves out what the viewer prepared", method: "GET", url: "/staff/tenants", who: "staffPreparer", status: 200,
			want: []string{`href="/staff/approvals/{FX}/{relF}"`}, notWant: []string{`href="/staff/approvals/{GX}/{relG}"`}},
		{name: "no inbox for staff who approve nothing", method: "GET", url: "/staff/tenants", who: "staffoperator", status: 200, notWant: []string{`data-testid="approval-inbox"`}},
		{name: "tenant approver's inbox", method: "GET", url: "/t/{A}", who: "approverA", status: 200,
			want: []string{`data-testid="approval-inbox"`, `data-testid="inbox-release"`, `href="/t/{A}/apps/{appA}/releases/{relA}/review"`, "2.0.0"}},
		{name: "the preparer's inbox leaves out their own release", method: "GET", url: "/t/{A}", who: "ownerA", status: 200,
			want: []string{`data-testid="approval-inbox"`}, notWant: []string{`/releases/{relA}/review`}},
		{name: "no inbox for a viewer", method: "GET", url: "/t/{A}", who: "viewerA", status: 200, notWant: []string{`data-testid="approval-inbox"`}},
		{name: "a staff-approved tenant's owner has nothing waiting", method: "GET", url: "/t/{FX}", who: "ownerFX", status: 200,
			want: []string{`data-testid="inbox-empty"`}, notWant: []string{`data-testid="inbox-release"`}},
	}
}
