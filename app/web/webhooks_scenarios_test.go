package web

import (
	"context"
	"strings"
	"testing"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
)

// Event delivery (issue #15): tenant owners manage their tenant's
// endpoints under its settings, staff admins the platform's; nobody else,
// and never another tenant's endpoint or delivery. /metrics answers only
// with the metrics token.

func TestWebhooksScenarios(t *testing.T) { runScenarios(t, webhooksScenarios()) }

const (
	hookURLA = "http://127.0.0.1:9/hooks/alpha"
	hookURLB = "http://127.0.0.1:9/hooks/bravo"
	hookURLP = "http://127.0.0.1:9/hooks/platform"
)

// webhooksFixture: an endpoint for tenants A and B and one for the
// platform, each with a delivered and a pending delivery.
func webhooksFixture(h *harness, w *world) []string {
	ctx := context.Background()
	var pairs []string
	for _, e := range []struct {
		key, url, app string
		tid           int64
		who           string
	}{{"A", hookURLA, "wxhookalpha01", w.A.ID, "ownerA"}, {"B", hookURLB, "wxhookbravo01", w.B.ID, "ownerB"}, {"P", hookURLP, "wxhookplat001", 0, "staffadmin"}} {
		u := w.users[e.who]
		ep, _, err := h.p.Webhooks.CreateEndpoint(ctx, model.Actor{UserID: u.ID, Label: u.Email}, e.tid,
			model.EndpointInput{URL: e.url, Events: []string{model.EvtReleaseDone, model.EvtAuditSuccess}})
		if err != nil {
			h.t.Fatal(err)
		}
		for range 2 { // the platform's: an app bound to no tenant, which only platform endpoints hear
			if err := h.st.Emit(ctx, store.Event{Type: model.EvtReleaseDone, TenantID: e.tid, AppID: e.app, Data: map[string]any{"appid": e.app}}); err != nil {
				h.t.Fatal(err)
			}
		}
		var first, second int64
		if err := h.st.R.QueryRow(`SELECT MIN(id), MAX(id) FROM webhook_deliveries WHERE endpoint_id = ?`, ep.ID).Scan(&first, &second); err != nil {
			h.t.Fatal(err)
		}
		if err := h.st.SaveAttempts(ctx, []store.AttemptResult{{DeliveryID: first, EndpointID: ep.ID, TenantID: e.tid, Attempt: 1,
			At: h.clock.Now(), Code: 200, OK: true}}); err != nil {
			h.t.Fatal(err)
		}
		pairs = append(pairs, "{wh"+e.key+"}", itoa(ep.ID), "{d"+e.key+"}", itoa(first), "{dpend"+e.key+"}", itoa(second))
	}
	return pairs
}

