package web

import (
	"encoding/csv"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/i18n"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/views"
)

const activityPage = 50

// activityFamilies group every action of the log for the filter:
// accounts, apps, releases, campaigns, settings.
var activityFamilies = []views.ActionFamily{
	{Name: "accounts", Actions: []string{store.ActSignup, store.ActLogin, store.ActLoginFailed, store.ActLogout, store.ActPasswordChange,
		store.ActInviteCreate, store.ActInviteRevoke, store.ActInviteAccept, store.ActRoleChange,
		store.ActMemberRemove, store.ActTenantSuspend, store.ActTenantResume, store.ActTenantRename, store.ActStaffCreate}},
	{Name: "apps", Actions: []string{store.ActAppAuthorizeStart, store.ActAppBound, store.ActAppRefused, store.ActAppPermissions,
		store.ActAppUnauthorized, store.ActAppReauthorized, store.ActAppAssigned, store.ActAppConflict, store.ActReconcile, store.ActAppTags,
		store.ActTesterBind, store.ActTesterUnbind, store.ActPrivacySaved}},
	{Name: "releases", Actions: []string{store.ActConfigSave, store.ActConfigRestore, store.ActReleaseCreate, store.ActReleaseStep}},
	{Name: "campaigns", Actions: []string{store.ActCampaignCreate, store.ActCampaignApprove, store.ActCampaignPause, store.ActCampaignResume,
		store.ActCampaignCancel, store.ActCampaignWave, store.ActCampaignHalt, store.ActCampaignQuota, store.ActCampaignDone, store.ActCampaignDecision}},
	{Name: "settings", Actions: []string{store.ActTenantContact, store.ActSetting, store.ActTemplateSchema, store.ActTemplateDelete,
		store.ActSiteFileSaved, store.ActSiteFileDeleted, store.ActSeedPurged, store.ActAPIKeyCreate, store.ActAPIKeyRevoke}},
}

// familyPrefix marks a family in the action filter's value ("@releases").
const familyPrefix = "@"

func activityFilter(c *fiber.Ctx, tenantID int64) store.ActivityFilter {
	before, _ := strconv.ParseInt(c.Query("before"), 10, 64)
	f := store.ActivityFilter{TenantID: tenantID, Query: c.Query("q"), BeforeID: before, Limit: activityPage}
	if a := c.Query("action"); strings.HasPrefix(a, familyPrefix) {
		for _, fam := range activityFamilies {
			if fam.Name == a[len(familyPrefix):] {
				f.Actions = fam.Actions
			}
		}
		if f.Actions == nil {
			f.Actions = []string{a} // an unknown family matches nothing
		}
	} else {
		f.Action = a
	}
	// Search finds action labels too: 停用 finds suspensions.
	if q := strings.TrimSpace(f.Query); q != "" {
		ctx := c.UserContext()
		for _, fam := range activityFamilies {
			for _, a := range fam.Actions {
				if strings.Contains(strings.ToLower(i18n.T(ctx, "activity."+a)), strings.ToLower(q)) {
					f.QueryActions = append(f.QueryActions, a)
				}
			}
		}
	}
	return f
}

func (s *Server) activityView(c *fiber.Ctx, linkTenant int64, f store.ActivityFilter) (views.ActivityView, error) {
	rows, err := s.Store.ListActivity(c.UserContext(), f)
	if err != nil {
		return views.ActivityView{}, err
	}
	q := url.Values{}
	if action := c.Query("action"); action != "" {
		q.Set("action", action)
	}
	if f.Query != "" {
		q.Set("q", f.Query)
	}
	action := f.Action
	if action == "" && len(f.Actions) > 0 {
		action = familyPrefix + familyOf(f.Actions)
	}
	v := views.ActivityView{Rows: rows, BaseURL: paths.Activity(linkTenant), Action: action, Query: f.Query, Families: activityFamilies, ShowTenant: f.TenantID == 0, CSVURL: paths.WithQuery(paths.ActivityCSV(linkTenant), q)}
	if len(rows) == activityPage {
		q.Set("before", itoa(rows[len(rows)-1].ID))
		v.NextURL = paths.WithQuery(paths.Activity(linkTenant), q)
	}
	return v, nil
}

func (s *Server) tenantActivity(c *fiber.Ctx) error {
	t := currentTenant(c)
	v, err := s.activityView(c, t.ID, activityFilter(c, t.ID))
	if err != nil {
		return err
	}
	return s.render(c, views.ActivityPage(s.page(c, "activity.title", "activity.help_tenant"), v))
}

func (s *Server) staffActivity(c *fiber.Ctx) error {
	v, err := s.activityView(c, 0, activityFilter(c, 0))
	if err != nil {
		return err
	}
	return s.render(c, views.ActivityPage(s.page(c, "activity.title", "activity.help_staff"), v))
}

func (s *Server) tenantActivityCSV(c *fiber.Ctx) error {
	return s.activityCSV(c, currentTenant(c).ID, "activity-tenant-"+itoa(currentTenant(c).ID)+".csv")
}

func (s *Server) staffActivityCSV(c *fiber.Ctx) error {
	return s.activityCSV(c, 0, "activity.csv")
}

// activityCSV exports every row matching the filter (no page limit), in the viewer's time zone.
func (s *Server) activityCSV(c *fiber.Ctx, tenantID int64, name string) error {
	f := activityFilter(c, tenantID)
	f.Limit, f.BeforeID = 0, 0
	rows, err := s.Store.ListActivity(c.UserContext(), f)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	w := csv.NewWriter(c.Response().BodyWriter())
	ctx := c.UserContext()
	c.Response().AppendBodyString("\uFEFF") // BOM so Excel opens UTF-8 Chinese correctly
	_ = w.Write([]string{"id", "time", "tenant_id", "actor", "action", "object", "detail", "ip", "tenant"})
	for _, a := range rows {
		_ = w.Write([]string{itoa(a.ID), i18n.Time(ctx, a.At), itoa(a.TenantID), csvSafe(views.ActorLabel(ctx, a.Actor)), i18n.T(ctx, "activity."+a.Action), csvSafe(views.ActivityObject(ctx, a)), csvSafe(views.ActivityDetail(ctx, a)), a.IP, csvSafe(a.TenantName)})
	}
	w.Flush()
	return w.Error()
}

// familyOf names the family whose actions are these.
func familyOf(actions []string) string {
	for _, fam := range activityFamilies {
		if len(fam.Actions) == len(actions) && fam.Actions[0] == actions[0] {
			return fam.Name
		}
	}
	return ""
}

// csvSafe defuses spreadsheet formulas in user-supplied text.
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') {
		return "'" + s
	}
	return s
}
