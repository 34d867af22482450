package web

import (
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/csrf"
	"github.com/gofiber/fiber/v2/middleware/helmet"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"

	"github.com/minifleet/minifleet/app/i18n"
	"github.com/minifleet/minifleet/app/model"
)

// csp allows only our own origin; images may also be data: URLs (QR codes).
const csp = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"

// sandboxCSP is the CSP of the sandbox's pages (/sandbox/…, sandbox mode
// only): they carry WeChat-like inline styles and no scripts.
const sandboxCSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'none'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"

// baseMiddleware runs for every request, pushes included.
func (s *Server) baseMiddleware(app *fiber.App) {
	app.Use(recover.New(recover.Config{EnableStackTrace: true, StackTraceHandler: func(c *fiber.Ctx, e any) {
		s.Log.Error("panic", "err", e, "route", loggedRoute(c), "request_id", c.Locals("requestid"))
	}}))
	app.Use(requestid.New())
	app.Use(s.clusterMiddleware) // a replica hands writes to the primary (cluster.go)
	if len(s.Config.TrustedProxies) > 0 && s.Config.ProxyHeader == fiber.HeaderXForwardedFor {
		app.Use(s.forwardedFor())
	}
}

// browserMiddleware runs for everything but pushes: a request log line and
// the browser's security headers. (An accepted push is its own record,
// wechat_pushes, and wechatPush logs refused ones; a line for each was a
// tenth of the intake's CPU in a flood, browser headers a sixth.)
func (s *Server) browserMiddleware(app *fiber.App) {
	app.Use(s.requestLog)
	app.Use(helmet.New(helmet.Config{
		ContentSecurityPolicy:     csp,
		ReferrerPolicy:            "same-origin", // helmet's no-referrer would break Fiber's CSRF referer check on https
		XFrameOptions:             "DENY",
		CrossOriginEmbedderPolicy: "unsafe-none",
	}))
	if s.Config.SecureCookies() {
		// helmet sends HSTS only when this hop is TLS; behind a proxy that
		// ends TLS (Fly) it never is, so the base URL decides. Never over
		// http: a browser would pin a site that cannot answer https.
		app.Use(func(c *fiber.Ctx) error {
			c.Set(fiber.HeaderStrictTransportSecurity, hsts)
			return c.Next()
		})
	}
}

// hsts pins https for a year, subdomains included, once a browser has seen
// the portal over https.
const hsts = "max-age=31536000; includeSubDomains"

// requestLog writes one structured line per request. It names the route
// pattern the request matched ("/invite/:token"), never the path: path
// parameters may be secrets (an invitation's token makes whoever reads the
// log a member), and query strings carry WeChat's auth codes. No other
// field comes from the request but the method and the client's address.
func (s *Server) requestLog(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	status := c.Response().StatusCode()
	if err != nil {
		if fe, ok := err.(*fiber.Error); ok {
			status = fe.Code
		} else {
			status = fiber.StatusInternalServerError
		}
	}
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("method", c.Method()), slog.String("route", loggedRoute(c)), slog.Int("status", status),
		slog.Duration("dur", time.Since(start)), slog.String("request_id", c.GetRespHeader(fiber.HeaderXRequestID)),
		slog.String("ip", c.IP()),
	}
	if u := currentUser(c); u != nil {
		attrs = append(attrs, slog.Int64("user_id", u.ID))
	}
	if err != nil && status >= 500 {
		attrs = append(attrs, slog.String("err", err.Error()))
	}
	s.Log.LogAttrs(c.UserContext(), level, "request", attrs...)
	s.Platform.Metrics.HTTP(loggedRoute(c), c.Method(), status, time.Since(start))
	return err
}

// loggedRoute is what logs say of a request's path: the pattern of the
// route that handled it, or "-" when none did (the fallback Fiber answers
// for a request no route matched is the raw path, which is not logged).
func loggedRoute(c *fiber.Ctx) string {
	r := c.Route()
	if r == nil || len(r.Handlers) == 0 {
		return "-"
	}
	return r.Path
}

// csrfMiddleware checks a token on every state-changing request: the HTMX
// header first, then the _csrf form field of plain forms.
func (s *Server) csrfMiddleware() fiber.Handler {
	tokens := newCSRFTokens(s.Config.SecretKey, 12*time.Hour, s.Now)
	return csrf.New(csrf.Config{
		Extractor: func(c *fiber.Ctx) (string, error) {
			if t := c.Get("X-Csrf-Token"); t != "" {
				return t, nil
			}
			if t := c.FormValue("_csrf"); t != "" {
				return t, nil
			}
			return "", csrf.ErrTokenNotFound
		},
		Storage:        tokens, // signed tokens: every node accepts them (csrf_tokens.go)
		KeyGenerator:   tokens.Generate,
		CookieName:     "csrf_",
		CookiePath:     "/",
		CookieSecure:   s.Config.SecureCookies(),
		CookieHTTPOnly: true,
		CookieSameSite: "Lax",
		Expiration:     12 * time.Hour,
		ContextKey:     "csrf",
		ErrorHandler: func(c *fiber.Ctx, err error) error {
			return &model.Error{Code: model.CodeForbidden, Key: "error.csrf", Err: err}
		},
	})
}

// loadUser puts the signed-in user (if any) in the context.
func (s *Server) loadUser(c *fiber.Ctx) error {
	id := s.sessions.GetInt64(c.UserContext(), sessUserID)
	if id != 0 {
		u, err := s.Store.UserByID(c.UserContext(), id)
		switch {
		case err == nil && s.sessions.GetInt64(c.UserContext(), sessEpoch) == u.SessionEpoch:
			withValue(c, keyUser, &u)
		case err != nil && !model.IsNotFound(err):
			return err
		} // a deleted user or a session from before a password change: anonymous
	}
	return c.Next()
}

func currentUser(c *fiber.Ctx) *model.User {
	u, _ := c.UserContext().Value(keyUser).(*model.User)
	return u
}

// locale picks the language (the user's choice, then the session's, then
// Accept-Language) and the time zone, and puts a localizer in the context.
func (s *Server) locale(c *fiber.Ctx) error {
	choice := s.sessions.GetString(c.UserContext(), sessLang)
	tz := s.Config.TimeZone
	if u := currentUser(c); u != nil {
		if u.Locale != "" {
			choice = u.Locale
		}
		if u.TimeZone != "" {
			tz = u.TimeZone
		}
	}
	lang := s.I18n.Match(choice, c.Get(fiber.HeaderAcceptLanguage))
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = s.Config.Location()
	}
	c.SetUserContext(i18n.With(c.UserContext(), s.I18n.Localizer(lang, loc)))
	c.Set(fiber.HeaderContentLanguage, lang)
	return c.Next()
}

func parseID(c *fiber.Ctx, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Params(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, model.NotFound(name)
	}
	return id, nil
}

// maxFormBody bounds every body but a file upload's: the server accepts up
// to MINIFLEET_MAX_BODY so a recording for the reviewers fits, and no form
// of text needs more than this.
const maxFormBody = 1 << 20

// formBodyLimit refuses a body over maxFormBody unless it is a multipart
// upload (413, localized by renderErrors).
func formBodyLimit(c *fiber.Ctx) error {
	if len(c.Body()) > maxFormBody && !strings.HasPrefix(c.Get(fiber.HeaderContentType), fiber.MIMEMultipartForm) {
		return fiber.ErrRequestEntityTooLarge
	}
	return c.Next()
}
