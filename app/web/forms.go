package web

import (
	"cmp"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/i18n"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat"
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

// formText is a posted field, trimmed.
func formText(c *fiber.Ctx, name string) string { return strings.TrimSpace(c.FormValue(name)) }

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

var campaignFields = []string{"name", "template_id", "user_version", "user_desc", "tenant", "tag", "cur_template", "cur_version",
	"status", "canary_size", "wave_max", "concurrency", "halt_rate", "gray_percent", "release_mode", "release_at"}

// CampaignForm is the campaign form (preview and create): every field as
// typed, kept for a re-render, and read into the platform's input by Input.
type CampaignForm struct {
	Fields   map[string]string // by name in campaignFields, trimmed (user_desc as typed)
	TenantID int64             // the tenant whose apps it ships to; 0: staff, any tenant (the "tenant" field)
	Loc      *time.Location    // the user's time zone, for release_at
}

// NewCampaignForm reads the campaign form posted in scope cs.
func NewCampaignForm(c *fiber.Ctx, cs campScope) CampaignForm {
	f := CampaignForm{Fields: make(map[string]string, len(campaignFields)), TenantID: cs.TenantID, Loc: time.UTC}
	for _, k := range campaignFields {
		f.Fields[k] = strings.TrimSpace(c.FormValue(k))
	}
	f.Fields["user_desc"] = c.FormValue("user_desc") // kept as typed
	if l := i18n.From(c.UserContext()); l != nil && l.Loc != nil {
		f.Loc = l.Loc
	}
	return f
}

// Input is the platform's input for the form; what cannot be read (a
// number, the halt rate's range, the release time, the status filter)
// comes back as field errors.
func (f CampaignForm) Input() (platform.CampaignInput, error) {
	v, errs := f.Fields, model.FieldErrors{}
	in := platform.CampaignInput{TenantID: f.TenantID, Name: v["name"], UserVersion: v["user_version"], UserDesc: strings.TrimSpace(v["user_desc"])}
	in.TemplateID, _ = strconv.ParseInt(v["template_id"], 10, 64)
	in.CanarySize, in.WaveMax = f.number("canary_size", errs), f.number("wave_max", errs)
	in.Concurrency, in.GrayPercent = f.number("concurrency", errs), f.number("gray_percent", errs)
	halt := f.number("halt_rate", errs)
	if errs["halt_rate"] == "" && (halt < 1 || halt > 100) {
		errs.Add("halt_rate", "campaign.err.halt_rate")
	}
	in.HaltRate = float64(halt) / 100
	in.ReleaseMode = cmp.Or(v["release_mode"], model.ReleaseEach)
	if in.ReleaseMode == model.ReleaseAt {
		t, err := time.ParseInLocation("2006-01-02T15:04", v["release_at"], f.Loc)
		if err != nil {
			errs.Add("release_at", "campaign.err.release_at")
		}
		in.ReleaseAt = t
	}
	if f.TenantID == 0 {
		in.Filter.TenantID, _ = strconv.ParseInt(v["tenant"], 10, 64)
	}
	in.Filter.Tag = v["tag"]
	in.Filter.TemplateID, _ = strconv.ParseInt(v["cur_template"], 10, 64)
	in.Filter.Version = v["cur_version"]
	switch st := v["status"]; st {
	case "", string(model.AppAuthorized), string(model.AppNeedsReauth), string(model.AppUnauthorized):
		in.Filter.Status = st
	default:
		errs.Add("status", "form.invalid_choice")
	}
	return in, errs.Err()
}

// number is a whole-number field (0 and an error when it is not one).
func (f CampaignForm) number(name string, errs model.FieldErrors) int {
	n, err := strconv.Atoi(f.Fields[name])
	if err != nil {
		errs.Add(name, "campaign.err.number")
	}
	return n
}

// Validate reports what Input cannot read.
func (f CampaignForm) Validate() error {
	_, err := f.Input()
	return err
}

// View is the form to show again.
func (f CampaignForm) View() views.Form {
	v := views.NewForm()
	maps.Copy(v.Values, f.Fields)
	return v
}

// contactPhone accepts what WeChat's privacy guideline takes as a phone:
// digits with an optional leading +, spaces and dashes.
var contactPhone = regexp.MustCompile(`^\+?[0-9][0-9 \-]{4,19}$`)

// ContactForm is the tenant's contact for the privacy guideline.
type ContactForm struct {
	Name, Email, Phone, NoticeMethod string
}

// NewContactForm reads the contact form from the request.
func NewContactForm(c *fiber.Ctx) ContactForm {
	return ContactForm{Name: formText(c, "name"), Email: formText(c, "email"), Phone: formText(c, "phone"), NoticeMethod: formText(c, "notice_method")}
}

// Validate checks every field at once: an e-mail or a phone is needed, each
// well formed, and the texts short enough.
func (f ContactForm) Validate() error {
	errs := model.FieldErrors{}
	if f.Email == "" && f.Phone == "" {
		errs.Add("email", "release.contact.required")
	} else if f.Email != "" && model.ValidateEmail(f.Email) != "" {
		errs.Add("email", "release.contact.email")
	}
	if f.Phone != "" && !contactPhone.MatchString(f.Phone) {
		errs.Add("phone", "contact.err.phone")
	}
	if tooLong(f.Name, 64) {
		errs.Add("name", "contact.err.too_long")
	}
	if tooLong(f.NoticeMethod, 64) {
		errs.Add("notice_method", "contact.err.too_long")
	}
	return errs.Err()
}

// Contact is what the form stores.
func (f ContactForm) Contact() store.TenantContact {
	return store.TenantContact{Name: f.Name, Email: f.Email, Phone: f.Phone, NoticeMethod: f.NoticeMethod}
}

// View is the form to show again.
func (f ContactForm) View() views.Form {
	v := views.NewForm()
	v.Values["name"], v.Values["email"], v.Values["phone"], v.Values["notice_method"] = f.Name, f.Email, f.Phone, f.NoticeMethod
	return v
}

// PrepareForm is the releases page's form starting a draft release; the
// platform checks it (PrepareRelease) against the app's config.
type PrepareForm struct {
	Template    string // the template's id as posted
	UserVersion string
	UserDesc    string
}

// NewPrepareForm reads the release form from the request.
func NewPrepareForm(c *fiber.Ctx) PrepareForm {
	return PrepareForm{Template: formText(c, "template_id"), UserVersion: formText(c, "user_version"), UserDesc: formText(c, "user_desc")}
}

// TemplateID is the chosen template (0 when none or not a number).
func (f PrepareForm) TemplateID() int64 {
	id, _ := parseInt64(f.Template)
	return id
}

// Validate has nothing to check before the platform does.
func (f PrepareForm) Validate() error { return nil }

// View is the form to show again.
func (f PrepareForm) View() views.Form {
	v := views.NewForm()
	v.Values["template_id"], v.Values["user_version"], v.Values["user_desc"] = f.Template, f.UserVersion, f.UserDesc
	return v
}

// ItemRow is one audit item row of the items form, as typed (the tag's
// words joined by single spaces).
type ItemRow struct {
	Category, Address, Title, Tag string
}

func (r ItemRow) empty() bool { return r == ItemRow{} }

// ItemsForm is a release's audit items form: up to model.MaxAuditItems
// rows and the Seq the editor saw.
type ItemsForm struct {
	Seq  string
	Rows []ItemRow
}

// NewItemsForm reads the items form from the request.
func NewItemsForm(c *fiber.Ctx) ItemsForm {
	f := ItemsForm{Seq: c.FormValue("seq"), Rows: make([]ItemRow, model.MaxAuditItems)}
	for i := range f.Rows {
		k := itemKey(i)
		f.Rows[i] = ItemRow{Category: c.FormValue(k + "category"), Address: formText(c, k+"address"), Title: formText(c, k+"title"),
			Tag: strings.Join(strings.Fields(c.FormValue(k+"tag")), " ")}
	}
	return f
}

func itemKey(i int) string { return "items." + strconv.Itoa(i) + "." }

// SeqSeen is the release's Seq the editor saw (0 when missing).
func (f ItemsForm) SeqSeen() int64 {
	seq, _ := strconv.ParseInt(f.Seq, 10, 64)
	return seq
}

// Used is the number of rows up to the last one filled in.
func (f ItemsForm) Used() int {
	n := 0
	for i, r := range f.Rows {
		if !r.empty() {
			n = i + 1
		}
	}
	return n
}

// Items reads the filled rows into audit items: each needs one of the
// categories the app may use, a page of the template (any page when pages
// is empty), a short title and a few short tags. What is wrong comes back
// as field errors; no row at all is an error of the form.
func (f ItemsForm) Items(cats []wechat.Category, pages []string) ([]model.AuditItemChoice, error) {
	errs := model.FieldErrors{}
	var items []model.AuditItemChoice
	for i, r := range f.Rows {
		if r.empty() {
			continue
		}
		k := itemKey(i)
		it := model.AuditItemChoice{Address: r.Address, Title: r.Title, Tag: r.Tag}
		idx := slices.IndexFunc(cats, func(ct wechat.Category) bool {
			return categoryValue(ct.FirstID, ct.SecondID, ct.ThirdID) == r.Category
		})
		switch {
		case r.Category == "":
			errs.Add(k+"category", "release.items.err.category_required")
		case idx < 0:
			errs.Add(k+"category", "release.items.err.category")
		default:
			ct := cats[idx]
			it.FirstClass, it.SecondClass, it.ThirdClass = ct.FirstClass, ct.SecondClass, ct.ThirdClass
			it.FirstID, it.SecondID, it.ThirdID = ct.FirstID, ct.SecondID, ct.ThirdID
		}
		if r.Address != "" && len(pages) > 0 && !slices.Contains(pages, r.Address) {
			errs.Add(k+"address", "release.items.err.page")
		}
		if tooLong(r.Title, maxItemTitle) {
			errs.Add(k+"title", "release.items.err.title")
		}
		if tags := strings.Fields(r.Tag); len(tags) > maxItemTags || slices.ContainsFunc(tags, func(t string) bool { return tooLong(t, maxTagLen) }) {
			errs.Add(k+"tag", "release.items.err.tag")
		}
		items = append(items, it)
	}
	if len(errs) > 0 {
		return items, errs
	}
	if len(items) == 0 {
		return nil, model.Errorf(model.CodeInvalid, "release.preflight.no_category")
	}
	return items, nil
}

// View is the form to show again.
func (f ItemsForm) View() views.Form {
	v := views.NewForm()
	v.Values["seq"] = f.Seq
	for i, r := range f.Rows {
		k := itemKey(i)
		v.Values[k+"category"], v.Values[k+"address"], v.Values[k+"title"], v.Values[k+"tag"] = r.Category, r.Address, r.Title, r.Tag
	}
	return v
}
