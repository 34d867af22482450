package main

import (
	"context"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
)

// demoSchema is the config schema of the sandbox's demo template: every
// field kind a merchant form can show, labelled in both languages.
const demoSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "x-minifleet": {"allowedKeys": ["window"]},
  "required": ["shopName", "theme"],
  "properties": {
    "shopName": {"type": "string", "minLength": 2, "maxLength": 20,
      "x-label": {"zh-CN": "店铺名称", "en": "Shop name"}, "x-help": {"zh-CN": "显示在首页顶部", "en": "Shown at the top of the home page"}},
    "intro": {"type": "string", "maxLength": 200, "x-widget": "textarea", "x-sec-check": true, "x-label": {"zh-CN": "简介", "en": "Introduction"}},
    "tables": {"type": "integer", "minimum": 1, "maximum": 200, "default": 10, "x-label": {"zh-CN": "桌数", "en": "Tables"}},
    "deliveryFee": {"type": "number", "minimum": 0, "maximum": 99.5, "x-label": {"zh-CN": "配送费", "en": "Delivery fee"}},
    "open": {"type": "boolean", "default": true, "x-label": {"zh-CN": "营业中", "en": "Open"}},
    "theme": {"type": "string", "enum": ["light", "dark"], "default": "light", "x-label": {"zh-CN": "主题", "en": "Theme"},
      "x-enum-labels": {"light": {"zh-CN": "浅色", "en": "Light"}, "dark": {"zh-CN": "深色", "en": "Dark"}}},
    "brandColor": {"type": "string", "format": "color", "default": "#07C160", "x-label": {"zh-CN": "品牌色", "en": "Brand color"}},
    "logo": {"type": "string", "format": "image-url", "x-label": {"zh-CN": "标志", "en": "Logo"},
      "x-image": {"maxBytes": 1048576, "maxWidth": 1024, "maxHeight": 1024}},
    "banners": {"type": "array", "maxItems": 3, "x-label": {"zh-CN": "轮播图", "en": "Banners"},
      "items": {"type": "object", "required": ["image"], "properties": {
        "image": {"type": "string", "format": "image-url", "x-label": {"zh-CN": "图片", "en": "Image"}},
        "title": {"type": "string", "maxLength": 10, "x-label": {"zh-CN": "标题", "en": "Title"}},
        "visible": {"type": "boolean", "x-label": {"zh-CN": "显示", "en": "Visible"}}}}}
  }
}`

// seedDemoTemplate gives the sandbox one template in the library with a
// config schema, and the demo tenant a contact for the privacy guideline,
// so the whole pipeline is clickable at once. The emulator forgets its
// library on restart; adding its first draft again gives the same id.
func seedDemoTemplate(ctx context.Context, a *app) error {
	if a.sandbox == nil {
		return nil
	}
	id := a.sandbox.sb.AddTemplate(1)
	if id == 0 {
		return nil
	}
	if _, err := a.store.Template(ctx, id); err == nil {
		return nil // seeded by an earlier run
	} else if !model.IsNotFound(err) {
		return err
	}
	tpl := model.Template{TemplateID: id, DraftID: 1, UserVersion: "1.0.0", UserDesc: "店铺模板 首个版本",
		SourceName: "模板小程序", Developer: "sandbox", CreatedAt: time.Now()}
	if err := a.store.SyncTemplates(ctx, []model.Template{tpl}); err != nil {
		return err
	}
	if err := a.store.MarkSeedID(ctx, store.SeedTemplate, id); err != nil {
		return err
	}
	if err := a.store.SetTemplateSchema(ctx, model.SystemActor, id, demoSchema, []string{"window"}); err != nil {
		return err
	}
	u, err := a.store.UserByEmail(ctx, demoOwnerEmail)
	if model.IsNotFound(err) {
		return nil
	} else if err != nil {
		return err
	}
	ms, err := a.store.MembershipsOfUser(ctx, u.ID)
	if err != nil || len(ms) == 0 {
		return err
	}
	return a.store.SaveTenantContact(ctx, model.SystemActor, ms[0].TenantID, store.TenantContact{Name: "店主", Email: demoOwnerEmail, NoticeMethod: "弹窗"})
}
