package web

import (
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
)

// sessions loads and commits scs sessions natively: Fiber's net/http adaptor
// would commit before the handler runs and silently drop writes (STACK.md §2).
func (s *Server) sessionMiddleware(c *fiber.Ctx) error {
	sm := s.sessions
	c.Vary(fiber.HeaderCookie)
	tok := utils.CopyString(c.Cookies(sm.Cookie.Name)) // fiber strings alias fasthttp buffers
	ctx, err := sm.Load(c.UserContext(), tok)
	if err != nil {
		return err
	}
	c.SetUserContext(ctx)
	herr := c.Next()
	switch sm.Status(ctx) {
	case scs.Modified:
		t, exp, err := sm.Commit(ctx)
		if err != nil {
			return err
		}
		s.setSessionCookie(c, t, exp)
	case scs.Destroyed:
		s.setSessionCookie(c, "", time.Time{})
	}
	return herr
}

func (s *Server) setSessionCookie(c *fiber.Ctx, value string, exp time.Time) {
	sm := s.sessions
	ck := &fiber.Cookie{Name: sm.Cookie.Name, Value: value, Path: "/", Secure: sm.Cookie.Secure, HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode}
	if exp.IsZero() {
		ck.Expires, ck.MaxAge = time.Unix(1, 0), -1
	} else {
		ck.SessionOnly = true // ends with the browser; the server-side lifetime still applies
	}
	c.Cookie(ck)
	c.Append(fiber.HeaderCacheControl, `no-cache="Set-Cookie"`)
}

// Session keys.
const (
	sessUserID = "uid"
	sessLang   = "lang"
	sessEpoch  = "epoch"
)
