package web

import (
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/filesystem"

	"github.com/minifleet/minifleet/app/authz"
	"github.com/minifleet/minifleet/static"
)

// Scope says who may reach a route before its permission is checked.
type Scope int

const (
	Public   Scope = iota // anyone; must be listed in publicRoutes
	User                  // any signed-in user (permission: self)
	Tenant                // a member of the tenant in :tid, with Perm in that tenant's domain
	Platform              // staff, with Perm in the platform domain
)

// PermSelf is the permission of routes about the signed-in user's own account.
var PermSelf = authz.Perm{Obj: "self", Act: "any"}

// Route is one row of the route table.
type Route struct {
	Method  string
	Path    string
	Scope   Scope
	Perm    authz.Perm
	Handler fiber.Handler
}

// publicRoutes is the explicit list of routes reachable without signing in.
var publicRoutes = map[string]bool{
	"GET /healthz":        true,
	"GET /readyz":         true,
	"GET /login":          true,
	"POST /login":         true,
	"GET /signup":         true,
	"POST /signup":        true,
	"POST /lang":          true,
	"GET /invite/:token":  true,
	"POST /invite/:token": true,
	"GET /":               true, // redirects by who is asking

	// WeChat's pushes: signed and encrypted, verified by the platform.
	"POST /wechat/component/events":   true,
	"POST /wechat/apps/:appid/events": true,
}

// Routes is the one route table: WeChat's pushes, then the browser's pages.
func (s *Server) Routes() []Route { return append(s.pushRoutes(), s.pageRoutes()...) }

// pushRoutes receive WeChat's pushes: signed and encrypted (the platform
// verifies them), without cookies, answered in plain text to a server. They
// are served before the browser middleware (session, user, locale, error
// pages, CSRF, helmet), which they do not need.
func (s *Server) pushRoutes() []Route {
	return []Route{
		{"POST", "/wechat/component/events", Public, authz.Perm{}, s.wechatComponentEvents},
		{"POST", "/wechat/apps/:appid/events", Public, authz.Perm{}, s.wechatAppEvents},
	}
}

