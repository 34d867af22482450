package web

import (
	"testing"
)

// What a campaign's approver approves (issue #13 item 4): the template's
// version and description, the target filter in words, each app's ext_json
// change grouped; a done campaign says when it finished; after a halt the
// primary action is cancelling.

func TestCampaignApprovalScenarios(t *testing.T) { runScenarios(t, campaignApprovalScenarios()) }

func campaignApprovalScenarios() []scenario {
	exec := func(q string, args ...any) func(t *testing.T, h *harness, w *world) {
		return func(t *testing.T, h *harness, w *world) {
			t.Helper()
			if _, err := h.st.W.Exec(q, args...); err != nil {
				t.Fatal(err)
			}
		}
	}
	staffApproveA := exec(`UPDATE tenants SET approvals = 'staff' WHERE name = ?`, tenantAName)
	return []scenario{
		// The creator never gets a primary button they cannot use.
		{name: "campaign creator's approve button is not primary", method: "GET", url: "/t/{A}/campaigns/{campA}", who: "ownerA", status: 200,
			want: []string{`data-testid="campaign-approve" class="secondary outline" disabled`}},
		{name: "campaign approver's approve button is primary", method: "GET", url: "/t/{A}/campaigns/{campA}", who: "approverA", status: 200,
			want: []string{`data-testid="campaign-approve" class=""`}, notWant: []string{`data-testid="campaign-approve" class="secondary outline"`}},
		// A tenant that chose staff approval has its campaigns approved by staff too.
		{name: "staff approve a tenant's campaign when it chose staff approval", method: "POST", url: "/staff/campaigns/{campA}/approve", form: form("set_hash", "{hashCampA}", "seq", "0"), who: "staffapprover", status: 303,
			setup: staffApproveA, check: campaignState(campByName(campNameA), "running")},
		{name: "tenant approver refused when the tenant chose staff approval", method: "POST", url: "/t/{A}/campaigns/{campA}/approve", form: form("set_hash", "{hashCampA}", "seq", "0"), who: "approverA", status: 403,
			setup: staffApproveA, want: []string{"t:approvals.by_staff"}, check: campaignState(campByName(campNameA), "awaiting_approval")},
		{name: "staff inbox lists a staff-approved tenant's campaign", method: "GET", url: "/staff/tenants", who: "staffapprover", status: 200,
			setup: staffApproveA, want: []string{`href="/staff/campaigns/{campA}"`, tenantAName}},
		{name: "staff campaign page of a staff-approved tenant offers approving", method: "GET", url: "/staff/campaigns/{campA}", who: "staffapprover", status: 200,
			setup: staffApproveA, want: []string{`data-testid="campaign-approve"`}},
		{name: "tenant inbox leaves out campaigns staff approve", method: "GET", url: "/t/{A}", who: "approverA", status: 200,
			setup: staffApproveA, notWant: []string{`href="/t/{A}/campaigns/{campA}"`}},
		{name: "tenant inbox lists its campaign when it approves its own", method: "GET", url: "/t/{A}", who: "approverA", status: 200,
			want: []string{`data-testid="inbox-campaign"`, `href="/t/{A}/campaigns/{campA}"`}},
		{name: "campaign approval shows each app's change", method: "GET", url: "/t/{A}/campaigns/{campA}", who: "approverA", status: 200,
			want: []string{`data-testid="campaign-changes"`, `data-testid="change-group-0"`, `data-testid="change-ext.shopName"`, "甲店二号",
				`data-testid="campaign-template-version"`, "t:campaign.template_version", "t:campaign.eta_after_approval"},
			notWant: []string{"t:campaign.eta_unknown", `data-testid="change-group-1"`, `data-testid="change-extAppid"`}},
		{name: "campaign approval groups the same change and lists the exceptions", method: "GET", url: "/staff/campaigns/{campS}", who: "staffapprover", status: 200,
			setup: exec(`INSERT INTO campaign_apps (campaign_id, appid, tenant_id, ext_hash, state) SELECT id, 'wxappa0000000001', (SELECT tenant_id FROM authorizers WHERE appid = 'wxappa0000000001'), 'sha256:x', 'queued' FROM campaigns WHERE tenant_id IS NULL`),
			want:  []string{`data-testid="change-group-0"`, `data-testid="change-group-1"`, "丁店", "甲店二号"}},
		{name: "campaign filter in words", method: "GET", url: "/staff/campaigns/{campS}", who: "staffapprover", status: 200,
			setup:   exec(`UPDATE campaigns SET filter = 'tenant=' || (SELECT tenant_id FROM authorizers WHERE appid = 'wxappd0000000005') || ' tag=demo status=authorized' WHERE tenant_id IS NULL`),
			want:    []string{`data-testid="campaign-filter"`, "带标签“demo”的小程序", "商家：Delta Deli 丁商户", "状态为已授权"},
			notWant: []string{"tag=demo", "status=authorized"}},
		{name: "a done campaign says when it finished", method: "GET", url: "/t/{A}/campaigns/{campA}", who: "viewerA", status: 200,
			setup: exec(`UPDATE campaigns SET state = 'done', finished_at = updated_at WHERE name = ?`, campNameA),
			want:  []string{"t:campaign.finished_at", "t:campaign.state.done"}, notWant: []string{"t:campaign.eta_unknown", `data-testid="campaign-changes"`}},
		{name: "after a halt the primary action is cancelling", method: "GET", url: "/t/{A}/campaigns/{campA}", who: "ownerA", status: 200,
			setup: exec(`UPDATE campaigns SET state = 'halted' WHERE name = ?`, campNameA),
			want:  []string{`value="cancel" class="" data-testid="campaign-cancel"`, `value="resume" class="secondary outline" data-testid="campaign-resume"`}},
		{name: "after a pause the primary action is resuming", method: "GET", url: "/t/{A}/campaigns/{campA}", who: "ownerA", status: 200,
			setup: exec(`UPDATE campaigns SET state = 'paused' WHERE name = ?`, campNameA),
			want:  []string{`value="resume" class="" data-testid="campaign-resume"`, `value="cancel" class="secondary outline" data-testid="campaign-cancel"`}},
	}
}
