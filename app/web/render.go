package web

import (
	"errors"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/authz"
	"github.com/minifleet/minifleet/app/i18n"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/views"
)

// render writes a templ component straight into the response (no net/http adaptor).
func (s *Server) render(c *fiber.Ctx, comp templ.Component) error {
	c.Type("html", "utf-8")
	return comp.Render(c.UserContext(), c.Response().BodyWriter())
}

func isHTMX(c *fiber.Ctx) bool { return c.Get("HX-Request") == "true" }

// page fills the layout's props for the current request.
func (s *Server) page(c *fiber.Ctx, title, help string) views.Page {
	p := views.Page{Title: title, Help: help, Lang: i18n.From(c.UserContext()).Lang, Path: c.OriginalURL(), Now: s.Now(), Sandbox: !s.Config.Live()}
	if k := c.Query("flash"); flashKeys[k] {
		p.Flash = k
	}
	if tok, ok := c.Locals("csrf").(string); ok {
		p.CSRF = tok
	}
	u := currentUser(c)
	if u == nil {
		return p
	}
	p.User = u
	p.Tenant = currentTenant(c)
	if ms, err := s.Store.MembershipsOfUser(c.UserContext(), u.ID); err == nil {
		p.Memberships = ms
	}
	p.Nav = s.nav(c, p)
	s.staffNotice(c, &p)
	return p
}

// staffNotice puts on every staff page a WeChat refusal that stops the
// platform until someone fixes it: 61004, this server's IP not whitelisted.
func (s *Server) staffNotice(c *fiber.Ctx, p *views.Page) {
	if !s.Authz.Can(p.User.ID, authz.Platform, authz.PermWeChatRead) {
		return
	}
	h, err := s.Store.ComponentHealth(c.UserContext(), s.Platform.ComponentAppID())
	if err != nil || h.Failures == 0 {
		return
	}
	if pr := platform.ExplainUpstream(h.LastError); pr.Errcode == 61004 {
		p.StaffNotice, p.StaffNoticeData = pr.Key, map[string]any{"IP": pr.IP}
	}
}

// nav lists only what the user's roles allow.
func (s *Server) nav(c *fiber.Ctx, p views.Page) []views.NavItem {
	u, path := p.User, c.Path()
	var items []views.NavItem
	add := func(section, label, href, testID string) {
		items = append(items, views.NavItem{Section: section, Label: label, Href: href, Active: path == href, TestID: testID})
	}
	if t := p.Tenant; t != nil {
		d := authz.TenantDomain(t.ID)
		add("nav.tenant", "nav.overview", paths.Tenant(t.ID), "nav-overview")
		if s.Authz.Can(u.ID, d, authz.PermAppsRead) {
			add("nav.tenant", "nav.apps", paths.TenantApps(t.ID), "nav-apps")
		}
		if s.Authz.Can(u.ID, d, authz.PermCampaignsRead) {
			add("nav.tenant", "nav.campaigns", paths.Campaigns(t.ID), "nav-campaigns")
		}
		if s.Authz.Can(u.ID, d, authz.PermMembersRead) {
			add("nav.tenant", "nav.members", paths.Members(t.ID), "nav-members")
		}
		if s.Authz.Can(u.ID, d, authz.PermActivityRead) {
			add("nav.tenant", "nav.activity", paths.Activity(t.ID), "nav-activity")
		}
		if s.Authz.Can(u.ID, d, authz.PermTenantWrite) {
			add("nav.tenant", "nav.contact", paths.Contact(t.ID), "nav-contact")
			add("nav.tenant", "nav.approvals", paths.Approvals(t.ID), "nav-approvals")
		}
		if s.Authz.Can(u.ID, d, authz.PermAPIKeysWrite) {
			add("nav.tenant", "nav.api_keys", paths.TenantAPIKeys(t.ID), "nav-api-keys")
		}
		if s.Authz.Can(u.ID, d, authz.PermWebhooksManage) {
			add("nav.tenant", "nav.webhooks", paths.Webhooks(t.ID), "nav-webhooks")
		}
	} else if len(p.Memberships) > 0 {
		// A page of no tenant (the account): the way back to where "/" lands.
		add("nav.tenant", "nav.overview", paths.Tenant(p.Memberships[0].TenantID), "nav-overview")
	}
	if s.Authz.Can(u.ID, authz.Platform, authz.PermStaffRead) {
		add("nav.staff", "nav.golive", paths.StaffGoLive, "nav-staff-golive")
	}
	if s.Authz.Can(u.ID, authz.Platform, authz.PermTenantsRead) {
		add("nav.staff", "nav.tenants", paths.StaffTenants, "nav-staff-tenants")
	}
	if s.Authz.Can(u.ID, authz.Platform, authz.PermAppsRead) {
		add("nav.staff", "nav.staff_apps", paths.StaffApps, "nav-staff-apps")
	}
	if s.Authz.Can(u.ID, authz.Platform, authz.PermAppsRead) {
		add("nav.staff", "nav.fleet", paths.StaffFleet, "nav-staff-fleet")
	}
	if s.Authz.Can(u.ID, authz.Platform, authz.PermCampaignsRead) {
		add("nav.staff", "nav.staff_campaigns", paths.StaffCampaigns, "nav-staff-campaigns")
	}
	if s.Authz.Can(u.ID, authz.Platform, authz.PermTemplatesRead) {
		add("nav.staff", "nav.templates", paths.StaffTemplates, "nav-staff-templates")
	}
	if s.Authz.Can(u.ID, authz.Platform, authz.PermWeChatRead) {
		add("nav.staff", "nav.wechat", paths.StaffWeChat, "nav-staff-wechat")
		add("nav.staff", "nav.domains", paths.StaffDomains, "nav-staff-domains")
		add("nav.staff", "nav.site_files", paths.StaffSiteFiles, "nav-staff-site-files")
	}
	if s.Authz.Can(u.ID, authz.Platform, authz.PermWebhooksManage) {
		add("nav.staff", "nav.staff_webhooks", paths.StaffWebhooks, "nav-staff-webhooks")
	}
	if s.Authz.Can(u.ID, authz.Platform, authz.PermActivityRead) {
		add("nav.staff", "nav.staff_activity", paths.StaffActivity, "nav-staff-activity")
	}
	if s.Authz.Can(u.ID, authz.Platform, authz.PermAPIKeysWrite) {
		add("nav.staff", "nav.staff_api_keys", paths.StaffAPIKeys, "nav-staff-api-keys")
	}
	add("nav.you", "nav.account", paths.Account, "nav-account")
	return items
}

