package web

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/authz"
	"github.com/minifleet/minifleet/app/extconfig"
	"github.com/minifleet/minifleet/app/i18n"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/views"
)

// Campaigns: one template shipped to many apps in waves. The same handlers
// serve staff (/staff/campaigns, every tenant, scope 0) and a tenant
// (/t/:tid/campaigns, its own apps and campaigns only); the scope comes from
// the route (a tenant route has a current tenant).

// campScope is whose campaigns a request sees: a tenant's, or every one (staff).
type campScope struct {
	TenantID int64 // 0: staff
}

func campScopeOf(c *fiber.Ctx) campScope {
	if t := currentTenant(c); t != nil {
		return campScope{TenantID: t.ID}
	}
	return campScope{}
}

func (cs campScope) staff() bool { return cs.TenantID == 0 }

func (cs campScope) topic() string {
	if cs.staff() {
		return platform.TopicStaff
	}
	return platform.TenantTopic(cs.TenantID)
}

// campaignsList lists the scope's campaigns, newest first.
func (s *Server) campaignsList(c *fiber.Ctx) error {
	ctx, cs := c.UserContext(), campScopeOf(c)
	cams, err := s.Store.Campaigns(ctx, cs.TenantID, 100)
	if err != nil {
		return err
	}
	v := views.CampaignsView{Scope: cs.TenantID, Staff: cs.staff(), CanCreate: s.can(c, authz.PermCampaignsWrite)}
	for _, cm := range cams {
		row := views.CampaignRow{Campaign: cm}
		if p, err := s.Campaigns.Progress(ctx, cs.TenantID, cm.ID); err == nil {
			row.Total, row.Percent = p.Total, p.Percent
		}
		v.Rows = append(v.Rows, row)
	}
	return s.render(c, views.CampaignsPage(s.page(c, "campaign.list_title", "campaign.list_help"), v))
}

// campaignFormDefaults are the settings a new campaign starts from.
func campaignFormDefaults() views.Form {
	f := views.NewForm()
	for k, v := range map[string]string{"canary_size": "3", "wave_max": "200", "concurrency": "20", "halt_rate": "20",
		"gray_percent": "0", "release_mode": model.ReleaseEach} {
		f.Values[k] = v
	}
	return f
}

func (s *Server) campaignFormView(ctx context.Context, cs campScope, f views.Form) (views.CampaignFormView, error) {
	v := views.CampaignFormView{Scope: cs.TenantID, Staff: cs.staff(), Form: f}
	var err error
	if v.Templates, err = s.schemaTemplates(ctx); err != nil {
		return v, err
	}
	if f.V("template_id") == "" && len(v.Templates) > 0 {
		v.Form.Values["template_id"] = itoa(v.Templates[0].TemplateID)
	}
	if v.Tags, err = s.Store.Tags(ctx, cs.TenantID); err != nil {
		return v, err
	}
	if cs.staff() {
		ts, err := s.Store.FleetTenants(ctx)
		if err != nil {
			return v, err
		}
		for _, t := range ts {
			v.Tenants = append(v.Tenants, views.FleetOption{Value: itoa(t.ID), Label: t.Name})
		}
	}
	return v, nil
}

// campaignNew shows the new-campaign form with the default settings.
func (s *Server) campaignNew(c *fiber.Ctx) error {
	v, err := s.campaignFormView(c.UserContext(), campScopeOf(c), campaignFormDefaults())
	if err != nil {
		return err
	}
	return s.render(c, views.CampaignNewPage(s.page(c, "campaign.new_title", "campaign.new_help"), v))
}

