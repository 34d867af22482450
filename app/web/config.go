package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/authz"
	"github.com/minifleet/minifleet/app/extconfig"
	"github.com/minifleet/minifleet/app/i18n"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/views"
)

// schemaTemplates lists the templates an app's config can be written for.
func (s *Server) schemaTemplates(ctx context.Context) ([]model.Template, error) {
	ts, err := s.Store.ListTemplates(ctx, false)
	if err != nil {
		return nil, err
	}
	out := ts[:0]
	for _, t := range ts {
		if t.SchemaJSON != "" {
			out = append(out, t)
		}
	}
	return out, nil
}

func pickTemplate(ts []model.Template, ids ...int64) model.Template {
	for _, id := range ids {
		for _, t := range ts {
			if id != 0 && t.TemplateID == id {
				return t
			}
		}
	}
	if len(ts) > 0 {
		return ts[0]
	}
	return model.Template{}
}

// configPage builds the config page: the form from values (nil: from the
// newest version or the schema's defaults).
func (s *Server) configPage(c *fiber.Ctx, templateID int64, values url.Values, errs extconfig.FieldErrors) (views.ConfigPageView, error) {
	ctx := c.UserContext()
	t := currentTenant(c)
	a, err := s.Store.App(ctx, t.ID, c.Params("appid"))
	if err != nil {
		return views.ConfigPageView{}, err
	}
	v := views.ConfigPageView{App: a, CanWrite: s.can(c, authz.PermConfigWrite), CanPrepare: s.can(c, authz.PermReleasePrepare)}
	if v.Templates, err = s.schemaTemplates(ctx); err != nil {
		return v, err
	}
	if v.History, err = s.Store.ListConfigs(ctx, t.ID, a.AppID); err != nil {
		return v, err
	}
	if len(v.History) > 0 {
		v.Latest = &v.History[0]
	}
	if open, err := s.Store.OpenRelease(ctx, t.ID, a.AppID); err == nil {
		v.Open = &open
	}
	var latestTpl int64
	if v.Latest != nil {
		latestTpl = v.Latest.TemplateID
	}
	v.Template = pickTemplate(v.Templates, templateID, latestTpl)
	if v.Template.TemplateID == 0 {
		return v, nil
	}
	sc, err := extconfig.ParseSchema([]byte(v.Template.SchemaJSON))
	if err != nil {
		return v, &model.Error{Code: model.CodeConflict, Key: "release.err.no_schema", Err: err}
	}
	if values == nil {
		cfg := sc.Defaults()
		extra := map[string]any{}
		if v.Latest != nil {
			if saved, err := extconfig.DecodeConfig([]byte(v.Latest.JSON)); err == nil {
				cfg = saved
			}
			if saved, err := extconfig.DecodeExtra(v.Latest.Extra); err == nil {
				extra = saved
			}
		}
		values = sc.FormValues(cfg)
		for k, text := range extconfig.ExtraTexts(extra) {
			values.Set(extconfig.ExtraField(k), text)
		}
	}
	v.Form = views.ConfigFormView{Fields: sc.Fields(i18n.From(ctx).Lang), Values: values, Errors: errs, ReadOnly: !v.CanWrite, ExtraKeys: sc.AllowedKeys()}
	s.fillContent(c, &v)
	return v, nil
}

func (s *Server) appConfig(c *fiber.Ctx) error {
	tid, _ := strconv.ParseInt(c.Query("template"), 10, 64)
	v, err := s.configPage(c, tid, nil, nil)
	if err != nil {
		return err
	}
	return s.render(c, views.ConfigPage(s.page(c, "config.title", "config.help"), v))
}

