package web

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/authz"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/wechat"
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
	if v.ServerAllowed = s.Releases.AppServerDomainsAllowed(ctx); v.ServerAllowed {
		cur, used, err := s.Releases.AppServerDomains(ctx, t.ID, a.AppID)
		switch {
		case err == nil:
			v.Server, v.ServerUsed, v.ServerLeft = serverLists(cur), used, max(0, platform.MonthlyDomainChanges-used)
		case errors.As(err, &me) && me.Code == model.CodeInvalid:
			v.ServerErr, v.ServerLeft = me.Key, platform.MonthlyDomainChanges
		default:
			s.Log.Warn("app server domains", "appid", a.AppID, "err", err)
			v.ServerErr, v.ServerLeft = "domain.err.read", platform.MonthlyDomainChanges
		}
	}
	v.ServerForm = views.NewForm()
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

// staffAppServerDomains turns per-app server domains on or off.
func (s *Server) staffAppServerDomains(c *fiber.Ctx) error {
	if err := s.Releases.SetAppServerDomainsAllowed(c.UserContext(), actor(c), c.FormValue("on") == "1"); err != nil {
		return err
	}
	return s.redirectFlash(c, paths.StaffDomains, "domain.per_app_saved")
}

// serverDomainsForm reads the per-list add and remove fields.
func serverDomainsForm(c *fiber.Ctx) (f views.Form, add, remove wechat.ServerDomains, confirm bool, err error) {
	f = views.NewForm()
	lists := map[string]*wechat.ServerDomains{"add_": &add, "remove_": &remove}
	var errs []error
	for _, pre := range []string{"add_", "remove_"} {
		for _, k := range platform.ServerDomainKinds {
			typed := strings.TrimSpace(c.FormValue(pre + k.Name))
			f.Values[pre+k.Name] = typed
			l, perr := platform.ParseServerDomains(pre+k.Name, k.Scheme, typed)
			if perr != nil {
				errs = append(errs, perr)
				continue
			}
			d := lists[pre]
			switch k.Name {
			case "requestdomain":
				d.RequestDomain = l
			case "wsrequestdomain":
				d.WsRequestDomain = l
			case "uploaddomain":
				d.UploadDomain = l
			case "downloaddomain":
				d.DownloadDomain = l
			}
		}
	}
	return f, add, remove, c.FormValue("confirm") == "1", errors.Join(errs...)
}

// appServerDomainsChange previews or, confirmed, applies a change of the
// app's own server domains.
func (s *Server) appServerDomainsChange(c *fiber.Ctx) error {
	ctx := c.UserContext()
	t := currentTenant(c)
	appID := c.Params("appid")
	f, add, remove, confirm, err := serverDomainsForm(c)
	var plan *platform.ServerDomainPlan
	if err == nil {
		if confirm {
			if _, err = s.Releases.ChangeServerDomains(ctx, actor(c), t.ID, appID, add, remove); err == nil {
				return s.redirectFlash(c, paths.AppDomains(t.ID, appID), "domain.server_changed")
			}
		} else {
			var p platform.ServerDomainPlan
			if p, err = s.Releases.PlanServerDomains(ctx, t.ID, appID, add, remove); err == nil {
				if p.Empty() {
					err = model.Errorf(model.CodeInvalid, "domain.err.nothing")
				} else {
					plan = &p
				}
			}
		}
	}
	var me *model.Error
	if errors.As(err, &me) && me.Code == model.CodeForbidden {
		return err
	}
	for _, e := range unjoin(err) {
		if !formError(&f, e) {
			return e
		}
	}
	v, verr := s.appDomainsView(c, views.NewForm())
	if verr != nil {
		return verr
	}
	v.ServerForm = f
	if plan != nil {
		v.ServerPlan = serverPlanView(*plan)
	}
	if err != nil {
		c.Status(fiber.StatusUnprocessableEntity)
	}
	return s.render(c, views.AppDomainsPage(s.page(c, "domain.title", "domain.help"), v))
}

func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func serverLists(d wechat.ServerDomains) map[string][]string {
	return map[string][]string{"requestdomain": d.RequestDomain, "wsrequestdomain": d.WsRequestDomain, "uploaddomain": d.UploadDomain, "downloaddomain": d.DownloadDomain}
}

func serverPlanView(p platform.ServerDomainPlan) *views.ServerPlanView {
	return &views.ServerPlanView{Add: serverLists(p.Add), Remove: serverLists(p.Remove)}
}
