package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/views"
)

// Staff forms: tenants, server domains, the template library.

// TenantStatusForm is staff suspending (with a reason) or reactivating a tenant.
type TenantStatusForm struct {
	Status model.TenantStatus
	Reason string
}

// NewTenantStatusForm reads the status change from the request.
func NewTenantStatusForm(c *fiber.Ctx) TenantStatusForm {
	return TenantStatusForm{Status: model.TenantStatus(c.FormValue("status")), Reason: strings.TrimSpace(c.FormValue("reason"))}
}

// Validate checks the status and the reason a suspension needs.
func (f TenantStatusForm) Validate() error {
	switch {
	case f.Status != model.TenantActive && f.Status != model.TenantSuspended:
		return model.Errorf(model.CodeInvalid, "form.invalid_choice")
	case f.Status == model.TenantSuspended && f.Reason == "":
		return model.FieldError("reason", "form.required")
	case tooLong(f.Reason, 200):
		return model.FieldError("reason", "form.too_long")
	}
	return nil
}

// View is the form to show again.
func (f TenantStatusForm) View() views.Form {
	v := views.NewForm()
	v.Values["reason"] = f.Reason
	return v
}
