package web

import (
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/views"
)

// Login throttling: after this many failures in the window, further attempts
// are refused until the oldest failure leaves the window.
const (
	throttleWindow     = 15 * time.Minute
	maxFailuresAccount = 5
	maxFailuresIP      = 30
)

func (s *Server) loginForm(c *fiber.Ctx) error {
	if currentUser(c) != nil {
		return c.Redirect(safeNext(c.Query("next")), fiber.StatusSeeOther)
	}
	f := views.NewForm()
	f.Values["next"] = safeNext(c.Query("next"))
	return s.render(c, views.LoginPage(s.page(c, "login.title", ""), f))
}

func (s *Server) login(c *fiber.Ctx) error {
	ctx := c.UserContext()
	lf := NewLoginForm(c)
	email, password := lf.Email, lf.Password
	f := lf.View()
	if formError(&f, lf.Validate()) {
		return s.loginFailed(c, f)
	}
	acctKey, ipKey := "acct:"+email, "ip:"+c.IP()
	for _, k := range []struct {
		key string
		max int
	}{{acctKey, maxFailuresAccount}, {ipKey, maxFailuresIP}} {
		n, oldest, err := s.Store.LoginFailures(ctx, k.key, s.Now().Add(-throttleWindow))
		if err != nil {
			return err
		}
		if n >= k.max {
			wait := oldest.Add(throttleWindow).Sub(s.Now())
			f.Summary, f.Data = "login.throttled", map[string]any{"Minutes": max(1, int(math.Ceil(wait.Minutes())))}
			c.Status(fiber.StatusTooManyRequests)
			return s.render(c, views.LoginPage(s.page(c, "login.title", ""), f))
		}
	}
	u, err := s.Store.UserByEmail(ctx, email)
	if err != nil && !model.IsNotFound(err) {
		return err
	}
	hash := dummyHash
	if err == nil {
		hash = u.PasswordHash
	}
	ok, verr := s.Hasher.Verify(hash, password)
	if verr != nil || !ok || err != nil {
		if err := s.Store.RecordLoginFailure(ctx, acctKey, ipKey); err != nil {
			return err
		}
		var tenant int64
		_ = s.Store.Activity(ctx, model.Actor{Label: email, IP: c.IP()}, tenant, store.ActLoginFailed, email, "")
		f.Summary = "login.bad_credentials"
		return s.loginFailed(c, f)
	}
	if err := s.signIn(c, u.ID, u.SessionEpoch); err != nil {
		return err
	}
	if err := s.Store.ClearLoginFailures(ctx, acctKey); err != nil {
		return err
	}
	_ = s.Store.Activity(ctx, model.Actor{UserID: u.ID, Label: u.Email, IP: c.IP()}, 0, store.ActLogin, u.Email, "")
	return c.Redirect(f.Values["next"], fiber.StatusSeeOther)
}

func (s *Server) loginFailed(c *fiber.Ctx, f views.Form) error {
	c.Status(fiber.StatusUnprocessableEntity)
	return s.render(c, views.LoginPage(s.page(c, "login.title", ""), f))
}

func (s *Server) logout(c *fiber.Ctx) error {
	u := currentUser(c)
	if err := s.sessions.Destroy(c.UserContext()); err != nil {
		return err
	}
	_ = s.Store.Activity(c.UserContext(), model.Actor{UserID: u.ID, Label: u.Email, IP: c.IP()}, 0, store.ActLogout, u.Email, "")
	return c.Redirect(paths.Login, fiber.StatusSeeOther)
}

// safeNext keeps post-login redirects on this site: it answers next only
// when it is still a same-origin path after what browsers do to a Location
// (drop ASCII tabs and newlines anywhere, read a backslash as a slash), and
// when its path, percent-decoded once, is one too; anything else is the
// landing page. What it answers is the cleaned form, so the header says
// exactly what the browser would follow.
func safeNext(next string) string {
	cleaned := strings.Map(func(r rune) rune {
		switch r {
		case '\t', '\n', '\r':
			return -1
		case '\\':
			return '/'
		}
		return r
	}, next)
	if !sameOriginPath(cleaned) {
		return paths.Home
	}
	u, err := url.Parse(cleaned)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return paths.Home
	}
	if !sameOriginPath(u.Path) || strings.ContainsRune(u.Path, '\\') {
		return paths.Home // "/%2F/evil", "/%5Cevil", "/%09/evil": one decoding away from off-site
	}
	return cleaned
}

// sameOriginPath: starts with one slash (not two, which is an authority)
// and holds no control character or bidi control at all.
func sameOriginPath(p string) bool {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") {
		return false
	}
	return !strings.ContainsFunc(p, func(r rune) bool { return unsafeRune(r) })
}
