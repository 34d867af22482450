package web

import (
	"encoding/csv"
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/i18n"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/views"
)

const activityPage = 50

// activityActions is the action filter's list.
var activityActions = []string{
	store.ActSignup, store.ActLogin, store.ActLoginFailed, store.ActLogout, store.ActPasswordChange,
	store.ActInviteCreate, store.ActInviteRevoke, store.ActInviteAccept, store.ActRoleChange,
	store.ActMemberRemove, store.ActTenantSuspend, store.ActTenantResume, store.ActTenantRename, store.ActStaffCreate,
}

func activityFilter(c *fiber.Ctx, tenantID int64) store.ActivityFilter {
	before, _ := strconv.ParseInt(c.Query("before"), 10, 64)
	return store.ActivityFilter{TenantID: tenantID, Action: c.Query("action"), Query: c.Query("q"), BeforeID: before, Limit: activityPage}
}

func (s *Server) activityView(c *fiber.Ctx, linkTenant int64, f store.ActivityFilter) (views.ActivityView, error) {
	rows, err := s.Store.ListActivity(c.UserContext(), f)
	if err != nil {
		return views.ActivityView{}, err
	}
	q := url.Values{}
	if f.Action != "" {
		q.Set("action", f.Action)
	}
	if f.Query != "" {
		q.Set("q", f.Query)
	}
	v := views.ActivityView{Rows: rows, BaseURL: paths.Activity(linkTenant), Action: f.Action, Query: f.Query, Actions: activityActions, ShowTenant: f.TenantID == 0, CSVURL: paths.WithQuery(paths.ActivityCSV(linkTenant), q)}
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
	_ = w.Write([]string{"id", "time", "tenant_id", "actor", "action", "object", "detail", "ip"})
	for _, a := range rows {
		_ = w.Write([]string{itoa(a.ID), i18n.Time(ctx, a.At), itoa(a.TenantID), csvSafe(a.Actor), i18n.T(ctx, "activity."+a.Action), csvSafe(a.Object), csvSafe(a.Detail), a.IP})
	}
	w.Flush()
	return w.Error()
}

// csvSafe defuses spreadsheet formulas in user-supplied text.
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') {
		return "'" + s
	}
	return s
}