// pageRoutes are everything a browser asks for.
func (s *Server) pageRoutes() []Route {
	p := func(obj, act string) authz.Perm { return authz.Perm{Obj: obj, Act: act} }
	return []Route{
		{"GET", "/healthz", Public, authz.Perm{}, s.healthz},
		{"GET", "/readyz", Public, authz.Perm{}, s.readyz},
		{"GET", "/", Public, authz.Perm{}, s.home},
		{"GET", "/login", Public, authz.Perm{}, s.loginForm},
		{"POST", "/login", Public, authz.Perm{}, s.login},
		{"GET", "/signup", Public, authz.Perm{}, s.signupForm},
		{"POST", "/signup", Public, authz.Perm{}, s.signup},
		{"POST", "/lang", Public, authz.Perm{}, s.setLang},
		{"GET", "/invite/:token", Public, authz.Perm{}, s.inviteForm},
		{"POST", "/invite/:token", Public, authz.Perm{}, s.inviteAccept},

		{"POST", "/logout", User, PermSelf, s.logout},
		{"GET", "/switch", User, PermSelf, s.switchTenant},
		{"GET", "/account", User, PermSelf, s.accountPage},
		{"POST", "/account/password", User, PermSelf, s.changePassword},
		{"POST", "/account/preferences", User, PermSelf, s.savePreferences},

		{"GET", "/t/:tid", Tenant, p("tenant", "read"), s.tenantHome},
		{"GET", "/t/:tid/members", Tenant, p("members", "read"), s.membersPage},
		{"POST", "/t/:tid/members/:uid/role", Tenant, p("members", "write"), s.memberRole},
		{"POST", "/t/:tid/members/:uid/remove", Tenant, p("members", "write"), s.memberRemove},
		{"POST", "/t/:tid/invites", Tenant, p("members", "write"), s.inviteCreate},
		{"POST", "/t/:tid/invites/:iid/revoke", Tenant, p("members", "write"), s.inviteRevoke},
		{"GET", "/t/:tid/activity", Tenant, p("activity", "read"), s.tenantActivity},
		{"GET", "/t/:tid/activity.csv", Tenant, p("activity", "read"), s.tenantActivityCSV},
		{"GET", "/t/:tid/settings/contact", Tenant, p("tenant", "write"), s.tenantContact},
		{"POST", "/t/:tid/settings/contact", Tenant, p("tenant", "write"), s.tenantContactSave},

		{"GET", "/t/:tid/apps", Tenant, p("apps", "read"), s.tenantApps},
		{"GET", "/t/:tid/apps/events", Tenant, p("apps", "read"), s.tenantAppsEvents},
		{"GET", "/t/:tid/apps/:appid", Tenant, p("apps", "read"), s.tenantApp},
		{"GET", "/t/:tid/apps/:appid/avatar", Tenant, p("apps", "read"), s.tenantAppAvatar},
		{"POST", "/t/:tid/apps/:appid/reauthorize", Tenant, p("apps", "authorize"), s.appReauthorize},
		{"GET", "/t/:tid/apps/:appid/config", Tenant, p("apps", "read"), s.appConfig},
		{"POST", "/t/:tid/apps/:appid/config", Tenant, p("config", "write"), s.appConfigSave},
		{"GET", "/t/:tid/apps/:appid/config/diff", Tenant, p("apps", "read"), s.appConfigDiff},
		{"GET", "/t/:tid/apps/:appid/config/ext_json", Tenant, p("apps", "read"), s.appConfigExtJSON},
		{"POST", "/t/:tid/apps/:appid/config/restore", Tenant, p("config", "write"), s.appConfigRestore},
		{"GET", "/t/:tid/apps/:appid/releases", Tenant, p("apps", "read"), s.appReleases},
		{"POST", "/t/:tid/apps/:appid/releases", Tenant, p("release", "prepare"), s.appReleasePrepare},
		{"GET", "/t/:tid/apps/:appid/releases/:rid", Tenant, p("apps", "read"), s.appRelease},
		{"GET", "/t/:tid/apps/:appid/releases/:rid/events", Tenant, p("apps", "read"), s.appReleaseEvents},
		{"GET", "/t/:tid/apps/:appid/releases/:rid/qr", Tenant, p("apps", "read"), s.appReleaseQR},
		{"GET", "/t/:tid/apps/:appid/releases/:rid/screenshots/:media", Tenant, p("apps", "read"), s.appReleaseScreenshot},
		{"POST", "/t/:tid/apps/:appid/releases/:rid/step", Tenant, p("release", "prepare"), s.appReleaseStep},
		{"GET", "/t/:tid/apps/:appid/releases/:rid/items", Tenant, p("release", "prepare"), s.appReleaseItems},
		{"POST", "/t/:tid/apps/:appid/releases/:rid/items", Tenant, p("release", "prepare"), s.appReleaseItemsSave},
		{"GET", "/t/:tid/apps/:appid/releases/:rid/review", Tenant, p("release", "approve"), s.appReleaseReview},
		{"POST", "/t/:tid/apps/:appid/releases/:rid/submit", Tenant, p("release", "approve"), s.appReleaseSubmit},
		{"POST", "/t/:tid/apps/:appid/releases/:rid/ship", Tenant, p("release", "approve"), s.appReleaseShip},
		{"POST", "/t/:tid/apps/:appid/tags", Tenant, p("config", "write"), s.appTagsSave},
		{"GET", "/t/:tid/campaigns", Tenant, p("campaigns", "read"), s.campaignsList},
		{"GET", "/t/:tid/campaigns/new", Tenant, p("campaigns", "write"), s.campaignNew},
		{"POST", "/t/:tid/campaigns/preview", Tenant, p("campaigns", "write"), s.campaignPreview}, // evaluates only, never writes
		{"POST", "/t/:tid/campaigns", Tenant, p("campaigns", "write"), s.campaignCreate},
		{"GET", "/t/:tid/campaigns/:cid", Tenant, p("campaigns", "read"), s.campaignPage},
		{"GET", "/t/:tid/campaigns/:cid/events", Tenant, p("campaigns", "read"), s.campaignEvents},
		{"GET", "/t/:tid/campaigns/:cid/report.csv", Tenant, p("campaigns", "read"), s.campaignReport},
		{"POST", "/t/:tid/campaigns/:cid/approve", Tenant, p("campaigns", "approve"), s.campaignApprove},
		{"POST", "/t/:tid/campaigns/:cid/action", Tenant, p("campaigns", "write"), s.campaignAction},
		{"GET", "/t/:tid/authorize", Tenant, p("apps", "authorize"), s.authorizePage},
		{"POST", "/t/:tid/authorize", Tenant, p("apps", "authorize"), s.authorizeCreate},
		{"GET", "/t/:tid/authorize/:aid", Tenant, p("apps", "authorize"), s.attemptPage},
		{"GET", "/t/:tid/authorize/:aid/events", Tenant, p("apps", "authorize"), s.attemptEvents},
		{"POST", "/t/:tid/authorize/:aid/cancel", Tenant, p("apps", "authorize"), s.attemptCancel},
		{"GET", "/t/:tid/authorize/:aid/callback", Tenant, p("apps", "authorize"), s.authorizeCallback}, // WeChat's redirect: the one GET that writes

		{"GET", "/staff/tenants", Platform, p("tenants", "read"), s.staffTenants},
		{"GET", "/staff/tenants/:tid", Platform, p("tenants", "read"), s.staffTenant},
		{"POST", "/staff/tenants/:tid/status", Platform, p("tenants", "write"), s.staffTenantStatus},
		{"GET", "/staff/wechat", Platform, p("wechat", "read"), s.staffWeChat},
		{"POST", "/staff/wechat/ticket", Platform, p("wechat", "write"), s.staffWeChatTicket},
		{"GET", "/staff/settings/domains", Platform, p("wechat", "read"), s.staffDomains},
		{"POST", "/staff/settings/domains", Platform, p("wechat", "write"), s.staffDomainsSave},
		{"GET", "/staff/apps", Platform, p("apps", "read"), s.staffApps},
		{"GET", "/staff/apps/events", Platform, p("apps", "read"), s.staffAppsEvents},
		{"POST", "/staff/apps/reconcile", Platform, p("wechat", "write"), s.staffReconcile},
		{"POST", "/staff/apps/conflicts/:cid", Platform, p("apps", "assign"), s.staffConflictResolve},
		{"GET", "/staff/apps/:appid", Platform, p("apps", "read"), s.staffApp},
		{"GET", "/staff/apps/:appid/avatar", Platform, p("apps", "read"), s.staffAppAvatar},
		{"POST", "/staff/apps/:appid/assign", Platform, p("apps", "assign"), s.staffAppAssign},
		{"GET", "/staff/templates", Platform, p("templates", "read"), s.staffTemplates},
		{"POST", "/staff/templates/sync", Platform, p("templates", "write"), s.staffTemplatesSync},
		{"POST", "/staff/templates/drafts", Platform, p("templates", "write"), s.staffTemplateAddDraft},
		{"POST", "/staff/templates/:id/delete", Platform, p("templates", "write"), s.staffTemplateDelete},
		{"GET", "/staff/templates/:id/schema", Platform, p("templates", "read"), s.staffTemplateSchema},
		{"POST", "/staff/templates/:id/schema", Platform, p("templates", "write"), s.staffTemplateSchemaSave},
		{"POST", "/staff/templates/:id/schema/preview", Platform, p("templates", "read"), s.staffTemplateSchemaPreview}, // renders only, never writes
		{"GET", "/staff/fleet", Platform, p("apps", "read"), s.staffFleet},
		{"GET", "/staff/fleet/events", Platform, p("apps", "read"), s.staffFleetEvents},
		{"GET", "/staff/campaigns", Platform, p("campaigns", "read"), s.campaignsList},
		{"GET", "/staff/campaigns/new", Platform, p("campaigns", "write"), s.campaignNew},
		{"POST", "/staff/campaigns/preview", Platform, p("campaigns", "write"), s.campaignPreview}, // evaluates only, never writes
		{"POST", "/staff/campaigns", Platform, p("campaigns", "write"), s.campaignCreate},
		{"GET", "/staff/campaigns/:cid", Platform, p("campaigns", "read"), s.campaignPage},
		{"GET", "/staff/campaigns/:cid/events", Platform, p("campaigns", "read"), s.campaignEvents},
		{"GET", "/staff/campaigns/:cid/report.csv", Platform, p("campaigns", "read"), s.campaignReport},
		{"POST", "/staff/campaigns/:cid/approve", Platform, p("campaigns", "approve"), s.campaignApprove},
		{"POST", "/staff/campaigns/:cid/action", Platform, p("campaigns", "write"), s.campaignAction},
		{"GET", "/staff/activity", Platform, p("activity", "read"), s.staffActivity},
		{"GET", "/staff/activity.csv", Platform, p("activity", "read"), s.staffActivityCSV},
	}
}

