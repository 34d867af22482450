package web

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/platform"
)

// The JSON API (issue #15, app/api) and the API key pages: every API route
// × key scope × another tenant's objects, plus expired, revoked and
// malformed keys, a browser session, oversized and malformed bodies.

func TestAPIKeyScenarios(t *testing.T) { runScenarios(t, apiKeyScenarios()) }

func TestAPIScenarios(t *testing.T) { runScenarios(t, apiScenarios()) }

// apiRequest sends the bearer key (when not empty) and a raw body.
func apiRequest(key, body, ctype string) reqOpt {
	return func(r *http.Request) {
		if key != "" {
			r.Header.Set("Authorization", "Bearer "+key)
		}
		if body != "" {
			r.Body = io.NopCloser(strings.NewReader(body))
			r.ContentLength = int64(len(body))
			if ctype == "" {
				ctype = "application/json"
			}
			r.Header.Set("Content-Type", ctype)
		}
	}
}

// apiState fingerprints what the API and the key pages can write.
func apiState(h *harness) string {
	h.t.Helper()
	var parts []string
	for _, q := range []string{
		`SELECT COUNT(*) || ':' || COALESCE(SUM(revoked_at > 0), 0) FROM api_keys`,
		`SELECT COUNT(*) FROM app_configs`, `SELECT COUNT(*) FROM releases`, `SELECT COUNT(*) FROM campaigns`,
		`SELECT COALESCE(group_concat(state), '') FROM (SELECT state FROM campaigns ORDER BY id)`,
		`SELECT COALESCE(group_concat(appid || access_token || access_expires_at), '') FROM (SELECT * FROM authorizers ORDER BY appid)`,
		`SELECT COUNT(*) FROM activity`,
	} {
		var s string
		if err := h.st.R.QueryRow(q).Scan(&s); err != nil {
			h.t.Fatalf("%s: %v", q, err)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "|")
}

// apiFixture: a sandbox app for tenants A and B (real tokens), and keys:
// A's with every scope, A's read-only and tokens-only keys, B's, a
// platform key for every tenant and one for B only, an expired and a
// revoked key of A, and a key a viewer of A holds with config:write (made
// in the store, past the form's check: its routes must still refuse).
func apiFixture(h *harness, w *world) []string {
	ctx := context.Background()
	keys := h.p.Keys
	appA := sandboxApp(h, w.A.ID, "API 甲小程序")
	appB := sandboxApp(h, w.B.ID, "API 乙小程序")
	// No config here: the app would become a target of tenant A's campaign
	// previews; rows that need one save it in their setup (withConfig).
	who := func(k string) model.Actor { return model.Actor{UserID: w.users[k].ID, Label: w.users[k].Email} }
	if err := h.st.SetAppTags(ctx, who("ownerA"), w.A.ID, appA, []string{"接口"}); err != nil {
		h.t.Fatal(err)
	}
	mk := func(creator string, tid int64, tenants []int64, scopes ...model.APIScope) (model.APIKey, string) {
		k, secret, err := keys.Create(ctx, who(creator), platform.NewAPIKey{TenantID: tid, Tenants: tenants, Name: "key of " + creator, Scopes: scopes})
		if err != nil {
			h.t.Fatal(err)
		}
		return k, secret
	}
	kA, sA := mk("ownerA", w.A.ID, nil, model.APIScopes...)
	_, sAread := mk("ownerA", w.A.ID, nil, model.ScopeAppsRead)
	_, sAtok := mk("ownerA", w.A.ID, nil, model.ScopeTokensRead)
	kB, sB := mk("ownerB", w.B.ID, nil, model.APIScopes...)
	kP, sP := mk("staffadmin", 0, nil, model.ScopeTokensRead, model.ScopeAppsRead, model.ScopeCampaignsWrite)
	_, sPB := mk("staffadmin", 0, []int64{w.B.ID}, model.ScopeTokensRead, model.ScopeAppsRead, model.ScopeCampaignsWrite)
	_, sPev := mk("staffadmin", 0, nil, model.ScopeEventsManage)
	kRev, sRev := mk("ownerA", w.A.ID, nil, model.APIScopes...)
	if _, err := keys.Revoke(ctx, who("ownerA"), w.A.ID, kRev.ID); err != nil {
		h.t.Fatal(err)
	}
	// Expired: made with a day to live, then the store's row moved back.
	kExp, sExp := mk("ownerA", w.A.ID, nil, model.APIScopes...)
	if _, err := h.st.W.Exec(`UPDATE api_keys SET expires_at = ? WHERE id = ?`, h.clock.Now().Add(-time.Minute).Unix(), kExp.ID); err != nil {
		h.t.Fatal(err)
	}
	// A viewer's key with config:write, written straight to the store.
	sViewer := platform.TestKeyPrefix + strings.Repeat("v", 43)
	hv := sha256.Sum256([]byte(sViewer))
	if _, err := h.st.CreateAPIKey(ctx, who("viewerA"), model.APIKey{TenantID: w.A.ID, Name: "viewer's", Prefix: sViewer[:14],
		Scopes: []model.APIScope{model.ScopeAppsRead, model.ScopeConfigWrite}}, hv[:]); err != nil {
		h.t.Fatal(err)
	}
	return []string{"{apiAppA}", appA, "{apiAppB}", appB, "{keyA}", sA, "{keyAread}", sAread, "{keyAtok}", sAtok, "{keyB}", sB,
		"{keyP}", sP, "{keyPB}", sPB, "{keyPev}", sPev, "{keyRev}", sRev, "{keyExp}", sExp, "{keyViewer}", sViewer,
		"{kidA}", itoa(kA.ID), "{kidB}", itoa(kB.ID), "{kidP}", itoa(kP.ID)}
}

// withConfig saves a config of the API app of tenant A, for the rows that
// release or ship it.
func withConfig(t *testing.T, h *harness, w *world) {
	var appID string
	if err := h.st.R.QueryRow(`SELECT appid FROM authorizers WHERE nickname = 'API 甲小程序'`).Scan(&appID); err != nil {
		t.Fatal(err)
	}
	if _, err := h.st.SaveConfig(context.Background(), model.Actor{UserID: w.users["ownerA"].ID, Label: "owner@a.test"}, w.A.ID, appID, relTemplateID, `{"shopName":"接口甲店","theme":"light"}`, "", ""); err != nil {
		t.Fatal(err)
	}
}

// unauthorized401 is the one body every refused key gets.
var unauthorized401 = []string{`{"error":{"code":"unauthorized","message":"a valid API key is required (Authorization: Bearer \u003ckey\u003e)"}}`}

func apiKeyScenarios() []scenario {
	keysA, keysS := "/t/{A}/settings/api-keys", "/staff/api-keys"
	var sc []scenario
	add := func(s ...scenario) { sc = append(sc, s...) }
	add(
		scenario{name: "api keys page as owner", method: "GET", url: keysA, who: "ownerA", status: 200,
			want:    []string{`data-testid="apikey-form"`, "key of ownerA", `data-testid="apikey-scope-config:write"`, "t:apikey.state.revoked", "t:apikey.state.expired", "t:apikey.never_used"},
			notWant: []string{"key of ownerB", "{keyA}"}},
		scenario{name: "api keys page as staff admin", method: "GET", url: keysS, who: "staffadmin", status: 200,
			want:    []string{"key of staffadmin", "t:apikey.all_tenants", tenantBName, `data-testid="apikey-scope-campaigns:write"`},
			notWant: []string{"key of ownerA", `data-testid="apikey-scope-config:write"`, "{keyP}"}},
		scenario{name: "create tenant key", method: "POST", url: keysA, who: "ownerA", status: 201,
			form: form("name", "CI 流水线", "scopes", "releases:write", "scopes", "apps:read", "expires", "2026-12-31"),
			want: []string{`data-testid="apikey-secret"`, `value="mf_live_`, "t:apikey.secret_once"},
			check: func(t *testing.T, h *harness, w *world) {
				var scopes, creator string
				var exp int64
				if err := h.st.R.QueryRow(`SELECT scopes, creator, expires_at FROM api_keys WHERE name = 'CI 流水线' AND tenant_id = ?`, w.A.ID).Scan(&scopes, &creator, &exp); err != nil {
					t.Fatal(err)
				}
				loc, err := time.LoadLocation(h.cfg.TimeZone) // the owner's zone: the key works to the end of that day there
				if err != nil {
					t.Fatal(err)
				}
				if scopes != "releases:write apps:read" || creator != "owner@a.test" || !time.Unix(exp, 0).Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, loc)) {
					t.Errorf("stored key: %q %q %v", scopes, creator, time.Unix(exp, 0).UTC())
				}
				if n := h.count(`SELECT COUNT(*) FROM activity WHERE action = 'api_key_created' AND object = 'CI 流水线' AND tenant_id = ?`, w.A.ID); n != 1 {
					t.Errorf("activity rows = %d", n)
				}
				if n := h.count(`SELECT COUNT(*) FROM api_keys WHERE length(secret_hash) = 32 AND instr(prefix, 'mf_live_') = 1`); n < 1 {
					t.Error("no hashed key")
				}
			}},
		scenario{name: "create staff key for chosen tenants", method: "POST", url: keysS, who: "staffadmin", status: 201,
			form: form("name", "运维", "scopes", "tokens:read", "tenants_mode", "chosen", "tenants", "{B}"),
			want: []string{`data-testid="apikey-secret"`},
			check: func(t *testing.T, h *harness, w *world) {
				if n := h.count(`SELECT COUNT(*) FROM api_keys WHERE name = '运维' AND tenant_id IS NULL AND tenants = ?`, itoa(w.B.ID)); n != 1 {
					t.Errorf("platform key rows = %d", n)
				}
			}},
		scenario{name: "create key without name or scope keeps what was typed", method: "POST", url: keysA, who: "ownerA", status: 422,
			form: form("name", "", "expires", "2026-12-31"), want: []string{"t:form.required", "t:apikey.err.scopes", `value="2026-12-31"`}, notWant: []string{`data-testid="apikey-secret"`}},
		scenario{name: "create key with a past expiry", method: "POST", url: keysA, who: "ownerA", status: 422,
			form: form("name", "old", "scopes", "apps:read", "expires", "2020-01-01"), want: []string{"t:apikey.err.expires_past", `value="old"`}},
		scenario{name: "staff cannot give config:write (no such staff permission)", method: "POST", url: keysS, who: "staffadmin", status: 422,
			form: form("name", "x", "scopes", "config:write"), want: []string{"t:apikey.err.scope_not_yours"}},
		scenario{name: "create staff key with a bad tenant", method: "POST", url: keysS, who: "staffadmin", status: 422,
			form: form("name", "x", "scopes", "apps:read", "tenants_mode", "chosen", "tenants", "999999"), want: []string{"t:apikey.err.tenants"}},
		scenario{name: "revoke tenant key", method: "POST", url: keysA + "/{kidA}/revoke", who: "ownerA", status: 303, loc: keysA + "?flash=apikey.revoked",
			check: func(t *testing.T, h *harness, w *world) {
				if n := h.count(`SELECT COUNT(*) FROM activity WHERE action = 'api_key_revoked' AND tenant_id = ?`, w.A.ID); n != 2 { // the fixture revoked one
					t.Errorf("revoke activity rows = %d, want 2", n)
				}
			}},
		scenario{name: "revoke platform key", method: "POST", url: keysS + "/{kidP}/revoke", who: "staffadmin", status: 303, loc: keysS + "?flash=apikey.revoked"},
		scenario{name: "revoke B's key from A's page", method: "POST", url: keysA + "/{kidB}/revoke", who: "ownerA", status: 404},
		scenario{name: "revoke B's key from B's page as A", method: "POST", url: "/t/{B}/settings/api-keys/{kidB}/revoke", who: "ownerA", status: 404},
		scenario{name: "revoke a tenant key from the staff page", method: "POST", url: keysS + "/{kidA}/revoke", who: "staffadmin", status: 404},
		scenario{name: "revoke twice", method: "POST", url: keysA + "/{kidA}/revoke", who: "ownerA", status: 409,
			setup: func(t *testing.T, h *harness, w *world) {
				if _, err := h.st.W.Exec(`UPDATE api_keys SET revoked_at = 1 WHERE name = 'key of ownerA'`); err != nil {
					t.Fatal(err)
				}
			}},
		scenario{name: "api keys page anonymous", method: "GET", url: keysA, who: "anon", status: 303, loc: "/login?next="},
		scenario{name: "create staff key anonymous", method: "POST", url: keysS, who: "anon", status: 303, loc: "/login?next="},
		scenario{name: "revoke staff key anonymous", method: "POST", url: keysS + "/{kidP}/revoke", who: "anon", status: 303, loc: "/login?next="},
	)
	for _, who := range []string{"developerA", "approverA", "viewerA"} {
		add(
			scenario{name: "api keys page as " + who, method: "GET", url: keysA, who: who, status: 403, notWant: []string{"key of ownerA"}},
			scenario{name: "create key as " + who, method: "POST", url: keysA, who: who, status: 403, form: form("name", "x", "scopes", "apps:read")},
			scenario{name: "revoke key as " + who, method: "POST", url: keysA + "/{kidA}/revoke", who: who, status: 403},
		)
	}
	for _, who := range []string{"ownerB", "staffadmin", "nobody"} {
		add(scenario{name: "A's api keys page as " + who, method: "GET", url: keysA, who: who, status: 404, notWant: []string{"key of ownerA"}})
	}
	for _, who := range []string{"staffoperator", "staffapprover", "staffsupport", "ownerA"} {
		add(
			scenario{name: "staff api keys page as " + who, method: "GET", url: keysS, who: who, status: 403, notWant: []string{"key of staffadmin"}},
			scenario{name: "create staff key as " + who, method: "POST", url: keysS, who: who, status: 403, form: form("name", "x", "scopes", "apps:read")},
			scenario{name: "revoke staff key as " + who, method: "POST", url: keysS + "/{kidP}/revoke", who: who, status: 403},
		)
	}
	return sc
}

