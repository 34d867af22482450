package web

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/authz"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/views"
)

// An app's business domains (业务域名), set directly on the app: WeChat's
// list is read first, a change is previewed as its difference and applied
// with add/delete only (docs/links.md).

func (s *Server) appDomainsView(c *fiber.Ctx, f views.Form) (views.AppDomainsView, error) {
	ctx := c.UserContext()
	t := currentTenant(c)
	a, err := s.Store.App(ctx, t.ID, c.Params("appid"))
	if err != nil {
		return views.AppDomainsView{}, err
	}
	v := views.AppDomainsView{App: a, CanEdit: s.can(c, authz.PermDomainsWrite), Form: f, Limit: platform.MonthlyDomainChanges}
	served := func(name, content string) bool {
		sf, err := s.Store.SiteFile(ctx, name)
		return err == nil && sf.Content == content
	}
	d, err := s.Releases.WebviewDomains(ctx, t.ID, a.AppID, served)
	var me *model.Error
	switch {
	case err == nil:
		v.Current, v.ChangesUsed, v.ChangesLeft = d.Current, d.ChangesUsed, d.ChangesLeft
		if d.ConfirmFile != nil {
			v.FileName, v.FileContent, v.FileServed = d.ConfirmFile.Name, d.ConfirmFile.Content, d.Served
		}
	case errors.As(err, &me) && me.Code == model.CodeInvalid:
		v.Err, v.ErrData = me.Key, me.Data
		v.ChangesLeft = platform.MonthlyDomainChanges
	case errors.As(err, &me):
		return v, err
	default:
		s.Log.Warn("webview domains", "appid", a.AppID, "err", err)
		v.Err, v.ChangesLeft = "domain.err.read", platform.MonthlyDomainChanges
	}
	return v, nil
}

// appDomains shows the app's business domains as WeChat has them.
func (s *Server) appDomains(c *fiber.Ctx) error {
	v, err := s.appDomainsView(c, views.NewForm())
	if err != nil {
		return err
	}
	return s.render(c, views.AppDomainsPage(s.page(c, "domain.title", "domain.help"), v))
}

// appDomainsChange previews a change (its difference against WeChat's list
// now) or, confirmed, applies it.
func (s *Server) appDomainsChange(c *fiber.Ctx) error {
	ctx := c.UserContext()
	t := currentTenant(c)
	appID := c.Params("appid")
	df := NewWebviewDomainsForm(c)
	f := df.View()
	add, remove, err := df.Lists()
	var plan *views.DomainPlanView
	if err == nil {
		if df.Confirm {
			_, err = s.Releases.ChangeWebviewDomains(ctx, actor(c), t.ID, appID, add, remove)
			if err == nil {
				return s.redirectFlash(c, paths.AppDomains(t.ID, appID), "domain.changed")
			}
		} else {
			var p platform.DomainPlan
			p, _, err = s.Releases.PlanWebviewDomains(ctx, t.ID, appID, add, remove)
			if err == nil && p.Empty() {
				err = model.FieldError("add", "domain.err.nothing")
			}
			if err == nil {
				plan = &views.DomainPlanView{Add: p.Add, Remove: p.Remove, Keep: p.Keep, AlreadyThere: p.AlreadyThere, NotThere: p.NotThere}
			}
		}
	}
	if err != nil && !formError(&f, err) {
		return err
	}
	v, verr := s.appDomainsView(c, f)
	if verr != nil {
		return verr
	}
	v.Plan = plan
	if err != nil {
		c.Status(fiber.StatusUnprocessableEntity)
	}
	return s.render(c, views.AppDomainsPage(s.page(c, "domain.title", "domain.help"), v))
}
