package web

import (
	"regexp"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/views"
)

// The tenant's forms: members and invitations, the privacy contact.

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
	checkText(errs, "note", f.Note)
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
	checkText(errs, "name", f.Name)
	checkText(errs, "notice_method", f.NoticeMethod)
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

// MemberRoleForm is the members page's role change of one member.
type MemberRoleForm struct {
	Role model.TenantRole
}

// NewMemberRoleForm reads the new role from the request.
func NewMemberRoleForm(c *fiber.Ctx) MemberRoleForm {
	return MemberRoleForm{Role: model.TenantRole(c.FormValue("role"))}
}

// Validate checks the role (as the store does again); the last owner's
// demotion is refused by the store.
func (f MemberRoleForm) Validate() error {
	if !f.Role.Valid() {
		return model.FieldError("role", "form.role_invalid")
	}
	return nil
}

// TagsForm is an app's tags, comma-separated as typed.
type TagsForm struct {
	Tags string
}

// NewTagsForm reads the tags from the request.
func NewTagsForm(c *fiber.Ctx) TagsForm { return TagsForm{Tags: c.FormValue("tags")} }

// List is the tags (parseTags), or a field error saying what is wrong.
func (f TagsForm) List() ([]string, error) {
	tags, key := parseTags(f.Tags)
	if key != "" {
		return nil, model.FieldError("tags", key)
	}
	return tags, nil
}

// Validate reports what List cannot read.
func (f TagsForm) Validate() error {
	_, err := f.List()
	return err
}

// View is the form to show again.
func (f TagsForm) View() views.Form {
	v := views.NewForm()
	v.Values["tags"] = f.Tags
	return v
}

// ApprovalsForm is the owner's choice of who approves the tenant's releases.
type ApprovalsForm struct {
	Approvals model.Approvals
}

// NewApprovalsForm reads the approvals choice from the request.
func NewApprovalsForm(c *fiber.Ctx) ApprovalsForm {
	return ApprovalsForm{Approvals: model.Approvals(c.FormValue("approvals"))}
}

// Validate checks the choice is one of the two.
func (f ApprovalsForm) Validate() error {
	if !f.Approvals.Valid() {
		return model.FieldError("approvals", "form.invalid_choice")
	}
	return nil
}

// View is the form to show again.
func (f ApprovalsForm) View() views.Form {
	v := views.NewForm()
	v.Values["approvals"] = string(f.Approvals)
	return v
}
