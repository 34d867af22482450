package web

import (
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
)

// One typed struct per form a page posts: its fields, NewXForm reading them
// from the request (trimmed, typed), and Validate reporting what is wrong
// as model errors: model.FieldErrors (field → translation key) for the
// fields, a *model.Error for the form as a whole, nil when the form is
// fine. Handlers put those errors on the re-rendered form with formError;
// checks that need the database stay with the service that writes.
// The forms live by area in form_account.go, form_tenant.go,
// form_staff.go, form_campaign.go and form_release.go; this file has the
// helpers they share. No handler reads a form value itself.

// postValues is the submitted form as url.Values, every value kept.
func postValues(c *fiber.Ctx) url.Values {
	v := url.Values{}
	c.Request().PostArgs().VisitAll(func(k, val []byte) { v.Add(string(k), string(val)) })
	return v
}

// formText is a posted field, trimmed.
func formText(c *fiber.Ctx, name string) string { return strings.TrimSpace(c.FormValue(name)) }

// tooLong reports whether s has more than max characters.
func tooLong(s string, max int) bool { return utf8.RuneCountInString(s) > max }