// previewOf turns the platform's preview into the fragment's props.
func previewOf(p platform.CampaignPreview) *views.CampaignPreviewView {
	v := &views.CampaignPreviewView{Targets: len(p.Targets), SetHash: p.SetHash}
	for i, t := range p.Targets {
		if i == 10 {
			break
		}
		v.First = append(v.First, views.CampaignTargetRow{AppID: t.AppID, Nickname: t.Nickname, TenantName: t.TenantName})
	}
	for _, t := range p.Skipped {
		v.Skipped = append(v.Skipped, views.CampaignTargetRow{AppID: t.AppID, Nickname: t.Nickname, TenantName: t.TenantName, Reason: t.Reason})
	}
	for r, n := range p.SkipBy {
		v.SkipBy = append(v.SkipBy, views.SkipCount{Reason: r, N: n})
	}
	slices.SortFunc(v.SkipBy, func(a, b views.SkipCount) int {
		if a.N != b.N {
			return b.N - a.N
		}
		return strings.Compare(a.Reason, b.Reason)
	})
	return v
}

// campaignPreview evaluates the filter and settings without writing
// anything (a POST only because it carries the form); it answers the
// preview fragment, with the reasons when the input is wrong.
func (s *Server) campaignPreview(c *fiber.Ctx) error {
	cs := campScopeOf(c)
	cf := NewCampaignForm(c, cs)
	f := cf.View()
	in, ferr := cf.Input()
	formError(&f, ferr)
	var pv *views.CampaignPreviewView
	if f.HasErrors() {
		pv = &views.CampaignPreviewView{Form: f}
	} else if p, err := s.Campaigns.Preview(c.UserContext(), in); err != nil {
		if !formError(&f, err) {
			return err
		}
		pv = &views.CampaignPreviewView{Form: f}
	} else {
		pv = previewOf(p)
	}
	if pv.Form.HasErrors() {
		c.Status(fiber.StatusUnprocessableEntity)
	}
	if isHTMX(c) {
		return s.render(c, views.CampaignPreview(*pv))
	}
	v, err := s.campaignFormView(c.UserContext(), cs, f)
	if err != nil {
		return err
	}
	v.Preview = pv
	return s.render(c, views.CampaignNewPage(s.page(c, "campaign.new_title", "campaign.new_help"), v))
}

// campaignCreate stores the campaign awaiting approval and goes to its page;
// bad input re-renders the form with everything typed.
func (s *Server) campaignCreate(c *fiber.Ctx) error {
	cs := campScopeOf(c)
	cf := NewCampaignForm(c, cs)
	f := cf.View()
	in, ferr := cf.Input()
	formError(&f, ferr)
	var err error
	var p platform.CampaignPreview
	if !f.HasErrors() {
		var cm model.Campaign
		cm, p, err = s.Campaigns.Create(c.UserContext(), in, actor(c))
		if err == nil {
			return s.redirectFlash(c, paths.Campaign(cs.TenantID, cm.ID), "campaign.created")
		}
		if !formError(&f, err) {
			return err
		}
	}
	v, verr := s.campaignFormView(c.UserContext(), cs, f)
	if verr != nil {
		return verr
	}
	if model.ErrorCode(err) == model.CodeInvalid && f.Summary == "campaign.err.no_targets" {
		v.Preview = previewOf(p)
	}
	status := fiber.StatusUnprocessableEntity
	if err != nil {
		status = statusOf(err)
	}
	c.Status(status)
	return s.render(c, views.CampaignNewPage(s.page(c, "campaign.new_title", "campaign.new_help"), v))
}

// loadCampaign loads :cid in the request's scope: another tenant's
// campaign is simply not found.
func (s *Server) loadCampaign(c *fiber.Ctx) (campScope, int64, error) {
	cs := campScopeOf(c)
	id, err := parseID(c, "cid")
	if err != nil {
		return cs, 0, err
	}
	if _, err := s.Store.Campaign(c.UserContext(), cs.TenantID, id); err != nil {
		return cs, 0, err
	}
	return cs, id, nil
}

// campaignBase is what a campaign page shows besides its progress.
type campaignBase struct {
	cs         campScope
	canWrite   bool
	canApprove bool
	viewerID   int64
}

