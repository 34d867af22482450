package web

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/authz"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/views"
)

// appSettingsView loads an app's settings section: its testers as WeChat
// lists them now (an error from WeChat is shown in words, not as a failed page).
func (s *Server) appSettingsView(c *fiber.Ctx, f views.Form) (views.AppSettingsView, error) {
	ctx := c.UserContext()
	t := currentTenant(c)
	a, err := s.Store.App(ctx, t.ID, c.Params("appid"))
	if err != nil {
		return views.AppSettingsView{}, err
	}
	v := views.AppSettingsView{App: a, CanEdit: s.can(c, authz.PermConfigWrite), Form: f}
	testers, err := s.Releases.Testers(ctx, t.ID, a.AppID)
	var me *model.Error
	switch {
	case err == nil:
		for _, x := range testers {
			v.Testers = append(v.Testers, views.TesterRow{UserStr: x.UserStr, WeChatID: x.WeChatID, BoundBy: x.BoundBy, BoundAt: x.BoundAt})
		}
	case errors.As(err, &me) && me.Code == model.CodeInvalid:
		v.TestersErr, v.TestersData = me.Key, me.Data
		if me.Field != "" { // a documented bind errcode cannot answer a list; say it plainly
			v.TestersErr = "tester.err.list"
		}
	default:
		s.Log.Warn("testers list", "appid", a.AppID, "err", err)
		v.TestersErr = "tester.err.list"
	}
	return v, nil
}

// appSettings shows an app's settings: testers (体验成员) and domains.
func (s *Server) appSettings(c *fiber.Ctx) error {
	v, err := s.appSettingsView(c, views.NewForm())
	if err != nil {
		return err
	}
	return s.render(c, views.AppSettingsPage(s.page(c, "apps.settings.title", "apps.settings.help"), v))
}

// appTesterBind binds a WeChat ID as a tester; WeChat's refusal is shown
// under the field in words, with what was typed.
func (s *Server) appTesterBind(c *fiber.Ctx) error {
	t := currentTenant(c)
	tf := NewTesterForm(c)
	f := tf.View()
	formError(&f, tf.Validate())
	if !f.HasErrors() {
		err := s.Releases.BindTester(c.UserContext(), actor(c), t.ID, c.Params("appid"), tf.WeChatID)
		if err != nil && !formError(&f, err) {
			return err
		}
		if err == nil {
			return s.redirectFlash(c, paths.AppSettings(t.ID, c.Params("appid")), "tester.bound")
		}
	}
	v, err := s.appSettingsView(c, f)
	if err != nil {
		return err
	}
	c.Status(fiber.StatusUnprocessableEntity)
	return s.render(c, views.AppSettingsPage(s.page(c, "apps.settings.title", "apps.settings.help"), v))
}

// appTesterUnbind removes a tester by the userstr WeChat lists.
func (s *Server) appTesterUnbind(c *fiber.Ctx) error {
	t := currentTenant(c)
	uf := NewUnbindTesterForm(c)
	f := views.NewForm()
	err := s.Releases.UnbindTester(c.UserContext(), actor(c), t.ID, c.Params("appid"), uf.UserStr)
	if err == nil {
		return s.redirectFlash(c, paths.AppSettings(t.ID, c.Params("appid")), "tester.unbound")
	}
	if !formError(&f, err) {
		return err
	}
	v, verr := s.appSettingsView(c, f)
	if verr != nil {
		return verr
	}
	c.Status(fiber.StatusUnprocessableEntity)
	return s.render(c, views.AppSettingsPage(s.page(c, "apps.settings.title", "apps.settings.help"), v))
}
