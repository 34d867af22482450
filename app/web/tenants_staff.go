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

const tenantsPage = 25

func (s *Server) staffTenants(c *fiber.Ctx) error {
	offset, _ := strconv.Atoi(c.Query("offset"))
	offset = max(offset, 0)
	status := model.TenantStatus(c.Query("status"))
	if status != model.TenantActive && status != model.TenantSuspended {
		status = ""
	}
	q := strings.TrimSpace(c.Query("q"))
	ts, total, err := s.Store.ListTenants(c.UserContext(), store.TenantFilter{Query: q, Status: status, Offset: offset, Limit: tenantsPage})
	if err != nil {
		return err
	}
	v := views.TenantsView{Tenants: ts, Query: q, Status: string(status), Pager: views.Pager{Total: total, Offset: offset, Limit: tenantsPage}}
	link := func(off int) string {
		u := url.Values{}
		if q != "" {
			u.Set("q", q)
		}
		if status != "" {
			u.Set("status", string(status))
		}
		if off > 0 {
			u.Set("offset", strconv.Itoa(off))
		}
		return paths.WithQuery(paths.StaffTenants, u)
	}
	if offset > 0 {
		v.Pager.Prev = link(max(offset-tenantsPage, 0))
	}
	if offset+tenantsPage < total {
		v.Pager.Next = link(offset + tenantsPage)
	}
	p := s.page(c, "tenants.title", "tenants.help")
	p.Inbox = s.inbox(c, 0)
	return s.render(c, views.TenantsPage(p, v))
}

func (s *Server) tenantDetail(c *fiber.Ctx, f views.Form) (views.TenantDetailView, error) {
	tid, err := parseID(c, "tid")
	if err != nil {
		return views.TenantDetailView{}, err
	}
	t, err := s.Store.Tenant(c.UserContext(), tid)
	if err != nil {
		return views.TenantDetailView{}, err
	}
	v := views.TenantDetailView{Tenant: t, CanWrite: s.can(c, authz.PermTenantsWrite), Form: f}
	if v.Members, err = s.Store.Members(c.UserContext(), tid); err != nil {
		return v, err
	}
	if v.Apps, err = s.Store.TenantApps(c.UserContext(), tid); err != nil {
		return v, err
	}
	v.Releases = s.appReleaseRows(c.UserContext(), tid)
	if t.Status == model.TenantSuspended {
		rows, err := s.Store.ListActivity(c.UserContext(), store.ActivityFilter{TenantID: tid, Action: store.ActTenantSuspend, Limit: 1})
		if err != nil {
			return v, err
		}
		if len(rows) == 1 {
			v.Suspension = &rows[0]
		}
	}
	v.Activity, err = s.activityView(c, 0, store.ActivityFilter{TenantID: tid, Limit: 20})
	v.Activity.NextURL = ""
	return v, err
}

func (s *Server) staffTenant(c *fiber.Ctx) error {
	v, err := s.tenantDetail(c, views.NewForm())
	if err != nil {
		return err
	}
	p := s.page(c, "tenants.detail", "")
	return s.render(c, views.TenantDetailPage(p, v))
}

// staffTenantStatus suspends (with a reason) or reactivates a tenant.
func (s *Server) staffTenantStatus(c *fiber.Ctx) error {
	tid, err := parseID(c, "tid")
	if err != nil {
		return err
	}
	sf := NewTenantStatusForm(c)
	f := sf.View()
	formError(&f, sf.Validate())
	if !f.HasErrors() {
		err = s.Store.SetTenantStatus(c.UserContext(), actor(c), tid, sf.Status, sf.Reason)
		if err != nil && !formError(&f, err) {
			return err
		}
	}
	if !f.HasErrors() && !isHTMX(c) {
		return s.redirectFlash(c, paths.StaffTenant(tid), "tenant.status_saved")
	}
	v, err := s.tenantDetail(c, f)
	if err != nil {
		return err
	}
	if f.HasErrors() {
		c.Status(fiber.StatusUnprocessableEntity)
	}
	p := s.page(c, "tenants.detail", "")
	if isHTMX(c) {
		if err := s.render(c, views.TenantStatusBox(p, v)); err != nil {
			return err
		}
		if !f.HasErrors() {
			return s.render(c, views.Toast("success", msgT(c, "tenant.status_saved")))
		}
		return nil
	}
	return s.render(c, views.TenantDetailPage(p, v))
}
