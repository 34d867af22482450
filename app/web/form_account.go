package web

import (
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/i18n"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/views"
)

// The account forms: sign-up, sign-in, an invitation's new account, the
// account page's password and preferences.

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
	checkText(errs, "name", f.Name)
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
	checkText(errs, "tenant", f.Tenant)
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

// LangForm is the language switch in every page's footer.
type LangForm struct {
	Lang string
	Next string // where to go back to, always on this site
}

// NewLangForm reads the language switch from the request.
func NewLangForm(c *fiber.Ctx) LangForm {
	return LangForm{Lang: c.FormValue("lang"), Next: safeNext(c.FormValue("next"))}
}

// Validate checks the language.
func (f LangForm) Validate() error {
	if !slices.Contains(i18n.Languages, f.Lang) {
		return model.FieldError("lang", "form.invalid_choice")
	}
	return nil
}
