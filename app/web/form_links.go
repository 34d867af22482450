package web

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/i18n"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/views"
)

// LinkForm makes a URL Scheme, URL Link or Short Link.
type LinkForm struct {
	Kind, Path, Query, EnvVersion, ExpireMode, ExpireDays, ExpireAt, Title string
	Permanent                                                              bool
}

// NewLinkForm reads the form as typed.
func NewLinkForm(c *fiber.Ctx) LinkForm {
	return LinkForm{
		Kind: strings.TrimSpace(c.FormValue("kind")), Path: strings.TrimSpace(c.FormValue("path")),
		Query: strings.TrimSpace(c.FormValue("query")), EnvVersion: strings.TrimSpace(c.FormValue("env_version")),
		ExpireMode: strings.TrimSpace(c.FormValue("expire_mode")), ExpireDays: strings.TrimSpace(c.FormValue("expire_days")),
		ExpireAt: strings.TrimSpace(c.FormValue("expire_at")), Title: strings.TrimSpace(c.FormValue("title")),
		Permanent: c.FormValue("permanent") == "1",
	}
}

// Input turns the form into the platform's input: the expiry time is read
// in the viewer's time zone (datetime-local has none).
func (f LinkForm) Input(c *fiber.Ctx) (platform.LinkInput, error) {
	in := platform.LinkInput{Kind: f.Kind, Path: f.Path, Query: f.Query, EnvVersion: f.EnvVersion, ExpireMode: f.ExpireMode,
		Title: f.Title, Permanent: f.Permanent}
	if in.ExpireMode == "time" {
		t, err := time.ParseInLocation("2006-01-02T15:04", f.ExpireAt, i18n.From(c.UserContext()).Loc)
		if err != nil {
			return in, model.FieldError("expire", "link.err.expire_time")
		}
		in.ExpireAt = t
	} else if f.Kind != "shortlink" {
		n, err := strconv.Atoi(f.ExpireDays)
		if err != nil {
			return in, model.FieldError("expire", "link.err.expire_days")
		}
		in.ExpireDays = n
	}
	return in, nil
}

// View is the form to show again.
func (f LinkForm) View() views.Form {
	v := views.NewForm()
	v.Values["kind"], v.Values["path"], v.Values["query"], v.Values["env_version"] = f.Kind, f.Path, f.Query, f.EnvVersion
	v.Values["expire_mode"], v.Values["expire_days"], v.Values["expire_at"], v.Values["title"] = f.ExpireMode, f.ExpireDays, f.ExpireAt, f.Title
	if f.Permanent {
		v.Values["permanent"] = "1"
	}
	return v
}

// WxaCodeForm makes an unlimited 小程序码.
type WxaCodeForm struct{ Page, Scene string }

// NewWxaCodeForm reads the form as typed.
func NewWxaCodeForm(c *fiber.Ctx) WxaCodeForm {
	return WxaCodeForm{Page: strings.TrimSpace(c.FormValue("page")), Scene: strings.TrimSpace(c.FormValue("scene"))}
}

// View is the form to show again.
func (f WxaCodeForm) View() views.Form {
	v := views.NewForm()
	v.Values["page"], v.Values["scene"] = f.Page, f.Scene
	return v
}

// WebviewDomainsForm adds and removes business domains; Confirm applies what the
// preview showed.
type WebviewDomainsForm struct {
	Add, Remove string
	Confirm     bool
}

// NewWebviewDomainsForm reads the form as typed.
func NewWebviewDomainsForm(c *fiber.Ctx) WebviewDomainsForm {
	return WebviewDomainsForm{Add: strings.TrimSpace(c.FormValue("add")), Remove: strings.TrimSpace(c.FormValue("remove")), Confirm: c.FormValue("confirm") == "1"}
}

// Lists parses both lists.
func (f WebviewDomainsForm) Lists() (add, remove []string, err error) {
	if add, err = platform.ParseWebviewDomains("add", f.Add); err != nil {
		return nil, nil, err
	}
	if remove, err = platform.ParseWebviewDomains("remove", f.Remove); err != nil {
		return nil, nil, err
	}
	if len(add) == 0 && len(remove) == 0 {
		return nil, nil, model.FieldError("add", "domain.err.nothing")
	}
	return add, remove, nil
}

// View is the form to show again.
func (f WebviewDomainsForm) View() views.Form {
	v := views.NewForm()
	v.Values["add"], v.Values["remove"] = f.Add, f.Remove
	return v
}

func platformWxaCode(f WxaCodeForm) platform.WxaCodeInput {
	return platform.WxaCodeInput{Page: f.Page, Scene: f.Scene}
}

func unixTime(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.Unix(v, 0)
}
