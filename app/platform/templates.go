package platform

import (
	"context"
	"log/slog"
	"time"

	"github.com/minifleet/minifleet/app/extconfig"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat"
)

// TemplateCap is how many templates one library (normal or standard) holds.
const TemplateCap = 200

// Library is the platform's template library (staff): WeChat's draft box
// and templates mirrored into the store, with the config schemas staff
// write for them.
type Library struct {
	Store  *store.Store
	WeChat *wechat.Client
	Now    func() time.Time
	Log    *slog.Logger
}

// newLibrary builds the template library over p.
func newLibrary(p *Platform) *Library {
	return &Library{Store: p.Store, WeChat: p.Client, Now: p.now, Log: p.log}
}

// Sync fetches the template list (both libraries) and records it: WeChat's
// fields are refreshed, schemas and pages kept, templates gone from WeChat
// marked deleted. It returns the draft box as WeChat lists it (drafts are
// not stored: they cannot be deleted by API and only matter when adding).
func (l *Library) Sync(ctx context.Context) ([]wechat.TemplateDraft, error) {
	list, err := l.WeChat.Templates(ctx, wechat.TemplateAny)
	if err != nil {
		return nil, actionError(err)
	}
	ts := make([]model.Template, 0, len(list))
	for _, t := range list {
		ts = append(ts, model.Template{TemplateID: t.TemplateID, TemplateType: int(t.TemplateType), DraftID: t.DraftID,
			UserVersion: t.UserVersion, UserDesc: t.UserDesc, SourceAppID: t.SourceMiniprogramAppID,
			SourceName: t.SourceMiniprogram, Developer: t.Developer, CreatedAt: time.Unix(t.CreateTime, 0)})
	}
	if err := l.Store.SyncTemplates(ctx, ts); err != nil {
		return nil, err
	}
	drafts, err := l.WeChat.TemplateDrafts(ctx)
	if err != nil {
		return nil, actionError(err)
	}
	return drafts, nil
}

// AddDraft turns a draft into a normal template (addtotemplate) and syncs
// the library. A full library is refused before WeChat is asked
// ("wechat.err.85065").
func (l *Library) AddDraft(ctx context.Context, actor model.Actor, draftID int64) error {
	u, err := l.Usage(ctx)
	if err != nil {
		return err
	}
	if u.Normal >= TemplateCap {
		return &model.Error{Code: model.CodeConflict, Key: "wechat.err.85065", Data: map[string]any{"Errcode": 85065}}
	}
	if err := l.WeChat.AddToTemplate(ctx, draftID, wechat.TemplateNormal); err != nil {
		return actionError(err)
	}
	l.Log.Info("template added", "draft", draftID, "by", actor.Label)
	_, err = l.Sync(ctx)
	return err
}

// Delete removes a template from WeChat's library (deletetemplate) and
// marks it deleted here (kept: releases refer to it). A template WeChat no
// longer has (85064) is marked deleted too.
func (l *Library) Delete(ctx context.Context, actor model.Actor, templateID int64) error {
	if err := l.WeChat.DeleteTemplate(ctx, templateID); err != nil && wechatCode(err) != 85064 {
		return actionError(err)
	}
	return l.Store.DeleteTemplate(ctx, actor, templateID)
}

// LibraryUsage is the library's use against its cap.
type LibraryUsage struct {
	Normal   int // templates in the normal library
	Standard int // in the (retiring) standard library
	Cap      int // per library
}

// Usage counts the stored, not deleted templates against TemplateCap.
func (l *Library) Usage(ctx context.Context) (LibraryUsage, error) {
	ts, err := l.Store.ListTemplates(ctx, false)
	if err != nil {
		return LibraryUsage{}, err
	}
	u := LibraryUsage{Cap: TemplateCap}
	for _, t := range ts {
		if t.TemplateType == 1 {
			u.Standard++
		} else {
			u.Normal++
		}
	}
	return u, nil
}

// SetSchema parses a config schema (extconfig.ParseSchema) and stores it
// with the ext_json keys it allows. A bad schema is an invalid error whose
// Err is the *extconfig.SchemaError.
func (l *Library) SetSchema(ctx context.Context, actor model.Actor, templateID int64, schemaJSON string) error {
	s, err := extconfig.ParseSchema([]byte(schemaJSON))
	if err != nil {
		return &model.Error{Code: model.CodeInvalid, Key: "template.err.schema", Field: "schema",
			Data: map[string]any{"Detail": err.Error()}, Err: err}
	}
	return l.Store.SetTemplateSchema(ctx, actor, templateID, schemaJSON, s.AllowedKeys())
}
