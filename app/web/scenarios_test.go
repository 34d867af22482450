package web

import (
	"context"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/authz"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
)

// scenario is one request in the pocketbase ApiScenario style. URLs and form
// values may hold placeholders: {A} {B} {C} (tenant ids), {uid:<who>},
// {inviteA} {inviteB} (pending invite ids), {tokenA} (a pending invite's token).
type scenario struct {
	name    string
	method  string
	url     string
	form    url.Values
	htmx    bool
	who     string // "anon" or a key of world.users
	status  int
	loc     string   // wanted Location header (prefix match), for redirects
	locIs   string   // wanted Location header, exactly
	quiet   bool     // nothing logged at ERROR
	want    []string // placeholders allowed; "t:<key>" means the zh-CN translation of key
	notWant []string
	check   func(t *testing.T, h *harness, w *world)
	opt     reqOpt                                   // adjusts the request, e.g. a raw WeChat push body
	setup   func(t *testing.T, h *harness, w *world) // runs after the fixture, before the request
	// prep runs with the row's signed-in client before the request (its
	// writes are not the request's) and returns more placeholder pairs,
	// e.g. an attempt this session started and its callback state.
	prep func(h *harness, c *client, f *fixture) []string
	// API rows (url under /api/): key is the bearer key (a placeholder such
	// as {keyA}, or any text), body the raw request body (placeholders
	// filled), ctype its Content-Type (application/json when empty).
	key, body, ctype string
}

// fixture is a seeded world plus the values scenarios refer to.
type fixture struct {
	*world
	inviteA, inviteB int64
	tokenA           string
	repl             *strings.Replacer
	pairs            []string // what repl replaces
}

func (h *harness) fixture() *fixture {
	h.t.Helper()
	w := h.seed()
	ctx := context.Background()
	f := &fixture{world: w}
	invA, tokA, err := h.st.CreateInvite(ctx, model.Actor{UserID: w.users["ownerA"].ID, Label: "owner@a.test"}, w.A.ID, model.RoleViewer, "note for zoe")
	if err != nil {
		h.t.Fatal(err)
	}
	invB, _, err := h.st.CreateInvite(ctx, model.Actor{UserID: w.users["ownerB"].ID, Label: "owner@b.test"}, w.B.ID, model.RoleViewer, "bravo secret note")
	if err != nil {
		h.t.Fatal(err)
	}
	f.inviteA, f.inviteB, f.tokenA = invA.ID, invB.ID, tokA
	pairs := []string{
		"{A}", itoa(w.A.ID), "{B}", itoa(w.B.ID), "{C}", itoa(w.C.ID),
		"{inviteA}", itoa(invA.ID), "{inviteB}", itoa(invB.ID), "{tokenA}", tokA,
	}
	for k, u := range w.users {
		pairs = append(pairs, "{uid:"+k+"}", itoa(u.ID))
	}
	for _, setup := range featureFixtures {
		pairs = append(pairs, setup(h, w)...)
	}
	f.repl, f.pairs = strings.NewReplacer(pairs...), pairs
	return f
}

// featureFixtures add each feature's data to the seeded world and return
// its placeholder pairs (onboarding's apps and attempts, releases …).
var featureFixtures = []func(h *harness, w *world) []string{
	onboardingFixture, realAppsFixture, releaseFixture, campaignFixture, itemsFixture, siteFilesFixture, hubFixture, approvalsFixture,
	submitFormFixture, privacyFixture, apiFixture, contentFixture, webhooksFixture,
}

// allScenarios is every feature's rows: the route coverage test reads them
// all; each feature runs its own in a test function beside it.
func allScenarios() []scenario {
	var all []scenario
	for _, rows := range [][]scenario{
		scenarios(), avatarScenarios(), onboardingScenarios(), realAppsScenarios(), releaseScenarios(),
		campaignScenarios(), settingsScenarios(), itemsScenarios(), wechatScenarios(), siteFilesScenarios(), goLiveScenarios(),
		edgeScenarios(), hubScenarios(), approvalsScenarios(), campaignApprovalScenarios(), submitFormScenarios(), privacyScenarios(),
		apiKeyScenarios(), apiScenarios(), apiWebhookScenarios(), contentScenarios(), linksScenarios(), webhooksScenarios(),
	} {
		all = append(all, rows...)
	}
	return all
}

