package web

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/authz"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/views"
)

var permTenantWrite = authz.Perm{Obj: "tenant", Act: "write"}

// contactPhone accepts what WeChat's privacy guideline takes as a phone:
// digits with an optional leading +, spaces and dashes.
var contactPhone = regexp.MustCompile(`^\+?[0-9][0-9 \-]{4,19}$`)

var contactFields = []string{"name", "email", "phone", "notice_method"}

// tenantContact shows the contact the privacy guideline names.
func (s *Server) tenantContact(c *fiber.Ctx) error {
	t := currentTenant(c)
	f := views.NewForm()
	ct, err := s.Store.TenantContact(c.UserContext(), t.ID)
	if err != nil && !model.IsNotFound(err) {
		return err
	}
	f.Values["name"], f.Values["email"], f.Values["phone"], f.Values["notice_method"] = ct.Name, ct.Email, ct.Phone, ct.NoticeMethod
	return s.render(c, views.ContactPage(s.page(c, "contact.title", "contact.help"), views.ContactView{Form: f, UpdatedAt: ct.UpdatedAt, UpdatedBy: ct.UpdatedBy}))
}

// tenantContactSave checks every field at once and keeps what was typed.
func (s *Server) tenantContactSave(c *fiber.Ctx) error {
	t := currentTenant(c)
	if s.Releases == nil {
		return fiber.ErrServiceUnavailable
	}
	f := views.NewForm()
	for _, k := range contactFields {
		f.Values[k] = strings.TrimSpace(c.FormValue(k))
	}
	checkContact(&f)
	if !f.HasErrors() {
		err := s.Releases.SaveContact(c.UserContext(), actor(c), t.ID,
			store.TenantContact{Name: f.V("name"), Email: f.V("email"), Phone: f.V("phone"), NoticeMethod: f.V("notice_method")})
		if err == nil {
			return s.redirectFlash(c, views.ContactURL(t.ID), "contact.saved")
		}
		if !formError(&f, err) {
			return err
		}
	}
	c.Status(fiber.StatusUnprocessableEntity)
	return s.render(c, views.ContactPage(s.page(c, "contact.title", "contact.help"), views.ContactView{Form: f}))
}

func checkContact(f *views.Form) {
	email, phone := f.V("email"), f.V("phone")
	if email == "" && phone == "" {
		f.Errors["email"] = "release.contact.required"
	} else if email != "" && model.ValidateEmail(email) != "" {
		f.Errors["email"] = "release.contact.email"
	}
	if phone != "" && !contactPhone.MatchString(phone) {
		f.Errors["phone"] = "contact.err.phone"
	}
	if utf8.RuneCountInString(f.V("name")) > 64 {
		f.Errors["name"] = "contact.err.too_long"
	}
	if utf8.RuneCountInString(f.V("notice_method")) > 64 {
		f.Errors["notice_method"] = "contact.err.too_long"
	}
}
