package web

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/minifleet/minifleet/app/model"
)

func TestCampaignScenarios(t *testing.T) { runScenarios(t, campaignScenarios()) }

// Campaign pages (tenant and staff) and app tags: every route × role,
// allowed and refused, and tenant isolation by id. Its fixture builds on
// the release fixture (the template with a schema, tenant D's app), which
// featureFixtures runs before it.

const (
	campNameA = "甲批量升级 Alpha"
	campNameB = "乙秘密批量 Bravo"
	campNameS = "平台批量 Staff"
)

// campaignFixture: a campaign of tenant A created by its owner (so its
// approver may approve it and the owner may not), one of tenant B, and a
// staff campaign over tenant D's app created by the staff admin. App A is
// tagged 华东.
func campaignFixture(h *harness, w *world) []string {
	ctx := context.Background()
	who := func(k string) model.Actor { return model.Actor{UserID: w.users[k].ID, Label: w.users[k].Email} }
	mk := func(tenantID int64, creator, name, version string, targets ...model.CampaignTarget) model.Campaign {
		c := model.Campaign{TenantID: tenantID, Name: name, TemplateID: relTemplateID, UserVersion: version, UserDesc: name + " 描述",
			CampaignSettings: model.CampaignSettings{CanarySize: 3, WaveMax: 200, Concurrency: 20, HaltRate: 0.2, ReleaseMode: model.ReleaseEach},
			CreatorID:        w.users[creator].ID, Creator: w.users[creator].Email}
		c.SetHash = model.CampaignSetHash(relTemplateID, version, c.UserDesc, targets)
		c, err := h.st.CreateCampaign(ctx, c, targets, nil)
		if err != nil {
			h.t.Fatal(err)
		}
		return c
	}
	tD, err := h.st.TenantOfApp(ctx, appD)
	if err != nil {
		h.t.Fatal(err)
	}
	cA := mk(w.A.ID, "ownerA", campNameA, "3.1.0", model.CampaignTarget{AppID: "wxappa0000000001", TenantID: w.A.ID, ExtHash: "sha256:a"})
	cB := mk(w.B.ID, "ownerB", campNameB, "8.8.8", model.CampaignTarget{AppID: "wxappb0000000002", TenantID: w.B.ID, ExtHash: "sha256:b"})
	cS := mk(0, "staffadmin", campNameS, "4.0.0", model.CampaignTarget{AppID: appD, TenantID: tD, ExtHash: "sha256:d"})
	if err := h.st.SetAppTags(ctx, who("ownerA"), w.A.ID, "wxappa0000000001", []string{"华东"}); err != nil {
		h.t.Fatal(err)
	}
	return []string{"{campA}", itoa(cA.ID), "{campB}", itoa(cB.ID), "{campS}", itoa(cS.ID),
		"{hashCampA}", cA.SetHash, "{hashCampS}", cS.SetHash}
}

func campaignState(id func(f *world, h *harness) int64, want model.CampaignState) func(t *testing.T, h *harness, w *world) {
	return func(t *testing.T, h *harness, w *world) {
		t.Helper()
		c, err := h.st.Campaign(context.Background(), 0, id(w, h))
		if err != nil || c.State != want {
			t.Errorf("campaign is %s (%v), want %s", c.State, err, want)
		}
	}
}

// campByName finds a fixture campaign's id.
func campByName(name string) func(w *world, h *harness) int64 {
	return func(_ *world, h *harness) int64 {
		var id int64
		if err := h.st.R.QueryRow(`SELECT id FROM campaigns WHERE name = ?`, name).Scan(&id); err != nil {
			h.t.Fatal(err)
		}
		return id
	}
}

