package web

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/views"
)

func (s *Server) signupForm(c *fiber.Ctx) error {
	return s.render(c, views.SignupPage(s.page(c, "signup.title", ""), views.NewForm()))
}

// readNewUser validates the name, e-mail and password fields shared by sign-up and invite acceptance.
func readNewUser(c *fiber.Ctx, f views.Form) model.User {
	u := model.User{Name: strings.TrimSpace(c.FormValue("name")), Email: model.NormalizeEmail(c.FormValue("email"))}
	f.Values["name"], f.Values["email"] = u.Name, u.Email
	if k := model.ValidateName(u.Name); k != "" {
		f.Errors["name"] = k
	}
	if k := model.ValidateEmail(u.Email); k != "" {
		f.Errors["email"] = k
	}
	if k := model.ValidatePassword(c.FormValue("password")); k != "" {
		f.Errors["password"] = k
	}
	return u
}

func (s *Server) signup(c *fiber.Ctx) error {
	ctx := c.UserContext()
	f := views.NewForm()
	tenantName := strings.TrimSpace(c.FormValue("tenant"))
	f.Values["tenant"] = tenantName
	if k := model.ValidateName(tenantName); k != "" {
		f.Errors["tenant"] = k
	}
	u := readNewUser(c, f)
	if !f.HasErrors() {
		var err error
		if u.PasswordHash, err = s.Hasher.Hash(c.FormValue("password")); err != nil {
			return err
		}
		var t model.Tenant
		u, t, err = s.Store.Signup(ctx, u, tenantName, c.IP())
		if err == nil {
			s.Authz.SetTenantRole(u.ID, t.ID, model.RoleOwner)
			if err := s.signIn(c, u.ID, u.SessionEpoch); err != nil {
				return err
			}
			return c.Redirect("/t/"+strconv.FormatInt(t.ID, 10), fiber.StatusSeeOther)
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
