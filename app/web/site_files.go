package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"github.com/minifleet/minifleet/app/authz"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/views"
)

// siteFile serves a domain verification file at the web root. Names that
// are not a verification file's, and files nobody uploaded, are 404.
func (s *Server) siteFile(c *fiber.Ctx) error {
	name := utils.CopyString(c.Params("file")) + ".txt"
	if !model.ValidSiteFileName(name) {
		return c.Status(fiber.StatusNotFound).SendString("not found")
	}
	f, err := s.Store.SiteFile(c.UserContext(), name)
	switch {
	case model.IsNotFound(err):
		return c.Status(fiber.StatusNotFound).SendString("not found")
	case err != nil:
		return err
	}
	c.Set(fiber.HeaderContentType, "text/plain; charset=utf-8")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return c.SendString(f.Content)
}

// staffSiteFiles lists the verification files and, for admins, the upload.
func (s *Server) staffSiteFiles(c *fiber.Ctx) error {
	return s.renderSiteFiles(c, views.NewForm())
}

func (s *Server) renderSiteFiles(c *fiber.Ctx, f views.Form) error {
	files, err := s.Store.SiteFiles(c.UserContext())
	if err != nil {
		return err
	}
	v := views.SiteFilesView{Form: f, CanWrite: s.can(c, authz.PermSiteFilesWrite), BaseURL: s.Config.BaseURL}
	for _, sf := range files {
		v.Files = append(v.Files, views.SiteFileRow{Name: sf.Name, Content: sf.Content, UpdatedAt: sf.UpdatedAt, UpdatedBy: sf.UpdatedBy})
	}
	return s.render(c, views.SiteFilesPage(s.page(c, "site_files.title", "site_files.help"), v))
}

// staffSiteFileSave uploads a file, or replaces the one of the same name.
func (s *Server) staffSiteFileSave(c *fiber.Ctx) error {
	sf, err := NewSiteFileForm(c)
	if err == nil {
		err = sf.Validate()
	}
	if err == nil {
		err = s.Store.SaveSiteFile(c.UserContext(), actor(c), sf.Name, string(sf.Content))
	}
	if err == nil {
		return s.redirectFlash(c, paths.StaffSiteFiles, "site_files.saved")
	}
	f := views.NewForm()
	if !formError(&f, err) {
		return err
	}
	c.Status(fiber.StatusUnprocessableEntity)
	return s.renderSiteFiles(c, f)
}

// staffSiteFileDelete removes a file; it is no longer served.
func (s *Server) staffSiteFileDelete(c *fiber.Ctx) error {
	name := utils.CopyString(c.Params("name"))
	if !model.ValidSiteFileName(name) {
		return model.NotFound("site_file")
	}
	if err := s.Store.DeleteSiteFile(c.UserContext(), actor(c), name); err != nil {
		return err
	}
	return s.redirectFlash(c, paths.StaffSiteFiles, "site_files.deleted")
}