// tr is the HTML-escaped translation of key in lang, as a page shows it.
func (h *harness) tr(lang, key string, args ...any) string {
	return html.EscapeString(h.srv.I18n.Localizer(lang, time.UTC).T(key, args...))
}

// emails of tenant A's and B's members, which must never leak across tenants.
var (
	emailsA = []string{"owner@a.test", "developer@a.test", "approver@a.test", "viewer@a.test"}
	emailsB = []string{"owner@b.test", "dev@b.test", "bravo secret note"}
	leakA   = append([]string{tenantAName}, emailsA...)
	leakB   = append([]string{tenantBName}, emailsB...)
)

func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

var tenantRolesA = []string{"ownerA", "developerA", "approverA", "viewerA"}
var staffAll = []string{"staffadmin", "staffoperator", "staffapprover", "staffsupport"}

func scenarios() []scenario {
	var sc []scenario
	add := func(s ...scenario) { sc = append(sc, s...) }

	// Public routes.
	add(
		scenario{name: "healthz", method: "GET", url: "/healthz", who: "anon", status: 200, want: []string{"ok"}},
		scenario{name: "readyz", method: "GET", url: "/readyz", who: "anon", status: 200, want: []string{"ready"}},
		scenario{name: "home anonymous goes to login", method: "GET", url: "/", who: "anon", status: 303, loc: "/login"},
		scenario{name: "home member goes to first tenant", method: "GET", url: "/", who: "ownerA", status: 303, loc: "/t/{A}"},
		scenario{name: "home staff without tenant goes to staff tenants", method: "GET", url: "/", who: "staffsupport", status: 303, loc: "/staff/tenants"},
		scenario{name: "home user without tenant", method: "GET", url: "/", who: "nobody", status: 200, want: []string{"t:home.no_tenant"}},
		scenario{name: "login form", method: "GET", url: "/login", who: "anon", status: 200, want: []string{`data-testid="login-form"`, "t:login.title"}},
		scenario{name: "login form when signed in follows next", method: "GET", url: "/login?next=/account", who: "ownerA", status: 303, loc: "/account"},
		scenario{name: "login form refuses off-site next", method: "GET", url: "/login?next=//evil.test/x", who: "ownerA", status: 303, loc: "/"},
		scenario{name: "login", method: "POST", url: "/login", form: form("email", "OWNER@a.test ", "password", testPassword, "next", "/t/{A}/members"), who: "anon", status: 303, loc: "/t/{A}/members"},
		scenario{name: "login off-site next", method: "POST", url: "/login", form: form("email", "owner@a.test", "password", testPassword, "next", "https://evil.test/"), who: "anon", status: 303, loc: "/"},
		scenario{name: "login wrong password", method: "POST", url: "/login", form: form("email", "owner@a.test", "password", "wrong password!"), who: "anon", status: 422, want: []string{"t:login.bad_credentials", `value="owner@a.test"`}},
		scenario{name: "signup form", method: "GET", url: "/signup", who: "anon", status: 200, want: []string{`data-testid="signup-form"`}},
		scenario{name: "signup", method: "POST", url: "/signup", form: form("tenant", "Delta Deli", "name", "Dan", "email", "dan@d.test", "password", "a long enough password"), who: "anon", status: 303, loc: "/t/",
			check: func(t *testing.T, h *harness, w *world) {
				ts, total, err := h.st.ListTenants(context.Background(), store.TenantFilter{Query: "dan@d.test"})
				if err != nil || total != 1 || ts[0].Name != "Delta Deli" {
					t.Fatalf("signed-up tenant: %v %d %v", ts, total, err)
				}
			}},
		scenario{name: "language switch", method: "POST", url: "/lang", form: form("lang", "en", "next", "/signup"), who: "anon", status: 303, loc: "/signup"},
		scenario{name: "language switch rejects unknown", method: "POST", url: "/lang", form: form("lang", "fr"), who: "anon", status: 422, want: []string{"t:form.invalid_choice"}},
		scenario{name: "invite page", method: "GET", url: "/invite/{tokenA}", who: "anon", status: 200, want: []string{tenantAName, `data-testid="invite-signup"`}},
		scenario{name: "invite page unknown token", method: "GET", url: "/invite/not-a-token", who: "anon", status: 404, want: []string{"t:invite.invalid"}, notWant: leakA},
		scenario{name: "invite signup and join", method: "POST", url: "/invite/{tokenA}", form: form("name", "Zoe", "email", "zoe@z.test", "password", "zoe's long password"), who: "anon", status: 303, loc: "/t/{A}?flash=invite.welcome",
			check: func(t *testing.T, h *harness, w *world) {
				u, err := h.st.UserByEmail(context.Background(), "zoe@z.test")
				if err != nil {
					t.Fatal(err)
				}
				if r := h.role(w.A.ID, u.ID); r != model.RoleViewer {
					t.Errorf("zoe's role in A = %q, want viewer", r)
				}
			}},
		scenario{name: "invite join as signed-in user", method: "POST", url: "/invite/{tokenA}", who: "nobody", status: 303, loc: "/t/{A}",
			check: func(t *testing.T, h *harness, w *world) {
				if r := h.role(w.A.ID, w.users["nobody"].ID); r != model.RoleViewer {
					t.Errorf("role in A = %q, want viewer", r)
				}
			}},
		scenario{name: "unknown path", method: "GET", url: "/no/such/page", who: "ownerA", status: 404, want: []string{"t:error.not_found"}},
	)

	// Routes for any signed-in user.
	add(
		scenario{name: "logout", method: "POST", url: "/logout", who: "ownerA", status: 303, loc: "/login"},
		scenario{name: "logout anonymous", method: "POST", url: "/logout", who: "anon", status: 303, loc: "/login?next=%2F"},
		scenario{name: "switch tenant", method: "GET", url: "/switch?tenant={A}", who: "ownerA", status: 303, loc: "/t/{A}"},
		scenario{name: "switch tenant bad id", method: "GET", url: "/switch?tenant=x", who: "ownerA", status: 303, loc: "/"},
		scenario{name: "switch anonymous", method: "GET", url: "/switch?tenant={A}", who: "anon", status: 303, loc: "/login?next="},
		scenario{name: "account page", method: "GET", url: "/account", who: "viewerA", status: 200, want: []string{`data-testid="prefs-form"`, `data-testid="password-form"`, "A viewer", `href="/t/{A}" data-testid="nav-overview"`}},
		scenario{name: "account anonymous", method: "GET", url: "/account", who: "anon", status: 303, loc: "/login?next=%2Faccount"},
		scenario{name: "change password", method: "POST", url: "/account/password", form: form("current", testPassword, "password", "a brand new password"), who: "viewerA", status: 303, loc: "/account?flash=account.password_changed"},
		scenario{name: "change password anonymous", method: "POST", url: "/account/password", form: form("current", testPassword, "password", "a brand new password"), who: "anon", status: 303, loc: "/login?next=%2F"},
		scenario{name: "preferences", method: "POST", url: "/account/preferences", form: form("locale", "en", "time_zone", "Europe/Berlin"), who: "viewerA", status: 303, loc: "/account?flash=account.saved"},
		scenario{name: "preferences anonymous", method: "POST", url: "/account/preferences", form: form("locale", "en", "time_zone", "UTC"), who: "anon", status: 303, loc: "/login?next=%2F"},
	)

	// Tenant pages: every role of A may read; B's members, staff and
	// anonymous visitors may not, and nothing of A leaks to them.
	for _, who := range tenantRolesA {
		add(
			scenario{name: "tenant home as " + who, method: "GET", url: "/t/{A}", who: who, status: 200, want: []string{tenantAName, `data-testid="my-role"`}, notWant: leakB},
			scenario{name: "members as " + who, method: "GET", url: "/t/{A}/members", who: who, status: 200, want: emailsA, notWant: leakB},
		)
	}
	for _, who := range []string{"ownerB", "memberB", "staffadmin", "nobody"} {
		add(
			scenario{name: "tenant A home as " + who, method: "GET", url: "/t/{A}", who: who, status: 404, notWant: leakA},
			scenario{name: "tenant A members as " + who, method: "GET", url: "/t/{A}/members", who: who, status: 404, notWant: leakA},
			scenario{name: "tenant A activity as " + who, method: "GET", url: "/t/{A}/activity", who: who, status: 404, notWant: leakA},
			scenario{name: "tenant A activity csv as " + who, method: "GET", url: "/t/{A}/activity.csv", who: who, status: 404, notWant: leakA},
		)
	}
	add(
		scenario{name: "tenant home anonymous", method: "GET", url: "/t/{A}", who: "anon", status: 303, loc: "/login?next=%2Ft%2F{A}"},
		scenario{name: "tenant id not a number", method: "GET", url: "/t/abc", who: "ownerA", status: 404},
		scenario{name: "tenant that does not exist", method: "GET", url: "/t/999999", who: "ownerA", status: 404},
		scenario{name: "viewer sees no edit controls", method: "GET", url: "/t/{A}/members", who: "viewerA", status: 200, notWant: []string{`data-testid="invite-form"`, `data-testid="role-select"`, "note for zoe"}},
		scenario{name: "owner sees edit controls and invites", method: "GET", url: "/t/{A}/members", who: "ownerA", status: 200, want: []string{`data-testid="invite-form"`, `data-testid="role-select"`, "note for zoe"}},
		scenario{name: "suspended tenant refuses its owner", method: "GET", url: "/t/{C}", who: "ownerC", status: 403, want: []string{"t:tenant.suspended", `data-testid="tenant-suspended"`}},
		scenario{name: "suspended tenant refuses members page", method: "GET", url: "/t/{C}/members", who: "ownerC", status: 403, want: []string{"t:tenant.suspended"}, notWant: []string{`data-testid="members"`}},
		scenario{name: "suspended tenant refuses invites", method: "POST", url: "/t/{C}/invites", form: form("role", "viewer"), who: "ownerC", status: 403, want: []string{"t:tenant.suspended"}, notWant: []string{"invite-link"}},
		scenario{name: "suspended tenant refuses role changes", method: "POST", url: "/t/{C}/members/{uid:ownerC}/role", form: form("role", "viewer"), who: "ownerC", status: 403},
	)

	// Member role changes.
	roleURL := "/t/{A}/members/{uid:developerA}/role"
	add(scenario{name: "owner changes a role", method: "POST", url: roleURL, form: form("role", "viewer"), who: "ownerA", status: 303, loc: "/t/{A}/members?flash=members.role_saved",
		check: func(t *testing.T, h *harness, w *world) {
			if r := h.role(w.A.ID, w.users["developerA"].ID); r != model.RoleViewer {
				t.Errorf("role = %q, want viewer", r)
			}
		}})
	add(scenario{name: "owner changes a role with htmx", method: "POST", url: roleURL, form: form("role", "approver"), htmx: true, who: "ownerA", status: 200,
		want: []string{`id="members"`, `data-testid="toast"`, "t:members.role_saved"}, notWant: []string{"<html"},
		check: func(t *testing.T, h *harness, w *world) {
			if r := h.role(w.A.ID, w.users["developerA"].ID); r != model.RoleApprover {
				t.Errorf("role = %q, want approver", r)
			}
		}})
	add(scenario{name: "owner sets an invalid role", method: "POST", url: roleURL, form: form("role", "emperor"), who: "ownerA", status: 422, want: []string{"t:form.role_invalid"}})
	for _, who := range []string{"developerA", "approverA", "viewerA"} {
		add(scenario{name: "role change as " + who, method: "POST", url: roleURL, form: form("role", "owner"), who: who, status: 403, want: []string{"t:error.forbidden"}})
	}
	for _, who := range []string{"ownerB", "memberB", "staffadmin"} {
		add(scenario{name: "role change in A as " + who, method: "POST", url: roleURL, form: form("role", "owner"), who: who, status: 404, notWant: leakA})
	}
	add(
		scenario{name: "role change anonymous", method: "POST", url: roleURL, form: form("role", "owner"), who: "anon", status: 303, loc: "/login?next=%2F"},
		scenario{name: "owner of B changes A's member through B", method: "POST", url: "/t/{B}/members/{uid:developerA}/role", form: form("role", "viewer"), who: "ownerB", status: 404, notWant: leakA},
	)

	// Member removal.
	removeURL := "/t/{A}/members/{uid:viewerA}/remove"
	add(scenario{name: "owner removes a member", method: "POST", url: removeURL, who: "ownerA", status: 303, loc: "/t/{A}/members?flash=members.removed",
		check: func(t *testing.T, h *harness, w *world) {
			if r := h.role(w.A.ID, w.users["viewerA"].ID); r != "" {
				t.Errorf("viewer still has role %q", r)
			}
			if h.az.Can(w.users["viewerA"].ID, authz.TenantDomain(w.A.ID), authz.Perm{Obj: "members", Act: "read"}) {
				t.Error("removed member still passes authz")
			}
		}})
	for _, who := range []string{"developerA", "approverA", "viewerA"} {
		add(scenario{name: "remove as " + who, method: "POST", url: removeURL, who: who, status: 403})
	}
	for _, who := range []string{"ownerB", "memberB"} {
		add(scenario{name: "remove in A as " + who, method: "POST", url: removeURL, who: who, status: 404, notWant: leakA})
	}
	add(
		scenario{name: "owner of B removes A's member through B", method: "POST", url: "/t/{B}/members/{uid:viewerA}/remove", who: "ownerB", status: 404, notWant: leakA},
		scenario{name: "remove anonymous", method: "POST", url: removeURL, who: "anon", status: 303, loc: "/login?next=%2F"},
	)

	// Invites.
	add(scenario{name: "owner creates an invite", method: "POST", url: "/t/{A}/invites", form: form("role", "developer", "note", "for yan"), who: "ownerA", status: 200,
		want: []string{`data-testid="invite-link"`, "http://localhost:8080/invite/", "for yan"},
		check: func(t *testing.T, h *harness, w *world) {
			if n := h.count(`SELECT COUNT(*) FROM invites WHERE tenant_id = ? AND note = 'for yan'`, w.A.ID); n != 1 {
				t.Errorf("invites = %d, want 1", n)
			}
		}})
	add(scenario{name: "owner creates an invite with htmx", method: "POST", url: "/t/{A}/invites", form: form("role", "approver"), htmx: true, who: "ownerA", status: 200,
		want: []string{`data-testid="invite-link-box"`}, notWant: []string{"<html"}})
	for _, who := range []string{"developerA", "approverA", "viewerA"} {
		add(scenario{name: "invite as " + who, method: "POST", url: "/t/{A}/invites", form: form("role", "owner"), who: who, status: 403, notWant: []string{"invite-link"}})
	}
	for _, who := range []string{"ownerB", "memberB", "staffoperator"} {
		add(scenario{name: "invite in A as " + who, method: "POST", url: "/t/{A}/invites", form: form("role", "owner"), who: who, status: 404, notWant: leakA})
	}
	add(scenario{name: "invite anonymous", method: "POST", url: "/t/{A}/invites", form: form("role", "owner"), who: "anon", status: 303, loc: "/login?next=%2F"})

	revokeURL := "/t/{A}/invites/{inviteA}/revoke"
	add(scenario{name: "owner revokes an invite", method: "POST", url: revokeURL, who: "ownerA", status: 303, loc: "/t/{A}/members?flash=invite.revoked_ok",
		check: func(t *testing.T, h *harness, w *world) {
			if n := h.count(`SELECT COUNT(*) FROM invites WHERE tenant_id = ? AND revoked_at IS NOT NULL`, w.A.ID); n != 1 {
				t.Errorf("revoked invites = %d, want 1", n)
			}
		}})
	add(scenario{name: "owner revokes an unknown invite", method: "POST", url: "/t/{A}/invites/999999/revoke", who: "ownerA", status: 404})
	add(scenario{name: "owner of A revokes B's invite through A", method: "POST", url: "/t/{A}/invites/{inviteB}/revoke", who: "ownerA", status: 404, notWant: leakB})
	for _, who := range []string{"developerA", "viewerA"} {
		add(scenario{name: "revoke as " + who, method: "POST", url: revokeURL, who: who, status: 403})
	}
	add(
		scenario{name: "revoke in A as ownerB", method: "POST", url: revokeURL, who: "ownerB", status: 404, notWant: leakA},
		scenario{name: "owner of B revokes A's invite through B", method: "POST", url: "/t/{B}/invites/{inviteA}/revoke", who: "ownerB", status: 404, notWant: leakA},
		scenario{name: "revoke anonymous", method: "POST", url: revokeURL, who: "anon", status: 303, loc: "/login?next=%2F"},
	)

	// Tenant activity: owners only.
	add(
		scenario{name: "owner reads activity", method: "GET", url: "/t/{A}/activity", who: "ownerA", status: 200, want: []string{`data-testid="activity"`, "developer@a.test"}, notWant: leakB},
		scenario{name: "owner filters activity", method: "GET", url: "/t/{A}/activity?action=invite_accepted&q=viewer", who: "ownerA", status: 200, want: []string{"viewer@a.test"}, notWant: []string{"developer@a.test"}},
		scenario{name: "owner exports activity", method: "GET", url: "/t/{A}/activity.csv", who: "ownerA", status: 200, want: []string{"id,time,tenant_id,actor,action", "developer@a.test"}, notWant: leakB},
	)
	for _, who := range []string{"developerA", "approverA", "viewerA"} {
		add(
			scenario{name: "activity as " + who, method: "GET", url: "/t/{A}/activity", who: who, status: 403, notWant: []string{`data-testid="activity"`}},
			scenario{name: "activity csv as " + who, method: "GET", url: "/t/{A}/activity.csv", who: who, status: 403, notWant: []string{"id,time"}},
		)
	}

	// Staff pages.
	for _, who := range staffAll {
		add(
			scenario{name: "staff tenants as " + who, method: "GET", url: "/staff/tenants", who: who, status: 200, want: []string{tenantAName, tenantBName, tenantCName}},
			scenario{name: "staff tenant detail as " + who, method: "GET", url: "/staff/tenants/{A}", who: who, status: 200, want: emailsA},
			// Searched: the first page holds only the newest 50 rows of every tenant's fixtures.
			scenario{name: "staff activity as " + who, method: "GET", url: "/staff/activity?q=owner%40b.test", who: who, status: 200, want: []string{`data-testid="activity"`, "owner@b.test"}},
			scenario{name: "staff activity csv as " + who, method: "GET", url: "/staff/activity.csv", who: who, status: 200, want: []string{"owner@a.test", "owner@b.test"}},
		)
	}
	add(
		scenario{name: "staff search by member e-mail", method: "GET", url: "/staff/tenants?q=dev@b.test", who: "staffsupport", status: 200, want: []string{tenantBName}, notWant: []string{tenantAName, tenantCName}},
		scenario{name: "staff filter suspended", method: "GET", url: "/staff/tenants?status=suspended", who: "staffsupport", status: 200, want: []string{tenantCName}, notWant: []string{tenantAName, tenantBName}},
		scenario{name: "staff search by id", method: "GET", url: "/staff/tenants?q={B}", who: "staffsupport", status: 200, want: []string{tenantBName}, notWant: []string{tenantAName}},
		scenario{name: "staff tenant that does not exist", method: "GET", url: "/staff/tenants/999999", who: "staffadmin", status: 404},
		scenario{name: "support sees no status form", method: "GET", url: "/staff/tenants/{A}", who: "staffsupport", status: 200, notWant: []string{`data-testid="suspend"`}},
		scenario{name: "admin sees the status form", method: "GET", url: "/staff/tenants/{A}", who: "staffadmin", status: 200, want: []string{`data-testid="suspend"`}},
	)
	statusURL := "/staff/tenants/{B}/status"
	for _, who := range []string{"staffadmin", "staffoperator"} {
		add(scenario{name: "suspend as " + who, method: "POST", url: statusURL, form: form("status", "suspended", "reason", "fraud check"), who: who, status: 303, loc: "/staff/tenants/{B}?flash=tenant.status_saved",
			check: func(t *testing.T, h *harness, w *world) {
				if s := h.tenantStatus(w.B.ID); s != model.TenantSuspended {
					t.Errorf("status = %q, want suspended", s)
				}
				c := h.client().login("owner@b.test")
				wantStatus(t, "suspended tenant's owner", c.get("/t/"+itoa(w.B.ID)), 403)
				r := h.client().login("support@staff.test").get("/staff/tenants/" + itoa(w.B.ID))
				mustContain(t, "the reason is shown to staff", r, `data-testid="suspension"`, "fraud check")
			}})
	}
	add(scenario{name: "reactivate with htmx", method: "POST", url: "/staff/tenants/{C}/status", form: form("status", "active"), htmx: true, who: "staffadmin", status: 200,
		want: []string{`data-testid="tenant-status"`, `data-testid="toast"`}, notWant: []string{"<html"},
		check: func(t *testing.T, h *harness, w *world) {
			if s := h.tenantStatus(w.C.ID); s != model.TenantActive {
				t.Errorf("status = %q, want active", s)
			}
		}})
	add(scenario{name: "suspend without a reason", method: "POST", url: statusURL, form: form("status", "suspended"), who: "staffadmin", status: 422, want: []string{"t:form.required"}})
	add(scenario{name: "suspend an unknown tenant", method: "POST", url: "/staff/tenants/999999/status", form: form("status", "suspended", "reason", "x"), who: "staffadmin", status: 404})
	for _, who := range []string{"staffapprover", "staffsupport", "ownerB", "ownerA", "nobody"} {
		add(scenario{name: "suspend as " + who, method: "POST", url: statusURL, form: form("status", "suspended", "reason", "x"), who: who, status: 403, want: []string{"t:error.forbidden"}})
	}
	add(scenario{name: "suspend anonymous", method: "POST", url: statusURL, form: form("status", "suspended", "reason", "x"), who: "anon", status: 303, loc: "/login?next=%2F"})
	for who, others := range map[string][]string{"ownerA": {tenantBName, tenantCName}, "memberB": {tenantAName, tenantCName}, "nobody": {tenantAName, tenantBName, tenantCName}} {
		add(
			scenario{name: "staff tenants as " + who, method: "GET", url: "/staff/tenants", who: who, status: 403, notWant: others},
			scenario{name: "staff tenant detail as " + who, method: "GET", url: "/staff/tenants/{C}", who: who, status: 403, notWant: []string{tenantCName, "owner@c.test"}},
			scenario{name: "staff activity as " + who, method: "GET", url: "/staff/activity", who: who, status: 403, notWant: []string{"owner@c.test"}},
			scenario{name: "staff activity csv as " + who, method: "GET", url: "/staff/activity.csv", who: who, status: 403, notWant: []string{"owner@c.test"}},
		)
	}
	add(
		scenario{name: "staff tenants anonymous", method: "GET", url: "/staff/tenants", who: "anon", status: 303, loc: "/login?next=%2Fstaff%2Ftenants"},
		scenario{name: "staff activity anonymous", method: "GET", url: "/staff/activity.csv", who: "anon", status: 303, loc: "/login?next=%2F"},
	)
	return sc
}

