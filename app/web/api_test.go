package web

import (
	"context"
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/api"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/platform"
)

// apiWorld is a harness with one sandbox app of a fresh tenant and a key of
// its owner with the given scopes.
func apiWorld(t *testing.T, opts ...func(*Deps)) (h *harness, appID, key string, k model.APIKey) {
	t.Helper()
	h = newHarnessWith(t, opts...)
	u, tn := h.signup("owner@api.test", "Api Owner", "接口商户")
	appID = sandboxApp(h, tn.ID, "接口小程序")
	k, key, err := h.p.Keys.Create(context.Background(), model.Actor{UserID: u.ID, Label: u.Email},
		platform.NewAPIKey{TenantID: tn.ID, Name: "backend", Scopes: []model.APIScope{model.ScopeTokensRead, model.ScopeAppsRead}})
	if err != nil {
		t.Fatal(err)
	}
	return h, appID, key, k
}

type tokenBody struct {
	AccessToken string    `json:"access_token"`
	ExpiresAt   time.Time `json:"expires_at"`
	ExpiresIn   int       `json:"expires_in"`
	Healed      bool      `json:"healed"`
}

func apiPost(t *testing.T, h *harness, target, key, body string, out any) int {
	t.Helper()
	r := h.client().do("POST", target, nil, apiRequest(key, body, ""))
	if out != nil && r.Status == 200 {
		if err := json.Unmarshal([]byte(r.Body), out); err != nil {
			t.Fatalf("%s: %v\n%s", target, err, r.Body)
		}
	}
	return r.Status
}

// TestAPITokenService: the token handed out is the vault's (never the
// refresh token) with its expiry; a reported 40001 of the current token
// heals once, however many backends report it at once; a stale report
// changes nothing and calls WeChat for nothing.
func TestAPITokenService(t *testing.T) {
	h, appID, key, _ := apiWorld(t)
	ctx := context.Background()
	access, refresh, err := h.st.AuthorizerSecrets(ctx, appID)
	if err != nil {
		t.Fatal(err)
	}
	var got tokenBody
	target := "/api/v1/apps/" + appID + "/access-token"
	if st := apiGet(t, h, target, key, &got); st != 200 || got.AccessToken != access || got.ExpiresIn <= 0 {
		t.Fatalf("token: %d %+v, want the vault's %q", st, got, access)
	}
	r := h.client().do("GET", target, nil, apiRequest(key, "", ""))
	if strings.Contains(r.Body, refresh) || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("the answer holds the refresh token or may be cached: %q %s", r.Header.Get("Cache-Control"), r.Body)
	}
	sb := sandboxOf(h)
	before := sb.CallCount("api_authorizer_token")
	var wg sync.WaitGroup
	results := make([]tokenBody, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if st := apiPost(t, h, target+"/invalid", key, `{"access_token":"`+access+`"}`, &results[i]); st != 200 {
				t.Errorf("report %d: status %d", i, st)
			}
		}()
	}
	wg.Wait()
	if n := sb.CallCount("api_authorizer_token") - before; n != 1 {
		t.Fatalf("8 reports of the same token made %d refreshes, want 1", n)
	}
	healed := 0
	for _, res := range results {
		if res.Healed {
			healed++
		}
		if res.AccessToken == access || res.AccessToken != results[0].AccessToken {
			t.Errorf("after healing: %q (old %q, first %q)", res.AccessToken, access, results[0].AccessToken)
		}
	}
	// Every report that found the token still current says so; they share
	// the one refresh above.
	if healed < 1 {
		t.Errorf("no report healed")
	}
	now, _, _ := h.st.AuthorizerSecrets(ctx, appID)
	if now != results[0].AccessToken {
		t.Errorf("the vault holds %q, the API answered %q", now, results[0].AccessToken)
	}
	// The old token again: stale, nothing expires, WeChat is not called.
	var again tokenBody
	if st := apiPost(t, h, target+"/invalid", key, `{"access_token":"`+access+`"}`, &again); st != 200 || again.Healed || again.AccessToken != now {
		t.Fatalf("stale report: %d %+v", st, again)
	}
	if n := sb.CallCount("api_authorizer_token") - before; n != 1 {
		t.Errorf("a stale report called WeChat: %d refreshes", n)
	}
}

