package web

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/authz"
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
	s.rememberAttemptState(c.UserContext(), a)
	return c.Redirect(paths.Attempt(t.ID, a.ID), fiber.StatusSeeOther)
}

// sessAttemptStates holds, in the session that started them, the callback
// states of its latest attempts (JSON: attempt id → state). Only this
// session's redirect back can bind one of them.
const sessAttemptStates = "attempt_states"

// maxAttemptStates bounds how many attempts a session remembers.
const maxAttemptStates = 8

func (s *Server) attemptStates(ctx context.Context) map[string]string {
	m := map[string]string{}
	if raw := s.sessions.GetString(ctx, sessAttemptStates); raw != "" {
		_ = json.Unmarshal([]byte(raw), &m)
	}
	return m
}

// rememberAttemptState keeps a's callback state in the session (the
// newest maxAttemptStates attempts).
func (s *Server) rememberAttemptState(ctx context.Context, a model.AuthAttempt) {
	if a.CallbackState == "" {
		return
	}
	m := s.attemptStates(ctx)
	m[strconv.FormatInt(a.ID, 10)] = a.CallbackState
	if len(m) > maxAttemptStates {
		ids := make([]int64, 0, len(m))
		for k := range m {
			n, _ := strconv.ParseInt(k, 10, 64)
			ids = append(ids, n)
		}
		slices.Sort(ids)
		for _, n := range ids[:len(ids)-maxAttemptStates] {
			delete(m, strconv.FormatInt(n, 10))
		}
	}
	b, _ := json.Marshal(m)
	s.sessions.Put(ctx, sessAttemptStates, string(b))
}

// attemptState is the callback state of attempt id if this session
// started it, else "".
func (s *Server) attemptState(ctx context.Context, id int64) string {
	return s.attemptStates(ctx)[strconv.FormatInt(id, 10)]
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
	a.CallbackState = s.attemptState(c.UserContext(), a.ID)
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

// callbackParams reads the state and auth_code of WeChat's redirect. WeChat
// appends "auth_code=…&expires_in=…" to the redirect_uri, whose own query
// holds the state; should it append with a second "?" instead of "&", the
// code arrives inside the state's value, and is taken from there.
func callbackParams(c *fiber.Ctx) (state, code string) {
	state, code = c.Query("state"), c.Query("auth_code")
	if code == "" {
		if st, rest, ok := strings.Cut(state, "?"); ok {
			if q, err := url.ParseQuery(rest); err == nil {
				state, code = st, q.Get("auth_code")
			}
		}
	}
	return state, code
}

// authorizeCallback is WeChat's redirect back (state, auth_code,
// expires_in): the one GET that writes, in this one handler, so it can be
// routed to the primary. The attempt must be this user's in this tenant,
// and the state must be the attempt's and this session's (it started the
// attempt): otherwise nothing is bound and the page says the authorization
// completes through WeChat's notification (the authorized push).
// authorizeCallbackEntry is WeChat's redirect. Anonymous (the merchant's
// phone, which scanned the QR code of the desk's attempt page): the public
// 授权完成 page, which writes nothing and says nothing about the tenant or
// the attempt (the authorized push binds the app and the desk page updates
// live). Signed in: the tenant guard, then authorizeCallback.
func (s *Server) authorizeCallbackEntry(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	if currentUser(c) == nil {
		p := s.page(c, "authorize.public_done_title", "")
		p.Path = paths.Home // the language switch comes back here, not to the callback
		return s.render(c, views.AuthorizedPage(p))
	}
	if ok, err := s.enterTenant(c, authz.PermAppsAuthorize); !ok || err != nil {
		return err
	}
	return s.authorizeCallback(c)
}

func (s *Server) authorizeCallback(c *fiber.Ctx) error {
	id, err := parseID(c, "aid")
	if err != nil {
		return err
	}
	t := currentTenant(c)
	state, code := callbackParams(c)
	mine := s.attemptState(c.UserContext(), id)
	if mine == "" || subtle.ConstantTimeCompare([]byte(state), []byte(mine)) != 1 {
		state = "" // not this session's attempt: the platform binds nothing
	}
	a, err := s.Onboarding.Callback(c.UserContext(), actor(c), t.ID, id, state, code)
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
	a.CallbackState = s.attemptState(c.UserContext(), a.ID)
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