func (s scenario) emailOf(f *fixture) string {
	if s.who == "anon" {
		return ""
	}
	u, ok := f.users[s.who]
	if !ok {
		panic("scenario " + s.name + ": unknown who " + s.who)
	}
	return u.Email
}

// expand fills placeholders and turns "t:<key>" into the zh-CN translation.
func expand(h *harness, f *fixture, s string) string {
	if k, ok := strings.CutPrefix(s, "t:"); ok {
		return h.tr("zh-CN", k)
	}
	return f.repl.Replace(s)
}

func runScenario(t *testing.T, s scenario) {
	h := newHarness(t)
	f := h.fixture()
	c := h.client()
	if e := s.emailOf(f); e != "" {
		c.login(e)
	} else {
		c.token()
	}
	if s.prep != nil {
		f.pairs = append(f.pairs, s.prep(h, c, f)...)
		f.repl = strings.NewReplacer(f.pairs...)
	}
	var fv url.Values
	if s.form != nil {
		fv = url.Values{}
		for k, vs := range s.form {
			for _, v := range vs {
				fv.Add(k, f.repl.Replace(v))
			}
		}
	}
	if s.setup != nil {
		s.setup(t, h, f.world)
	}
	before, beforeAPI := h.dbState(), apiState(h)
	var opts []reqOpt
	if s.htmx {
		opts = append(opts, c.htmx())
	}
	if s.opt != nil {
		opts = append(opts, s.opt)
	}
	target := f.repl.Replace(s.url)
	var r response
	switch {
	case strings.HasPrefix(s.url, "/api/"):
		r = c.do(s.method, target, nil, append(opts, apiRequest(f.repl.Replace(s.key), f.repl.Replace(s.body), s.ctype))...)
	case s.method == "GET":
		r = c.get(target, opts...)
	default:
		r = c.post(target, fv, opts...)
	}
	if r.Status != s.status {
		t.Fatalf("%s %s as %s: status %d, want %d (Location %q)\n%s", s.method, target, s.who, r.Status, s.status, r.Location(), r.Body)
	}
	if s.loc != "" {
		if want := expand(h, f, s.loc); !strings.HasPrefix(r.Location(), want) {
			t.Errorf("Location = %q, want prefix %q", r.Location(), want)
		}
	}
	if s.locIs != "" {
		if want := expand(h, f, s.locIs); r.Location() != want {
			t.Errorf("Location = %q, want exactly %q", r.Location(), want)
		}
	}
	if s.quiet {
		if logs := h.logs.String(); strings.Contains(logs, "level=ERROR") {
			t.Errorf("logged at ERROR:\n%s", logs)
		}
	}
	for _, w := range s.want {
		mustContain(t, s.name, r, expand(h, f, w))
	}
	for _, n := range s.notWant {
		mustNotContain(t, s.name, r, expand(h, f, n))
	}
	if r.Status >= 400 || strings.HasPrefix(r.Location(), "/login?next") {
		// A refused request changes nothing (a failed login only counts the failure).
		if after := h.dbState(); after != before && !(s.url == "/login" && r.Status == 422) {
			t.Errorf("refused request changed the database:\nbefore %s\nafter  %s", before, after)
		}
		if after := apiState(h); after != beforeAPI && (strings.HasPrefix(s.url, "/api/") || strings.Contains(s.url, "api-keys")) {
			t.Errorf("refused request changed the API's tables:\nbefore %s\nafter  %s", beforeAPI, after)
		}
	}
	if r.Status >= 400 {
		// Every refusal is localized, never a bare translation key.
		mustNotContain(t, s.name, r, "error.forbidden", "error.not_found", "error.csrf")
	}
	if s.check != nil {
		s.check(t, h, f.world)
	}
}

