package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/views"
)

// authorizePage explains the flow and offers the button; it creates nothing
// (GET never writes): the pre_auth_code is made by the POST.
func (s *Server) authorizePage(c *fiber.Ctx) error {
	recent, err := s.Store.RecentAttempts(c.UserContext(), currentTenant(c).ID, 10)
	if err != nil {
		return err
	}
	return s.render(c, views.AuthorizePage(s.page(c, "authorize.title", "authorize.help"), views.AuthorizeView{Recent: recent}))
}

// authorizeCreate asks WeChat for a fresh pre_auth_code bound to this
// tenant and user, and shows its links.
func (s *Server) authorizeCreate(c *fiber.Ctx) error {
	t := currentTenant(c)
	a, err := s.Onboarding.Start(c.UserContext(), actor(c), t.ID, "")
	if err != nil {
		var e *model.Error
		if !asModelError(err, &e) || e.Code == model.CodeInternal {
			return err
		}
		c.Status(statusOf(err))
		recent, _ := s.Store.RecentAttempts(c.UserContext(), t.ID, 10)
		return s.render(c, views.AuthorizePage(s.page(c, "authorize.title", "authorize.help"), views.AuthorizeView{Recent: recent, Error: e.Key}))
	}
	return c.Redirect(paths.Attempt(t.ID, a.ID), fiber.StatusSeeOther)
}

// attemptView builds an attempt page for its creator only; other members
// of the tenant (and other tenants) get not found.
func (s *Server) attemptView(c *fiber.Ctx) (views.AttemptView, error) {
	id, err := parseID(c, "aid")
	if err != nil {
		return views.AttemptView{}, err
	}
	a, err := s.Store.Attempt(c.UserContext(), currentTenant(c).ID, id)
	if err != nil {
		return views.AttemptView{}, err
	}
	if a.UserID != currentUser(c).ID {
		return views.AttemptView{}, model.NotFound("attempt")
	}
	return s.attemptViewOf(a, strings.Contains(c.Get(fiber.HeaderUserAgent), "MicroMessenger"))
}

func (s *Server) attemptViewOf(a model.AuthAttempt, inWeChat bool) (views.AttemptView, error) {
	v := views.AttemptView{Attempt: a, State: a.Effective(s.Now()), InWeChat: inWeChat, Error: a.Error}
	if v.State == model.AttemptPending {
		mobile, pc, err := s.Onboarding.Links(a)
		if err != nil {
			return v, err
		}
		v.MobileURL, v.PCURL = mobile, pc
		if v.QRSVG, err = qrSVG(mobile, "QR"); err != nil {
			return v, err
		}
	}
	a.PreAuthCode = ""
	v.Attempt = a
	return v, nil
}

func (s *Server) attemptPage(c *fiber.Ctx) error {
	v, err := s.attemptView(c)
	if err != nil {
		return err
	}
	// The page holds a live pre_auth_code: keep it out of caches.
	c.Set(fiber.HeaderCacheControl, "no-store")
	return s.render(c, views.AttemptPage(s.page(c, "authorize.attempt_title", "authorize.attempt_help"), v))
}

func (s *Server) attemptCancel(c *fiber.Ctx) error {
	id, err := parseID(c, "aid")
	if err != nil {
		return err
	}
	t := currentTenant(c)
	a, err := s.Store.Attempt(c.UserContext(), t.ID, id)
	if err != nil || a.UserID != currentUser(c).ID {
		return model.NotFound("attempt")
	}
	if err := s.Onboarding.Cancel(c.UserContext(), actor(c), t.ID, id); err != nil {
		return err
	}
	return s.redirectFlash(c, paths.Attempt(t.ID, id), "authorize.cancelled_ok")
}

// authorizeCallback is WeChat's redirect back (auth_code, expires_in): the
// one GET that writes, in this one handler, so it can be routed to the
// primary. The attempt must be this user's in this tenant.
func (s *Server) authorizeCallback(c *fiber.Ctx) error {
	id, err := parseID(c, "aid")
	if err != nil {
		return err
	}
	t := currentTenant(c)
	a, err := s.Onboarding.Callback(c.UserContext(), actor(c), t.ID, id, c.Query("auth_code"))
	c.Set(fiber.HeaderCacheControl, "no-store")
	if err == nil && a.State == model.AttemptBound {
		return s.redirectFlash(c, paths.TenantApp(t.ID, a.AppID), "authorize.done_flash")
	}
	var e *model.Error
	if err != nil && (!asModelError(err, &e) || model.ErrorCode(err) == model.CodeNotFound || e.Code == model.CodeInternal) {
		return err
	}
	// Refused, failed, expired, or still exchanging: the attempt page says so
	// (and updates live while an exchange is retried).
	v, verr := s.attemptViewOf(a, false)
	if verr != nil {
		return verr
	}
	if e != nil {
		v.Error = e.Key
		c.Status(statusOf(err))
	}
	return s.render(c, views.AttemptPage(s.page(c, "authorize.attempt_title", "authorize.attempt_help"), v))
}
