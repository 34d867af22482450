package web

import (
	"net/url"
	"strconv"
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

// postValues is the submitted form as url.Values, every value kept.
func postValues(c *fiber.Ctx) url.Values {
	v := url.Values{}
	c.Request().PostArgs().VisitAll(func(k, val []byte) { v.Add(string(k), string(val)) })
	return v
}

// tooLong reports whether s has more than max characters.
func tooLong(s string, max int) bool { return utf8.RuneCountInString(s) > max }

// ConfigForm is an app's config form: the template it was generated from,
// the version's note, the row button pressed (if any) and the config's own
// fields as posted (the schema's fields and the "extra.<key>" JSON texts).
type ConfigForm struct {
	TemplateID int64
	Op         string // "" or "save", or a row button: "add:banners", "remove:banners.2"
	Note       string
	Values     url.Values
}

// NewConfigForm reads the config form from the request.
func NewConfigForm(c *fiber.Ctx) ConfigForm {
	f := ConfigForm{Values: postValues(c)}
	f.TemplateID, _ = strconv.ParseInt(c.FormValue("template_id"), 10, 64)
	f.Op = f.Values.Get("_op")
	f.Note = strings.TrimSpace(f.Values.Get("note"))
	for _, k := range []string{"_csrf", "_op", "template_id", "note"} {
		f.Values.Del(k)
	}
	return f
}

// RowOp reports whether a row button was pressed (nothing is saved then).
func (f ConfigForm) RowOp() bool { return f.Op != "" && f.Op != "save" }

// Validate checks the note; the config itself is checked against its
// template's schema when it is saved (platform.Releases.SaveConfig).
func (f ConfigForm) Validate() error {
	if tooLong(f.Note, 200) {
		return model.Errorf(model.CodeInvalid, "form.too_long")
	}
	return nil
}
