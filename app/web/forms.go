package web

import (
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/views"
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

// AccountForm is the new account part of sign-up and of accepting an
// invitation without one: a name, an e-mail and a password.
type AccountForm struct {
	Name     string
	Email    string // normalized
	Password string
}

// NewAccountForm reads the new account's fields from the request.
func NewAccountForm(c *fiber.Ctx) AccountForm {
	return AccountForm{Name: strings.TrimSpace(c.FormValue("name")), Email: model.NormalizeEmail(c.FormValue("email")), Password: c.FormValue("password")}
}

func (f AccountForm) check(errs model.FieldErrors) {
	if k := model.ValidateName(f.Name); k != "" {
		errs.Add("name", k)
	}
	if k := model.ValidateEmail(f.Email); k != "" {
		errs.Add("email", k)
	}
	if k := model.ValidatePassword(f.Password); k != "" {
		errs.Add("password", k)
	}
}

// Validate checks the name, the e-mail and the password's length.
func (f AccountForm) Validate() error {
	errs := model.FieldErrors{}
	f.check(errs)
	return errs.Err()
}

// User is the account to create (without its password hash).
func (f AccountForm) User() model.User { return model.User{Name: f.Name, Email: f.Email} }

// View is the form to show again (never the password).
func (f AccountForm) View() views.Form {
	v := views.NewForm()
	v.Values["name"], v.Values["email"] = f.Name, f.Email
	return v
}

// SignupForm is the sign-up form: a new tenant and its owner's account.
type SignupForm struct {
	Tenant string
	AccountForm
}

// NewSignupForm reads the sign-up form from the request.
func NewSignupForm(c *fiber.Ctx) SignupForm {
	return SignupForm{Tenant: strings.TrimSpace(c.FormValue("tenant")), AccountForm: NewAccountForm(c)}
}

// Validate checks the tenant's name and the account.
func (f SignupForm) Validate() error {
	errs := model.FieldErrors{}
	if k := model.ValidateName(f.Tenant); k != "" {
		errs.Add("tenant", k)
	}
	f.check(errs)
	return errs.Err()
}

// View is the form to show again (never the password).
func (f SignupForm) View() views.Form {
	v := f.AccountForm.View()
	v.Values["tenant"] = f.Tenant
	return v
}

// LoginForm is the sign-in form.
type LoginForm struct {
	Email    string // normalized
	Password string
	Next     string // where to go after signing in, always on this site
}

// NewLoginForm reads the sign-in form from the request.
func NewLoginForm(c *fiber.Ctx) LoginForm {
	return LoginForm{Email: model.NormalizeEmail(c.FormValue("email")), Password: c.FormValue("password"), Next: safeNext(c.FormValue("next"))}
}

// Validate checks that both fields are filled in.
func (f LoginForm) Validate() error {
	errs := model.FieldErrors{}
	if f.Email == "" {
		errs.Add("email", "form.required")
	}
	if f.Password == "" {
		errs.Add("password", "form.required")
	}
	return errs.Err()
}

// View is the form to show again (never the password).
func (f LoginForm) View() views.Form {
	v := views.NewForm()
	v.Values["email"], v.Values["next"] = f.Email, f.Next
	return v
}

// InviteForm is the members page's form making an invitation link.
type InviteForm struct {
	Role model.TenantRole
	Note string
}

// NewInviteForm reads the invitation form from the request.
func NewInviteForm(c *fiber.Ctx) InviteForm {
	return InviteForm{Role: model.TenantRole(c.FormValue("role")), Note: strings.TrimSpace(c.FormValue("note"))}
}

// Validate checks the role and the note's length.
func (f InviteForm) Validate() error {
	errs := model.FieldErrors{}
	if !f.Role.Valid() {
		errs.Add("role", "form.role_invalid")
	}
	if tooLong(f.Note, 100) {
		errs.Add("note", "form.too_long")
	}
	return errs.Err()
}

// View is the form to show again.
func (f InviteForm) View() views.Form {
	v := views.NewForm()
	v.Values["role"], v.Values["note"] = string(f.Role), f.Note
	return v
}

// PasswordForm is the account page's password change.
type PasswordForm struct {
	Current  string
	Password string
}

// NewPasswordForm reads the password change from the request.
func NewPasswordForm(c *fiber.Ctx) PasswordForm {
	return PasswordForm{Current: c.FormValue("current"), Password: c.FormValue("password")}
}

// Validate checks the new password's length; the current one is checked
// against the account by the handler.
func (f PasswordForm) Validate() error {
	errs := model.FieldErrors{}
	if k := model.ValidatePassword(f.Password); k != "" {
		errs.Add("password", k)
	}
	return errs.Err()
}

// PreferencesForm is the account page's language and time zone.
type PreferencesForm struct {
	Locale   string // "" (the browser's), "zh-CN" or "en"
	TimeZone string // an IANA name
}

// NewPreferencesForm reads the preferences from the request.
func NewPreferencesForm(c *fiber.Ctx) PreferencesForm {
	return PreferencesForm{Locale: c.FormValue("locale"), TimeZone: c.FormValue("time_zone")}
}

// Validate checks both choices.
func (f PreferencesForm) Validate() error {
	errs := model.FieldErrors{}
	if f.Locale != "" && f.Locale != "zh-CN" && f.Locale != "en" {
		errs.Add("locale", "form.invalid_choice")
	}
	if _, err := time.LoadLocation(f.TimeZone); err != nil || f.TimeZone == "" {
		errs.Add("time_zone", "form.invalid_choice")
	}
	return errs.Err()
}

// View is the form to show again.
func (f PreferencesForm) View() views.Form {
	v := views.NewForm()
	v.Values["locale"], v.Values["time_zone"] = f.Locale, f.TimeZone
	return v
}

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