func (s *Server) campaignBaseOf(c *fiber.Ctx, cs campScope) campaignBase {
	b := campaignBase{cs: cs, canWrite: s.can(c, authz.PermCampaignsWrite), canApprove: s.can(c, authz.PermCampaignsApprove)}
	if u := currentUser(c); u != nil {
		b.viewerID = u.ID
	}
	return b
}

// campaignView reads a campaign's progress into the page's props.
func (s *Server) campaignView(ctx context.Context, b campaignBase, id int64) (views.CampaignView, error) {
	p, err := s.Campaigns.Progress(ctx, b.cs.TenantID, id)
	if err != nil {
		return views.CampaignView{}, err
	}
	cm := p.Campaign
	v := views.CampaignView{Scope: b.cs.TenantID, Staff: b.cs.staff(), Campaign: cm,
		Total: p.Total, Percent: p.Percent, ETA: p.ETA, Notice: p.Notice, NoticeData: p.NoticeData, Actions: p.Actions,
		CanWrite: b.canWrite, CanApprove: b.canApprove, ViewerID: b.viewerID, Form: views.NewForm()}
	// Staff approve staff campaigns, and a tenant's only when the tenant
	// chose the provider's staff to approve; otherwise its own approvers do.
	if cm.TenantID != 0 {
		by, err := s.Store.TenantApprovals(ctx, cm.TenantID)
		if err != nil {
			return v, err
		}
		if b.cs.staff() != (by == model.ApprovalsStaff) {
			v.CanApprove = false
		}
	}
	if tpl, err := s.Store.Template(ctx, cm.TemplateID); err == nil {
		v.Template = tpl
	}
	if tid, ok := filterTenant(cm.Filter); ok {
		if t, err := s.Store.Tenant(ctx, tid); err == nil {
			v.FilterTenant = t.Name
		}
	}
	if cm.State == model.CampAwaitingApproval {
		gs, err := s.Campaigns.PlannedChanges(ctx, cm)
		if err != nil {
			return v, err
		}
		lists := make([][]extconfig.Change, 0, len(gs))
		for _, g := range gs {
			lists = append(lists, g.Changes)
		}
		s.labelChanges(ctx, cm.TemplateID, lists...) // the schema's labels, as the config diff shows them
		for _, g := range gs {
			vg := views.ChangeGroup{Changes: g.Changes, Unrenderable: g.Unrenderable}
			for _, a := range g.Apps {
				label := a.AppID
				if a.Nickname != "" {
					label = a.Nickname + " (" + a.AppID + ")"
				}
				vg.Apps = append(vg.Apps, label)
			}
			v.Changes = append(v.Changes, vg)
		}
	}
	for _, ph := range model.Phases {
		if n := p.Counts[ph]; n > 0 {
			v.Counts = append(v.Counts, views.PhaseCount{Phase: ph, N: n})
		}
	}
	for _, f := range p.Failures {
		v.Failures = append(v.Failures, views.CampaignFailure{Errcode: f.Errcode, ActionKey: f.Action.Key, Count: f.Count, Apps: f.Apps})
	}
	for _, w := range p.Waves {
		v.Waves = append(v.Waves, views.CampaignWave{Wave: w.Wave, Size: w.Size, Decided: w.Decided, Rejected: w.Rejected})
	}
	for _, a := range p.Apps {
		row := views.CampaignAppRow{AppID: a.AppID, Nickname: a.Nickname, TenantName: a.TenantName, Wave: a.Wave, Phase: a.Phase(), Errcode: a.Errcode}
		switch {
		case a.ReleaseID != 0 && b.cs.staff():
			row.ReleaseURL = paths.StaffApp(a.AppID)
		case a.ReleaseID != 0:
			row.ReleaseURL = paths.Release(a.TenantID, a.AppID, a.ReleaseID)
		}
		switch row.Phase {
		case model.PhSkipped:
			row.ReasonKey = "campaign.skip." + a.Reason
		case model.PhDropped:
			row.ReasonKey = a.Reason
		case model.PhRejected:
			row.ReasonText = a.AuditReason
		case model.PhFailed:
			row.ReasonKey = model.ErrActionFor(a.Errcode).Key
		}
		v.Apps = append(v.Apps, row)
	}
	return v, nil
}