func webhooksScenarios() []scenario {
	const (
		tl = "/t/{A}/settings/webhooks"
		sl = "/staff/webhooks"
	)
	countEndpoints := func(tenant string, want int) func(t *testing.T, h *harness, w *world) {
		return func(t *testing.T, h *harness, w *world) {
			q, args := `SELECT COUNT(*) FROM webhook_endpoints WHERE deleted_at IS NULL AND tenant_id IS NULL`, []any{}
			if tenant == "A" {
				q, args = `SELECT COUNT(*) FROM webhook_endpoints WHERE deleted_at IS NULL AND tenant_id = ?`, []any{w.A.ID}
			}
			if n := h.count(q, args...); n != want {
				t.Errorf("%s has %d endpoints, want %d", tenant, n, want)
			}
		}
	}
	logged := func(action, object string) func(t *testing.T, h *harness, w *world) {
		return func(t *testing.T, h *harness, w *world) {
			if n := h.count(`SELECT COUNT(*) FROM activity WHERE action = ? AND object = ? AND actor_id IS NOT NULL`, action, object); n != 1 {
				t.Errorf("%d %s rows for %s, want 1", n, action, object)
			}
		}
	}
	both := func(fs ...func(t *testing.T, h *harness, w *world)) func(t *testing.T, h *harness, w *world) {
		return func(t *testing.T, h *harness, w *world) {
			for _, f := range fs {
				f(t, h, w)
			}
		}
	}
	endpointURL := func(_, want string) func(t *testing.T, h *harness, w *world) {
		return func(t *testing.T, h *harness, w *world) {
			if n := h.count(`SELECT COUNT(*) FROM webhook_endpoints WHERE url = ? AND deleted_at IS NULL`, want); n != 1 {
				t.Errorf("no live endpoint at %s", want)
			}
		}
	}
	// secretShown: the page shows a whsec_ secret that is stored sealed only.
	secretShown := func(t *testing.T, h *harness, w *world) {
		if n := h.count(`SELECT COUNT(*) FROM webhook_endpoints WHERE secret_sealed LIKE '%whsec_%'`); n != 0 {
			t.Errorf("%d secrets stored in plain text", n)
		}
	}
	pause := func(key string) func(t *testing.T, h *harness, w *world) {
		return func(t *testing.T, h *harness, w *world) {
			if _, err := h.st.W.Exec(`UPDATE webhook_endpoints SET state = 'paused', paused_at = 1, notice = 'webhooks.notice.paused' WHERE url = ?`, key); err != nil {
				t.Fatal(err)
			}
		}
	}
	state := func(url, want string) func(t *testing.T, h *harness, w *world) {
		return func(t *testing.T, h *harness, w *world) {
			if n := h.count(`SELECT COUNT(*) FROM webhook_endpoints WHERE url = ? AND state = ?`, url, want); n != 1 {
				t.Errorf("%s is not %s", url, want)
			}
		}
	}
	replayed := func(_ string, want int) func(t *testing.T, h *harness, w *world) {
		return func(t *testing.T, h *harness, w *world) {
			if n := h.count(`SELECT COUNT(*) FROM webhook_deliveries WHERE replay_of IS NOT NULL`); n != want {
				t.Errorf("%d replays, want %d", n, want)
			}
		}
	}
	valid := form("url", "http://127.0.0.1:9/hooks/new", "description", "订单系统", "events", "audit.success", "events", "release.done")
	edit := form("url", "http://127.0.0.1:9/hooks/edited", "events", "app.authorized")

	rows := []scenario{
		// tenant scope: the list, reached from the tenant's nav
		{name: "webhooks list as tenant owner", method: "GET", url: tl, who: "ownerA", status: 200,
			want:    []string{hookURLA, `data-testid="webhook-form"`, `data-testid="nav-webhooks"`, "t:webhooks.event.wechat.push"},
			notWant: []string{hookURLB, hookURLP}},
		{name: "webhooks list shows a paused endpoint's notice", method: "GET", url: tl, who: "ownerA", status: 200, setup: pause(hookURLA),
			want: []string{`data-testid="webhook-paused-notice-{whA}"`, "t:webhooks.state.paused"}},
		{name: "webhooks list anonymous", method: "GET", url: tl, who: "anon", status: 303, loc: "/login?next="},
		{name: "webhooks list as another tenant's owner", method: "GET", url: tl, who: "ownerB", status: 404, notWant: []string{hookURLA}},
		{name: "create endpoint as tenant owner shows the secret once", method: "POST", url: tl, form: valid, who: "ownerA", status: 200,
			want:  []string{`data-testid="webhook-secret"`, "whsec_", "t:webhooks.secret_once"},
			check: both(countEndpoints("A", 2), secretShown, logged(store.ActWebhookCreate, "http://127.0.0.1:9/hooks/new"), endpointURL("", "http://127.0.0.1:9/hooks/new"))},
		{name: "create endpoint without events keeps what was typed", method: "POST", url: tl, who: "ownerA", status: 422,
			form: form("url", "http://127.0.0.1:9/hooks/typed", "description", "备注保留"),
			want: []string{"t:webhooks.err.events_none", "http://127.0.0.1:9/hooks/typed", "备注保留"}, check: countEndpoints("A", 1)},
		{name: "create endpoint with a bad URL", method: "POST", url: tl, who: "ownerA", status: 422,
			form: form("url", "ftp://files.example.com/x", "events", "release.done"), want: []string{"t:webhooks.err.url_invalid", `checked`}, check: countEndpoints("A", 1)},
		{name: "create endpoint with an unknown event", method: "POST", url: tl, who: "ownerA", status: 422,
			form: form("url", "http://127.0.0.1:9/x", "events", "secrets.leak"), want: []string{"t:webhooks.err.events_unknown"}},
		{name: "create endpoint with a control character", method: "POST", url: tl, who: "ownerA", status: 422,
			form: form("url", "http://127.0.0.1:9/x", "description", "a\x1bb", "events", "release.done"), want: []string{"t:form.unsafe_text"}},
		// one endpoint: the delivery log with replay
		{name: "endpoint page as tenant owner", method: "GET", url: tl + "/{whA}", who: "ownerA", status: 200,
			want:    []string{hookURLA, `data-testid="delivery-{dA}"`, `data-testid="delivery-replay-{dA}"`, `data-testid="delivery-{dpendA}"`, "t:webhooks.delivery.delivered", "200"},
			notWant: []string{`data-testid="delivery-replay-{dpendA}"`, hookURLB}},
		{name: "endpoint page of another tenant's endpoint", method: "GET", url: tl + "/{whB}", who: "ownerA", status: 404, notWant: []string{hookURLB}},
		{name: "endpoint page of the platform's endpoint from a tenant", method: "GET", url: tl + "/{whP}", who: "ownerA", status: 404, notWant: []string{hookURLP}},
		{name: "endpoint page paused shows the notice and resume", method: "GET", url: tl + "/{whA}", who: "ownerA", status: 200, setup: pause(hookURLA),
			want: []string{`data-testid="webhook-paused"`, "t:webhooks.notice.paused", `data-testid="webhook-resume"`}},
		{name: "save endpoint as tenant owner", method: "POST", url: tl + "/{whA}", form: edit, who: "ownerA", status: 303,
			loc: tl + "/{whA}?flash=webhooks.saved", check: both(endpointURL("", "http://127.0.0.1:9/hooks/edited"), logged(store.ActWebhookUpdate, "http://127.0.0.1:9/hooks/edited"))},
		{name: "save endpoint with no events", method: "POST", url: tl + "/{whA}", form: form("url", "http://127.0.0.1:9/hooks/edited"), who: "ownerA", status: 422,
			want: []string{"t:webhooks.err.events_none", "http://127.0.0.1:9/hooks/edited"}, check: endpointURL("", hookURLA)},
		{name: "save another tenant's endpoint", method: "POST", url: tl + "/{whB}", form: edit, who: "ownerA", status: 404, check: endpointURL("", hookURLB)},
		{name: "delete endpoint as tenant owner", method: "POST", url: tl + "/{whA}/delete", who: "ownerA", status: 303, loc: tl + "?flash=webhooks.deleted",
			check: both(countEndpoints("A", 0), logged(store.ActWebhookDelete, hookURLA), func(t *testing.T, h *harness, w *world) {
				if n := h.count(`SELECT COUNT(*) FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE e.url = ? AND d.state = 'pending'`, hookURLA); n != 0 {
					t.Errorf("%d deliveries still pending for a deleted endpoint", n)
				}
			})},
		{name: "delete another tenant's endpoint", method: "POST", url: tl + "/{whB}/delete", who: "ownerA", status: 404, check: endpointURL("", hookURLB)},
		{name: "resume a paused endpoint", method: "POST", url: tl + "/{whA}/resume", who: "ownerA", status: 303, setup: pause(hookURLA),
			loc: tl + "/{whA}?flash=webhooks.resumed", check: both(state(hookURLA, model.EndpointActive), logged(store.ActWebhookResume, hookURLA))},
		{name: "resume an active endpoint", method: "POST", url: tl + "/{whA}/resume", who: "ownerA", status: 303, loc: tl + "/{whA}?flash=webhooks.not_paused"},
		{name: "resume another tenant's endpoint", method: "POST", url: tl + "/{whB}/resume", who: "ownerA", status: 404, setup: pause(hookURLB), check: state(hookURLB, model.EndpointPaused)},
		{name: "rotate the secret as tenant owner", method: "POST", url: tl + "/{whA}/rotate", who: "ownerA", status: 200,
			want: []string{`data-testid="webhook-secret"`, "whsec_"}, check: both(secretShown, logged(store.ActWebhookRotated, hookURLA))},
		{name: "rotate another tenant's secret", method: "POST", url: tl + "/{whB}/rotate", who: "ownerA", status: 404, notWant: []string{"whsec_"}},
		{name: "replay a delivered event", method: "POST", url: tl + "/{whA}/deliveries/{dA}/replay", who: "ownerA", status: 303,
			loc: tl + "/{whA}?flash=webhooks.replayed", check: both(replayed("{dA}", 1), logged(store.ActWebhookReplay, hookURLA))},
		{name: "replay a pending delivery", method: "POST", url: tl + "/{whA}/deliveries/{dpendA}/replay", who: "ownerA", status: 303,
			loc: tl + "/{whA}?flash=webhooks.replay_pending", check: replayed("", 0)},
		{name: "replay another tenant's delivery through own endpoint", method: "POST", url: tl + "/{whA}/deliveries/{dB}/replay", who: "ownerA", status: 404, check: replayed("", 0)},
		{name: "replay another tenant's delivery", method: "POST", url: tl + "/{whB}/deliveries/{dB}/replay", who: "ownerA", status: 404, check: replayed("", 0)},

		// staff scope: the platform's endpoints, from the staff nav
		{name: "staff webhooks as staff admin", method: "GET", url: sl, who: "staffadmin", status: 200,
			want: []string{hookURLP, `data-testid="nav-staff-webhooks"`, "t:webhooks.staff_title"}, notWant: []string{hookURLA, hookURLB}},
		{name: "staff create endpoint", method: "POST", url: sl, form: valid, who: "staffadmin", status: 200,
			want: []string{`data-testid="webhook-secret"`}, check: both(countEndpoints("P", 2), secretShown)},
		{name: "staff create endpoint with a bad URL", method: "POST", url: sl, form: form("url", "not a url", "events", "release.done"), who: "staffadmin", status: 422,
			want: []string{"t:webhooks.err.url_invalid", "not a url"}},
		{name: "staff endpoint page", method: "GET", url: sl + "/{whP}", who: "staffadmin", status: 200,
			want: []string{hookURLP, `data-testid="delivery-replay-{dP}"`}},
		{name: "staff endpoint page of a tenant's endpoint", method: "GET", url: sl + "/{whA}", who: "staffadmin", status: 404, notWant: []string{hookURLA}},
		{name: "staff save endpoint", method: "POST", url: sl + "/{whP}", form: edit, who: "staffadmin", status: 303, loc: sl + "/{whP}?flash=webhooks.saved"},
		{name: "staff save a tenant's endpoint", method: "POST", url: sl + "/{whA}", form: edit, who: "staffadmin", status: 404, check: endpointURL("", hookURLA)},
		{name: "staff delete endpoint", method: "POST", url: sl + "/{whP}/delete", who: "staffadmin", status: 303, loc: sl + "?flash=webhooks.deleted", check: countEndpoints("P", 0)},
		{name: "staff delete a tenant's endpoint", method: "POST", url: sl + "/{whA}/delete", who: "staffadmin", status: 404, check: countEndpoints("A", 1)},
		{name: "staff resume endpoint", method: "POST", url: sl + "/{whP}/resume", who: "staffadmin", status: 303, setup: pause(hookURLP), check: state(hookURLP, model.EndpointActive)},
		{name: "staff resume a tenant's endpoint", method: "POST", url: sl + "/{whA}/resume", who: "staffadmin", status: 404, setup: pause(hookURLA), check: state(hookURLA, model.EndpointPaused)},
		{name: "staff rotate secret", method: "POST", url: sl + "/{whP}/rotate", who: "staffadmin", status: 200, want: []string{"whsec_"}},
		{name: "staff rotate a tenant's secret", method: "POST", url: sl + "/{whA}/rotate", who: "staffadmin", status: 404},
		{name: "staff replay", method: "POST", url: sl + "/{whP}/deliveries/{dP}/replay", who: "staffadmin", status: 303, check: replayed("", 1)},
		{name: "staff replay a tenant's delivery", method: "POST", url: sl + "/{whA}/deliveries/{dA}/replay", who: "staffadmin", status: 404, check: replayed("", 0)},
		{name: "staff webhooks anonymous", method: "GET", url: sl, who: "anon", status: 303, loc: "/login?next="},

		// metrics
		{name: "metrics without a token", method: "GET", url: "/metrics", who: "anon", status: 401, notWant: []string{"minifleet_"}},
		{name: "metrics with a wrong token", method: "GET", url: "/metrics", who: "anon", status: 401, opt: withHeader("Authorization", "Bearer wrong-token-0000000000")},
		{name: "metrics as a signed-in staff admin without the token", method: "GET", url: "/metrics", who: "staffadmin", status: 401},
		{name: "metrics with the token", method: "GET", url: "/metrics", who: "anon", status: 200, opt: withHeader("Authorization", "Bearer "+testMetricsToken),
			want: []string{"minifleet_webhook_outbox_pending 3", `minifleet_releases{state=`, "minifleet_http_requests_total{", "minifleet_store_scrape_error 0"}},
	}
	// Everyone else is refused on every route of both scopes, and nothing changes.
	tenantRefused := []string{"developerA", "approverA", "viewerA"}
	staffRefused := []string{"staffoperator", "staffsupport", "staffapprover", "ownerA"}
	for _, r := range []struct {
		method, path string
		form         map[string][]string
	}{
		{"GET", "", nil}, {"POST", "", valid}, {"GET", "/{wh}", nil}, {"POST", "/{wh}", edit}, {"POST", "/{wh}/delete", nil},
		{"POST", "/{wh}/resume", nil}, {"POST", "/{wh}/rotate", nil}, {"POST", "/{wh}/deliveries/{d}/replay", nil},
	} {
		for _, who := range tenantRefused {
			p := strings.NewReplacer("{wh}", "{whA}", "{d}", "{dA}").Replace(r.path)
			rows = append(rows, scenario{name: r.method + " " + tl + p + " as " + who, method: r.method, url: tl + p, form: r.form, who: who, status: 403,
				notWant: []string{hookURLA, "whsec_"}})
		}
		for _, who := range staffRefused {
			p := strings.NewReplacer("{wh}", "{whP}", "{d}", "{dP}").Replace(r.path)
			rows = append(rows, scenario{name: r.method + " " + sl + p + " as " + who, method: r.method, url: sl + p, form: r.form, who: who, status: 403,
				notWant: []string{hookURLP, "whsec_"}})
		}
	}
	return rows
}
