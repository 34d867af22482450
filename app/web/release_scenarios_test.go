package web

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/minifleet/minifleet/app/model"
)

// Config and release pages: every new route × role, allowed and refused,
// and tenant isolation by id and appid.

func TestReleaseScenarios(t *testing.T) { runScenarios(t, releaseScenarios()) }

const (
	relTemplateID = 901
	appD          = "wxappd0000000005"
	relBadShop    = "X" // too short: shopName needs 2 characters
)

func shopSchema(t testing.TB) string {
	b, err := os.ReadFile("../extconfig/testdata/shop.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// releaseFixture: a template with a schema; app A with two config versions
// and a release awaiting approval prepared by ownerA; app B with an approved
// release; a second app of B with nothing yet.
func releaseFixture(h *harness, w *world) []string {
	ctx := context.Background()
	st := h.st
	if err := st.SyncTemplates(ctx, []model.Template{{TemplateID: relTemplateID, DraftID: 1, UserVersion: "1.0.0", UserDesc: "店铺模板", SourceName: "模板小程序"}}); err != nil {
		h.t.Fatal(err)
	}
	if err := st.SetTemplateSchema(ctx, model.SystemActor, relTemplateID, shopSchema(h.t), []string{"window"}); err != nil {
		h.t.Fatal(err)
	}
	if err := st.SetTemplatePages(ctx, relTemplateID, []string{"pages/index/index"}); err != nil {
		h.t.Fatal(err)
	}
	who := func(k string) model.Actor { return model.Actor{UserID: w.users[k].ID, Label: w.users[k].Email} }
	for _, j := range []string{`{"shopName":"甲店一号","theme":"light"}`, `{"shopName":"甲店二号","theme":"dark","banners":[{"image":"https://a.test/1.png","title":"秋"}]}`} {
		if _, err := st.SaveConfig(ctx, who("developerA"), w.A.ID, "wxappa0000000001", relTemplateID, j, "", ""); err != nil {
			h.t.Fatal(err)
		}
	}
	if _, err := st.SaveConfig(ctx, who("ownerB"), w.B.ID, "wxappb0000000002", relTemplateID, `{"shopName":"乙店秘方","theme":"light"}`, "", "bravo config"); err != nil {
		h.t.Fatal(err)
	}
	// Tenant D's app has a config and no release: it may prepare one.
	uD, tD := h.signup("owner@d.test", "Dora Owner", "Delta Deli 丁商户")
	w.users["ownerD"] = uD
	addApp(h, appD, "Delta Deli 丁小程序", []int{18}, tD.ID)
	if _, err := st.SaveConfig(ctx, model.Actor{UserID: uD.ID, Label: uD.Email}, tD.ID, appD, relTemplateID, `{"shopName":"丁店","theme":"light"}`, "", ""); err != nil {
		h.t.Fatal(err)
	}
	mk := func(tenant int64, appID, prep, ver, ext string, evs ...model.ReleaseEvent) model.Release {
		r, err := model.NewRelease(tenant, appID, 2, model.ReleasePayload{TemplateID: relTemplateID, UserVersion: ver, UserDesc: "秋季上新 " + ver, ExtJSON: ext}, who(prep), h.clock.Now())
		if err != nil {
			h.t.Fatal(err)
		}
		if r, err = st.CreateRelease(ctx, tenant, r); err != nil {
			h.t.Fatal(err)
		}
		for _, ev := range evs {
			c := model.Cause{Kind: model.CauseSystem, Actor: "system", At: h.clock.Now()}
			switch ev {
			case model.EvCommit:
				c = model.Cause{Kind: model.CauseUser, ActorID: w.users[prep].ID, Actor: prep, At: h.clock.Now()}
			case model.EvScanDone:
				c.Kind = model.CausePoll
			case model.EvApprove:
				approver := "approverA"
				if tenant == w.B.ID {
					approver = "memberB"
				}
				c = model.Cause{Kind: model.CauseUser, ActorID: w.users[approver].ID, Actor: approver, SeenHash: r.PayloadHash, At: h.clock.Now()}
			case model.EvSubmitOK:
				c.AuditID = 777
			}
			if r, err = st.TransitionRelease(ctx, tenant, r.ID, ev, c); err != nil {
				h.t.Fatalf("%s: %v", ev, err)
			}
		}
		return r
	}
	toApproval := []model.ReleaseEvent{model.EvCommit, model.EvCommitOK, model.EvScan, model.EvScanDone, model.EvPreflightOK}
	relA := mk(w.A.ID, "wxappa0000000001", "ownerA", "2.0.0", `{"ext":{"shopName":"甲店二号","theme":"dark"},"extAppid":"wxappa0000000001","extEnable":true}`, toApproval...)
	if err := st.ApplyOps(ctx, st.QROp(w.A.ID, relA.ID, []byte("\x89PNG fake"), "image/png")); err != nil {
		h.t.Fatal(err)
	}
	relB := mk(w.B.ID, "wxappb0000000002", "ownerB", "9.9.9", `{"ext":{"shopName":"乙店秘方"},"extAppid":"wxappb0000000002","extEnable":true}`,
		append(toApproval, model.EvApprove, model.EvSubmitOK, model.EvAuditPass)...)
	return []string{"{tpl}", itoa(relTemplateID), "{relA}", itoa(relA.ID), "{relB}", itoa(relB.ID), "{hashA}", relA.PayloadHash, "{appD}", appD, "{D}", itoa(tD.ID)}
}

// amendRelA has who change release A's payload (audit choices) and change
// it back, as WeChat's preflight passes each time: the payload and its hash
// end as the fixture made them ({hashA}), but who is one of its authors now.
func amendRelA(who string) func(t *testing.T, h *harness, w *world) {
	return func(t *testing.T, h *harness, w *world) {
		t.Helper()
		ctx := context.Background()
		r, err := h.st.OpenRelease(ctx, w.A.ID, "wxappa0000000001")
		if err != nil {
			t.Fatal(err)
		}
		orig := r.ReleasePayload
		changed := orig
		changed.Submit.VersionDesc = "amended by " + who
		for _, p := range []model.ReleasePayload{changed, orig} {
			c := model.Cause{Kind: model.CauseUser, ActorID: w.users[who].ID, Actor: who, Payload: &p, At: h.clock.Now()}
			if r, err = h.st.TransitionRelease(ctx, w.A.ID, r.ID, model.EvAmend, c); err != nil {
				t.Fatal(err)
			}
			if r, err = h.st.TransitionRelease(ctx, w.A.ID, r.ID, model.EvPreflightOK, model.Cause{Kind: model.CauseSystem, Actor: "system", At: h.clock.Now()}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func releaseScenarios() []scenario {
	schemaUnchanged := func(t *testing.T, h *harness, w *world) {
		t.Helper()
		tpl, err := h.st.Template(context.Background(), relTemplateID)
		if err != nil || tpl.SchemaJSON != shopSchema(t) {
			t.Errorf("the preview changed the stored schema (%v)", err)
		}
	}
	configs := func(appID string, want int) func(t *testing.T, h *harness, w *world) {
		return func(t *testing.T, h *harness, w *world) {
			t.Helper()
			if n := h.count(`SELECT COUNT(*) FROM app_configs WHERE appid = ?`, appID); n != want {
				t.Errorf("%s has %d config versions, want %d", appID, n, want)
			}
		}
	}
	state := func(want model.ReleaseState) func(t *testing.T, h *harness, w *world) {
		return func(t *testing.T, h *harness, w *world) {
			t.Helper()
			var st string
			if err := h.st.R.QueryRow(`SELECT state FROM releases WHERE appid = 'wxappa0000000001'`).Scan(&st); err != nil || model.ReleaseState(st) != want {
				t.Errorf("release of app A is %q (%v), want %s", st, err, want)
			}
		}
	}
	badSchema := `{"type": "object", "properties": {"x": {"type": "string", "x-label": {"zh-CN": "名"}}}, "oops": 1}`
	var sc []scenario
	add := func(s ...scenario) { sc = append(sc, s...) }

	// Template library (staff).
	add(
		scenario{name: "templates list", method: "GET", url: "/staff/templates", who: "staffsupport", status: 200, want: []string{"901", "店铺模板", "t:templates.has_schema", `data-testid="template-use"`}, notWant: []string{`data-testid="templates-sync"`}},
		scenario{name: "templates list operator can sync", method: "GET", url: "/staff/templates", who: "staffoperator", status: 200, want: []string{`data-testid="templates-sync"`, `data-testid="delete-901"`, "data-confirm="}},
		scenario{name: "templates list tenant owner", method: "GET", url: "/staff/templates", who: "ownerA", status: 403},
		scenario{name: "templates list anonymous", method: "GET", url: "/staff/templates", who: "anon", status: 303, loc: "/login?next="},
		scenario{name: "templates sync", method: "POST", url: "/staff/templates/sync", who: "staffoperator", status: 200, want: []string{`data-testid="drafts"`, "店铺模板 门店定位"}},
		scenario{name: "templates sync support", method: "POST", url: "/staff/templates/sync", who: "staffsupport", status: 403},
		scenario{name: "template add draft", method: "POST", url: "/staff/templates/drafts", form: form("draft_id", "1"), who: "staffadmin", status: 303, loc: "/staff/templates?flash=templates.added",
			check: func(t *testing.T, h *harness, w *world) {
				if n := h.count(`SELECT COUNT(*) FROM templates WHERE deleted_at IS NULL`); n < 1 {
					t.Errorf("templates after adding a draft: %d", n)
				}
			}},
		scenario{name: "template add draft approver", method: "POST", url: "/staff/templates/drafts", form: form("draft_id", "1"), who: "staffapprover", status: 403},
		scenario{name: "template delete", method: "POST", url: "/staff/templates/{tpl}/delete", who: "staffadmin", status: 303, loc: "/staff/templates?flash=",
			check: func(t *testing.T, h *harness, w *world) {
				if n := h.count(`SELECT COUNT(*) FROM templates WHERE template_id = 901 AND deleted_at IS NOT NULL`); n != 1 {
					t.Errorf("template 901 not marked deleted")
				}
			}},
		scenario{name: "template delete support", method: "POST", url: "/staff/templates/{tpl}/delete", who: "staffsupport", status: 403},
		scenario{name: "template delete unknown", method: "POST", url: "/staff/templates/424242/delete", who: "staffadmin", status: 404},
		scenario{name: "schema editor", method: "GET", url: "/staff/templates/{tpl}/schema", who: "staffsupport", status: 200, want: []string{`data-testid="schema-text"`, "shopName", "店铺名称", `data-testid="preview-form"`, `hx-post="/staff/templates/901/schema/preview"`}, notWant: []string{`data-testid="schema-save"`}},
		scenario{name: "schema editor tenant developer", method: "GET", url: "/staff/templates/{tpl}/schema", who: "developerA", status: 403},
		scenario{name: "schema save", method: "POST", url: "/staff/templates/{tpl}/schema", form: form("schema", `{"type":"object","properties":{"name":{"type":"string","x-label":{"zh-CN":"名称","en":"Name"}}}}`, "pages", "pages/index/index\npages/shop/shop"), who: "staffoperator", status: 303, loc: "/staff/templates/901/schema?flash=schema.saved",
			check: func(t *testing.T, h *harness, w *world) {
				tpl, err := h.st.Template(context.Background(), relTemplateID)
				if err != nil || !strings.Contains(tpl.SchemaJSON, `"name"`) || len(tpl.Pages) != 2 {
					t.Errorf("saved template: %+v %v", tpl, err)
				}
			}},
		scenario{name: "schema save invalid keeps what was typed", method: "POST", url: "/staff/templates/{tpl}/schema", form: form("schema", badSchema, "pages", "pages/keep/me"), who: "staffoperator", status: 422,
			want: []string{`data-testid="schema-error"`, "&#34;oops&#34;: 1", "pages/keep/me"}, check: schemaUnchanged},
		scenario{name: "schema save support", method: "POST", url: "/staff/templates/{tpl}/schema", form: form("schema", "{}"), who: "staffsupport", status: 403},
		scenario{name: "schema preview never writes", method: "POST", url: "/staff/templates/{tpl}/schema/preview", form: form("schema", `{"type":"object","properties":{"color":{"type":"string","format":"color","x-label":{"zh-CN":"主色","en":"Main color"}}}}`), htmx: true, who: "staffsupport", status: 200,
			want: []string{"主色", `name="color"`}, notWant: []string{"<html"}, check: schemaUnchanged},
		scenario{name: "schema preview shows the error", method: "POST", url: "/staff/templates/{tpl}/schema/preview", form: form("schema", "{not json"), htmx: true, who: "staffoperator", status: 200, want: []string{`data-testid="schema-error"`}},
		// A schema may not make the server load files or URLs (issue #12 item 2): 422 naming the keyword, nothing read.
		scenario{name: "schema preview refuses a file $schema", method: "POST", url: "/staff/templates/{tpl}/schema/preview", form: form("schema", `{"$schema":"file:///etc/passwd"}`), htmx: true, who: "staffsupport", status: 422,
			want: []string{`data-testid="schema-refused"`, "不支持的 $schema「file:///etc/passwd」", "/$schema"}, notWant: []string{"root:", "<html"}, check: schemaUnchanged},
		scenario{name: "schema preview refuses a $ref to a file descriptor", method: "POST", url: "/staff/templates/{tpl}/schema/preview", form: form("schema", `{"$ref":"file:///proc/self/fd/1"}`), htmx: true, who: "staffsupport", status: 422,
			want: []string{`data-testid="schema-refused"`, "配置结构不能使用 $ref"}, check: schemaUnchanged},
		scenario{name: "schema preview refuses an http $ref", method: "POST", url: "/staff/templates/{tpl}/schema/preview", form: form("schema", `{"type":"object","properties":{"a":{"$ref":"http://127.0.0.1:1/s.json","x-label":{"zh-CN":"甲","en":"A"}}}}`), htmx: true, who: "staffoperator", status: 422,
			want: []string{`data-testid="schema-refused"`, "配置结构不能使用 $ref", "/properties/a/$ref"}},
		scenario{name: "schema preview refuses an unknown draft", method: "POST", url: "/staff/templates/{tpl}/schema/preview", form: form("schema", `{"$schema":"https://json-schema.org/draft-03/schema","type":"object","properties":{"a":{"type":"string","x-label":{"zh-CN":"甲","en":"A"}}}}`), htmx: true, who: "staffsupport", status: 422,
			want: []string{"不支持的 $schema"}},
		scenario{name: "schema preview accepts a bundled draft", method: "POST", url: "/staff/templates/{tpl}/schema/preview", form: form("schema", `{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","properties":{"a":{"type":"string","x-label":{"zh-CN":"甲","en":"A"}}}}`), htmx: true, who: "staffsupport", status: 200,
			want: []string{`data-testid="preview-form"`, `name="a"`}},
		scenario{name: "schema save refuses a file $schema", method: "POST", url: "/staff/templates/{tpl}/schema", form: form("schema", `{"$schema":"file:///etc/passwd","type":"object","properties":{"a":{"type":"string","x-label":{"zh-CN":"甲","en":"A"}}}}`), who: "staffoperator", status: 422,
			want: []string{`data-testid="schema-refused"`, "不支持的 $schema「file:///etc/passwd」"}, notWant: []string{"root:"}, check: schemaUnchanged},
		scenario{name: "schema save refuses a $ref", method: "POST", url: "/staff/templates/{tpl}/schema", form: form("schema", `{"$ref":"file:///proc/self/fd/1"}`), who: "staffoperator", status: 422,
			want: []string{"配置结构不能使用 $ref"}, check: schemaUnchanged},
		scenario{name: "schema preview tenant owner", method: "POST", url: "/staff/templates/{tpl}/schema/preview", form: form("schema", "{}"), who: "ownerA", status: 403},

		// Fleet board.
		scenario{name: "fleet", method: "GET", url: "/staff/fleet", who: "staffsupport", status: 200, want: []string{"wxappa0000000001", "wxappb0000000002", "t:release.state.awaiting_approval", "t:release.state.approved", `data-testid="bars"`, `data-testid="quota"`}, notWant: []string{"style="}},
		scenario{name: "fleet filtered by state", method: "GET", url: "/staff/fleet?state=approved", who: "staffapprover", status: 200, want: []string{"wxappb0000000002"}, notWant: []string{`data-testid="fleet-row-wxappa0000000001"`}},
		scenario{name: "fleet filtered by tenant (htmx)", method: "GET", url: "/staff/fleet?tenant={A}", htmx: true, opt: withHeader("HX-Target", "fleet"), who: "staffadmin", status: 200, want: []string{`data-testid="fleet-row-wxappa0000000001"`}, notWant: []string{"wxappb0000000002", "<html"}},
		scenario{name: "fleet tenant owner", method: "GET", url: "/staff/fleet", who: "ownerA", status: 403},
		scenario{name: "fleet stream", method: "GET", url: "/staff/fleet/events", who: "staffsupport", status: 200, want: []string{"retry: 2000"}},
		scenario{name: "fleet stream tenant owner", method: "GET", url: "/staff/fleet/events", who: "ownerA", status: 403},
	)

	// Per-app config.
	add(
		scenario{name: "config page developer", method: "GET", url: "/t/{A}/apps/{appA}/config", who: "developerA", status: 200, want: []string{`data-testid="config-form"`, `value="甲店二号"`, "https://a.test/1.png", `data-testid="add-banners"`, `data-testid="remove-banners-0"`, "v2", "v1", `data-testid="config-save"`, `type="checkbox"`, `<select`}, notWant: []string{"乙店秘方"}},
		scenario{name: "config page viewer reads", method: "GET", url: "/t/{A}/apps/{appA}/config", who: "viewerA", status: 200, want: []string{`value="甲店二号"`, "t:config.read_only", "disabled"}, notWant: []string{`data-testid="config-save"`, `data-testid="restore-1"`}},
		scenario{name: "config page other tenant", method: "GET", url: "/t/{A}/apps/{appA}/config", who: "ownerB", status: 404, notWant: []string{"甲店二号"}},
		scenario{name: "config page another tenant's appid", method: "GET", url: "/t/{B}/apps/{appA}/config", who: "ownerB", status: 404, notWant: []string{"甲店二号"}},
		scenario{name: "config page B's app from A", method: "GET", url: "/t/{A}/apps/{appB}/config", who: "ownerA", status: 404, notWant: []string{"乙店秘方"}},
		scenario{name: "config save", method: "POST", url: "/t/{A}/apps/{appA}/config", form: form("template_id", "{tpl}", "shopName", "甲店三号", "theme", "light", "tables", "12", "open", "true", "brandColor", "#112233", "banners.0.image", "https://a.test/2.png", "banners.0.title", "冬", "note", "winter"), who: "developerA", status: 303, loc: "/t/{A}/apps/{appA}/config?flash=config.saved",
			check: func(t *testing.T, h *harness, w *world) {
				c, err := h.st.LatestConfig(context.Background(), w.A.ID, "wxappa0000000001")
				if err != nil || c.Version != 3 || !strings.Contains(c.JSON, "甲店三号") || c.Author != "developer@a.test" || c.Note != "winter" {
					t.Errorf("latest config: %+v %v", c, err)
				}
			}},
		scenario{name: "config save invalid keeps what was typed", method: "POST", url: "/t/{A}/apps/{appA}/config", form: form("template_id", "{tpl}", "shopName", relBadShop, "theme", "dark", "tables", "twelve", "brandColor", "green", "banners.0.title", "没图片", "deliveryFee", "3.5"), who: "developerA", status: 422,
			want:  []string{`data-testid="form-summary"`, `data-testid="error-shopName"`, `data-testid="error-tables"`, `data-testid="error-brandColor"`, `data-testid="error-banners.0.image"`, `value="twelve"`, `value="green"`, `value="没图片"`, `value="3.5"`, "t:config.err.integer", "t:config.err.color"},
			check: configs("wxappa0000000001", 2)},
		scenario{name: "config save with the window key", method: "POST", url: "/t/{A}/apps/{appA}/config", form: form("template_id", "{tpl}", "shopName", "甲店三号", "theme", "light", "extra.window", `{"navigationBarTitleText": "甲店", "navigationBarBackgroundColor": "#ffffff"}`), who: "developerA", status: 303, loc: "/t/{A}/apps/{appA}/config?flash=config.saved",
			check: func(t *testing.T, h *harness, w *world) {
				ctx := context.Background()
				c, err := h.st.LatestConfig(ctx, w.A.ID, "wxappa0000000001")
				if err != nil || c.Version != 3 || c.Extra != `{"window":{"navigationBarBackgroundColor":"#ffffff","navigationBarTitleText":"甲店"}}` {
					t.Fatalf("latest config: %+v %v", c, err)
				}
				// The ext_json a release sends (and so its payload hash) carries it.
				ext, err := h.srv.Releases.PreviewExtJSON(ctx, w.A.ID, "wxappa0000000001", relTemplateID)
				if err != nil || !strings.HasSuffix(ext, `"window":{"navigationBarBackgroundColor":"#ffffff","navigationBarTitleText":"甲店"}}`) {
					t.Errorf("ext_json = %s (%v)", ext, err)
				}
				// The form shows it again; the diff and the preview name it.
				dev := h.client().login("developer@a.test")
				r := dev.get("/t/" + itoa(w.A.ID) + "/apps/wxappa0000000001/config")
				mustContain(t, "config form", r, `data-testid="field-extra.window"`, `&#34;navigationBarTitleText&#34;: &#34;甲店&#34;`)
				r = dev.get("/t/" + itoa(w.A.ID) + "/apps/wxappa0000000001/config/diff?from=2&to=3")
				mustContain(t, "diff", r, `data-testid="change-ext_json.window.navigationBarTitleText"`, "甲店")
				r = dev.get("/t/" + itoa(w.A.ID) + "/apps/wxappa0000000001/config/ext_json?version=3")
				mustContain(t, "preview", r, `&#34;window&#34;`, "甲店")
				// A restore brings the keys back with the config.
				if _, err := h.st.RestoreConfig(ctx, model.SystemActor, w.A.ID, "wxappa0000000001", 2); err != nil {
					t.Fatal(err)
				}
				if c, _ := h.st.LatestConfig(ctx, w.A.ID, "wxappa0000000001"); c.Extra != "{}" {
					t.Errorf("restored v2 extra = %s, want {}", c.Extra)
				}
			}},
		scenario{name: "config save bad window JSON keeps what was typed", method: "POST", url: "/t/{A}/apps/{appA}/config", form: form("template_id", "{tpl}", "shopName", "甲店三号", "theme", "light", "extra.window", `{"navigationBarTitleText": "甲店"`), who: "developerA", status: 422,
			want:  []string{`data-testid="form-summary"`, `data-testid="error-extra.window"`, "t:config.err.extra_json", `{&#34;navigationBarTitleText&#34;: &#34;甲店&#34;</textarea>`, `value="甲店三号"`},
			check: configs("wxappa0000000001", 2)},
		scenario{name: "config save window not an object", method: "POST", url: "/t/{A}/apps/{appA}/config", form: form("template_id", "{tpl}", "shopName", "甲店三号", "theme", "light", "extra.window", `["甲店"]`), who: "developerA", status: 422,
			want: []string{`data-testid="error-extra.window">必须是 JSON object<`}, check: configs("wxappa0000000001", 2)},
		scenario{name: "config save a key the template does not allow", method: "POST", url: "/t/{A}/apps/{appA}/config", form: form("template_id", "{tpl}", "shopName", "甲店三号", "theme", "light", "extra.plugins", `{}`), who: "developerA", status: 422,
			want: []string{`data-testid="error-extra.plugins">此模板不允许在 ext_json 中设置 plugins<`}, check: configs("wxappa0000000001", 2)},
		scenario{name: "config add a row without JS", method: "POST", url: "/t/{A}/apps/{appA}/config", form: form("template_id", "{tpl}", "_op", "add:banners", "shopName", "甲店", "banners.0.image", "https://a.test/1.png"), who: "developerA", status: 200,
			want: []string{`name="banners.1.image"`, `value="https://a.test/1.png"`, `value="甲店"`}, check: configs("wxappa0000000001", 2)},
		scenario{name: "config remove a row without JS", method: "POST", url: "/t/{A}/apps/{appA}/config", form: form("template_id", "{tpl}", "_op", "remove:banners.0", "shopName", "甲店", "banners.0.image", "https://a.test/gone.png", "banners.1.image", "https://a.test/kept.png"), who: "developerA", status: 200,
			want: []string{`name="banners.0.image"`, "kept.png"}, notWant: []string{"gone.png", `name="banners.1.image"`}, check: configs("wxappa0000000001", 2)},
		scenario{name: "config save viewer", method: "POST", url: "/t/{A}/apps/{appA}/config", form: form("template_id", "{tpl}", "shopName", "甲店三号", "theme", "light"), who: "viewerA", status: 403},
		scenario{name: "config save approver", method: "POST", url: "/t/{A}/apps/{appA}/config", form: form("template_id", "{tpl}", "shopName", "甲店三号", "theme", "light"), who: "approverA", status: 403},
		scenario{name: "config save to A's app through B", method: "POST", url: "/t/{B}/apps/{appA}/config", form: form("template_id", "{tpl}", "shopName", "乙改甲", "theme", "light"), who: "ownerB", status: 404},
		scenario{name: "config diff", method: "GET", url: "/t/{A}/apps/{appA}/config/diff?from=1&to=2", who: "viewerA", status: 200, want: []string{`data-testid="change-shopName"`, "甲店一号", "甲店二号", `data-testid="change-banners.0.image"`, `data-testid="change-theme"`}},
		scenario{name: "config diff other tenant", method: "GET", url: "/t/{A}/apps/{appA}/config/diff?from=1&to=2", who: "ownerB", status: 404},
		scenario{name: "config diff A's app through B", method: "GET", url: "/t/{B}/apps/{appA}/config/diff?from=1&to=2", who: "ownerB", status: 404, notWant: []string{"甲店"}},
		scenario{name: "config ext_json preview", method: "GET", url: "/t/{A}/apps/{appA}/config/ext_json", who: "viewerA", status: 200, want: []string{`&#34;extAppid&#34;:&#34;wxappa0000000001&#34;`, `&#34;extEnable&#34;:true`, "甲店二号"}},
		scenario{name: "config ext_json of an old version", method: "GET", url: "/t/{A}/apps/{appA}/config/ext_json?version=1", who: "developerA", status: 200, want: []string{"甲店一号"}},
		scenario{name: "config ext_json A's app through B", method: "GET", url: "/t/{B}/apps/{appA}/config/ext_json", who: "ownerB", status: 404, notWant: []string{"甲店"}},
		scenario{name: "config restore", method: "POST", url: "/t/{A}/apps/{appA}/config/restore", form: form("version", "1"), who: "developerA", status: 303, loc: "/t/{A}/apps/{appA}/config?flash=config.restored",
			check: func(t *testing.T, h *harness, w *world) {
				c, err := h.st.LatestConfig(context.Background(), w.A.ID, "wxappa0000000001")
				if err != nil || c.Version != 3 || c.RestoredFrom != 1 || !strings.Contains(c.JSON, "甲店一号") {
					t.Errorf("restored config: %+v %v", c, err)
				}
			}},
		scenario{name: "config restore viewer", method: "POST", url: "/t/{A}/apps/{appA}/config/restore", form: form("version", "1"), who: "viewerA", status: 403},
		scenario{name: "config restore A's version through B", method: "POST", url: "/t/{B}/apps/{appB}/config/restore", form: form("version", "2"), who: "ownerB", status: 404},
	)

	// Releases.
	add(
		scenario{name: "releases list", method: "GET", url: "/t/{A}/apps/{appA}/releases", who: "viewerA", status: 200, want: []string{"2.0.0", `data-testid="open-release"`, "t:release.state.awaiting_approval"}, notWant: []string{"9.9.9", `data-testid="prepare-form"`}},
		scenario{name: "releases list of B's app from A", method: "GET", url: "/t/{A}/apps/{appB}/releases", who: "ownerA", status: 404, notWant: []string{"9.9.9"}},
		scenario{name: "release prepare", method: "POST", url: "/t/{D}/apps/{appD}/releases", form: form("template_id", "{tpl}", "user_version", "1.0.0", "user_desc", "首发"), who: "ownerD", status: 303, loc: "/t/{D}/apps/{appD}/releases/",
			check: func(t *testing.T, h *harness, w *world) {
				if n := h.count(`SELECT COUNT(*) FROM releases WHERE appid = ? AND state = 'draft' AND ext_json LIKE '%丁店%'`, appD); n != 1 {
					t.Errorf("prepared drafts = %d", n)
				}
			}},
		scenario{name: "release prepare keeps what was typed", method: "POST", url: "/t/{D}/apps/{appD}/releases", form: form("template_id", "{tpl}", "user_version", "", "user_desc", "留着这段描述"), who: "ownerD", status: 422, want: []string{"留着这段描述", `data-testid="error-user_version"`}},
		scenario{name: "release prepare while one is open", method: "POST", url: "/t/{A}/apps/{appA}/releases", form: form("template_id", "{tpl}", "user_version", "3.0.0"), who: "developerA", status: 409, want: []string{"t:release.err.open_exists"}},
		scenario{name: "release prepare viewer", method: "POST", url: "/t/{A}/apps/{appA}/releases", form: form("template_id", "{tpl}", "user_version", "3.0.0"), who: "viewerA", status: 403},
		scenario{name: "release prepare approver", method: "POST", url: "/t/{A}/apps/{appA}/releases", form: form("template_id", "{tpl}", "user_version", "3.0.0"), who: "approverA", status: 403},
		scenario{name: "release prepare for A's app through B", method: "POST", url: "/t/{B}/apps/{appA}/releases", form: form("template_id", "{tpl}", "user_version", "3.0.0"), who: "ownerB", status: 404},
		scenario{name: "release page", method: "GET", url: "/t/{A}/apps/{appA}/releases/{relA}", who: "viewerA", status: 200,
			want:    []string{"2.0.0", "t:release.state.awaiting_approval", `data-testid="timeline"`, "t:release.event.commit_ok", "t:release.cause.poll", "owner@a.test", `/releases/{relA}/qr`, `data-testid="next-action"`, `sse-connect="/t/{A}/apps/{appA}/releases/{relA}/events?seq=`},
			notWant: []string{`data-testid="go-review"`, `data-testid="action-cancel"`}},
		scenario{name: "release page approver sees review link", method: "GET", url: "/t/{A}/apps/{appA}/releases/{relA}", who: "approverA", status: 200, want: []string{`data-testid="go-review"`}},
		scenario{name: "release page developer sees steps", method: "GET", url: "/t/{A}/apps/{appA}/releases/{relA}", who: "developerA", status: 200, want: []string{`data-testid="action-recheck"`, `data-testid="action-cancel"`, "data-confirm="}},
		scenario{name: "release of B by id under A's app", method: "GET", url: "/t/{A}/apps/{appA}/releases/{relB}", who: "ownerA", status: 404, notWant: []string{"9.9.9"}},
		scenario{name: "release of A from B", method: "GET", url: "/t/{B}/apps/{appB}/releases/{relA}", who: "ownerB", status: 404, notWant: []string{"2.0.0"}},
		scenario{name: "release stream", method: "GET", url: "/t/{A}/apps/{appA}/releases/{relA}/events", who: "viewerA", status: 200, want: []string{"retry: 2000"}},
		// A page rendered before the release moved (seq 0) gets the release
		// as it is now on connect: a push between render and connect is not lost.
		scenario{name: "release stream behind", method: "GET", url: "/t/{A}/apps/{appA}/releases/{relA}/events?seq=0", who: "viewerA", status: 200,
			want: []string{"retry: 2000", "event: release\n", "t:release.state.awaiting_approval"}},
		scenario{name: "release review stream viewer", method: "GET", url: "/t/{A}/apps/{appA}/releases/{relA}/events?view=review", who: "viewerA", status: 403},
		scenario{name: "release stream of A from B", method: "GET", url: "/t/{B}/apps/{appB}/releases/{relA}/events", who: "ownerB", status: 404},
		scenario{name: "release QR", method: "GET", url: "/t/{A}/apps/{appA}/releases/{relA}/qr", who: "viewerA", status: 200, want: []string{"PNG fake"}},
		scenario{name: "release QR of A from B", method: "GET", url: "/t/{B}/apps/{appB}/releases/{relA}/qr", who: "ownerB", status: 404, notWant: []string{"PNG fake"}},
		scenario{name: "release step cancel", method: "POST", url: "/t/{A}/apps/{appA}/releases/{relA}/step", form: form("event", "cancel", "seq", "5"), who: "developerA", status: 303, loc: "/t/{A}/apps/{appA}/releases/{relA}?flash=release.moved", check: state(model.RelCancelled)},
		scenario{name: "release step stale seq", method: "POST", url: "/t/{A}/apps/{appA}/releases/{relA}/step", form: form("event", "cancel", "seq", "2"), who: "developerA", status: 409, want: []string{"t:release.err.stale"}, check: state(model.RelAwaitingApproval)},
		scenario{name: "release step viewer", method: "POST", url: "/t/{A}/apps/{appA}/releases/{relA}/step", form: form("event", "cancel", "seq", "5"), who: "viewerA", status: 403},
		scenario{name: "release step approver", method: "POST", url: "/t/{A}/apps/{appA}/releases/{relA}/step", form: form("event", "recheck", "seq", "5"), who: "approverA", status: 403},
		scenario{name: "release step on A through B", method: "POST", url: "/t/{B}/apps/{appB}/releases/{relA}/step", form: form("event", "cancel", "seq", "5"), who: "ownerB", status: 404},
		scenario{name: "review page", method: "GET", url: "/t/{A}/apps/{appA}/releases/{relA}/review", who: "approverA", status: 200,
			want: []string{`data-testid="review"`, "2.0.0", "秋季上新 2.0.0", "t:release.diff_nothing_live", `data-testid="change-ext.shopName"`, `/releases/{relA}/qr`, `data-testid="preflight"`, `data-testid="submit-audit"`, `name="hash" value="sha256:`}, notWant: []string{`data-testid="submit-reason"`}},
		scenario{name: "review page preparer sees why not", method: "GET", url: "/t/{A}/apps/{appA}/releases/{relA}/review", who: "ownerA", status: 200, want: []string{`data-testid="submit-reason"`, "t:release.review.preparer", "disabled"}},
		scenario{name: "review page developer", method: "GET", url: "/t/{A}/apps/{appA}/releases/{relA}/review", who: "developerA", status: 403},
		scenario{name: "review page of A from B", method: "GET", url: "/t/{B}/apps/{appB}/releases/{relA}/review", who: "ownerB", status: 404},
		scenario{name: "submit", method: "POST", url: "/t/{A}/apps/{appA}/releases/{relA}/submit", form: form("hash", "{hashA}"), who: "approverA", status: 303, loc: "/t/{A}/apps/{appA}/releases/{relA}",
			check: func(t *testing.T, h *harness, w *world) {
				if n := h.count(`SELECT COUNT(*) FROM release_events WHERE event = 'approve' AND actor_id = ?`, w.users["approverA"].ID); n != 1 {
					t.Errorf("approvals by approverA = %d", n)
				}
			}},
		scenario{name: "submit with a changed payload", method: "POST", url: "/t/{A}/apps/{appA}/releases/{relA}/submit", form: form("hash", "sha256:0000"), who: "approverA", status: 409, want: []string{"t:release.err.payload_changed", "t:release.review.changed"}, check: state(model.RelAwaitingApproval)},
		scenario{name: "submit by the preparer", method: "POST", url: "/t/{A}/apps/{appA}/releases/{relA}/submit", form: form("hash", "{hashA}"), who: "ownerA", status: 403, want: []string{"t:release.err.preparer_cannot_approve"}, check: state(model.RelAwaitingApproval)},
		// Two-person rule over amendments (issue #12 item 6): whoever changed the payload cannot approve it.
		scenario{name: "submit by an approver who amended the items", method: "POST", url: "/t/{A}/apps/{appA}/releases/{relA}/submit", form: form("hash", "{hashA}"), who: "approverA", status: 403,
			setup: amendRelA("approverA"), want: []string{"t:release.err.amender_cannot_approve"}, check: state(model.RelAwaitingApproval)},
		scenario{name: "review page amender sees why not", method: "GET", url: "/t/{A}/apps/{appA}/releases/{relA}/review", who: "approverA", status: 200,
			setup: amendRelA("approverA"), want: []string{`data-testid="submit-reason"`, "t:release.review.amender", "disabled"}},
		scenario{name: "release page amender gets no primary review button", method: "GET", url: "/t/{A}/apps/{appA}/releases/{relA}", who: "approverA", status: 200,
			setup: amendRelA("approverA"), want: []string{`data-testid="approve-blocked"`, "t:release.err.amender_cannot_approve", `class="secondary outline" href="/t/{A}/apps/{appA}/releases/{relA}/review" data-testid="go-review"`}},
		scenario{name: "release page preparer gets no primary review button", method: "GET", url: "/t/{A}/apps/{appA}/releases/{relA}", who: "ownerA", status: 200,
			want: []string{`data-testid="approve-blocked"`, "t:release.err.preparer_cannot_approve"}},
		scenario{name: "submit by a third person after a developer amended", method: "POST", url: "/t/{A}/apps/{appA}/releases/{relA}/submit", form: form("hash", "{hashA}"), who: "approverA", status: 303,
			setup: amendRelA("developerA"), check: func(t *testing.T, h *harness, w *world) {
				if n := h.count(`SELECT COUNT(*) FROM release_events WHERE event = 'approve' AND actor_id = ?`, w.users["approverA"].ID); n != 1 {
					t.Errorf("approvals by approverA = %d", n)
				}
			}},
		scenario{name: "submit viewer", method: "POST", url: "/t/{A}/apps/{appA}/releases/{relA}/submit", form: form("hash", "{hashA}"), who: "viewerA", status: 403},
		scenario{name: "submit A through B", method: "POST", url: "/t/{B}/apps/{appB}/releases/{relA}/submit", form: form("hash", "{hashA}"), who: "ownerB", status: 404},
		scenario{name: "ship release", method: "POST", url: "/t/{B}/apps/{appB}/releases/{relB}/ship", form: form("event", "release"), who: "ownerB", status: 303, loc: "/t/{B}/apps/{appB}/releases/{relB}"},
		scenario{name: "ship gray percent out of range", method: "POST", url: "/t/{B}/apps/{appB}/releases/{relB}/ship", form: form("event", "gray", "percent", "0"), who: "ownerB", status: 422, want: []string{"t:release.state.approved"}},
		scenario{name: "ship illegal in this state", method: "POST", url: "/t/{A}/apps/{appA}/releases/{relA}/ship", form: form("event", "release"), who: "approverA", status: 409, check: state(model.RelAwaitingApproval)},
		scenario{name: "ship developer", method: "POST", url: "/t/{B}/apps/{appB}/releases/{relB}/ship", form: form("event", "release"), who: "memberB", status: 403},
		scenario{name: "ship B's release from A", method: "POST", url: "/t/{A}/apps/{appA}/releases/{relB}/ship", form: form("event", "release"), who: "ownerA", status: 404},

		// The apps list shows the release line.
		scenario{name: "apps list release line", method: "GET", url: "/t/{A}/apps", who: "viewerA", status: 200, want: []string{`data-testid="app-release-wxappa0000000001"`, "2.0.0", "t:release.state.awaiting_approval"}},
	)
	return sc
}
