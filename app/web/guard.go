package web

import (
	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/authz"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/paths"
)

const (
	keyTenant ctxKey = iota + 100
	keyMembership
	keyRoutePerm // the permission the route's guard checked (tenant and platform scopes)
)

// requireUser sends anonymous visitors to the login page (HTMX gets a redirect header).
func (s *Server) requireUser(c *fiber.Ctx) error {
	if currentUser(c) != nil {
		return c.Next()
	}
	next := c.OriginalURL()
	if c.Method() != fiber.MethodGet {
		next = paths.Home
	}
	to := paths.LoginNext(next)
	if c.Cookies(s.sessions.Cookie.Name) != "" {
		// A session cookie that no longer finds a user: the session expired.
		to += "&flash=login.session_expired"
	}
	if c.Get("HX-Request") == "true" {
		c.Set("HX-Redirect", to)
		return c.SendStatus(fiber.StatusUnauthorized)
	}
	return c.Redirect(to, fiber.StatusSeeOther)
}

// requireTenant admits members of :tid holding perm there. Non-members get
// 404 so tenant ids reveal nothing; a suspended tenant refuses its members.
func (s *Server) requireTenant(perm authz.Perm) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if ok, err := s.enterTenant(c, perm); !ok || err != nil {
			return err
		}
		return c.Next()
	}
}

// enterTenant is requireTenant's check for a signed-in user: it reports
// whether the request may go on; false with a nil error when it already
// answered (the suspended page).
func (s *Server) enterTenant(c *fiber.Ctx, perm authz.Perm) (bool, error) {
	u := currentUser(c)
	tid, err := parseID(c, "tid")
	if err != nil {
		return false, err
	}
	m, err := s.Store.Membership(c.UserContext(), tid, u.ID)
	if err != nil {
		return false, err // not found → 404
	}
	t, err := s.Store.Tenant(c.UserContext(), tid)
	if err != nil {
		return false, err
	}
	withValue(c, keyTenant, &t)
	withValue(c, keyMembership, &m)
	if t.Status == model.TenantSuspended {
		c.Status(fiber.StatusForbidden)
		return false, s.render(c, suspendedPage(s, c))
	}
	if !s.Authz.Can(u.ID, authz.TenantDomain(tid), perm) {
		return false, model.Errorf(model.CodeForbidden, "error.forbidden")
	}
	withValue(c, keyRoutePerm, perm)
	return true, nil
}

// requirePlatform admits staff holding perm in the platform domain.
func (s *Server) requirePlatform(perm authz.Perm) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !s.Authz.Can(currentUser(c).ID, authz.Platform, perm) {
			return model.Errorf(model.CodeForbidden, "error.forbidden")
		}
		withValue(c, keyRoutePerm, perm)
		return c.Next()
	}
}

func currentTenant(c *fiber.Ctx) *model.Tenant {
	t, _ := c.UserContext().Value(keyTenant).(*model.Tenant)
	return t
}

func currentMembership(c *fiber.Ctx) *model.Membership {
	m, _ := c.UserContext().Value(keyMembership).(*model.Membership)
	return m
}

// can reports whether the current user holds perm in the current tenant (or platform when no tenant).
func (s *Server) can(c *fiber.Ctx, perm authz.Perm) bool {
	u := currentUser(c)
	if u == nil {
		return false
	}
	if t := currentTenant(c); t != nil {
		return s.Authz.Can(u.ID, authz.TenantDomain(t.ID), perm)
	}
	return s.Authz.Can(u.ID, authz.Platform, perm)
}

func actor(c *fiber.Ctx) model.Actor {
	a := model.Actor{IP: c.IP()}
	if u := currentUser(c); u != nil {
		a.UserID, a.Label = u.ID, u.Email
	}
	return a
}
