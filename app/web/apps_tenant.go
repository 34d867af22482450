package web

import (
	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/authz"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/views"
)

func (s *Server) appsView(c *fiber.Ctx) (views.AppsView, error) {
	apps, err := s.Store.TenantApps(c.UserContext(), currentTenant(c).ID)
	return views.AppsView{Apps: apps, CanAuthorize: s.can(c, authz.PermAppsAuthorize),
		Releases: s.appReleaseRows(c.UserContext(), currentTenant(c).ID)}, err
}

// tenantApps lists the tenant's Mini Programs; it updates live.
func (s *Server) tenantApps(c *fiber.Ctx) error {
	v, err := s.appsView(c)
	if err != nil {
		return err
	}
	return s.render(c, views.AppsPage(s.page(c, "apps.title", "apps.help"), v))
}

// appDetail loads one of the current tenant's apps: another tenant's appid
// is simply not found.
func (s *Server) appDetail(c *fiber.Ctx) (views.AppDetailView, error) {
	t := currentTenant(c)
	a, err := s.Store.App(c.UserContext(), t.ID, c.Params("appid"))
	if err != nil {
		return views.AppDetailView{}, err
	}
	acts, err := s.Store.ListActivity(c.UserContext(), store.ActivityFilter{TenantID: t.ID, Query: a.AppID, Limit: 20})
	if err != nil {
		return views.AppDetailView{}, err
	}
	tags, err := s.Store.AppTags(c.UserContext(), t.ID, a.AppID)
	if err != nil {
		return views.AppDetailView{}, err
	}
	hub, err := s.appHub(c.UserContext(), t.ID, a, s.viewerOf(c))
	if err != nil {
		return views.AppDetailView{}, err
	}
	return views.AppDetailView{App: a, Activity: acts, CanAuthorize: s.can(c, authz.PermAppsAuthorize),
		StreamURL: paths.TenantAppEvents(t.ID, a.AppID), Hub: hub,
		Tags: tags, CanTag: s.can(c, authz.PermConfigWrite), ShowTags: true, TagForm: views.NewForm()}, nil
}

func (s *Server) tenantApp(c *fiber.Ctx) error {
	v, err := s.appDetail(c)
	if err != nil {
		return err
	}
	return s.render(c, views.AppPage(s.page(c, "apps.detail", ""), v))
}

// appReauthorize starts an attempt restricted to this app (biz_appid).
func (s *Server) appReauthorize(c *fiber.Ctx) error {
	t := currentTenant(c)
	a, err := s.Store.App(c.UserContext(), t.ID, c.Params("appid"))
	if err != nil {
		return err
	}
	att, err := s.Onboarding.Start(c.UserContext(), actor(c), t.ID, a.AppID)
	if err != nil {
		return err
	}
	s.rememberAttemptState(c.UserContext(), att)
	return c.Redirect(paths.Attempt(t.ID, att.ID), fiber.StatusSeeOther)
}
