package web

import (
	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/views"
)

func (s *Server) signupForm(c *fiber.Ctx) error {
	return s.render(c, views.SignupPage(s.page(c, "signup.title", ""), views.NewForm()))
}

func (s *Server) signup(c *fiber.Ctx) error {
	ctx := c.UserContext()
	sf := NewSignupForm(c)
	f := sf.View()
	formError(&f, sf.Validate())
	if !f.HasErrors() {
		u := sf.User()
		var err error
		if u.PasswordHash, err = s.Hasher.Hash(sf.Password); err != nil {
			return err
		}
		var t model.Tenant
		u, t, err = s.Store.Signup(ctx, u, sf.Tenant, c.IP())
		if err == nil {
			s.Authz.SetTenantRole(u.ID, t.ID, model.RoleOwner)
			if err := s.signIn(c, u.ID, u.SessionEpoch); err != nil {
				return err
			}
			return c.Redirect(paths.Tenant(t.ID), fiber.StatusSeeOther)
		}
		if !formError(&f, err) {
			return err
		}
	}
	c.Status(fiber.StatusUnprocessableEntity)
	return s.render(c, views.SignupPage(s.page(c, "signup.title", ""), f))
}

// signIn starts a fresh session for userID. A new token on every sign-in
// defeats session fixation; the epoch ties the session to the current password.
func (s *Server) signIn(c *fiber.Ctx, userID, epoch int64) error {
	if err := s.sessions.RenewToken(c.UserContext()); err != nil {
		return err
	}
	s.sessions.Put(c.UserContext(), sessUserID, userID)
	s.sessions.Put(c.UserContext(), sessEpoch, epoch)
	return nil
}