// TestScenarios runs the accounts, tenants and staff rows.
func TestScenarios(t *testing.T) { runScenarios(t, scenarios()) }

// runScenarios runs each row on its own harness, in parallel.
func runScenarios(t *testing.T, rows []scenario) {
	for _, s := range rows {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			runScenario(t, s)
		})
	}
}

// TestScenariosCoverEveryRoute fails when a route has no allowed scenario,
// or a guarded route has no refused one.
func TestScenariosCoverEveryRoute(t *testing.T) {
	h := newHarness(t)
	type cover struct{ allowed, denied bool }
	got := map[string]*cover{}
	var pats []*regexp.Regexp
	routes := h.srv.Routes()
	for _, r := range routes {
		p := regexp.MustCompile(`:[a-z]+`).ReplaceAllString(regexp.QuoteMeta(r.Path), `[^/]+`)
		pats = append(pats, regexp.MustCompile("^"+r.Method+" "+p+"$"))
		got[r.Method+" "+r.Path] = &cover{}
	}
	for _, s := range allScenarios() {
		path, _, _ := strings.Cut(strings.NewReplacer("{", "", "}", "", ":", "").Replace(s.url), "?")
		key := s.method + " " + path
		matched := false
		for i, p := range pats {
			if p.MatchString(key) {
				c := got[routes[i].Method+" "+routes[i].Path]
				if s.status < 400 && !strings.HasPrefix(s.loc, "/login?next") {
					c.allowed = true
				} else {
					c.denied = true
				}
				matched = true
				break
			}
		}
		if !matched && s.status != 404 {
			t.Errorf("scenario %q (%s) matches no route", s.name, key)
		}
	}
	for _, r := range routes {
		c := got[r.Method+" "+r.Path]
		if !c.allowed {
			t.Errorf("%s %s: no scenario where it is allowed (add one to scenarios())", r.Method, r.Path)
		}
		if r.Scope != Public && !c.denied {
			t.Errorf("%s %s: no scenario where it is refused (add one to scenarios())", r.Method, r.Path)
		}
	}
}