// TestAPICachedHitReadsNoSQL: once the key, the tenant and the token are
// cached, a token read touches no database: it still answers with both
// connection pools closed.
func TestAPICachedHitReadsNoSQL(t *testing.T) {
	h, appID, key, _ := apiWorld(t)
	target := "/api/v1/apps/" + appID + "/access-token"
	var warm tokenBody
	if st := apiGet(t, h, target, key, &warm); st != 200 {
		t.Fatalf("warm-up: %d", st)
	}
	h.st.R.Close()
	h.st.W.Close()
	for range 3 {
		var got tokenBody
		if st := apiGet(t, h, target, key, &got); st != 200 || got.AccessToken != warm.AccessToken {
			t.Fatalf("cached read with the database closed: %d %+v", st, got)
		}
	}
}

// TestAPIKeyRevokedAtOnce: a cached key stops working the moment it is
// revoked, and its uses are written in a batch, not one write a call.
func TestAPIKeyRevokedAtOnce(t *testing.T) {
	h, appID, key, k := apiWorld(t)
	target := "/api/v1/apps/" + appID + "/access-token"
	for range 5 {
		if st := apiGet(t, h, target, key, nil); st != 200 {
			t.Fatalf("before revoking: %d", st)
		}
	}
	if n := h.count(`SELECT COUNT(*) FROM api_keys WHERE id = ? AND last_used_at > 0`, k.ID); n != 0 {
		t.Fatal("a use was written at once; uses are batched")
	}
	if err := h.p.Keys.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := h.count(`SELECT COUNT(*) FROM api_keys WHERE id = ? AND last_used_at = ?`, k.ID, h.clock.Now().Unix()); n != 1 {
		t.Fatal("the flush did not record the last use")
	}
	if _, err := h.p.Keys.Revoke(context.Background(), model.SystemActor, k.TenantID, k.ID); err != nil {
		t.Fatal(err)
	}
	if st := apiGet(t, h, target, key, nil); st != 401 {
		t.Fatalf("revoked key: %d, want 401 at once", st)
	}
}

// TestAPIRateLimit: each key has its own bucket; past it, 429 with
// Retry-After, and another key is unaffected.
func TestAPIRateLimit(t *testing.T) {
	h, appID, key, _ := apiWorld(t, func(d *Deps) { d.APIRate, d.APIBurst = 1, 3 })
	target := "/api/v1/apps/" + appID + "/access-token"
	for i := range 3 {
		if st := apiGet(t, h, target, key, nil); st != 200 {
			t.Fatalf("request %d: %d", i, st)
		}
	}
	r := h.client().do("GET", target, nil, apiRequest(key, "", ""))
	if r.Status != 429 || r.Header.Get("Retry-After") != "1" || !strings.Contains(r.Body, `"code":"rate_limited"`) {
		t.Fatalf("4th request: %d Retry-After %q %s", r.Status, r.Header.Get("Retry-After"), r.Body)
	}
	u := h.user("other@api.test", "Other", model.StaffAdmin)
	_, other, err := h.p.Keys.Create(context.Background(), model.Actor{UserID: u.ID, Label: u.Email},
		platform.NewAPIKey{Name: "other", Scopes: []model.APIScope{model.ScopeTokensRead}})
	if err != nil {
		t.Fatal(err)
	}
	if st := apiGet(t, h, target, other, nil); st != 200 {
		t.Fatalf("another key: %d", st)
	}
	h.clock.Advance(time.Second)
	if st := apiGet(t, h, target, key, nil); st != 200 {
		t.Fatalf("after a second: %d", st)
	}
}

// TestOpenAPIMatchesRoutes: every API route Fiber serves is in the OpenAPI
// document with its method, and every documented operation is served.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	h := newHarness(t)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q", doc.OpenAPI)
	}
	param := regexp.MustCompile(`:([a-z]+)`)
	served := map[string]bool{}
	for _, r := range h.app.GetRoutes(true) {
		if !strings.HasPrefix(r.Path, "/api/") || r.Method == "HEAD" {
			continue
		}
		served[strings.ToLower(r.Method)+" "+param.ReplaceAllString(r.Path, "{$1}")] = true
	}
	documented := map[string]bool{}
	for p, ops := range doc.Paths {
		for m := range ops {
			documented[m+" "+p] = true
		}
	}
	var missing, extra []string
	for k := range served {
		if !documented[k] {
			missing = append(missing, k)
		}
	}
	for k := range documented {
		if !served[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 || len(extra) > 0 || len(served) < 15 {
		t.Errorf("served but not documented: %v\ndocumented but not served: %v (%d served)", missing, extra, len(served))
	}
	r := h.client().get("/api/v1/openapi.json")
	if r.Status != 200 || r.Body != string(api.OpenAPI()) {
		t.Errorf("GET openapi.json: %d", r.Status)
	}
}