func suspendedPage(s *Server, c *fiber.Ctx) templ.Component {
	// The suspension's activity row says why and who did it: whom to ask.
	var v views.SuspendedView
	if t := currentTenant(c); t != nil {
		rows, err := s.Store.ListActivity(c.UserContext(), store.ActivityFilter{TenantID: t.ID, Action: store.ActTenantSuspend, Limit: 1})
		if err == nil && len(rows) == 1 {
			v.Reason, v.By, v.At = rows[0].Detail, rows[0].Actor, rows[0].At
		}
	}
	return views.SuspendedPage(s.page(c, "tenant.suspended_title", ""), v)
}

// statusOf maps a coded error to an HTTP status.
func statusOf(err error) int {
	var fe *fiber.Error
	if errors.As(err, &fe) {
		return fe.Code
	}
	var fields model.FieldErrors
	if errors.As(err, &fields) {
		return fiber.StatusUnprocessableEntity
	}
	switch model.ErrorCode(err) {
	case model.CodeInvalid:
		return fiber.StatusUnprocessableEntity
	case model.CodeNotFound:
		return fiber.StatusNotFound
	case model.CodeConflict:
		return fiber.StatusConflict
	case model.CodeForbidden:
		return fiber.StatusForbidden
	case model.CodeThrottled:
		return fiber.StatusTooManyRequests
	}
	return fiber.StatusInternalServerError
}

// messageOf is the localized text shown for err.
func messageOf(c *fiber.Ctx, err error, status int) string {
	var e *model.Error
	if errors.As(err, &e) && status < 500 {
		return i18n.T(c.UserContext(), e.Key, e.Data)
	}
	switch status {
	case fiber.StatusNotFound:
		return i18n.T(c.UserContext(), "error.not_found")
	case fiber.StatusForbidden:
		return i18n.T(c.UserContext(), "error.forbidden")
	case fiber.StatusRequestEntityTooLarge:
		return i18n.T(c.UserContext(), "error.too_large")
	case fiber.StatusMethodNotAllowed:
		return i18n.T(c.UserContext(), "error.method")
	case fiber.StatusServiceUnavailable:
		return i18n.T(c.UserContext(), "error.read_only")
	}
	if status < 500 {
		return i18n.T(c.UserContext(), "error.bad_request")
	}
	return i18n.T(c.UserContext(), "error.internal")
}

// renderErrors turns handler errors into localized pages, or into a toast
// fragment for HTMX requests (which would otherwise show nothing).
func (s *Server) renderErrors(c *fiber.Ctx) error {
	err := c.Next()
	if err == nil {
		return nil
	}
	status := statusOf(err)
	if status >= 500 && !errors.Is(err, errReadOnly) {
		s.Log.Error("handler error", "route", loggedRoute(c), "err", err, "request_id", c.GetRespHeader(fiber.HeaderXRequestID))
	}
	msg := messageOf(c, err, status)
	c.Status(status)
	if isHTMX(c) {
		c.Set("HX-Reswap", "none")
		return s.render(c, views.Toast("error", msg))
	}
	return s.render(c, views.ErrorPage(s.page(c, "error.title", ""), status, msg))
}

// fallbackErrorHandler catches errors raised before renderErrors runs (body
// too large, CSRF on a route without a session, panics): plain localized text.
func (s *Server) fallbackErrorHandler(c *fiber.Ctx, err error) error {
	status := statusOf(err)
	c.Status(status)
	if s.I18n != nil && i18n.From(c.UserContext()) == nil {
		c.SetUserContext(i18n.With(c.UserContext(), s.I18n.Localizer(s.I18n.Match("", c.Get(fiber.HeaderAcceptLanguage)), s.Config.Location())))
	}
	c.Type("txt", "utf-8")
	return c.SendString(messageOf(c, err, status))
}
