package web

import (
	"crypto/subtle"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
)

// metrics serves Prometheus's scrape on the main address, only with the
// bearer token MINIFLEET_METRICS_TOKEN (compared in constant time). With
// no token configured the route answers 404, as if it did not exist; a
// separate listener (MINIFLEET_METRICS_ADDR, app/serve.go) serves it
// without a token for a private network.
func (s *Server) metrics(c *fiber.Ctx) error {
	tok := s.Config.MetricsToken
	if tok == "" || s.Platform.Metrics == nil {
		return fiber.ErrNotFound
	}
	got, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(tok)) != 1 {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="metrics"`)
		return c.Status(fiber.StatusUnauthorized).SendString("unauthorized\n")
	}
	return adaptor.HTTPHandler(s.Platform.Metrics.Handler())(c)
}
