package platform

import (
	"context"
	"encoding/json"
	"net/mail"
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

// SaveConfig validates cfg against the template's schema and stores it as
// the app's newest config version. On invalid input nothing is stored and
// the field errors come back (the form keeps what was typed).
func (r *Releases) SaveConfig(ctx context.Context, actor model.Actor, tenantID int64, appID string, templateID int64, cfg map[string]any, note string) (model.AppConfig, extconfig.FieldErrors, error) {
	return r.SaveConfigExtra(ctx, actor, tenantID, appID, templateID, cfg, nil, note)
}

// SaveConfigExtra is SaveConfig with the app's extra ext_json keys as typed
// (one JSON text per key, extconfig.ParseExtra): checked against what the
// template allows and its pages, and stored with the version, so the
// rendered ext_json and its payload hash cover them.
func (r *Releases) SaveConfigExtra(ctx context.Context, actor model.Actor, tenantID int64, appID string, templateID int64, cfg map[string]any, extraTexts map[string]string, note string) (model.AppConfig, extconfig.FieldErrors, error) {
	if _, err := r.Store.App(ctx, tenantID, appID); err != nil {
		return model.AppConfig{}, nil, err
	}
	tpl, err := r.Store.Template(ctx, templateID)
	if err != nil {
		return model.AppConfig{}, nil, err
	}
	if tpl.SchemaJSON == "" {
		return model.AppConfig{}, nil, model.Errorf(model.CodeConflict, "release.err.no_schema")
	}
	schema, err := extconfig.ParseSchema([]byte(tpl.SchemaJSON))
	if err != nil {
		return model.AppConfig{}, nil, &model.Error{Code: model.CodeConflict, Key: "release.err.no_schema", Err: err}
	}
	errs := schema.Validate(cfg)
	extra, xerrs := schema.ParseExtra(extraTexts, tpl.Pages)
	for p, m := range xerrs {
		if errs == nil {
			errs = extconfig.FieldErrors{}
		}
		errs.Add(p, m)
	}
	if len(errs) > 0 {
		return model.AppConfig{}, errs, nil
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return model.AppConfig{}, nil, err
	}
	xj, err := extconfig.EncodeExtra(extra)
	if err != nil {
		return model.AppConfig{}, nil, err
	}
	c, err := r.Store.SaveConfigExtra(ctx, actor, tenantID, appID, templateID, string(b), xj, note)
	return c, nil, err
}
