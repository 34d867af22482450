package web

import (
	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/views"
)

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
	cf := NewContactForm(c)
	f := cf.View()
	formError(&f, cf.Validate())
	if !f.HasErrors() {
		err := s.Releases.SaveContact(c.UserContext(), actor(c), t.ID, cf.Contact())
		if err == nil {
			return s.redirectFlash(c, paths.Contact(t.ID), "contact.saved")
		}
		if !formError(&f, err) {
			return err
		}
	}
	c.Status(fiber.StatusUnprocessableEntity)
	return s.render(c, views.ContactPage(s.page(c, "contact.title", "contact.help"), views.ContactView{Form: f}))
}
