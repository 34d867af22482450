package store_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
)

func TestConfigVersionsImmutable(t *testing.T) {
	ctx := context.Background()
	f := relOpen(t)
	a := f.actor(f.dev)
	v1, err := f.st.SaveConfig(ctx, a, f.tenant.ID, "wxapp1", 12, `{"shopName":"面馆"}`, "", "")
	if err != nil {
		t.Fatal(err)
	}
	f.clockNow = f.clockNow.Add(time.Hour)
	v2, err := f.st.SaveConfig(ctx, f.actor(f.boss), f.tenant.ID, "wxapp1", 12, `{"shopName":"老王面馆"}`, "", "rename")
	if err != nil {
		t.Fatal(err)
	}
	other, err := f.st.SaveConfig(ctx, a, f.tenant.ID, "wxapp2", 12, `{}`, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if v1.Version != 1 || v2.Version != 2 || other.Version != 1 {
		t.Fatalf("versions = %d, %d, other app %d", v1.Version, v2.Version, other.Version)
	}
	if v2.Author != "boss@shop.test" || v2.AuthorID != f.boss.ID || !v2.CreatedAt.Equal(f.clockNow) || v2.Note != "rename" {
		t.Errorf("v2 = %+v", v2)
	}
	// The rows cannot be changed or removed, even by hand.
	for _, q := range []string{`UPDATE app_configs SET json = '{}'`, `DELETE FROM app_configs`} {
		if _, err := f.st.W.ExecContext(ctx, q); err == nil || !strings.Contains(err.Error(), "immutable") {
			t.Errorf("%s: %v", q, err)
		}
	}
	// Diff inputs: two versions of one app.
	a1, a2, err := f.st.ConfigPair(ctx, f.tenant.ID, "wxapp1", 1, 2)
	if err != nil || !reflect.DeepEqual(a1, v1) || !reflect.DeepEqual(a2, v2) {
		t.Errorf("ConfigPair = %+v, %+v, %v", a1, a2, err)
	}
	if _, _, err := f.st.ConfigPair(ctx, f.tenant.ID, "wxapp1", 1, 3); !model.IsNotFound(err) {
		t.Errorf("pair with a missing version: %v", err)
	}
	// Restore makes a new version with the old content.
	v3, err := f.st.RestoreConfig(ctx, a, f.tenant.ID, "wxapp1", 1)
	if err != nil || v3.Version != 3 || v3.JSON != v1.JSON || v3.RestoredFrom != 1 || v3.TemplateID != 12 {
		t.Errorf("restore = %+v, %v", v3, err)
	}
	list, err := f.st.ListConfigs(ctx, f.tenant.ID, "wxapp1")
	if err != nil || len(list) != 3 || list[0].Version != 3 || list[2].Version != 1 {
		t.Errorf("ListConfigs = %+v, %v", list, err)
	}
	if latest, err := f.st.LatestConfig(ctx, f.tenant.ID, "wxapp1"); err != nil || latest.Version != 3 {
		t.Errorf("LatestConfig = %+v, %v", latest, err)
	}
	// Tenant scoping and not-found.
	if _, err := f.st.Config(ctx, f.other.ID, "wxapp1", 1); !model.IsNotFound(err) {
		t.Errorf("other tenant reads config: %v", err)
	}
	if _, err := f.st.LatestConfig(ctx, f.tenant.ID, "wxnone"); !model.IsNotFound(err) {
		t.Errorf("no config: %v", err)
	}
	if _, err := f.st.RestoreConfig(ctx, a, f.other.ID, "wxapp1", 1); !model.IsNotFound(err) {
		t.Errorf("other tenant restores: %v", err)
	}
	if _, err := f.st.SaveConfig(ctx, a, f.tenant.ID, "wxapp1", 12, `{"a":`, "", ""); model.ErrorCode(err) != model.CodeInvalid {
		t.Errorf("saving broken JSON: %v", err)
	}
	acts, _ := f.st.ListActivity(ctx, store.ActivityFilter{TenantID: f.tenant.ID})
	var saved, restored int
	for _, x := range acts {
		switch x.Action {
		case store.ActConfigSave:
			saved++
		case store.ActConfigRestore:
			restored++
		}
	}
	if saved != 3 || restored != 1 {
		t.Errorf("activity: %d saves, %d restores", saved, restored)
	}
}

func TestTemplates(t *testing.T) {
	ctx := context.Background()
	f := relOpen(t)
	created := time.Unix(1_700_000_000, 0)
	lib := []model.Template{
		{TemplateID: 12, DraftID: 3, UserVersion: "1.4.2", UserDesc: "shop", SourceAppID: "wxsrc", SourceName: "源", Developer: "dev", CreatedAt: created},
		{TemplateID: 13, DraftID: 4, UserVersion: "1.5.0", UserDesc: "shop 2", CreatedAt: created},
	}
	if err := f.st.SyncTemplates(ctx, lib); err != nil {
		t.Fatal(err)
	}
	staff := model.Actor{UserID: f.boss.ID, Label: "boss@shop.test"}
	schema := `{"type":"object","properties":{"shopName":{"type":"string"}}}`
	if err := f.st.SetTemplateSchema(ctx, staff, 12, schema, []string{"window", "pages"}); err != nil {
		t.Fatal(err)
	}
	if err := f.st.SetTemplatePages(ctx, 12, []string{"pages/index/index", "pages/menu/menu"}); err != nil {
		t.Fatal(err)
	}
	got, err := f.st.Template(ctx, 12)
	if err != nil {
		t.Fatal(err)
	}
	want := lib[0]
	want.SchemaJSON, want.AllowedKeys, want.Pages = schema, []string{"window", "pages"}, []string{"pages/index/index", "pages/menu/menu"}
	want.SchemaAt, want.SchemaBy, want.SyncedAt = f.clockNow, "boss@shop.test", f.clockNow
	if !reflect.DeepEqual(got, want) {
		t.Errorf("template:\n got %+v\nwant %+v", got, want)
	}
	// A later sync refreshes WeChat's fields, keeps the schema, and marks
	// templates WeChat no longer lists as deleted.
	f.clockNow = f.clockNow.Add(time.Hour)
	lib[0].UserDesc = "shop (renamed)"
	if err := f.st.SyncTemplates(ctx, lib[:1]); err != nil {
		t.Fatal(err)
	}
	got, _ = f.st.Template(ctx, 12)
	if got.UserDesc != "shop (renamed)" || got.SchemaJSON != schema || len(got.Pages) != 2 || !got.SyncedAt.Equal(f.clockNow) {
		t.Errorf("after resync = %+v", got)
	}
	if live, _ := f.st.ListTemplates(ctx, false); len(live) != 1 || live[0].TemplateID != 12 {
		t.Errorf("live templates = %+v", live)
	}
	if all, _ := f.st.ListTemplates(ctx, true); len(all) != 2 || all[0].TemplateID != 13 || all[0].DeletedAt.IsZero() {
		t.Errorf("all templates = %+v", all)
	}
	// It comes back if WeChat lists it again.
	if err := f.st.SyncTemplates(ctx, lib); err != nil {
		t.Fatal(err)
	}
	if t13, _ := f.st.Template(ctx, 13); !t13.DeletedAt.IsZero() || t13.AllowedKeys == nil || t13.Pages == nil {
		t.Errorf("re-listed template = %+v", t13)
	}
	if err := f.st.DeleteTemplate(ctx, staff, 13); err != nil {
		t.Fatal(err)
	}
	if err := f.st.DeleteTemplate(ctx, staff, 13); !model.IsNotFound(err) {
		t.Errorf("deleting twice: %v", err)
	}
	for name, err := range map[string]error{
		"Template":          func() error { _, err := f.st.Template(ctx, 99); return err }(),
		"SetTemplateSchema": f.st.SetTemplateSchema(ctx, staff, 99, "{}", nil),
		"SetTemplatePages":  f.st.SetTemplatePages(ctx, 99, nil),
	} {
		if !model.IsNotFound(err) {
			t.Errorf("%s of a missing template: %v", name, err)
		}
	}
}
