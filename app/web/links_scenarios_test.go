package web

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/store"
)

func TestLinksScenarios(t *testing.T) { runScenarios(t, linksScenarios()) }

// livePages are the pages of {appLive}'s released version in the sandbox.
var livePages = []string{"pages/index/index", "pages/shop/shop"}

// linksPrep runs linksFixture for the links rows only (each row's world is
// fresh; a global fixture would cost every scenario of the package two
// WeChat calls).
func linksPrep(h *harness, _ *client, f *fixture) []string { return linksFixture(h, f.world) }

// linksFixture: hubFixture's {appLive} (1.0.0 released in Minifleet) gets
// its released version in the sandbox too, with two pages; H's developer
// made a URL Link to the shop page (valid 7 days) and a 小程序码. The
// merchant set one business domain in WeChat themselves.
func linksFixture(h *harness, w *world) []string {
	ctx := context.Background()
	tid, appID := hubApp(h.t, h)
	sandboxOf(h).ReleaseForTest(appID, "1.0.0", livePages)
	sandboxOf(h).SetWebviewDomains(appID, []string{"https://merchant.example.com"})
	sandboxOf(h).SetServerDomains(appID, "requestdomain", []string{"https://merchant-api.example.com"})
	dev := model.Actor{UserID: w.users["developerH"].ID, Label: "developer@h.test"}
	lid, err := h.srv.Releases.CreateLink(ctx, dev, tid, appID, platform.LinkInput{Kind: store.LinkURLLink, Path: "pages/shop/shop", Query: "id=7", ExpireDays: 7})
	if err != nil {
		h.t.Fatal(err)
	}
	cid, err := h.srv.Releases.CreateWxaCode(ctx, dev, tid, appID, platform.WxaCodeInput{Page: "pages/index/index", Scene: "shop=12"})
	if err != nil {
		h.t.Fatal(err)
	}
	return []string{"{linkH}", itoa(lid), "{codeH}", itoa(cid)}
}

func linksCount(n int, kind string) func(t *testing.T, h *harness, w *world) {
	return func(t *testing.T, h *harness, w *world) {
		t.Helper()
		if got := h.count(`SELECT COUNT(*) FROM app_links WHERE kind = ?`, kind); got != n {
			t.Errorf("%d %s rows, want %d", got, kind, n)
		}
	}
}

func webviewIs(want ...string) func(t *testing.T, h *harness, w *world) {
	return func(t *testing.T, h *harness, w *world) {
		t.Helper()
		_, appID := hubApp(t, h)
		if got := sandboxOf(h).WebviewDomains(appID); !slices.Equal(got, want) {
			t.Errorf("WeChat's business domains %v, want %v", got, want)
		}
	}
}

func inject(api string, code int) func(t *testing.T, h *harness, w *world) {
	return func(t *testing.T, h *harness, w *world) { sandboxOf(h).InjectError(api, code, 3) }
}

