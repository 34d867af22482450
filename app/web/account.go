package web

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/views"
)

// timeZones offered on the account page (any IANA name is accepted).
var timeZones = []string{"Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "Asia/Tokyo", "Europe/London", "Europe/Berlin", "America/New_York", "America/Los_Angeles", "UTC"}

func (s *Server) home(c *fiber.Ctx) error {
	u := currentUser(c)
	if u == nil {
		return c.Redirect(paths.Login, fiber.StatusSeeOther)
	}
	ms, err := s.Store.MembershipsOfUser(c.UserContext(), u.ID)
	if err != nil {
		return err
	}
	if len(ms) > 0 {
		return c.Redirect(paths.Tenant(ms[0].TenantID), fiber.StatusSeeOther)
	}
	if u.IsStaff() {
		return c.Redirect(paths.StaffTenants, fiber.StatusSeeOther)
	}
	return s.render(c, views.HomePage(s.page(c, "home.title", "")))
}

// switchTenant sends the user to another of their tenants (a GET: it only redirects).
func (s *Server) switchTenant(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Query("tenant"), 10, 64)
	if err != nil {
		return c.Redirect(paths.Home, fiber.StatusSeeOther)
	}
	return c.Redirect(paths.Tenant(id), fiber.StatusSeeOther)
}

func (s *Server) setLang(c *fiber.Ctx) error {
	f := NewLangForm(c)
	if err := f.Validate(); err != nil {
		return err
	}
	s.sessions.Put(c.UserContext(), sessLang, f.Lang)
	if u := currentUser(c); u != nil {
		if err := s.Store.SetPreferences(c.UserContext(), u.ID, f.Lang, u.TimeZone); err != nil {
			return err
		}
	}
	return c.Redirect(f.Next, fiber.StatusSeeOther)
}

func (s *Server) accountPage(c *fiber.Ctx) error {
	u := currentUser(c)
	prefs := views.NewForm()
	prefs.Values["locale"], prefs.Values["time_zone"] = u.Locale, u.TimeZone
	if u.TimeZone == "" {
		prefs.Values["time_zone"] = s.Config.TimeZone
	}
	return s.render(c, views.AccountPage(s.page(c, "account.title", "account.help"), views.NewForm(), prefs, timeZones))
}

func (s *Server) changePassword(c *fiber.Ctx) error {
	u := currentUser(c)
	pf := NewPasswordForm(c)
	pw := views.NewForm()
	ok, err := s.Hasher.Verify(u.PasswordHash, pf.Current)
	if err != nil || !ok {
		pw.Errors["current"] = "account.wrong_password"
	}
	formError(&pw, pf.Validate())
	if !pw.HasErrors() {
		hash, err := s.Hasher.Hash(pf.Password)
		if err != nil {
			return err
		}
		epoch, err := s.Store.SetPassword(c.UserContext(), actor(c), u.ID, hash)
		if err != nil {
			return err
		}
		// Every other session is now signed out; this one continues under a new token.
		if err := s.signIn(c, u.ID, epoch); err != nil {
			return err
		}
		return s.redirectFlash(c, paths.Account, "account.password_changed")
	}
	prefs := views.NewForm()
	prefs.Values["locale"], prefs.Values["time_zone"] = u.Locale, u.TimeZone
	c.Status(fiber.StatusUnprocessableEntity)
	return s.render(c, views.AccountPage(s.page(c, "account.title", "account.help"), pw, prefs, timeZones))
}

func (s *Server) savePreferences(c *fiber.Ctx) error {
	u := currentUser(c)
	pf := NewPreferencesForm(c)
	f := pf.View()
	if formError(&f, pf.Validate()) {
		c.Status(fiber.StatusUnprocessableEntity)
		return s.render(c, views.AccountPage(s.page(c, "account.title", "account.help"), views.NewForm(), f, timeZones))
	}
	if err := s.Store.SetPreferences(c.UserContext(), u.ID, pf.Locale, pf.TimeZone); err != nil {
		return err
	}
	s.sessions.Remove(c.UserContext(), sessLang)
	return s.redirectFlash(c, paths.Account, "account.saved")
}
