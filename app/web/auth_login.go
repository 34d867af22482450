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

// Login throttling slows whoever guesses without locking the owner out
// (docs/architecture.md, Security). Failed logins are counted under three
// keys, and an attempt is refused (429, nothing verified, nothing counted)
// while any of them says wait:
//
//   - one account from one client address ("pair:<email>|<ip>"): the
//     first pairFree failures within pairWindow cost nothing; after that
//     each attempt waits pairDelay after the latest failure, doubling with
//     every further failure up to pairMaxDelay. Another address is not
//     slowed by it, so an attacker cannot lock the owner out from one.
//   - one account from every address ("acct:<email>"): maxFailuresAccount
//     in throttleWindow refuse the account until the oldest leaves it; a
//     ceiling only many addresses together can reach.
//   - one client address over every account ("ip:<ip>"): maxFailuresIP in
//     throttleWindow, against password spraying.
//
// A successful login clears the account's and the pair's counts.
const (
	pairFree           = 5
	pairWindow         = time.Hour
	pairDelay          = time.Minute
	pairMaxDelay       = 15 * time.Minute
	throttleWindow     = 15 * time.Minute
	maxFailuresAccount = 50
	maxFailuresIP      = 30
)

// pairWait is how long after its latest failure one account from one
// address waits, having failed n times in pairWindow.
func pairWait(n int) time.Duration {
	if n < pairFree {
		return 0
	}
	if n-pairFree >= 5 { // 2^4 minutes is past the cap already
		return pairMaxDelay
	}
	return min(pairDelay<<(n-pairFree), pairMaxDelay)
}

// loginWait is how long this attempt must wait (0: go ahead).
func (s *Server) loginWait(c *fiber.Ctx, email string) (time.Duration, error) {
	ctx, now := c.UserContext(), s.Now()
	var wait time.Duration
	n, _, newest, err := s.Store.LoginFailureSpan(ctx, pairKey(email, c.IP()), now.Add(-pairWindow))
	if err != nil {
		return 0, err
	}
	if w := newest.Add(pairWait(n)).Sub(now); n >= pairFree && w > wait {
		wait = w
	}
	for _, k := range []struct {
		key string
		max int
	}{{"acct:" + email, maxFailuresAccount}, {"ip:" + c.IP(), maxFailuresIP}} {
		n, oldest, _, err := s.Store.LoginFailureSpan(ctx, k.key, now.Add(-throttleWindow))
		if err != nil {
			return 0, err
		}
		if w := oldest.Add(throttleWindow).Sub(now); n >= k.max && w > wait {
			wait = w
		}
	}
	return wait, nil
}

func pairKey(email, ip string) string { return "pair:" + email + "|" + ip }

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
	acctKey, ipKey, pair := "acct:"+email, "ip:"+c.IP(), pairKey(email, c.IP())
	wait, err := s.loginWait(c, email)
	if err != nil {
		return err
	}
	if wait > 0 {
		f.Summary, f.Data = "login.throttled", map[string]any{"Minutes": max(1, int(math.Ceil(wait.Minutes())))}
		c.Status(fiber.StatusTooManyRequests)
		return s.render(c, views.LoginPage(s.page(c, "login.title", ""), f))
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
		if err := s.Store.RecordLoginFailure(ctx, pair, acctKey, ipKey); err != nil {
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
	for _, k := range []string{acctKey, pair} {
		if err := s.Store.ClearLoginFailures(ctx, k); err != nil {
			return err
		}
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