func apiScenarios() []scenario {
	var sc []scenario
	add := func(s ...scenario) { sc = append(sc, s...) }
	tokA, tokB := "/api/v1/apps/{apiAppA}/access-token", "/api/v1/apps/{apiAppB}/access-token"
	const appA, appB = "wxappa0000000001", "wxappb0000000002"

	// The token service.
	add(
		scenario{name: "token", method: "GET", url: tokA, key: "{keyA}", who: "anon", status: 200, want: []string{`"access_token":"`, `"expires_in":`}, notWant: []string{"refresh"}},
		scenario{name: "token with a tokens-only key", method: "GET", url: tokA, key: "{keyAtok}", who: "anon", status: 200, want: []string{`"access_token":"`}},
		scenario{name: "token with a platform key", method: "GET", url: tokA, key: "{keyP}", who: "anon", status: 200, want: []string{`"access_token":"`}},
		scenario{name: "token of B with B-only platform key", method: "GET", url: tokB, key: "{keyPB}", who: "anon", status: 200, want: []string{`"access_token":"`}},
		scenario{name: "token without the scope", method: "GET", url: tokA, key: "{keyAread}", who: "anon", status: 403, want: []string{`"code":"forbidden"`, "tokens:read"}, notWant: []string{"access_token"}},
		scenario{name: "token of A with B's key", method: "GET", url: tokA, key: "{keyB}", who: "anon", status: 404, want: []string{`"code":"not_found"`}, notWant: []string{"access_token"}},
		scenario{name: "token of A with B-only platform key", method: "GET", url: tokA, key: "{keyPB}", who: "anon", status: 404, notWant: []string{"access_token"}},
		scenario{name: "token of an unbound app", method: "GET", url: "/api/v1/apps/wxappu0000000003/access-token", key: "{keyP}", who: "anon", status: 404},
		scenario{name: "token of an unknown app", method: "GET", url: "/api/v1/apps/wxnosuchapp00000/access-token", key: "{keyA}", who: "anon", status: 404},
		scenario{name: "token with a revoked key", method: "GET", url: tokA, key: "{keyRev}", who: "anon", status: 401, want: unauthorized401},
		scenario{name: "token with an expired key", method: "GET", url: tokA, key: "{keyExp}", who: "anon", status: 401, want: unauthorized401},
		scenario{name: "token with a malformed key", method: "GET", url: tokA, key: "not a key", who: "anon", status: 401, want: unauthorized401},
		scenario{name: "token with an unknown well-formed key", method: "GET", url: tokA, key: "mf_live_" + strings.Repeat("A", 43), who: "anon", status: 401, want: unauthorized401},
		scenario{name: "token without a key", method: "GET", url: tokA, who: "anon", status: 401, want: unauthorized401},
		scenario{name: "token with a signed-in session and no key", method: "GET", url: tokA, who: "ownerA", status: 401, want: unauthorized401},
		scenario{name: "token with the key in a cookie", method: "GET", url: tokA, who: "anon", status: 401, want: unauthorized401,
			opt: func(r *http.Request) { r.Header.Set("Cookie", "sid=x; api_key=mf_live_x") }},
	)
	inv := "/api/v1/apps/{apiAppA}/access-token/invalid"
	add(
		scenario{name: "report a stale token", method: "POST", url: inv, key: "{keyA}", who: "anon", body: `{"access_token":"an-old-token"}`, status: 200, want: []string{`"healed":false`, `"access_token":"`}},
		scenario{name: "report a token of A with B's key", method: "POST", url: inv, key: "{keyB}", who: "anon", body: `{"access_token":"x"}`, status: 404},
		scenario{name: "report a token without the scope", method: "POST", url: inv, key: "{keyAread}", who: "anon", body: `{"access_token":"x"}`, status: 403},
		scenario{name: "report a token with a revoked key", method: "POST", url: inv, key: "{keyRev}", who: "anon", body: `{"access_token":"x"}`, status: 401, want: unauthorized401},
		scenario{name: "report malformed JSON", method: "POST", url: inv, key: "{keyA}", who: "anon", body: `{"access_token":`, status: 400, want: []string{`"code":"bad_request"`}},
		scenario{name: "report an unknown field", method: "POST", url: inv, key: "{keyA}", who: "anon", body: `{"token":"x"}`, status: 400, want: []string{`"code":"bad_request"`}},
		scenario{name: "report as a form", method: "POST", url: inv, key: "{keyA}", who: "anon", body: `access_token=x`, ctype: "application/x-www-form-urlencoded", status: 400},
		scenario{name: "report nothing", method: "POST", url: inv, key: "{keyA}", who: "anon", body: `{}`, status: 422, want: []string{`"code":"invalid"`, `"access_token"`}},
		scenario{name: "report an oversized body", method: "POST", url: inv, key: "{keyA}", who: "anon", body: `{"access_token":"` + strings.Repeat("x", 70<<10) + `"}`, status: 413, want: []string{`"code":"payload_too_large"`}},
	)
	comp := "/api/v1/component/access-token"
	add(
		scenario{name: "component token with a platform key", method: "GET", url: comp, key: "{keyP}", who: "anon", status: 200, want: []string{`"access_token":"`}},
		scenario{name: "component token with a tenant key", method: "GET", url: comp, key: "{keyA}", who: "anon", status: 403, notWant: []string{"access_token"}},
		scenario{name: "component token with a chosen-tenants key", method: "GET", url: comp, key: "{keyPB}", who: "anon", status: 403, notWant: []string{"access_token"}},
		scenario{name: "component token without a key", method: "GET", url: comp, who: "anon", status: 401},
	)

	// Apps.
	add(
		scenario{name: "apps of A", method: "GET", url: "/api/v1/apps", key: "{keyA}", who: "anon", status: 200, want: []string{appA, "{apiAppA}", `"total":`}, notWant: []string{appB, "{apiAppB}"}},
		scenario{name: "apps of A read-only key", method: "GET", url: "/api/v1/apps?status=authorized", key: "{keyAread}", who: "anon", status: 200, want: []string{"{apiAppA}"}, notWant: []string{"{apiAppB}"}},
		scenario{name: "apps with a platform key", method: "GET", url: "/api/v1/apps", key: "{keyP}", who: "anon", status: 200, want: []string{appA, appB, "{apiAppA}", "{apiAppB}"}},
		scenario{name: "apps with a B-only platform key", method: "GET", url: "/api/v1/apps", key: "{keyPB}", who: "anon", status: 200, want: []string{appB}, notWant: []string{"{apiAppA}"}},
		scenario{name: "apps of A asked with a B-only platform key", method: "GET", url: "/api/v1/apps?tenant={A}", key: "{keyPB}", who: "anon", status: 404, notWant: []string{appA}},
		scenario{name: "apps paged by cursor", method: "GET", url: "/api/v1/apps?limit=1", key: "{keyA}", who: "anon", status: 200, want: []string{`"next_cursor":"`}},
		scenario{name: "apps with a bad cursor", method: "GET", url: "/api/v1/apps?cursor=%21%21", key: "{keyA}", who: "anon", status: 400},
		scenario{name: "apps with a bad limit", method: "GET", url: "/api/v1/apps?limit=1000", key: "{keyA}", who: "anon", status: 400},
		scenario{name: "apps with a bad status", method: "GET", url: "/api/v1/apps?status=nope", key: "{keyA}", who: "anon", status: 400},
		scenario{name: "apps with a tokens-only key", method: "GET", url: "/api/v1/apps", key: "{keyAtok}", who: "anon", status: 403},
		scenario{name: "apps with an expired key", method: "GET", url: "/api/v1/apps", key: "{keyExp}", who: "anon", status: 401},
		scenario{name: "app of A", method: "GET", url: "/api/v1/apps/" + appA, key: "{keyA}", who: "anon", status: 200, want: []string{`"appid":"` + appA}},
		scenario{name: "app of A with B's key", method: "GET", url: "/api/v1/apps/" + appA, key: "{keyB}", who: "anon", status: 404, notWant: []string{appNameA}},
		scenario{name: "app with a tokens-only key", method: "GET", url: "/api/v1/apps/" + appA, key: "{keyAtok}", who: "anon", status: 403},
	)

	// Config.
	cfgA := "/api/v1/apps/{apiAppA}/config"
	add(
		scenario{name: "config of A", method: "GET", url: "/api/v1/apps/" + appA + "/config", key: "{keyA}", who: "anon", status: 200, want: []string{"甲店二号", `"versions":[`}},
		scenario{name: "config version 1 of A", method: "GET", url: "/api/v1/apps/" + appA + "/config?version=1", key: "{keyA}", who: "anon", status: 200, want: []string{"甲店一号"}},
		scenario{name: "config of A with B's key", method: "GET", url: "/api/v1/apps/" + appA + "/config", key: "{keyB}", who: "anon", status: 404, notWant: []string{"甲店"}},
		scenario{name: "config with a tokens-only key", method: "GET", url: cfgA, key: "{keyAtok}", who: "anon", status: 403},
		scenario{name: "config save", method: "POST", url: cfgA, key: "{keyA}", who: "anon", status: 201,
			body: `{"template_id":901,"values":{"shopName":"接口新店","theme":"dark"},"note":"from CI"}`, want: []string{`"version":1`, "接口新店"},
			check: func(t *testing.T, h *harness, w *world) {
				if n := h.count(`SELECT COUNT(*) FROM activity WHERE action = 'config_saved' AND actor LIKE 'API key mf_live_%' AND actor_id = ?`, w.users["ownerA"].ID); n != 1 {
					t.Errorf("config activity by the key = %d", n)
				}
			}},
		scenario{name: "config save fails the schema", method: "POST", url: cfgA, key: "{keyA}", who: "anon", status: 422,
			body: `{"template_id":901,"values":{"shopName":"","theme":"purple"}}`, want: []string{`"code":"invalid"`, `"shopName"`}},
		scenario{name: "config save without template", method: "POST", url: cfgA, key: "{keyA}", who: "anon", status: 422, body: `{"values":{}}`, want: []string{`"template_id"`}},
		scenario{name: "config save with a bidi note", method: "POST", url: cfgA, key: "{keyA}", who: "anon", status: 422, body: `{"template_id":901,"values":{"shopName":"x"},"note":"a\u202eb"}`, want: []string{`"note"`}},
		scenario{name: "config save with a read-only key", method: "POST", url: cfgA, key: "{keyAread}", who: "anon", status: 403, body: `{"template_id":901,"values":{"shopName":"x"}}`},
		scenario{name: "config save of A with B's key", method: "POST", url: cfgA, key: "{keyB}", who: "anon", status: 404, body: `{"template_id":901,"values":{"shopName":"x"}}`},
		scenario{name: "config save by a viewer's key", method: "POST", url: cfgA, key: "{keyViewer}", who: "anon", status: 403, body: `{"template_id":901,"values":{"shopName":"x"}}`, want: []string{"config:write"}},
		scenario{name: "config save with a platform key", method: "POST", url: cfgA, key: "{keyP}", who: "anon", status: 403, body: `{"template_id":901,"values":{"shopName":"x"}}`},
		scenario{name: "config save malformed", method: "POST", url: cfgA, key: "{keyA}", who: "anon", status: 400, body: `[1,2]`},
		scenario{name: "config save oversized", method: "POST", url: cfgA, key: "{keyA}", who: "anon", status: 413, body: `{"template_id":901,"values":{"shopName":"` + strings.Repeat("长", 30<<10) + `"}}`},
	)

	// Releases.
	relsA := "/api/v1/apps/" + appA + "/releases"
	add(
		scenario{name: "releases of A", method: "GET", url: relsA, key: "{keyA}", who: "anon", status: 200, want: []string{`"releases":[`, `"id":{relA}`}},
		scenario{name: "releases of A with a bad cursor", method: "GET", url: relsA + "?cursor=bzz", key: "{keyA}", who: "anon", status: 400},
		scenario{name: "releases of A with B's key", method: "GET", url: relsA, key: "{keyB}", who: "anon", status: 404},
		scenario{name: "releases with a tokens-only key", method: "GET", url: relsA, key: "{keyAtok}", who: "anon", status: 403},
		scenario{name: "release of A", method: "GET", url: relsA + "/{relA}", key: "{keyA}", who: "anon", status: 200, want: []string{`"id":{relA}`, `"state":"`}},
		scenario{name: "release of A with B's key", method: "GET", url: relsA + "/{relA}", key: "{keyB}", who: "anon", status: 404},
		scenario{name: "release of A under another app", method: "GET", url: "/api/v1/apps/{apiAppA}/releases/{relA}", key: "{keyA}", who: "anon", status: 404},
		scenario{name: "release create", method: "POST", url: "/api/v1/apps/{apiAppA}/releases", key: "{keyA}", who: "anon", status: 201,
			body: `{"template_id":901,"user_version":"2.0.0","user_desc":"CI 发布"}`, want: []string{`"user_version":"2.0.0"`, `"preparer":"API key mf_live_`}, setup: withConfig,
			check: func(t *testing.T, h *harness, w *world) {
				var state string
				var prep int64
				if err := h.st.R.QueryRow(`SELECT state, preparer_id FROM releases WHERE user_version = '2.0.0'`).Scan(&state, &prep); err != nil {
					t.Fatal(err)
				}
				if prep != w.users["ownerA"].ID || state == string(model.RelApproved) {
					t.Errorf("release by the key: state %s, preparer %d", state, prep)
				}
			}},
		scenario{name: "release create with a bad version", method: "POST", url: "/api/v1/apps/{apiAppA}/releases", key: "{keyA}", who: "anon", status: 422,
			body: `{"template_id":901,"user_version":"","user_desc":"x"}`, want: []string{`"user_version"`}},
		scenario{name: "release create with a read-only key", method: "POST", url: "/api/v1/apps/{apiAppA}/releases", key: "{keyAread}", who: "anon", status: 403, body: `{"template_id":901,"user_version":"2.0.0"}`},
		scenario{name: "release create of A with B's key", method: "POST", url: "/api/v1/apps/{apiAppA}/releases", key: "{keyB}", who: "anon", status: 404, body: `{"template_id":901,"user_version":"2.0.0"}`},
		scenario{name: "release create of D with A's key", method: "POST", url: "/api/v1/apps/" + appD + "/releases", key: "{keyA}", who: "anon", status: 404, body: `{"template_id":901,"user_version":"2.0.0"}`},
		scenario{name: "release create with a revoked key", method: "POST", url: "/api/v1/apps/{apiAppA}/releases", key: "{keyRev}", who: "anon", status: 401, body: `{"template_id":901,"user_version":"2.0.0"}`},
		scenario{name: "release create malformed", method: "POST", url: "/api/v1/apps/{apiAppA}/releases", key: "{keyA}", who: "anon", status: 400, body: `{"template_id":"901"}`},
	)

	// Campaigns.
	add(
		scenario{name: "campaigns of A", method: "GET", url: "/api/v1/campaigns", key: "{keyA}", who: "anon", status: 200, want: []string{campNameA}, notWant: []string{campNameB, campNameS}},
		scenario{name: "campaigns with a platform key", method: "GET", url: "/api/v1/campaigns", key: "{keyP}", who: "anon", status: 200, want: []string{campNameS}},
		scenario{name: "campaigns with a chosen-tenants key", method: "GET", url: "/api/v1/campaigns", key: "{keyPB}", who: "anon", status: 403},
		scenario{name: "campaigns with a tokens-only key", method: "GET", url: "/api/v1/campaigns", key: "{keyAtok}", who: "anon", status: 403},
		scenario{name: "campaign of A", method: "GET", url: "/api/v1/campaigns/{campA}", key: "{keyA}", who: "anon", status: 200, want: []string{campNameA, `"progress":{`}},
		scenario{name: "campaign of A with B's key", method: "GET", url: "/api/v1/campaigns/{campA}", key: "{keyB}", who: "anon", status: 404, notWant: []string{campNameA}},
		scenario{name: "campaign create", method: "POST", url: "/api/v1/campaigns", key: "{keyA}", who: "anon", status: 201,
			body: `{"name":"接口批量","template_id":901,"user_version":"5.0.0","user_desc":"批量","filter":{"tag":"接口"},"canary_size":1,"wave_max":10,"concurrency":2,"halt_rate":20}`,
			want: []string{`"name":"接口批量"`, `"state":"awaiting_approval"`}, setup: withConfig},
		scenario{name: "campaign create with a bad halt rate", method: "POST", url: "/api/v1/campaigns", key: "{keyA}", who: "anon", status: 422,
			body: `{"name":"x","template_id":901,"user_version":"5.0.0","canary_size":1,"wave_max":10,"concurrency":2,"halt_rate":0}`, want: []string{`"halt_rate"`}},
		scenario{name: "campaign create with a read-only key", method: "POST", url: "/api/v1/campaigns", key: "{keyAread}", who: "anon", status: 403, body: `{"name":"x"}`},
		scenario{name: "campaign create unknown field", method: "POST", url: "/api/v1/campaigns", key: "{keyA}", who: "anon", status: 400, body: `{"name":"x","approve":true}`},
		scenario{name: "campaign cancel", method: "POST", url: "/api/v1/campaigns/{campA}/cancel", key: "{keyA}", who: "anon", status: 200, want: []string{`"state":"cancelled"`}},
		scenario{name: "campaign cancel of A with B's key", method: "POST", url: "/api/v1/campaigns/{campA}/cancel", key: "{keyB}", who: "anon", status: 404},
		scenario{name: "campaign cancel with a read-only key", method: "POST", url: "/api/v1/campaigns/{campA}/cancel", key: "{keyAread}", who: "anon", status: 403},
		scenario{name: "campaign pause while awaiting approval", method: "POST", url: "/api/v1/campaigns/{campA}/pause", key: "{keyA}", who: "anon", status: 409, want: []string{`"code":"conflict"`}},
		scenario{name: "campaign pause of A with B's key", method: "POST", url: "/api/v1/campaigns/{campA}/pause", key: "{keyB}", who: "anon", status: 404},
		scenario{name: "campaign resume while awaiting approval", method: "POST", url: "/api/v1/campaigns/{campA}/resume", key: "{keyA}", who: "anon", status: 409},
		scenario{name: "campaign resume with a stale seq", method: "POST", url: "/api/v1/campaigns/{campA}/resume", key: "{keyA}", who: "anon", status: 409, body: `{"seq":12345}`},
		scenario{name: "campaign pause while running", method: "POST", url: "/api/v1/campaigns/{campA}/pause", key: "{keyA}", who: "anon", status: 200, want: []string{`"state":"paused"`},
			setup: campaignInState("running"),
			check: func(t *testing.T, h *harness, w *world) {
				if n := h.count(`SELECT COUNT(*) FROM activity WHERE action = 'campaign_paused' AND actor LIKE 'API key %'`); n != 1 {
					t.Errorf("pause activity by the key = %d", n)
				}
			}},
		scenario{name: "campaign resume when paused", method: "POST", url: "/api/v1/campaigns/{campA}/resume", key: "{keyA}", who: "anon", status: 200, want: []string{`"state":"running"`},
			setup: campaignInState("paused")},
		scenario{name: "campaign resume when paused with B's key", method: "POST", url: "/api/v1/campaigns/{campA}/resume", key: "{keyB}", who: "anon", status: 404,
			setup: campaignInState("paused")},
		scenario{name: "campaign of S with a platform key", method: "GET", url: "/api/v1/campaigns/{campS}", key: "{keyP}", who: "anon", status: 200, want: []string{campNameS}},
	)

	// The OpenAPI document and what is not there.
	add(
		scenario{name: "openapi", method: "GET", url: "/api/v1/openapi.json", who: "anon", status: 200, want: []string{`"openapi": "3.1.0"`}},
		scenario{name: "unknown api route", method: "GET", url: "/api/v1/nothing", key: "{keyA}", who: "anon", status: 404, want: []string{`"code":"not_found"`}},
	)
	return sc
}

