package web

import (
	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/views"
)

func (s *Server) tenantHome(c *fiber.Ctx) error {
	t, m := currentTenant(c), currentMembership(c)
	p := s.page(c, "tenant.overview", "")
	p.Title = t.Name // tenant names are data, shown as is (T echoes unknown ids)
	p.Inbox = s.inbox(c, t.ID)
	return s.render(c, views.TenantHome(p, m.Role, t.Members))
}
