package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/views"
)

// WebhookForm is a webhook endpoint's settings as typed.
type WebhookForm struct {
	URL         string
	Description string
	Events      []string
}

// NewWebhookForm reads the form (events: one checkbox value each).
func NewWebhookForm(c *fiber.Ctx) WebhookForm {
	f := WebhookForm{URL: strings.TrimSpace(c.FormValue("url")), Description: strings.TrimSpace(c.FormValue("description"))}
	if args := c.Request().PostArgs(); args != nil {
		for _, v := range args.PeekMulti("events") {
			f.Events = append(f.Events, string(v))
		}
	}
	return f
}

// Validate checks the text fields are safe; the platform checks the rest
// (URL rules, event types) and both sets of errors are shown together.
func (f WebhookForm) Validate() model.FieldErrors {
	errs := model.FieldErrors{}
	checkText(errs, "url", f.URL)
	checkText(errs, "description", f.Description)
	return errs
}

// Input is the platform's input.
func (f WebhookForm) Input() model.EndpointInput {
	return model.EndpointInput{URL: f.URL, Description: f.Description, Events: append([]string(nil), f.Events...)}
}

// View is the form to show again, with what was typed and ticked.
func (f WebhookForm) View() (views.Form, map[string]bool) {
	v := views.NewForm()
	v.Values["url"], v.Values["description"] = f.URL, f.Description
	checked := map[string]bool{}
	for _, e := range f.Events {
		checked[e] = true
	}
	return v, checked
}

// endpointForm is the edit form filled from a stored endpoint.
func endpointForm(e model.WebhookEndpoint) (views.Form, map[string]bool) {
	return WebhookForm{URL: e.URL, Description: e.Description, Events: e.Events}.View()
}
