package web

import (
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/model"
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
	if mf, err := c.MultipartForm(); err == nil && mf != nil { // a form with a file (image uploads)
		for k, vals := range mf.Value {
			for _, val := range vals {
				v.Add(k, val)
			}
		}
		return v
	}
	c.Request().PostArgs().VisitAll(func(k, val []byte) { v.Add(string(k), string(val)) })
	return v
}

// formText is a posted field, trimmed.
func formText(c *fiber.Ctx, name string) string { return strings.TrimSpace(c.FormValue(name)) }

// tooLong reports whether s has more than max characters.
func tooLong(s string, max int) bool { return utf8.RuneCountInString(s) > max }

// Text people type is checked by model.SafeLine / model.SafeLines (the
// JSON API applies the same rule). Every form refuses control and bidi
// characters with one field error, form.unsafe_text, keeping what was
// typed on the re-rendered form: checkText for one-line fields, checkLines
// for textareas (which may break lines: LF, or CRLF as browsers send them;
// a bare CR is refused).
var (
	safeLine   = model.SafeLine
	safeLines  = model.SafeLines
	unsafeRune = model.UnsafeRune
)

// checkText adds field's form.unsafe_text error when the one-line text s
// holds a control or bidi character.
func checkText(errs model.FieldErrors, field, s string) {
	if !safeLine(s) {
		errs.Add(field, "form.unsafe_text")
	}
}

// checkLines is checkText for a textarea: line breaks are allowed.
func checkLines(errs model.FieldErrors, field, s string) {
	if !safeLines(s) {
		errs.Add(field, "form.unsafe_text")
	}
}