// routes registers, in order: recovery and request ids for everything; the
// push routes; the browser middleware; static files and the sandbox; the
// sessions, users, locales, error pages and CSRF of the pages; the pages.
// A route registered before a middleware never runs it.
func (s *Server) routes(app *fiber.App) {
	s.baseMiddleware(app)
	for _, r := range s.pushRoutes() {
		app.Add(r.Method, r.Path, r.Handler)
	}
	s.browserMiddleware(app)
	// Static assets are public and need no session.
	app.Use("/static", filesystem.New(filesystem.Config{Root: http.FS(static.FS), MaxAge: 3600}))
	if s.Sandbox != nil {
		// The emulator stands in for WeChat's hosts; it is public like they are
		// and absent in live mode.
		app.Use("/sandbox", adaptor.HTTPHandler(http.StripPrefix("/sandbox", s.Sandbox)))
	}
	app.Use(s.sessionMiddleware, s.loadUser, s.locale, s.renderErrors, s.csrfMiddleware())
	for _, r := range s.pageRoutes() {
		h := []fiber.Handler{}
		switch r.Scope {
		case User:
			h = append(h, s.requireUser)
		case Tenant:
			h = append(h, s.requireUser, s.requireTenant(r.Perm))
		case Platform:
			h = append(h, s.requireUser, s.requirePlatform(r.Perm))
		}
		app.Add(r.Method, r.Path, append(h, r.Handler)...)
	}
	app.Use(func(c *fiber.Ctx) error { return fiber.ErrNotFound })
}