func (s *Server) campaignPage(c *fiber.Ctx) error {
	cs, id, err := s.loadCampaign(c)
	if err != nil {
		return err
	}
	v, err := s.campaignView(c.UserContext(), s.campaignBaseOf(c, cs), id)
	if err != nil {
		return err
	}
	return s.render(c, views.CampaignPage(s.page(c, "campaign.title", ""), v, paths.CampaignEventsAt(cs.TenantID, id, v.Campaign.Seq)))
}

// campaignEvents streams the campaign's live part: on connect, on the
// engine's progress events, and on its apps' release events once it no
// longer runs.
func (s *Server) campaignEvents(c *fiber.Ctx) error {
	cs, id, err := s.loadCampaign(c)
	if err != nil {
		return err
	}
	apps, err := s.Store.CampaignApps(c.UserContext(), id)
	if err != nil {
		return err
	}
	mine := make(map[string]bool, len(apps))
	for _, a := range apps {
		mine[a.AppID] = true
	}
	b := s.campaignBaseOf(c, cs)
	p := s.page(c, "campaign.title", "")
	running := func(ctx context.Context) bool { // access was checked by loadCampaign
		camp, err := s.Store.Campaign(ctx, 0, id)
		return err == nil && camp.State.Active()
	}
	// On connect, only if the campaign moved (approved, halted, done …)
	// since the page was rendered, read after subscribing (see
	// appReleaseEvents); progress within a state comes again with the
	// engine's next pass.
	seen, hasSeen := pageSeq(c)
	return s.stream(c, cs.topic(), func(ctx context.Context, e *platform.Event) (string, templ.Component, bool) {
		switch {
		case e == nil:
			camp, err := s.Store.Campaign(ctx, 0, id)
			if err != nil || !hasSeen || camp.Seq == seen {
				return "", nil, false
			}
		case e.Name == platform.EventCampaign && e.Campaign == id:
		case e.Name == platform.EventRelease && mine[e.AppID] && !running(ctx):
			// While it runs, the engine's one event a pass covers its
			// releases; afterwards a release moved by hand still shows.
		default:
			return "", nil, false
		}
		v, err := s.campaignView(ctx, b, id)
		if err != nil {
			return "", nil, false
		}
		p.Now = s.Now()
		return "campaign", views.CampaignBody(p, v), true
	})
}

// campaignApprove is an approver's decision, bound to the payload set hash
// the page showed; the creator is refused (two-person rule).
func (s *Server) campaignApprove(c *fiber.Ctx) error {
	cs, id, err := s.loadCampaign(c)
	if err != nil {
		return err
	}
	// A tenant's campaign is approved by whoever approves its releases:
	// its own approvers, or the provider's staff when it chose them.
	if cm, err := s.Store.Campaign(c.UserContext(), cs.TenantID, id); err == nil && cm.TenantID != 0 {
		by, err := s.Store.TenantApprovals(c.UserContext(), cm.TenantID)
		if err != nil {
			return err
		}
		switch {
		case cs.staff() && by != model.ApprovalsStaff:
			return model.Errorf(model.CodeForbidden, "campaign.err.tenant_approves")
		case !cs.staff() && by == model.ApprovalsStaff:
			return model.Errorf(model.CodeForbidden, "approvals.by_staff")
		}
	}
	f := NewCampaignApproveForm(c)
	if err := f.Validate(); err != nil {
		return err
	}
	_, err = s.Campaigns.Decide(c.UserContext(), cs.TenantID, id, model.CampActApprove, actor(c), f.Seq, f.SetHash)
	return s.afterCampaignDecision(c, cs, id, err)
}