func campaignFormValues(kv ...string) []string {
	base := map[string]string{"name": "丁批量", "template_id": "901", "user_version": "5.0.0", "user_desc": "冬季上新",
		"canary_size": "3", "wave_max": "200", "concurrency": "20", "halt_rate": "20", "gray_percent": "0", "release_mode": "each"}
	for i := 0; i+1 < len(kv); i += 2 {
		base[kv[i]] = kv[i+1]
	}
	keys := make([]string, 0, len(base))
	for k := range base {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []string
	for _, k := range keys {
		out = append(out, k, base[k])
	}
	return out
}

func campaignScenarios() []scenario {
	campaigns := func(want int) func(t *testing.T, h *harness, w *world) {
		return func(t *testing.T, h *harness, w *world) {
			t.Helper()
			if n := h.count(`SELECT COUNT(*) FROM campaigns`); n != want {
				t.Errorf("%d campaigns, want %d", n, want)
			}
		}
	}
	cA, cS := campByName(campNameA), campByName(campNameS)
	f := func(kv ...string) map[string][]string { return form(campaignFormValues(kv...)...) }
	var sc []scenario
	add := func(s ...scenario) { sc = append(sc, s...) }

	// Tenant pages.
	add(
		scenario{name: "campaigns list", method: "GET", url: "/t/{A}/campaigns", who: "viewerA", status: 200,
			want:    []string{campNameA, "t:campaign.state.awaiting_approval", `data-testid="campaign-bar"`, "owner@a.test", `data-testid="nav-campaigns"`},
			notWant: []string{campNameB, campNameS, `data-testid="campaign-new"`}},
		scenario{name: "campaigns list developer may create", method: "GET", url: "/t/{A}/campaigns", who: "developerA", status: 200, want: []string{`data-testid="campaign-new"`}},
		scenario{name: "campaigns list non-member", method: "GET", url: "/t/{A}/campaigns", who: "ownerB", status: 404, notWant: []string{campNameA}},
		scenario{name: "campaigns list anonymous", method: "GET", url: "/t/{A}/campaigns", who: "anon", status: 303, loc: "/login?next="},
		scenario{name: "campaign form", method: "GET", url: "/t/{A}/campaigns/new", who: "developerA", status: 200,
			want:    []string{`data-testid="campaign-form"`, `hx-post="/t/{A}/campaigns/preview"`, "华东", `value="3"`, `value="200"`, `value="20"`, "店铺模板"},
			notWant: []string{`data-testid="campaign-tenant"`}},
		scenario{name: "campaign form viewer", method: "GET", url: "/t/{A}/campaigns/new", who: "viewerA", status: 403},
		scenario{name: "campaign form approver", method: "GET", url: "/t/{A}/campaigns/new", who: "approverA", status: 403},
		scenario{name: "campaign preview", method: "POST", url: "/t/{D}/campaigns/preview", form: f(), htmx: true, who: "ownerD", status: 200,
			want: []string{`data-testid="preview-targets"`, "1 个小程序将被发布", `data-testid="target-{appD}"`, "sha256:"}, notWant: []string{"<html", "wxappa0000000001"},
			check: campaigns(3)},
		scenario{name: "campaign preview lists skipped apps with the reason", method: "POST", url: "/t/{A}/campaigns/preview", form: f(), htmx: true, who: "developerA", status: 200,
			want: []string{"0 个小程序将被发布", `data-testid="skip-open_release"`, "t:campaign.skip.open_release", `data-testid="target-wxappa0000000001"`}, notWant: []string{"wxappb0000000002", appD}},
		scenario{name: "campaign preview bad input", method: "POST", url: "/t/{D}/campaigns/preview", form: f("canary_size", "abc"), htmx: true, who: "ownerD", status: 422,
			want: []string{`data-testid="preview-error-canary_size"`, "t:campaign.err.number"}},
		scenario{name: "campaign preview without JS renders the page", method: "POST", url: "/t/{D}/campaigns/preview", form: f(), who: "ownerD", status: 200,
			want: []string{"<html", `data-testid="campaign-form"`, `data-testid="preview-targets"`, `value="丁批量"`}},
		scenario{name: "campaign preview viewer", method: "POST", url: "/t/{A}/campaigns/preview", form: f(), htmx: true, who: "viewerA", status: 403},
		scenario{name: "campaign create", method: "POST", url: "/t/{D}/campaigns", form: f(), who: "ownerD", status: 303, loc: "/t/{D}/campaigns/",
			check: func(t *testing.T, h *harness, w *world) {
				if n := h.count(`SELECT COUNT(*) FROM campaigns c JOIN campaign_apps a ON a.campaign_id = c.id WHERE c.name = '丁批量' AND c.state = 'awaiting_approval' AND a.appid = ?`, appD); n != 1 {
					t.Errorf("created campaigns over app D: %d", n)
				}
			}},
		scenario{name: "campaign create with no target", method: "POST", url: "/t/{A}/campaigns", form: f(), who: "developerA", status: 422,
			want: []string{"t:campaign.err.no_targets", `data-testid="preview-skip-by"`, `value="丁批量"`}, check: campaigns(3)},
		scenario{name: "campaign create viewer", method: "POST", url: "/t/{A}/campaigns", form: f(), who: "viewerA", status: 403, check: campaigns(3)},
		scenario{name: "campaign create in another tenant", method: "POST", url: "/t/{D}/campaigns", form: f(), who: "ownerA", status: 404, check: campaigns(3)},
		scenario{name: "campaign page", method: "GET", url: "/t/{A}/campaigns/{campA}", who: "viewerA", status: 200,
			want: []string{campNameA, "3.1.0", "{hashCampA}", "t:campaign.state.awaiting_approval", `sse-connect="/t/{A}/campaigns/{campA}/events?seq=`, `data-testid="campaign-apps"`,
				`data-testid="campaign-app-wxappa0000000001"`, "t:campaign.phase.queued", "t:campaign.eta_after_approval", `href="/t/{A}/campaigns/{campA}/report.csv"`, `data-testid="approve-wait"`},
			notWant: []string{`data-testid="approve-form"`, `data-testid="campaign-cancel"`}},
		scenario{name: "campaign page approver can approve", method: "GET", url: "/t/{A}/campaigns/{campA}", who: "approverA", status: 200,
			want: []string{`data-testid="campaign-approve"`, `name="set_hash" value="{hashCampA}"`, `name="seq" value="0"`, "data-confirm="}, notWant: []string{`data-testid="approve-reason"`}},
		scenario{name: "campaign page creator sees why not", method: "GET", url: "/t/{A}/campaigns/{campA}", who: "ownerA", status: 200,
			want: []string{`data-testid="approve-reason"`, "t:campaign.err.creator_cannot_approve", "disabled", `data-testid="campaign-cancel"`}},
		scenario{name: "campaign of A from B", method: "GET", url: "/t/{B}/campaigns/{campA}", who: "ownerB", status: 404, notWant: []string{campNameA}},
		scenario{name: "staff campaign from a tenant", method: "GET", url: "/t/{A}/campaigns/{campS}", who: "ownerA", status: 404, notWant: []string{campNameS}},
		scenario{name: "campaign of A by a non-member", method: "GET", url: "/t/{A}/campaigns/{campA}", who: "ownerB", status: 404, notWant: []string{campNameA}},
		scenario{name: "campaign stream", method: "GET", url: "/t/{A}/campaigns/{campA}/events", who: "viewerA", status: 200, want: []string{"retry: 2000"}, notWant: []string{"event: campaign"}},
		// A page rendered at an older seq gets the campaign as it is now on connect.
		scenario{name: "campaign stream behind", method: "GET", url: "/t/{A}/campaigns/{campA}/events?seq=999999", who: "viewerA", status: 200,
			want: []string{"retry: 2000", "event: campaign\n", "t:campaign.state.awaiting_approval"}},
		scenario{name: "campaign stream of A from B", method: "GET", url: "/t/{B}/campaigns/{campA}/events", who: "ownerB", status: 404},
		scenario{name: "campaign report", method: "GET", url: "/t/{A}/campaigns/{campA}/report.csv", who: "viewerA", status: 200,
			want: []string{"appid,nickname,tenant,wave,phase", "wxappa0000000001", "排队中"}, notWant: []string{"wxappb0000000002"}},
		scenario{name: "campaign report of A from B", method: "GET", url: "/t/{B}/campaigns/{campA}/report.csv", who: "ownerB", status: 404, notWant: []string{"wxappa0000000001"}},
		scenario{name: "campaign approve", method: "POST", url: "/t/{A}/campaigns/{campA}/approve", form: form("set_hash", "{hashCampA}", "seq", "0"), who: "approverA", status: 303,
			loc: "/t/{A}/campaigns/{campA}?flash=campaign.decided", check: campaignState(cA, model.CampRunning)},
		scenario{name: "campaign approve by its creator", method: "POST", url: "/t/{A}/campaigns/{campA}/approve", form: form("set_hash", "{hashCampA}", "seq", "0"), who: "ownerA", status: 403,
			want: []string{"t:campaign.err.creator_cannot_approve", campNameA}, check: campaignState(cA, model.CampAwaitingApproval)},
		scenario{name: "campaign approve a changed set", method: "POST", url: "/t/{A}/campaigns/{campA}/approve", form: form("set_hash", "sha256:0000", "seq", "0"), who: "approverA", status: 409,
			want: []string{"t:campaign.err.set_changed"}, check: campaignState(cA, model.CampAwaitingApproval)},
		scenario{name: "campaign approve developer", method: "POST", url: "/t/{A}/campaigns/{campA}/approve", form: form("set_hash", "{hashCampA}", "seq", "0"), who: "developerA", status: 403, check: campaignState(cA, model.CampAwaitingApproval)},
		scenario{name: "campaign approve A's through B", method: "POST", url: "/t/{B}/campaigns/{campA}/approve", form: form("set_hash", "{hashCampA}", "seq", "0"), who: "ownerB", status: 404, check: campaignState(cA, model.CampAwaitingApproval)},
		scenario{name: "campaign cancel", method: "POST", url: "/t/{A}/campaigns/{campA}/action", form: form("action", "cancel", "seq", "0"), who: "developerA", status: 303, check: campaignState(cA, model.CampCancelled)},
		scenario{name: "campaign pause before approval", method: "POST", url: "/t/{A}/campaigns/{campA}/action", form: form("action", "pause", "seq", "0"), who: "developerA", status: 409,
			want: []string{"t:campaign.state.awaiting_approval"}, check: campaignState(cA, model.CampAwaitingApproval)},
		scenario{name: "campaign action stale", method: "POST", url: "/t/{A}/campaigns/{campA}/action", form: form("action", "cancel", "seq", "7"), who: "developerA", status: 409,
			want: []string{"t:campaign.err.stale"}, check: campaignState(cA, model.CampAwaitingApproval)},
		scenario{name: "campaign action unknown", method: "POST", url: "/t/{A}/campaigns/{campA}/action", form: form("action", "explode", "seq", "0"), who: "developerA", status: 422, check: campaignState(cA, model.CampAwaitingApproval)},
		scenario{name: "campaign cancel viewer", method: "POST", url: "/t/{A}/campaigns/{campA}/action", form: form("action", "cancel", "seq", "0"), who: "viewerA", status: 403, check: campaignState(cA, model.CampAwaitingApproval)},
		scenario{name: "campaign cancel A's through B", method: "POST", url: "/t/{B}/campaigns/{campA}/action", form: form("action", "cancel", "seq", "0"), who: "ownerB", status: 404, check: campaignState(cA, model.CampAwaitingApproval)},

		// App tags.
		scenario{name: "app page shows tags", method: "GET", url: "/t/{A}/apps/{appA}", who: "developerA", status: 200, want: []string{`data-testid="app-tags"`, "华东", `data-testid="tags-form"`}},
		scenario{name: "app page viewer sees tags only", method: "GET", url: "/t/{A}/apps/{appA}", who: "viewerA", status: 200, want: []string{"华东"}, notWant: []string{`data-testid="tags-form"`}},
		scenario{name: "app tags save", method: "POST", url: "/t/{A}/apps/{appA}/tags", form: form("tags", " 旗舰店, 华南，旗舰店 ,, "), who: "developerA", status: 303, loc: "/t/{A}/apps/{appA}?flash=tags.saved",
			check: func(t *testing.T, h *harness, w *world) {
				tags, err := h.st.AppTags(context.Background(), w.A.ID, "wxappa0000000001")
				if err != nil || strings.Join(tags, "|") != "华南|旗舰店" {
					t.Errorf("tags = %v (%v), want [华南 旗舰店]", tags, err)
				}
			}},
		scenario{name: "app tags viewer", method: "POST", url: "/t/{A}/apps/{appA}/tags", form: form("tags", "x"), who: "viewerA", status: 403},
		scenario{name: "app tags of A's app through B", method: "POST", url: "/t/{B}/apps/{appA}/tags", form: form("tags", "x"), who: "ownerB", status: 404},
	)

	// Staff pages.
	add(
		scenario{name: "staff campaigns", method: "GET", url: "/staff/campaigns", who: "staffsupport", status: 200,
			want: []string{campNameA, campNameB, campNameS, `data-testid="nav-staff-campaigns"`}, notWant: []string{`data-testid="campaign-new"`}},
		scenario{name: "staff campaigns operator may create", method: "GET", url: "/staff/campaigns", who: "staffoperator", status: 200, want: []string{`data-testid="campaign-new"`}},
		scenario{name: "staff campaigns tenant owner", method: "GET", url: "/staff/campaigns", who: "ownerA", status: 403},
		scenario{name: "staff campaign form", method: "GET", url: "/staff/campaigns/new", who: "staffoperator", status: 200,
			want: []string{`data-testid="campaign-tenant"`, tenantAName, "华东", `hx-post="/staff/campaigns/preview"`}},
		scenario{name: "staff campaign form support", method: "GET", url: "/staff/campaigns/new", who: "staffsupport", status: 403},
		scenario{name: "staff campaign preview", method: "POST", url: "/staff/campaigns/preview", form: f("tenant", "{D}"), htmx: true, who: "staffoperator", status: 200,
			want: []string{"1 个小程序将被发布", `data-testid="target-{appD}"`}, notWant: []string{"wxappa0000000001"}},
		scenario{name: "staff campaign preview across tenants", method: "POST", url: "/staff/campaigns/preview", form: f(), htmx: true, who: "staffadmin", status: 200,
			want: []string{`data-testid="target-{appD}"`, `data-testid="target-wxappa0000000001"`, "t:campaign.skip.open_release"}},
		scenario{name: "staff campaign preview approver", method: "POST", url: "/staff/campaigns/preview", form: f(), htmx: true, who: "staffapprover", status: 403},
		scenario{name: "staff campaign create", method: "POST", url: "/staff/campaigns", form: f("tenant", "{D}"), who: "staffadmin", status: 303, loc: "/staff/campaigns/",
			check: func(t *testing.T, h *harness, w *world) {
				if n := h.count(`SELECT COUNT(*) FROM campaigns WHERE name = '丁批量' AND tenant_id IS NULL AND creator = 'admin@staff.test'`); n != 1 {
					t.Errorf("staff campaigns created: %d", n)
				}
			}},
		scenario{name: "staff campaign create support", method: "POST", url: "/staff/campaigns", form: f(), who: "staffsupport", status: 403, check: campaigns(3)},
		scenario{name: "staff campaign page of a tenant's campaign", method: "GET", url: "/staff/campaigns/{campB}", who: "staffsupport", status: 200,
			want: []string{campNameB, tenantBName, `data-testid="campaign-apps"`}, notWant: []string{`data-testid="approve-form"`}},
		scenario{name: "staff campaign page approver", method: "GET", url: "/staff/campaigns/{campS}", who: "staffapprover", status: 200,
			want: []string{`data-testid="campaign-approve"`, `name="set_hash" value="{hashCampS}"`, `sse-connect="/staff/campaigns/{campS}/events?seq=`}, notWant: []string{`data-testid="approve-reason"`}},
		scenario{name: "staff campaign page unknown", method: "GET", url: "/staff/campaigns/424242", who: "staffadmin", status: 404},
		scenario{name: "staff campaign page tenant owner", method: "GET", url: "/staff/campaigns/{campA}", who: "ownerA", status: 403},
		scenario{name: "staff campaign stream", method: "GET", url: "/staff/campaigns/{campS}/events", who: "staffsupport", status: 200, want: []string{"retry: 2000"}},
		scenario{name: "staff campaign stream tenant owner", method: "GET", url: "/staff/campaigns/{campS}/events", who: "ownerA", status: 403},
		scenario{name: "staff campaign report", method: "GET", url: "/staff/campaigns/{campS}/report.csv", who: "staffsupport", status: 200, want: []string{appD}},
		scenario{name: "staff campaign report tenant owner", method: "GET", url: "/staff/campaigns/{campS}/report.csv", who: "ownerA", status: 403},
		scenario{name: "staff campaign approve", method: "POST", url: "/staff/campaigns/{campS}/approve", form: form("set_hash", "{hashCampS}", "seq", "0"), who: "staffapprover", status: 303, check: campaignState(cS, model.CampRunning)},
		scenario{name: "staff campaign approve by its creator", method: "POST", url: "/staff/campaigns/{campS}/approve", form: form("set_hash", "{hashCampS}", "seq", "0"), who: "staffadmin", status: 403,
			want: []string{"t:campaign.err.creator_cannot_approve"}, check: campaignState(cS, model.CampAwaitingApproval)},
		scenario{name: "staff approve a tenant's campaign", method: "POST", url: "/staff/campaigns/{campA}/approve", form: form("set_hash", "{hashCampA}", "seq", "0"), who: "staffapprover", status: 403,
			want: []string{"t:campaign.err.tenant_approves"}, check: campaignState(cA, model.CampAwaitingApproval)},
		scenario{name: "staff campaign approve operator", method: "POST", url: "/staff/campaigns/{campS}/approve", form: form("set_hash", "{hashCampS}", "seq", "0"), who: "staffoperator", status: 403},
		scenario{name: "staff campaign cancel", method: "POST", url: "/staff/campaigns/{campS}/action", form: form("action", "cancel", "seq", "0"), who: "staffoperator", status: 303, check: campaignState(cS, model.CampCancelled)},
		scenario{name: "staff campaign cancel support", method: "POST", url: "/staff/campaigns/{campS}/action", form: form("action", "cancel", "seq", "0"), who: "staffsupport", status: 403, check: campaignState(cS, model.CampAwaitingApproval)},
	)
	return sc
}

// campaignFormCases: bad input keeps what was typed, with the message
// beside the field, in both languages.
func campaignFormCases() []formCase {
	return []formCase{
		{name: "campaign numbers not numbers", who: "staffoperator", url: "/staff/campaigns",
			form:   campaignFormValues("name", "批量 <b>", "user_desc", "保留的描述", "canary_size", "abc", "halt_rate", "0"),
			kept:   []string{`value="批量 &lt;b&gt;"`, "保留的描述", `value="abc"`, `value="0"`},
			errors: map[string]string{"canary_size": "campaign.err.number", "halt_rate": "campaign.err.halt_rate"}},
		{name: "campaign version missing", who: "ownerD", url: "/t/{D}/campaigns", form: campaignFormValues("user_version", "", "name", "丁店冬季"),
			kept: []string{`value="丁店冬季"`}, errors: map[string]string{"user_version": "form.required"}},
		{name: "campaign wave too large", who: "ownerD", url: "/t/{D}/campaigns", form: campaignFormValues("wave_max", "5000"),
			kept: []string{`value="5000"`}, errors: map[string]string{"wave_max": "campaign.err.wave_max"}},
		{name: "campaign release time in the past", who: "ownerD", url: "/t/{D}/campaigns", form: campaignFormValues("release_mode", "at", "release_at", "2020-01-01T10:00"),
			kept: []string{`value="2020-01-01T10:00"`}, errors: map[string]string{"release_at": "campaign.err.release_at"}},
		{name: "campaign with no target", who: "developerA", url: "/t/{A}/campaigns", form: campaignFormValues("name", "甲没有目标"),
			kept: []string{`value="甲没有目标"`}, errors: map[string]string{"": "campaign.err.no_targets"}},
		{name: "app tags too many", who: "developerA", url: "/t/{A}/apps/{appA}/tags", form: []string{"tags", "a,b,c,d,e,f,g,h,i,j,k"},
			kept: []string{`value="a,b,c,d,e,f,g,h,i,j,k"`}, errors: map[string]string{"tags": "tags.err.too_many"}},
		{name: "app tags too long", who: "developerA", url: "/t/{A}/apps/{appA}/tags", form: []string{"tags", "短, " + strings.Repeat("长", 21)},
			kept: []string{strings.Repeat("长", 21)}, errors: map[string]string{"tags": "tags.err.too_long"}},
	}
}
