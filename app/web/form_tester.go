package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/views"
)

// TesterForm binds a trial-version tester by WeChat ID.
type TesterForm struct {
	WeChatID string
}

// NewTesterForm reads the form (the WeChat ID trimmed).
func NewTesterForm(c *fiber.Ctx) TesterForm {
	return TesterForm{WeChatID: strings.TrimSpace(c.FormValue("wechatid"))}
}

// Validate checks the WeChat ID as typed.
func (f TesterForm) Validate() error { return platform.CheckWeChatID(f.WeChatID) }

// View is the form to show again.
func (f TesterForm) View() views.Form {
	v := views.NewForm()
	v.Values["wechatid"] = f.WeChatID
	return v
}

// UnbindTesterForm names the tester to remove by the userstr WeChat lists.
type UnbindTesterForm struct {
	UserStr string
}

// NewUnbindTesterForm reads the form.
func NewUnbindTesterForm(c *fiber.Ctx) UnbindTesterForm {
	return UnbindTesterForm{UserStr: strings.TrimSpace(c.FormValue("userstr"))}
}
