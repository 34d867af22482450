package web

import (
	"net/url"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"github.com/minifleet/minifleet/app/platform"
)

// wechatComponentEvents receives the authorization-event pushes (tickets,
// authorized, unauthorized …).
func (s *Server) wechatComponentEvents(c *fiber.Ctx) error { return s.wechatPush(c, "") }

// wechatAppEvents receives the per-app message-and-event pushes (audit results).
func (s *Server) wechatAppEvents(c *fiber.Ctx) error {
	return s.wechatPush(c, utils.CopyString(c.Params("appid")))
}

// wechatPush answers WeChat in plain text: "success" once the push is
// durably recorded (duplicates too, so WeChat stops retrying), an error
// status otherwise. A 500 makes WeChat retry.
func (s *Server) wechatPush(c *fiber.Ctx, appID string) error {
	c.Type("txt", "utf-8")
	body := c.Body()
	if len(body) > platform.MaxPushBody {
		s.Log.Warn("wechat push too large", "appid", appID, "bytes", len(body), "ip", c.IP())
		return c.Status(fiber.StatusRequestEntityTooLarge).SendString("too large")
	}
	// Only the envelope's signature inputs are read (copied: Fiber's strings
	// alias the request buffer).
	q := url.Values{}
	for _, k := range []string{"timestamp", "nonce", "msg_signature"} {
		if v := c.Query(k); v != "" {
			q.Set(k, utils.CopyString(v))
		}
	}
	res := s.Platform.Intake.Receive(c.UserContext(), body, q, appID)
	switch res.Verdict {
	case platform.Accepted, platform.Duplicate:
		if res.Replied { // a passive reply (WeChat's publish test), possibly empty
			return c.Send(res.Reply)
		}
		return c.SendString("success")
	case platform.Rejected:
		s.Log.Warn("wechat push refused", "appid", appID, "kind", res.Kind, "err", res.Err, "ip", c.IP())
		return c.Status(fiber.StatusForbidden).SendString("forbidden")
	case platform.Malformed:
		s.Log.Warn("wechat push malformed", "appid", appID, "err", res.Err, "ip", c.IP())
		return c.Status(fiber.StatusBadRequest).SendString("bad request")
	case platform.TooLarge:
		s.Log.Warn("wechat push too large", "appid", appID, "err", res.Err, "ip", c.IP())
		return c.Status(fiber.StatusRequestEntityTooLarge).SendString("too large")
	}
	s.Log.Error("wechat push not recorded", "appid", appID, "kind", res.Kind, "err", res.Err)
	return c.Status(fiber.StatusInternalServerError).SendString("retry")
}