// campaignAction pauses, resumes or cancels a campaign.
func (s *Server) campaignAction(c *fiber.Ctx) error {
	cs, id, err := s.loadCampaign(c)
	if err != nil {
		return err
	}
	f := NewCampaignActionForm(c)
	if err := f.Validate(); err != nil {
		return err
	}
	_, err = s.Campaigns.Decide(c.UserContext(), cs.TenantID, id, f.Action, actor(c), f.Seq, "")
	return s.afterCampaignDecision(c, cs, id, err)
}

func (s *Server) afterCampaignDecision(c *fiber.Ctx, cs campScope, id int64, err error) error {
	if err == nil {
		return s.redirectFlash(c, paths.Campaign(cs.TenantID, id), "campaign.decided")
	}
	f := views.NewForm()
	if !formError(&f, err) {
		return err
	}
	v, verr := s.campaignView(c.UserContext(), s.campaignBaseOf(c, cs), id)
	if verr != nil {
		return verr
	}
	v.Form = f
	c.Status(statusOf(err))
	return s.render(c, views.CampaignPage(s.page(c, "campaign.title", ""), v, paths.CampaignEvents(cs.TenantID, id)))
}

// campaignReport is the CSV report: one row per app, labels in the
// viewer's language.
func (s *Server) campaignReport(c *fiber.Ctx) error {
	cs, id, err := s.loadCampaign(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	var buf strings.Builder
	buf.WriteString("\ufeff") // spreadsheets read the UTF-8 Chinese correctly with a BOM
	label := func(key string) string { return i18n.T(ctx, key) }
	if err := s.Campaigns.WriteReport(ctx, &buf, cs.TenantID, id, label); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="campaign-%d.csv"`, id))
	return c.SendString(buf.String())
}

// appTagsSave sets one of the tenant's apps' tags: comma-separated,
// trimmed, deduplicated, each at most 20 characters, at most 10.
func (s *Server) appTagsSave(c *fiber.Ctx) error {
	t := currentTenant(c)
	a, err := s.Store.App(c.UserContext(), t.ID, c.Params("appid"))
	if err != nil {
		return err
	}
	tf := NewTagsForm(c)
	tags, terr := tf.List()
	if terr == nil {
		if err := s.Store.SetAppTags(c.UserContext(), actor(c), t.ID, a.AppID, tags); err != nil {
			return err
		}
		return s.redirectFlash(c, paths.TenantApp(t.ID, a.AppID), "tags.saved")
	}
	v, err := s.appDetail(c)
	if err != nil {
		return err
	}
	v.TagForm = tf.View()
	formError(&v.TagForm, terr)
	c.Status(fiber.StatusUnprocessableEntity)
	return s.render(c, views.AppPage(s.page(c, "apps.detail", ""), v))
}

// Tag limits.
const (
	maxAppTags   = 10
	maxAppTagLen = 20
)

// parseTags splits a comma-separated list (ASCII or Chinese commas),
// trimmed and deduplicated; key is the translation key of what is wrong.
func parseTags(raw string) (tags []string, key string) {
	seen := map[string]bool{}
	for _, t := range strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == '，' || r == '、' || r == '\n' }) {
		t = strings.TrimSpace(t)
		if t == "" || seen[t] {
			continue
		}
		if !safeLine(t) {
			return nil, "form.unsafe_text"
		}
		if len([]rune(t)) > maxAppTagLen {
			return nil, "tags.err.too_long"
		}
		seen[t] = true
		tags = append(tags, t)
	}
	if len(tags) > maxAppTags {
		return nil, "tags.err.too_many"
	}
	return tags, ""
}

// filterTenant is the tenant id a campaign's recorded filter picked
// ("tenant=3 tag=demo"), if any.
func filterTenant(f string) (int64, bool) {
	for _, part := range strings.Fields(f) {
		if v, ok := strings.CutPrefix(part, "tenant="); ok {
			return parseInt64(v)
		}
	}
	return 0, false
}