func linksScenarios() []scenario {
	app := "/t/{H}/apps/{appLive}"
	links := app + "/links"
	link := links + "/{linkH}"
	codes := app + "/wxacodes"
	png := codes + "/{codeH}/png"
	domains := app + "/domains"
	mk := func(kv ...string) map[string][]string {
		base := []string{"kind", "urllink", "path", "pages/index/index", "query", "from=sms", "env_version", "release", "expire_mode", "days", "expire_days", "30"}
		f := form(base...)
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}
	var rows []scenario
	// The 链接 tab: every member sees the links; owners and developers make them.
	for _, who := range []string{"ownerH", "developerH"} {
		rows = append(rows, scenario{name: "links tab " + who, method: "GET", url: links, who: who, status: 200,
			want: []string{`data-testid="tab-links"`, `aria-current="page"`, `data-testid="links-live"`, `data-testid="link-{linkH}"`, "https://wxaurl.cn/",
				`data-testid="link-qr-{linkH}"`, `<svg`, `data-copy="#link-text-{linkH}"`, "pages/shop/shop?id=7", "developer@h.test",
				`data-testid="link-form"`, `data-testid="wxacode-form"`, `src="/t/{H}/apps/{appLive}/wxacodes/{codeH}/png"`, `href="/t/{H}/apps/{appLive}/links/{linkH}"`}})
	}
	for _, who := range []string{"approverH", "viewerH"} {
		rows = append(rows, scenario{name: "links tab " + who + " sees, cannot make", method: "GET", url: links, who: who, status: 200,
			want: []string{`data-testid="link-{linkH}"`, `data-testid="link-qr-{linkH}"`}, notWant: []string{`data-testid="link-form"`, `data-testid="wxacode-form"`}})
	}
	rows = append(rows,
		scenario{name: "links tab of an app not released says so", method: "GET", url: "/t/{H}/apps/{appFresh}/links", who: "ownerH", status: 200,
			want: []string{`data-testid="links-not-released"`, "t:link.empty"}, notWant: []string{`data-testid="link-form"`, `data-testid="link-{linkH}"`}},
		scenario{name: "links tab from B", method: "GET", url: links, who: "ownerB", status: 404, notWant: []string{"wxaurl.cn"}},
		scenario{name: "links tab anonymous", method: "GET", url: links, who: "anon", status: 303, loc: "/login"},
		scenario{name: "hub links to the links tab", method: "GET", url: app, who: "viewerH", status: 200, want: []string{`href="/t/{H}/apps/{appLive}/links"`}},

		// Making links.
		scenario{name: "make a URL Link", method: "POST", url: links, form: mk("path", "/pages/index/index", "query", "id=8"), who: "developerH", status: 303,
			loc: "/t/{H}/apps/{appLive}/links?flash=link.created",
			check: both(linksCount(2, "urllink"), activityHas("link_created", "urllink pages/index/index"), func(t *testing.T, h *harness, w *world) {
				if h.count(`SELECT COUNT(*) FROM app_links WHERE query = 'id=8' AND link LIKE 'https://wxaurl.cn/%' AND expires_at > 0`) != 1 {
					t.Error("the URL Link WeChat made is not recorded with its expiry")
				}
			})},
		scenario{name: "make a URL Scheme", method: "POST", url: links, who: "ownerH", status: 303, form: mk("kind", "scheme", "expire_days", "1"),
			check: both(linksCount(1, "scheme"), func(t *testing.T, h *harness, w *world) {
				if h.count(`SELECT COUNT(*) FROM app_links WHERE kind = 'scheme' AND link LIKE 'weixin://dl/business/?t=%' AND expires_at = ?`, h.clock.Now().Add(24*time.Hour).Unix()) != 1 {
					t.Error("no weixin:// scheme recorded with its one-day expiry")
				}
			})},
		scenario{name: "make a URL Scheme expiring after 30 days is refused", method: "POST", url: links, who: "ownerH", status: 422,
			form: mk("kind", "scheme", "expire_mode", "time", "expire_at", "2027-01-01T00:00"),
			want: []string{`data-testid="error-expire"`, "t:link.err.expire_time", `value="2027-01-01T00:00"`}, check: linksCount(0, "scheme")},
		scenario{name: "make a permanent Short Link", method: "POST", url: links, form: mk("kind", "shortlink", "title", "春季上新", "permanent", "1"), who: "developerH", status: 303,
			check: func(t *testing.T, h *harness, w *world) {
				if h.count(`SELECT COUNT(*) FROM app_links WHERE kind = 'shortlink' AND expires_at = 0 AND link LIKE '#小程序://%'`) != 1 {
					t.Error("no permanent Short Link recorded")
				}
			}},
		scenario{name: "make a link viewer", method: "POST", url: links, form: mk(), who: "viewerH", status: 403, check: linksCount(1, "urllink")},
		scenario{name: "make a link approver", method: "POST", url: links, form: mk(), who: "approverH", status: 403, check: linksCount(1, "urllink")},
		scenario{name: "make a link from B", method: "POST", url: links, form: mk(), who: "ownerB", status: 404, check: linksCount(1, "urllink")},
		scenario{name: "make a link to a page the live version lacks (40165)", method: "POST", url: links, form: mk("path", "pages/gone/gone"), who: "developerH", status: 422,
			want: []string{`data-testid="error-path"`, "t:link.err.40165", `value="pages/gone/gone"`}, check: linksCount(1, "urllink")},
		scenario{name: "make a link with a query in the path", method: "POST", url: links, form: mk("path", "pages/shop/shop?id=1"), who: "developerH", status: 422,
			want: []string{"t:link.err.path_query", `value="pages/shop/shop?id=1"`}, check: linksCount(1, "urllink")},
		scenario{name: "make a link for 31 days", method: "POST", url: links, form: mk("expire_days", "31"), who: "developerH", status: 422,
			want: []string{`data-testid="error-expire"`, "t:link.err.expire_days", `value="31"`}, check: linksCount(1, "urllink")},
		scenario{name: "make a link with Chinese in the query", method: "POST", url: links, form: mk("query", "城市=上海"), who: "developerH", status: 422,
			want: []string{"t:link.err.query", `value="城市=上海"`}, check: linksCount(1, "urllink")},
		scenario{name: "make a link for an app not released (85079)", method: "POST", url: "/t/{H}/apps/{appFresh}/links", form: mk(), who: "developerH", status: 422,
			want: []string{"t:link.err.85079"}, check: linksCount(1, "urllink")},
		scenario{name: "make a link past the daily quota (45009)", method: "POST", url: links, form: mk(), who: "developerH", status: 422, setup: inject("generate_urllink", 45009),
			want: []string{"t:link.err.45009", `value="from=sms"`}, check: linksCount(1, "urllink")},
		scenario{name: "make links too fast (44990)", method: "POST", url: links, form: mk("kind", "scheme"), who: "developerH", status: 422, setup: inject("generatescheme", 44990),
			want: []string{"t:link.err.44990"}, check: linksCount(0, "scheme")},
		scenario{name: "make a link WeChat finds out of range (85401)", method: "POST", url: links, form: mk(), who: "developerH", status: 422, setup: inject("generate_urllink", 85401),
			want: []string{`data-testid="error-expire"`, "t:link.err.85401"}},
		scenario{name: "make a link of a personal Mini Program (40002)", method: "POST", url: links, form: mk(), who: "developerH", status: 422, setup: inject("generate_urllink", 40002),
			want: []string{"t:link.err.40002"}},

		// A link's state in WeChat.
		scenario{name: "link state as WeChat has it", method: "GET", url: link, who: "viewerH", status: 200,
			want: []string{`data-testid="link-wechat"`, `data-testid="wechat-path">pages/shop/shop id=7<`, `data-testid="remain-visits">6000000<`, `data-testid="link-qr-{linkH}"`}},
		scenario{name: "link state WeChat does not know (85403)", method: "GET", url: link, who: "ownerH", status: 200, setup: inject("query_urllink", 85403),
			want: []string{`data-testid="link-state-error"`, "t:link.err.85403"}},
		scenario{name: "link state from B", method: "GET", url: link, who: "ownerB", status: 404},
		scenario{name: "link state of another app's link", method: "GET", url: "/t/{H}/apps/{appFresh}/links/{linkH}", who: "ownerH", status: 404},
		scenario{name: "link state anonymous", method: "GET", url: link, who: "anon", status: 303, loc: "/login"},

		// 小程序码.
		scenario{name: "make a 小程序码", method: "POST", url: codes, form: form("page", "pages/shop/shop", "scene", "shop=13"), who: "developerH", status: 303,
			loc: "/t/{H}/apps/{appLive}/links?flash=wxacode.created", check: both(linksCount(2, "wxacode"), activityHas("wxacode_created", "pages/shop/shop scene=shop=13"))},
		scenario{name: "make a 小程序码 viewer", method: "POST", url: codes, form: form("page", "", "scene", "a=1"), who: "viewerH", status: 403, check: linksCount(1, "wxacode")},
		scenario{name: "make a 小程序码 from B", method: "POST", url: codes, form: form("page", "", "scene", "a=1"), who: "ownerB", status: 404, check: linksCount(1, "wxacode")},
		scenario{name: "make a 小程序码 with a 33-character scene", method: "POST", url: codes, form: form("page", "", "scene", strings.Repeat("a", 33)), who: "ownerH", status: 422,
			want: []string{`data-testid="error-scene"`, "t:link.err.scene"}, check: linksCount(1, "wxacode")},
		scenario{name: "make a 小程序码 for a page the live version lacks (41030)", method: "POST", url: codes, form: form("page", "pages/gone/gone", "scene", "a=1"), who: "ownerH", status: 422,
			want: []string{`data-testid="error-page"`, "t:link.err.40165", `value="pages/gone/gone"`}, check: linksCount(1, "wxacode")},
		scenario{name: "小程序码 PNG", method: "GET", url: png, who: "viewerH", status: 200, want: []string{"PNG"}},
		scenario{name: "小程序码 PNG from B", method: "GET", url: png, who: "ownerB", status: 404},
		scenario{name: "小程序码 PNG anonymous", method: "GET", url: png, who: "anon", status: 303, loc: "/login"},

		// Business domains: read first, preview the difference, keep the merchant's.
		scenario{name: "settings link to business domains", method: "GET", url: app + "/settings", who: "viewerH", status: 200, want: []string{`href="/t/{H}/apps/{appLive}/domains"`}},
		scenario{name: "business domains as WeChat has them", method: "GET", url: domains, who: "viewerH", status: 200,
			want:    []string{`data-testid="domains-current"`, "https://merchant.example.com", `data-testid="domains-month"`, `data-testid="domains-file"`, ".txt"},
			notWant: []string{`data-testid="domains-form"`}},
		scenario{name: "business domains from B", method: "GET", url: domains, who: "ownerB", status: 404, notWant: []string{"merchant.example.com"}},
		scenario{name: "business domains anonymous", method: "GET", url: domains, who: "anon", status: 303, loc: "/login"},
		scenario{name: "preview a business domain change", method: "POST", url: domains, form: form("add", "shop.example.com\nhttps://merchant.example.com"), who: "developerH", status: 200,
			want:  []string{`data-testid="domains-plan"`, `data-testid="plan-add"`, "https://shop.example.com", `data-testid="plan-keep"`, "t:domain.plan_already", `data-testid="domains-confirm"`},
			check: webviewIs("https://merchant.example.com")},
		scenario{name: "confirm a business domain change keeps the merchant's", method: "POST", url: domains, form: form("add", "https://shop.example.com", "confirm", "1"), who: "developerH", status: 303,
			loc:   "/t/{H}/apps/{appLive}/domains?flash=domain.changed",
			check: both(webviewIs("https://merchant.example.com", "https://shop.example.com"), activityHas("domains_changed", "webview add https://shop.example.com"))},
		scenario{name: "remove only what is asked", method: "POST", url: domains, form: form("remove", "https://merchant.example.com", "confirm", "1"), who: "ownerH", status: 303,
			check: webviewIs()},
		scenario{name: "change business domains viewer", method: "POST", url: domains, form: form("add", "shop.example.com", "confirm", "1"), who: "viewerH", status: 403, check: webviewIs("https://merchant.example.com")},
		scenario{name: "change business domains approver", method: "POST", url: domains, form: form("add", "shop.example.com", "confirm", "1"), who: "approverH", status: 403},
		scenario{name: "change business domains from B", method: "POST", url: domains, form: form("add", "shop.example.com", "confirm", "1"), who: "ownerB", status: 404, check: webviewIs("https://merchant.example.com")},
		scenario{name: "a domain with a port is refused, kept", method: "POST", url: domains, form: form("add", "http://shop.example.com:8080"), who: "developerH", status: 422,
			want: []string{`data-testid="error-add"`, "t:domain.err.format", "http://shop.example.com:8080"}, check: webviewIs("https://merchant.example.com")},
		scenario{name: "the month's changes are used up", method: "POST", url: domains, form: form("add", "shop.example.com", "confirm", "1"), who: "developerH", status: 422,
			setup: func(t *testing.T, h *harness, w *world) {
				tid, appID := hubApp(t, h)
				for range platform.MonthlyDomainChanges {
					if _, err := h.st.W.Exec(`INSERT INTO app_domain_changes (tenant_id, appid, kind, action, domains, changed_at) VALUES (?,?,'webview','add','x',?)`, tid, appID, h.clock.Now().Unix()); err != nil {
						t.Fatal(err)
					}
				}
			},
			want: []string{`data-testid="form-summary"`, "50 次的上限"}, check: webviewIs("https://merchant.example.com")},

		// Server domains per app, when the platform allows it.
		scenario{name: "staff allows per-app server domains", method: "POST", url: "/staff/settings/domains/per-app", form: form("on", "1"), who: "staffoperator", status: 303,
			loc: "/staff/settings/domains?flash=domain.per_app_saved", check: func(t *testing.T, h *harness, w *world) {
				if !h.srv.Releases.AppServerDomainsAllowed(context.Background()) {
					t.Error("the setting is still off")
				}
			}},
		scenario{name: "staff per-app server domains support refused", method: "POST", url: "/staff/settings/domains/per-app", form: form("on", "1"), who: "staffsupport", status: 403,
			check: serverAllowed(false)},
		scenario{name: "staff per-app server domains tenant owner refused", method: "POST", url: "/staff/settings/domains/per-app", form: form("on", "1"), who: "ownerH", status: 403,
			check: serverAllowed(false)},
		scenario{name: "staff domains page shows the per-app setting", method: "GET", url: "/staff/settings/domains", who: "staffsupport", status: 200,
			want: []string{`data-testid="per-app-server-domains"`, `data-testid="per-app-toggle"`}, notWant: []string{`data-testid="per-app-save"`}},
		scenario{name: "server domains hidden while the platform does not allow them", method: "GET", url: domains, who: "ownerH", status: 200,
			notWant: []string{`data-testid="server-domains"`}},
		scenario{name: "server domains change refused while off", method: "POST", url: domains + "/server", form: form("add_requestdomain", "api.shop.example.com"), who: "ownerH", status: 403},
		scenario{name: "server domains shown when allowed", method: "GET", url: domains, who: "viewerH", status: 200, setup: allowServer,
			want: []string{`data-testid="server-domains"`, `data-testid="server-current"`, "https://merchant-api.example.com", `data-testid="server-month"`}, notWant: []string{`data-testid="server-form"`}},
		scenario{name: "preview a server domain change", method: "POST", url: domains + "/server", form: form("add_requestdomain", "api.shop.example.com\nhttps://merchant-api.example.com", "add_wsrequestdomain", "ws.shop.example.com"),
			who: "developerH", status: 200, setup: allowServer,
			want:  []string{`data-testid="server-plan-add-requestdomain">https://api.shop.example.com<`, `data-testid="server-plan-add-wsrequestdomain">wss://ws.shop.example.com<`, `data-testid="server-confirm"`},
			check: serverRequestIs("https://merchant-api.example.com")},
		scenario{name: "confirm a server domain change keeps the merchant's", method: "POST", url: domains + "/server", form: form("add_requestdomain", "api.shop.example.com", "confirm", "1"),
			who: "developerH", status: 303, setup: allowServer, loc: "/t/{H}/apps/{appLive}/domains?flash=domain.server_changed",
			check: both(serverRequestIs("https://merchant-api.example.com", "https://api.shop.example.com"), activityHas("domains_changed", "server add https://api.shop.example.com"))},
		scenario{name: "a server domain with the wrong scheme is refused, kept", method: "POST", url: domains + "/server", form: form("add_wsrequestdomain", "https://ws.shop.example.com"),
			who: "developerH", status: 422, setup: allowServer, want: []string{`data-testid="error-add_wsrequestdomain"`, "https://ws.shop.example.com"}, check: serverRequestIs("https://merchant-api.example.com")},
		scenario{name: "server domains change viewer", method: "POST", url: domains + "/server", form: form("add_requestdomain", "api.shop.example.com", "confirm", "1"), who: "viewerH", status: 403, setup: allowServer,
			check: serverRequestIs("https://merchant-api.example.com")},
		scenario{name: "server domains change from B", method: "POST", url: domains + "/server", form: form("add_requestdomain", "api.shop.example.com", "confirm", "1"), who: "ownerB", status: 404, setup: allowServer,
			check: serverRequestIs("https://merchant-api.example.com")},
	)
	for i := range rows {
		rows[i].prep = linksPrep
	}
	return rows
}

func allowServer(t *testing.T, h *harness, w *world) {
	t.Helper()
	if err := h.srv.Releases.SetAppServerDomainsAllowed(context.Background(), model.SystemActor, true); err != nil {
		t.Fatal(err)
	}
}

func serverAllowed(want bool) func(t *testing.T, h *harness, w *world) {
	return func(t *testing.T, h *harness, w *world) {
		t.Helper()
		if got := h.srv.Releases.AppServerDomainsAllowed(context.Background()); got != want {
			t.Errorf("per-app server domains allowed = %v, want %v", got, want)
		}
	}
}

func serverRequestIs(want ...string) func(t *testing.T, h *harness, w *world) {
	return func(t *testing.T, h *harness, w *world) {
		t.Helper()
		_, appID := hubApp(t, h)
		if got := sandboxOf(h).ServerDomainsOf(appID)["requestdomain"]; !slices.Equal(got, want) {
			t.Errorf("WeChat's request domains %v, want %v", got, want)
		}
	}
}