// campaignInState moves tenant A's fixture campaign to state (approved by
// A's approver, so it may run).
func campaignInState(state string) func(t *testing.T, h *harness, w *world) {
	return func(t *testing.T, h *harness, w *world) {
		if _, err := h.st.W.Exec(`UPDATE campaigns SET state = ?, approver_id = ?, approver = 'approver@a.test', approved_hash = set_hash, approved_at = 1 WHERE name = ?`,
			state, w.users["approverA"].ID, campNameA); err != nil {
			t.Fatal(err)
		}
	}
}

// apiGet is one API request with a key, decoded.
func apiGet(t *testing.T, h *harness, target, key string, out any) int {
	t.Helper()
	r := h.client().do("GET", target, nil, apiRequest(key, "", ""))
	if out != nil && r.Status == 200 {
		if err := json.Unmarshal([]byte(r.Body), out); err != nil {
			t.Fatalf("%s: %v\n%s", target, err, r.Body)
		}
	}
	return r.Status
}

// Event delivery endpoints through the API (events:manage), on the
// webhooks fixture's endpoints (A's, B's and the platform's).
func apiWebhookScenarios() []scenario {
	endpoints := func(tid func(w *world) int64, want int) func(t *testing.T, h *harness, w *world) {
		return func(t *testing.T, h *harness, w *world) {
			t.Helper()
			es, err := h.p.Webhooks.Endpoints(context.Background(), tid(w))
			if err != nil {
				t.Fatal(err)
			}
			if len(es) != want {
				t.Errorf("%d endpoints, want %d", len(es), want)
			}
		}
	}
	ofA := func(w *world) int64 { return w.A.ID }
	return []scenario{
		{name: "api webhooks of A", method: "GET", url: "/api/v1/webhooks", key: "{keyA}", who: "anon", status: 200, want: []string{hookURLA}, notWant: []string{hookURLB, hookURLP}},
		{name: "api webhooks of the platform", method: "GET", url: "/api/v1/webhooks", key: "{keyPev}", who: "anon", status: 200, want: []string{hookURLP}, notWant: []string{hookURLA, hookURLB}},
		{name: "api webhooks without events:manage", method: "GET", url: "/api/v1/webhooks", key: "{keyAread}", who: "anon", status: 403, notWant: []string{hookURLA}},
		{name: "api webhooks with a chosen-tenants key", method: "GET", url: "/api/v1/webhooks", key: "{keyPB}", who: "anon", status: 403},
		{name: "api webhooks with a revoked key", method: "GET", url: "/api/v1/webhooks", key: "{keyRev}", who: "anon", status: 401, want: unauthorized401},
		{name: "api webhook create", method: "POST", url: "/api/v1/webhooks", key: "{keyA}", who: "anon", status: 201,
			body: `{"url":"http://127.0.0.1:9/hooks/new","events":["release.done"]}`, want: []string{`"secret":"`, `"url":"http://127.0.0.1:9/hooks/new"`},
			check: endpoints(ofA, 2)},
		{name: "api webhook create with an unknown event", method: "POST", url: "/api/v1/webhooks", key: "{keyA}", who: "anon", status: 422,
			body: `{"url":"http://127.0.0.1:9/hooks/new","events":["app.exploded"]}`, check: endpoints(ofA, 1)},
		{name: "api webhook create with a bad body", method: "POST", url: "/api/v1/webhooks", key: "{keyA}", who: "anon", status: 400,
			body: `{"url":1}`, check: endpoints(ofA, 1)},
		{name: "api webhook create without events:manage", method: "POST", url: "/api/v1/webhooks", key: "{keyAread}", who: "anon", status: 403,
			body: `{"url":"http://127.0.0.1:9/hooks/new","events":["release.done"]}`, check: endpoints(ofA, 1)},
		{name: "api webhook of A", method: "GET", url: "/api/v1/webhooks/{whA}", key: "{keyA}", who: "anon", status: 200, want: []string{hookURLA}, notWant: []string{`"secret"`}},
		{name: "api webhook of A with B's key", method: "GET", url: "/api/v1/webhooks/{whA}", key: "{keyB}", who: "anon", status: 404, notWant: []string{hookURLA}},
		{name: "api webhook of the platform with A's key", method: "GET", url: "/api/v1/webhooks/{whP}", key: "{keyA}", who: "anon", status: 404, notWant: []string{hookURLP}},
		{name: "api webhook delete", method: "DELETE", url: "/api/v1/webhooks/{whA}", key: "{keyA}", who: "anon", status: 204, check: endpoints(ofA, 0)},
		{name: "api webhook delete of A with B's key", method: "DELETE", url: "/api/v1/webhooks/{whA}", key: "{keyB}", who: "anon", status: 404, check: endpoints(ofA, 1)},
		{name: "api webhook deliveries", method: "GET", url: "/api/v1/webhooks/{whA}/deliveries", key: "{keyA}", who: "anon", status: 200,
			want: []string{`"type":"release.done"`, `"id":{dA}`, `"id":{dpendA}`}},
		{name: "api webhook deliveries of A with B's key", method: "GET", url: "/api/v1/webhooks/{whA}/deliveries", key: "{keyB}", who: "anon", status: 404, notWant: []string{"release.done"}},
		{name: "api webhook deliveries with a bad limit", method: "GET", url: "/api/v1/webhooks/{whA}/deliveries?limit=500", key: "{keyA}", who: "anon", status: 400},
		{name: "api webhook replay", method: "POST", url: "/api/v1/webhooks/{whA}/deliveries/{dA}/replay", key: "{keyA}", who: "anon", status: 202, want: []string{`"delivery_id":`},
			check: func(t *testing.T, h *harness, w *world) {
				if n := h.count(`SELECT COUNT(*) FROM webhook_deliveries WHERE replay_of > 0`); n != 1 {
					t.Errorf("%d replays", n)
				}
			}},
		{name: "api webhook replay of A with B's key", method: "POST", url: "/api/v1/webhooks/{whA}/deliveries/{dA}/replay", key: "{keyB}", who: "anon", status: 404,
			check: func(t *testing.T, h *harness, w *world) {
				if n := h.count(`SELECT COUNT(*) FROM webhook_deliveries WHERE replay_of > 0`); n != 0 {
					t.Errorf("%d replays", n)
				}
			}},
		{name: "api webhook replay of another endpoint's delivery", method: "POST", url: "/api/v1/webhooks/{whA}/deliveries/{dB}/replay", key: "{keyA}", who: "anon", status: 404},
	}
}

func TestAPIWebhookScenarios(t *testing.T) { runScenarios(t, apiWebhookScenarios()) }
