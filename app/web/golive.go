package web

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/i18n"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/views"
)

// staffGoLive is the go-live checklist for staff admins: each line green or
// red with the fix in words.
func (s *Server) staffGoLive(c *fiber.Ctx) error {
	checks, err := s.Platform.GoLive(c.UserContext(), platform.GoLiveEnv{
		BaseURL: s.Config.BaseURL, Live: s.Config.Live(), SecretFromEnv: !s.Config.SecretKeyGenerated,
	})
	if err != nil {
		return err
	}
	v := views.GoLiveView{}
	ctx, now := c.UserContext(), s.Now()
	for _, ch := range checks {
		data := map[string]any{}
		for k, val := range ch.Data {
			if t, ok := val.(time.Time); ok { // times read as "3 minutes ago" in the viewer's language
				if t.IsZero() {
					val = "—"
				} else {
					val = i18n.Ago(ctx, t, now)
				}
			}
			data[k] = val
		}
		v.Checks = append(v.Checks, views.GoLiveLine{Key: ch.Key, OK: ch.OK, Data: data})
		if !ch.OK {
			v.Open++
		}
	}
	return s.render(c, views.GoLivePage(s.page(c, "golive.title", "golive.help"), v))
}
