package web

import (
	"context"
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/authz"
	"github.com/minifleet/minifleet/app/extconfig"
	"github.com/minifleet/minifleet/app/i18n"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/views"
)

// templatesView builds the library page; drafts come only from a sync (a
// GET never calls WeChat for them).
func (s *Server) templatesView(c *fiber.Ctx, f views.Form) (views.TemplatesView, error) {
	ctx := c.UserContext()
	ts, err := s.Store.ListTemplates(ctx, true)
	if err != nil {
		return views.TemplatesView{}, err
	}
	v := views.TemplatesView{Templates: ts, Runs: map[int64][]views.TemplateRunRow{}, CanWrite: s.can(c, authz.PermTemplatesWrite), Form: f}
	runs, err := s.Store.TemplateRuns(ctx, 0)
	if err != nil {
		return v, err
	}
	for _, r := range runs {
		row := views.TemplateRunRow{AppID: r.AppID, UserVersion: r.UserVersion, State: r.State}
		if a, err := s.Store.App(ctx, r.TenantID, r.AppID); err == nil {
			row.AppName, row.TenantName = a.Nickname, a.TenantName
		}
		v.Runs[r.TemplateID] = append(v.Runs[r.TemplateID], row)
	}
	return v, nil
}

func (s *Server) staffTemplates(c *fiber.Ctx) error {
	v, err := s.templatesView(c, views.NewForm())
	if err != nil {
		return err
	}
	return s.render(c, views.TemplatesPage(s.page(c, "templates.title", "templates.help"), v))
}

// staffTemplatesSync mirrors WeChat's library and shows the draft box.
func (s *Server) staffTemplatesSync(c *fiber.Ctx) error {
	drafts, err := s.Library.Sync(c.UserContext())
	f := views.NewForm()
	if err != nil && !formError(&f, err) {
		return err
	}
	v, verr := s.templatesView(c, f)
	if verr != nil {
		return verr
	}
	inLib := map[int64]bool{}
	for _, t := range v.Templates {
		if t.DeletedAt.IsZero() {
			inLib[t.DraftID] = true
		}
	}
	for _, d := range drafts {
		v.Drafts = append(v.Drafts, views.TemplateDraftRow{DraftID: d.DraftID, UserVersion: d.UserVersion, UserDesc: d.UserDesc,
			SourceAppID: d.SourceMiniprogramAppID, InLibrary: inLib[d.DraftID]})
	}
	p := s.page(c, "templates.title", "templates.help")
	if f.HasErrors() {
		c.Status(fiber.StatusConflict)
	} else {
		p.Flash = "templates.synced"
	}
	return s.render(c, views.TemplatesPage(p, v))
}

// staffTemplateAddDraft turns a draft into a template.
func (s *Server) staffTemplateAddDraft(c *fiber.Ctx) error {
	df := NewDraftForm(c)
	if err := df.Validate(); err != nil {
		return err
	}
	if err := s.Library.AddDraft(c.UserContext(), actor(c), df.DraftID); err != nil {
		return s.templatesFailed(c, err)
	}
	return s.redirectFlash(c, paths.StaffTemplates, "templates.added")
}

// staffTemplateDelete deletes a template from WeChat's library.
func (s *Server) staffTemplateDelete(c *fiber.Ctx) error {
	id, err := parseID(c, "id")
	if err != nil {
		return err
	}
	if _, err := s.Store.Template(c.UserContext(), id); err != nil {
		return err
	}
	if err := s.Library.Delete(c.UserContext(), actor(c), id); err != nil {
		return s.templatesFailed(c, err)
	}
	return s.redirectFlash(c, paths.StaffTemplates, "templates.deleted_flash")
}

// templatesFailed shows a WeChat refusal on the library page.
func (s *Server) templatesFailed(c *fiber.Ctx, err error) error {
	f := views.NewForm()
	if !formError(&f, err) {
		return err
	}
	v, verr := s.templatesView(c, f)
	if verr != nil {
		return verr
	}
	c.Status(statusOf(err))
	return s.render(c, views.TemplatesPage(s.page(c, "templates.title", "templates.help"), v))
}