// listOp applies a row button ("add:banners", "remove:banners.2") to the
// typed values of list fields, renumbering rows 0…n-1.
func listOp(op string, fields []extconfig.Field, v url.Values) url.Values {
	verb, arg, _ := strings.Cut(op, ":")
	if verb == "clear" { // an uploaded image's remove button
		out := url.Values{}
		for k, vals := range v {
			if k != arg {
				out[k] = vals
			}
		}
		return out
	}
	name, drop := arg, -1
	if verb == "remove" {
		i := strings.LastIndexByte(arg, '.')
		if i < 0 {
			return v
		}
		n, err := strconv.Atoi(arg[i+1:])
		if err != nil {
			return v
		}
		name, drop = arg[:i], n
	}
	var f *extconfig.Field
	for i := range fields {
		if fields[i].Name == name && fields[i].Kind == extconfig.KindList {
			f = &fields[i]
		}
	}
	if f == nil {
		return v
	}
	out := url.Values{}
	for k, vals := range v {
		if !strings.HasPrefix(k, name+".") {
			out[k] = vals
		}
	}
	rows := views.ListRows(v, name)
	n := 0
	for i := 0; i < rows; i++ {
		if i == drop {
			continue
		}
		for _, it := range f.Items {
			if val := v.Get(f.ItemName(i, it)); val != "" {
				out.Set(f.ItemName(n, it), val)
			}
		}
		if len(f.Items) > 0 {
			// keep the row even when it is empty so far
			if _, ok := out[f.ItemName(n, f.Items[0])]; !ok {
				out.Set(f.ItemName(n, f.Items[0]), "")
			}
		}
		n++
	}
	if verb == "add" && len(f.Items) > 0 && (f.MaxItems == 0 || n < f.MaxItems) {
		out.Set(f.ItemName(n, f.Items[0]), "")
	}
	return out
}

// appConfigSave saves a new config version, or applies a row button. The
// page is built only to show the form again: after a row button, or with
// what is wrong beside what was typed.
func (s *Server) appConfigSave(c *fiber.Ctx) error {
	t := currentTenant(c)
	f := NewConfigForm(c)
	if f.RowOp() {
		v, err := s.configFormPage(c, f)
		if err != nil {
			return err
		}
		v.Form.Values = listOp(f.Op, v.Form.Fields, f.Values)
		return s.render(c, views.ConfigPage(s.page(c, "config.title", "config.help"), v))
	}
	if err := f.Validate(); err != nil {
		v, perr := s.configFormPage(c, f)
		if perr != nil {
			return perr
		}
		v.Summary = model.ErrorKey(err)
		c.Status(fiber.StatusUnprocessableEntity)
		return s.render(c, views.ConfigPage(s.page(c, "config.title", "config.help"), v))
	}
	saved, err := s.Releases.SaveConfig(c.UserContext(), actor(c), t.ID, c.Params("appid"), f.TemplateID, f.Values, f.Note)
	var bad *platform.ConfigInvalid
	if !errors.As(err, &bad) {
		if err != nil {
			return err
		}
		return s.redirectFlash(c, paths.Config(t.ID, saved.AppID), "config.saved")
	}
	v, err := s.configFormPage(c, f)
	if err != nil {
		return err
	}
	v.Form.Values, v.Form.Errors = bad.Values, bad.Fields
	for _, fl := range v.Form.Fields { // an empty row being filled in stays on screen
		if fl.Kind == extconfig.KindList {
			if n, m := views.ListRows(f.Values, fl.Name), views.ListRows(v.Form.Values, fl.Name); n > m && len(fl.Items) > 0 {
				for i := m; i < n; i++ {
					v.Form.Values.Set(fl.ItemName(i, fl.Items[0]), "")
				}
			}
		}
	}
	c.Status(fiber.StatusUnprocessableEntity)
	return s.render(c, views.ConfigPage(s.page(c, "config.title", "config.help"), v))
}

// configFormPage is the config page showing f as typed; f's template must
// be one a config can be written for.
func (s *Server) configFormPage(c *fiber.Ctx, f ConfigForm) (views.ConfigPageView, error) {
	v, err := s.configPage(c, f.TemplateID, f.Values, nil)
	if err != nil {
		return v, err
	}
	if v.Template.TemplateID == 0 || v.Template.TemplateID != f.TemplateID {
		return v, model.Errorf(model.CodeInvalid, "release.err.template_required")
	}
	v.Note = f.Note
	return v, nil
}

// appConfigDiff compares two versions of the app's config.
func (s *Server) appConfigDiff(c *fiber.Ctx) error {
	ctx := c.UserContext()
	t := currentTenant(c)
	a, err := s.Store.App(ctx, t.ID, c.Params("appid"))
	if err != nil {
		return err
	}
	from, _ := strconv.ParseInt(c.Query("from"), 10, 64)
	to, _ := strconv.ParseInt(c.Query("to"), 10, 64)
	x, y, err := s.Store.ConfigPair(ctx, t.ID, a.AppID, from, to)
	if err != nil {
		return err
	}
	cx, err := extconfig.DecodeConfig([]byte(x.JSON))
	if err != nil {
		return err
	}
	cy, err := extconfig.DecodeConfig([]byte(y.JSON))
	if err != nil {
		return err
	}
	v := views.ConfigDiffView{App: a, From: x, To: y, Changes: extconfig.Diff(cx, cy)}
	// The extra ext_json keys, by their path in ext_json.
	ex, _ := extconfig.DecodeExtra(x.Extra)
	ey, _ := extconfig.DecodeExtra(y.Extra)
	for _, ch := range extconfig.Diff(ex, ey) {
		ch.Path = "ext_json." + ch.Path
		v.Changes = append(v.Changes, ch)
	}
	s.labelChanges(ctx, y.TemplateID, v.Changes)
	if v.History, err = s.Store.ListConfigs(ctx, t.ID, a.AppID); err != nil {
		return err
	}
	return s.render(c, views.ConfigDiffPage(s.page(c, "config.diff_page", ""), v))
}

