package web

import (
	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/authz"
	"github.com/minifleet/minifleet/views"
)

func (s *Server) tenantHome(c *fiber.Ctx) error {
	t, m := currentTenant(c), currentMembership(c)
	p := s.page(c, "tenant.overview", "")
	p.Title = t.Name // tenant names are data, shown as is (T echoes unknown ids)
	var apps *views.AppsView
	if s.can(c, authz.PermAppsRead) {
		v, err := s.appsView(c)
		if err != nil {
			return err
		}
		apps = &v
	}
	p.Inbox = s.inbox(c, t.ID)
	return s.render(c, views.TenantHome(p, m.Role, t.Members, apps))
}