// schemaView parses raw and builds the editor (and its preview).
func schemaView(ctx context.Context, t model.Template, raw, pages string, canWrite bool) views.SchemaEditView {
	v := views.SchemaEditView{Template: t, Schema: raw, Pages: pages, CanWrite: canWrite}
	if strings.TrimSpace(raw) == "" {
		return v
	}
	sc, err := extconfig.ParseSchema([]byte(raw))
	if err != nil {
		v.HasErr = true
		var se *extconfig.SchemaError
		if errors.As(err, &se) {
			v.ErrPath, v.ErrMsg = se.Path, se.Msg
			if se.Refused {
				v.Refused = i18n.T(ctx, se.Key, "Keyword", se.Keyword, "Value", se.Value)
			}
		} else {
			v.ErrMsg = err.Error()
		}
		return v
	}
	v.Preview = views.ConfigFormView{Fields: sc.Fields(i18n.From(ctx).Lang), Values: sc.FormValues(sc.Defaults()), Preview: true}
	for _, f := range v.Preview.Fields {
		if f.Kind == extconfig.KindList && views.ListRows(v.Preview.Values, f.Name) == 0 {
			v.Preview.Values.Set(f.Name+".0."+firstItem(f), "")
		}
	}
	return v
}

func firstItem(f extconfig.Field) string {
	if len(f.Items) == 0 {
		return "_"
	}
	return f.Items[0].Name
}

func (s *Server) staffTemplateSchema(c *fiber.Ctx) error {
	id, err := parseID(c, "id")
	if err != nil {
		return err
	}
	t, err := s.Store.Template(c.UserContext(), id)
	if err != nil {
		return err
	}
	v := schemaView(c.UserContext(), t, t.SchemaJSON, strings.Join(t.Pages, "\n"), s.can(c, authz.PermTemplatesWrite))
	return s.render(c, views.SchemaEditPage(s.page(c, "schema.title", "schema.page_help"), v))
}

// staffTemplateSchemaSave stores the schema and pages; a bad schema is shown
// with its error and nothing typed is lost.
func (s *Server) staffTemplateSchemaSave(c *fiber.Ctx) error {
	id, err := parseID(c, "id")
	if err != nil {
		return err
	}
	t, err := s.Store.Template(c.UserContext(), id)
	if err != nil {
		return err
	}
	sf := NewSchemaForm(c)
	v := schemaView(c.UserContext(), t, sf.Schema, sf.Pages, true)
	if err := sf.Validate(); err != nil {
		v.HasErr, v.ErrMsg = true, i18n.T(c.UserContext(), model.ErrorKey(err))
	}
	if !v.HasErr {
		err = s.Library.SetSchema(c.UserContext(), actor(c), id, sf.Schema)
		if err == nil {
			err = s.Store.SetTemplatePages(c.UserContext(), id, sf.PageList())
		}
		if err != nil {
			return err
		}
		return s.redirectFlash(c, paths.StaffTemplateSchema(id), "schema.saved")
	}
	c.Status(fiber.StatusUnprocessableEntity)
	return s.render(c, views.SchemaEditPage(s.page(c, "schema.title", "schema.page_help"), v))
}

// staffTemplateSchemaPreview renders the form a schema would generate. It
// never writes: the schema being typed is only parsed.
func (s *Server) staffTemplateSchemaPreview(c *fiber.Ctx) error {
	id, err := parseID(c, "id")
	if err != nil {
		return err
	}
	t, err := s.Store.Template(c.UserContext(), id)
	if err != nil {
		return err
	}
	v := schemaView(c.UserContext(), t, NewSchemaForm(c).Schema, "", false)
	if v.Refused != "" {
		// A schema asking to load a file or URL is refused, not just previewed.
		c.Status(fiber.StatusUnprocessableEntity)
	}
	return s.render(c, views.SchemaPreview(v))
}