// appConfigRestore saves an old version as the newest one.
func (s *Server) appConfigRestore(c *fiber.Ctx) error {
	ctx := c.UserContext()
	t := currentTenant(c)
	a, err := s.Store.App(ctx, t.ID, c.Params("appid"))
	if err != nil {
		return err
	}
	f := NewConfigRestoreForm(c)
	if err := f.Validate(); err != nil {
		return err
	}
	if _, err := s.Store.RestoreConfig(ctx, actor(c), t.ID, a.AppID, f.Version); err != nil {
		return err
	}
	return s.redirectFlash(c, paths.Config(t.ID, a.AppID), "config.restored")
}

// appConfigExtJSON shows the exact ext_json string a commit of a version
// would send (the newest version through the release pipeline itself).
func (s *Server) appConfigExtJSON(c *fiber.Ctx) error {
	ctx := c.UserContext()
	t := currentTenant(c)
	a, err := s.Store.App(ctx, t.ID, c.Params("appid"))
	if err != nil {
		return err
	}
	latest, err := s.Store.LatestConfig(ctx, t.ID, a.AppID)
	if err != nil {
		return err
	}
	cfg := latest
	if ver, _ := strconv.ParseInt(c.Query("version"), 10, 64); ver > 0 && ver != latest.Version {
		if cfg, err = s.Store.Config(ctx, t.ID, a.AppID, ver); err != nil {
			return err
		}
	}
	v := views.ExtJSONView{App: a, Version: cfg.Version}
	var ext string
	if cfg.Version == latest.Version {
		ext, err = s.Releases.PreviewExtJSON(ctx, t.ID, a.AppID, cfg.TemplateID)
	} else {
		ext, err = renderExtJSON(ctx, s, a.AppID, cfg)
	}
	if err != nil {
		var fe extconfig.FieldErrors
		var me *model.Error
		switch {
		case errors.As(err, &fe):
			v.ErrKey = "config.err.saved_invalid"
		case errors.As(err, &me):
			v.ErrKey, v.ErrData = me.Key, me.Data
		default:
			return err
		}
	} else {
		v.Exact, v.ExtJSON = ext, prettyJSON(ext)
	}
	return s.render(c, views.ExtJSONPage(s.page(c, "config.ext_json_page", ""), v))
}

func renderExtJSON(ctx context.Context, s *Server, appID string, cfg model.AppConfig) (string, error) {
	tpl, err := s.Store.Template(ctx, cfg.TemplateID)
	if err != nil {
		return "", err
	}
	sc, err := extconfig.ParseSchema([]byte(tpl.SchemaJSON))
	if err != nil {
		return "", &model.Error{Code: model.CodeConflict, Key: "release.err.no_schema", Err: err}
	}
	m, err := extconfig.DecodeConfig([]byte(cfg.JSON))
	if err != nil {
		return "", err
	}
	extra, err := extconfig.DecodeExtra(cfg.Extra)
	if err != nil {
		return "", err
	}
	return sc.RenderExtJSONWith(appID, m, extra, tpl.Pages, func(hash string) string { return s.Releases.ImageURL(cfg.TenantID, hash) })
}

func prettyJSON(s string) string {
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(s), "", "  "); err != nil {
		return s
	}
	return b.String()
}

// labelChanges names changed fields with the labels of the template's
// schema in the viewer's language; without a schema the paths stay. The
// schema is parsed once for every list given.
func (s *Server) labelChanges(ctx context.Context, templateID int64, lists ...[]extconfig.Change) {
	tpl, err := s.Store.Template(ctx, templateID)
	if err != nil {
		return
	}
	sc, err := extconfig.ParseSchema([]byte(tpl.SchemaJSON))
	if err != nil {
		return
	}
	for _, cs := range lists {
		sc.LabelChanges(cs, i18n.From(ctx).Lang)
	}
}
