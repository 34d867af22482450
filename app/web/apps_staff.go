package web

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/authz"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/views"
)

const staffAppsPage = 50

// staffAppsFilter reads the filter from the query string.
func staffAppsFilter(c *fiber.Ctx) (store.AppFilter, views.StaffAppsView) {
	offset, _ := strconv.Atoi(c.Query("offset"))
	f := store.AppFilter{Query: strings.TrimSpace(c.Query("q")), Status: c.Query("status"), Problems: c.Query("problems") == "1", Offset: max(offset, 0), Limit: staffAppsPage}
	v := views.StaffAppsView{Query: f.Query, Problems: f.Problems}
	if tid, err := strconv.ParseInt(c.Query("tenant"), 10, 64); err == nil && tid > 0 {
		f.TenantID, v.TenantID = tid, strconv.FormatInt(tid, 10)
	}
	known := f.Status == "unbound"
	for _, st := range model.AppStatuses {
		known = known || f.Status == string(st)
	}
	if !known {
		f.Status = ""
	}
	v.Status = f.Status
	return f, v
}

func (v staffAppsLink) url(off int) string {
	u := url.Values{}
	if v.f.Query != "" {
		u.Set("q", v.f.Query)
	}
	if v.f.TenantID != 0 {
		u.Set("tenant", itoa(v.f.TenantID))
	}
	if v.f.Status != "" {
		u.Set("status", v.f.Status)
	}
	if v.f.Problems {
		u.Set("problems", "1")
	}
	if off > 0 {
		u.Set("offset", strconv.Itoa(off))
	}
	return paths.WithQueryOmitEmpty(paths.StaffApps, u)
}

type staffAppsLink struct{ f store.AppFilter }

func (s *Server) staffApps(c *fiber.Ctx) error {
	f, v := staffAppsFilter(c)
	res, err := s.Store.StaffApps(c.UserContext(), f)
	if err != nil {
		return err
	}
	l := staffAppsLink{f}
	v.Apps, v.URL = res.Apps, l.url(f.Offset)
	v.Pager = views.Pager{Total: res.Total, More: res.More, Offset: f.Offset, Limit: staffAppsPage}
	if f.Offset > 0 {
		v.Pager.Prev = l.url(max(f.Offset-staffAppsPage, 0))
	}
	if f.Offset+staffAppsPage < res.Total || res.More {
		v.Pager.Next = l.url(f.Offset + staffAppsPage)
	}
	v.CanAssign = s.can(c, authz.PermAppsAssign)
	v.CanReconcile = s.can(c, authz.PermWeChatWrite)
	if v.Conflicts, err = s.Store.Conflicts(c.UserContext()); err != nil {
		return err
	}
	if run, err := s.Store.LatestReconcileRun(c.UserContext()); err == nil {
		v.LastRun = &run
	}
	p := s.page(c, "staff_apps.title", "staff_apps.help")
	if isHTMX(c) && c.Get("HX-Target") == "staff-apps" {
		c.Vary("HX-Request")
		return s.render(c, views.StaffAppsTable(p, v))
	}
	return s.render(c, views.StaffAppsPage(p, v))
}

func (s *Server) staffApp(c *fiber.Ctx) error {
	a, err := s.Store.AppForStaff(c.UserContext(), c.Params("appid"))
	if err != nil {
		return err
	}
	var acts []model.Activity
	if a.TenantID != 0 {
		acts, err = s.Store.ListActivity(c.UserContext(), store.ActivityFilter{TenantID: a.TenantID, Query: a.AppID, Limit: 20})
		if err != nil {
			return err
		}
	}
	pushes, total, err := s.Store.ListPushes(c.UserContext(), store.PushFilter{AppID: a.AppID, Limit: 20})
	if err != nil {
		return err
	}
	v := views.AppDetailView{App: a, Activity: acts, StreamURL: paths.StaffAppEvents(a.AppID),
		Pushes: pushRows(pushes), PushesTotal: total, PushesURL: paths.WithQuery(paths.StaffWeChat, url.Values{"appid": {a.AppID}})}
	if a.TenantID != 0 {
		h, _, err := s.appBlocks(c.UserContext(), a.TenantID, a, false)
		if err != nil {
			return err
		}
		v.Hub = &h
	}
	return s.render(c, views.StaffAppPage(s.page(c, "apps.detail", ""), v))
}

// staffAppAssign binds an app bound to no tenant (admins).
func (s *Server) staffAppAssign(c *fiber.Ctx) error {
	f := NewAssignForm(c)
	if err := f.Validate(); err != nil {
		return err
	}
	if err := s.Onboarding.Assign(c.UserContext(), actor(c), c.Params("appid"), f.TenantID); err != nil {
		return err
	}
	return s.redirectFlash(c, paths.StaffApps, "staff_apps.assigned")
}

func (s *Server) staffConflictResolve(c *fiber.Ctx) error {
	id, err := parseID(c, "cid")
	if err != nil {
		return err
	}
	f := NewConflictForm(c)
	if err := f.Validate(); err != nil {
		return err
	}
	if err := s.Onboarding.ResolveConflict(c.UserContext(), actor(c), id, f.Moved()); err != nil {
		return err
	}
	return s.redirectFlash(c, paths.StaffApps, "staff_apps.resolved")
}

func (s *Server) staffReconcile(c *fiber.Ctx) error {
	if _, err := s.Onboarding.Reconcile(c.UserContext(), actor(c), "manual"); err != nil {
		s.Log.Warn("reconcile now failed", "err", err)
	}
	return s.redirectFlash(c, paths.StaffApps, "staff_apps.reconciled")
}
