package platform

import (
	"context"
	"encoding/json"
	"net/mail"
	"net/url"
	"strings"

	"github.com/minifleet/minifleet/app/extconfig"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat"
)

// SettingServerDomains is the platform setting holding the server domains
// (wechat.ServerDomains) preflight sets on every app with modify_domain.
const SettingServerDomains = "server_domains"

// SetServerDomains stores the server domains preflight applies to apps.
func (r *Releases) SetServerDomains(ctx context.Context, actor model.Actor, d wechat.ServerDomains) error {
	return r.Store.SetSetting(ctx, actor, SettingServerDomains, d)
}

// ServerDomains returns the stored server domains (empty when unset).
func (r *Releases) ServerDomains(ctx context.Context) (wechat.ServerDomains, error) {
	var d wechat.ServerDomains
	err := r.Store.Setting(ctx, SettingServerDomains, &d)
	if model.IsNotFound(err) {
		return d, nil
	}
	return d, err
}

// SaveContact stores the tenant's contact for the privacy guideline after
// checking it: an e-mail or a phone is required, and an e-mail must parse.
func (r *Releases) SaveContact(ctx context.Context, actor model.Actor, tenantID int64, c store.TenantContact) error {
	c.Email, c.Phone, c.Name = strings.TrimSpace(c.Email), strings.TrimSpace(c.Phone), strings.TrimSpace(c.Name)
	switch {
	case c.Email == "" && c.Phone == "":
		return model.FieldError("email", "release.contact.required")
	case c.Email != "":
		if _, err := mail.ParseAddress(c.Email); err != nil {
			return model.FieldError("email", "release.contact.email")
		}
	}
	return r.Store.SaveTenantContact(ctx, actor, tenantID, c)
}

// ConfigInvalid is SaveConfig's answer to a config form that does not
// validate; nothing was stored.
type ConfigInvalid struct {
	// Fields are the messages keyed like the form's fields ("shopName",
	// "banners.0.title", "extra.window"), list rows renumbered.
	Fields extconfig.FieldErrors
	// Values is the form to show again beside them: the schema's fields as
	// read (a number that did not parse stays as typed, rows renumbered,
	// empty rows dropped) and the extra keys' texts exactly as typed.
	Values url.Values
}

func (e *ConfigInvalid) Error() string { return e.Fields.Error() }

// SaveConfig stores a submitted config form as the app's newest config
// version. The form holds the template schema's fields (named as
// extconfig.Schema.FromForm reads them) and the app's extra ext_json keys,
// one JSON text per "extra.<key>" field (extconfig.Schema.ParseExtra: a key
// the template does not allow is refused, not dropped). Both are read
// against the template's compiled schema (schemaOf) and validated once; the
// extra keys are stored with the version, so the rendered ext_json and its
// payload hash cover them. A template that is deleted or has no schema is
// refused (invalid "release.err.template_required"). On invalid input
// nothing is stored and a *ConfigInvalid comes back.
func (r *Releases) SaveConfig(ctx context.Context, actor model.Actor, tenantID int64, appID string, templateID int64, form url.Values, note string) (model.AppConfig, error) {
	if _, err := r.Store.App(ctx, tenantID, appID); err != nil {
		return model.AppConfig{}, err
	}
	tpl, err := r.Store.Template(ctx, templateID)
	if model.IsNotFound(err) || err == nil && (!tpl.DeletedAt.IsZero() || tpl.SchemaJSON == "") {
		return model.AppConfig{}, model.Errorf(model.CodeInvalid, "release.err.template_required")
	}
	if err != nil {
		return model.AppConfig{}, err
	}
	schema, err := r.schemaOf(tpl)
	if err != nil {
		return model.AppConfig{}, &model.Error{Code: model.CodeConflict, Key: "release.err.no_schema", Err: err}
	}
	fields, texts := url.Values{}, map[string]string{}
	for k, vals := range form {
		if key, ok := strings.CutPrefix(k, "extra."); ok {
			texts[key] = form.Get(k)
		} else {
			fields[k] = vals
		}
	}
	cfg, errs := schema.FromForm(fields)
	extra, xerrs := schema.ParseExtra(texts, tpl.Pages)
	if len(xerrs) > 0 {
		if errs == nil {
			errs = extconfig.FieldErrors{}
		}
		for p, m := range xerrs {
			errs.Add(p, m)
		}
	}
	// An uploaded image must be one of this tenant's (a forged or stale
	// reference names nothing the Mini Program could load).
	for _, c := range schema.Contents(cfg) {
		if !c.Image {
			continue
		}
		if _, err := r.Store.Image(ctx, tenantID, c.Value); model.IsNotFound(err) {
			if errs == nil {
				errs = extconfig.FieldErrors{}
			}
			errs.Add(c.Path, extconfig.Message{Key: "content.err.image_missing"})
		} else if err != nil {
			return model.AppConfig{}, err
		}
	}
	if len(errs) > 0 {
		values := schema.FormValues(cfg)
		for k, text := range texts {
			values.Set(extconfig.ExtraField(k), text)
		}
		return model.AppConfig{}, &ConfigInvalid{Fields: errs, Values: values}
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return model.AppConfig{}, err
	}
	xj, err := extconfig.EncodeExtra(extra)
	if err != nil {
		return model.AppConfig{}, err
	}
	saved, err := r.Store.SaveConfig(ctx, actor, tenantID, appID, templateID, string(b), xj, note)
	if err != nil {
		return saved, err
	}
	// Ask WeChat about the images and checked texts not yet asked; a
	// failure to ask is shown on the page, never a reason to lose the save.
	if _, err := r.CheckConfig(ctx, tenantID, appID); err != nil {
		r.Log.Warn("content: checks after save", "appid", appID, "err", err)
	}
	return saved, nil
}
