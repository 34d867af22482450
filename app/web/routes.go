package web

import (
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/filesystem"

	"github.com/minifleet/minifleet/app/authz"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/static"
)

// Scope says who may reach a route before its permission is checked.
type Scope int

const (
	Public   Scope = iota // anyone; must be listed in publicRoutes
	User                  // any signed-in user (permission: self)
	Tenant                // a member of the tenant in :tid, with Perm in that tenant's domain
	Platform              // staff, with Perm in the platform domain
	Key                   // an API key (app/api): its scope, and Perm held by its creator in the key's domain
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
	"GET " + paths.Healthz:        true,
	"GET " + paths.Readyz:         true,
	"GET " + paths.Login:          true,
	"POST " + paths.Login:         true,
	"GET " + paths.Signup:         true,
	"POST " + paths.Signup:        true,
	"POST " + paths.Lang:          true,
	"GET " + paths.InvitePattern:  true,
	"POST " + paths.InvitePattern: true,
	"GET " + paths.Home:           true, // redirects by who is asking

	// WeChat's redirect after authorizing: a phone that scanned the QR code
	// is not signed in and gets a thank-you page that names nothing; a
	// signed-in browser is guarded as a tenant route (apps authorize).
	"GET " + paths.AttemptCallbackPattern: true,

	// Domain verification files WeChat fetches (staff upload them).
	"GET " + paths.SiteFilePattern: true,

	// Images merchants uploaded into config forms: the Mini Program and
	// WeChat's content check load them (by tenant and content hash).
	"GET " + paths.MediaImagePattern: true,
	// Prometheus: a bearer token of its own (MINIFLEET_METRICS_TOKEN).
	"GET " + paths.Metrics: true,

	// WeChat's pushes: signed and encrypted, verified by the platform.
	"POST " + paths.WeChatComponentEvents:  true,
	"POST " + paths.WeChatAppEventsPattern: true,

	// The API's OpenAPI description (issue #15).
	"GET " + paths.APIOpenAPI: true,
}

// Routes is the one route table: WeChat's pushes and the verification
// files, then the browser's pages.
func (s *Server) Routes() []Route {
	return append(append(s.rootRoutes(), s.apiRoutes()...), s.pageRoutes()...)
}

// apiRoutes are the JSON API's (app/api's table), served before the browser
// middleware: no session, no CSRF, no cookies; each guarded by its key scope
// and named permission.
func (s *Server) apiRoutes() []Route {
	var out []Route
	for _, r := range s.api.Routes() {
		scope := Key
		if r.Scope == "" {
			scope = Public
		}
		out = append(out, Route{Method: r.Method, Path: r.Path, Scope: scope, Perm: r.Perm, Handler: r.Handler})
	}
	return out
}

// rootRoutes are served before the browser middleware: WeChat's pushes, and
// the domain verification files WeChat fetches at the web root (registered
// first, so no other route can claim their paths).
func (s *Server) rootRoutes() []Route {
	return append([]Route{
		{"GET", paths.SiteFilePattern, Public, authz.Perm{}, s.siteFile},
		{"GET", paths.MediaImagePattern, Public, authz.Perm{}, s.mediaImage},
		// Prometheus scrapes with the metrics bearer token (no session);
		// 404 when no token is configured.
		{"GET", paths.Metrics, Public, authz.Perm{}, s.metrics},
	}, s.pushRoutes()...)
}

// pushRoutes receive WeChat's pushes: signed and encrypted (the platform
// verifies them), without cookies, answered in plain text to a server. They
// are served before the browser middleware (session, user, locale, error
// pages, CSRF, helmet), which they do not need.
func (s *Server) pushRoutes() []Route {
	return []Route{
		{"POST", paths.WeChatComponentEvents, Public, authz.Perm{}, s.wechatComponentEvents},
		{"POST", paths.WeChatAppEventsPattern, Public, authz.Perm{}, s.wechatAppEvents},
	}
}

// pageRoutes are everything a browser asks for.
func (s *Server) pageRoutes() []Route {
	return []Route{
		{"GET", paths.Healthz, Public, authz.Perm{}, s.healthz},
		{"GET", paths.Readyz, Public, authz.Perm{}, s.readyz},
		{"GET", paths.Home, Public, authz.Perm{}, s.home},
		{"GET", paths.Login, Public, authz.Perm{}, s.loginForm},
		{"POST", paths.Login, Public, authz.Perm{}, s.login},
		{"GET", paths.Signup, Public, authz.Perm{}, s.signupForm},
		{"POST", paths.Signup, Public, authz.Perm{}, s.signup},
		{"POST", paths.Lang, Public, authz.Perm{}, s.setLang},
		{"GET", paths.InvitePattern, Public, authz.Perm{}, s.inviteForm},
		{"POST", paths.InvitePattern, Public, authz.Perm{}, s.inviteAccept},

		{"POST", paths.Logout, User, PermSelf, s.logout},
		{"GET", paths.Switch, User, PermSelf, s.switchTenant},
		{"GET", paths.Account, User, PermSelf, s.accountPage},
		{"POST", paths.AccountPassword, User, PermSelf, s.changePassword},
		{"POST", paths.AccountPreferences, User, PermSelf, s.savePreferences},

		{"GET", paths.TenantPattern, Tenant, authz.PermTenantRead, s.tenantHome},
		{"GET", paths.MembersPattern, Tenant, authz.PermMembersRead, s.membersPage},
		{"POST", paths.MemberRolePattern, Tenant, authz.PermMembersWrite, s.memberRole},
		{"POST", paths.MemberRemovePattern, Tenant, authz.PermMembersWrite, s.memberRemove},
		{"POST", paths.InvitesPattern, Tenant, authz.PermMembersWrite, s.inviteCreate},
		{"POST", paths.InviteRevokePattern, Tenant, authz.PermMembersWrite, s.inviteRevoke},
		{"GET", paths.TenantActivityPattern, Tenant, authz.PermActivityRead, s.tenantActivity},
		{"GET", paths.TenantActivityCSVPattern, Tenant, authz.PermActivityRead, s.tenantActivityCSV},
		{"GET", paths.ContactPattern, Tenant, authz.PermTenantWrite, s.tenantContact},
		{"POST", paths.ContactPattern, Tenant, authz.PermTenantWrite, s.tenantContactSave},
		{"GET", paths.ApprovalsPattern, Tenant, authz.PermTenantWrite, s.tenantApprovals},
		{"POST", paths.ApprovalsPattern, Tenant, authz.PermTenantWrite, s.tenantApprovalsSave},
		{"GET", paths.TenantAPIKeysPattern, Tenant, authz.PermAPIKeysWrite, s.apiKeysPage},
		{"POST", paths.TenantAPIKeysPattern, Tenant, authz.PermAPIKeysWrite, s.apiKeyCreate},
		{"POST", paths.TenantAPIKeyRevokePattern, Tenant, authz.PermAPIKeysWrite, s.apiKeyRevoke},
		{"GET", paths.TenantWebhooksPattern, Tenant, authz.PermWebhooksManage, s.webhooksList},
		{"POST", paths.TenantWebhooksPattern, Tenant, authz.PermWebhooksManage, s.webhookCreate},
		{"GET", paths.TenantWebhookPattern, Tenant, authz.PermWebhooksManage, s.webhookPage},
		{"POST", paths.TenantWebhookPattern, Tenant, authz.PermWebhooksManage, s.webhookSave},
		{"POST", paths.TenantWebhookDeletePattern, Tenant, authz.PermWebhooksManage, s.webhookDelete},
		{"POST", paths.TenantWebhookResumePattern, Tenant, authz.PermWebhooksManage, s.webhookResume},
		{"POST", paths.TenantWebhookRotatePattern, Tenant, authz.PermWebhooksManage, s.webhookRotate},
		{"POST", paths.TenantWebhookReplayPattern, Tenant, authz.PermWebhooksManage, s.webhookReplay},

		{"GET", paths.TenantAppsPattern, Tenant, authz.PermAppsRead, s.tenantApps},
		{"GET", paths.TenantAppsEventsPattern, Tenant, authz.PermAppsRead, s.tenantAppsEvents},
		{"GET", paths.TenantAppPattern, Tenant, authz.PermAppsRead, s.tenantApp},
		{"GET", paths.TenantAppAvatarPattern, Tenant, authz.PermAppsRead, s.tenantAppAvatar},
		{"POST", paths.AppReauthorizePattern, Tenant, authz.PermAppsAuthorize, s.appReauthorize},
		{"GET", paths.ConfigPattern, Tenant, authz.PermAppsRead, s.appConfig},
		{"POST", paths.ConfigPattern, Tenant, authz.PermConfigWrite, s.appConfigSave},
		{"GET", paths.ConfigDiffPattern, Tenant, authz.PermAppsRead, s.appConfigDiff},
		{"GET", paths.ConfigExtJSONPattern, Tenant, authz.PermAppsRead, s.appConfigExtJSON},
		{"POST", paths.ConfigRestorePattern, Tenant, authz.PermConfigWrite, s.appConfigRestore},
		{"POST", paths.ConfigImagesPattern, Tenant, authz.PermConfigWrite, s.appConfigUpload},
		{"POST", paths.ConfigCheckOpenIDPattern, Tenant, authz.PermConfigWrite, s.appCheckOpenID},
		{"POST", paths.ConfigRecheckPattern, Tenant, authz.PermConfigWrite, s.appContentRecheck},
		{"GET", paths.ConfigChecksPattern, Tenant, authz.PermAppsRead, s.appConfigChecks},
		{"GET", paths.ReleasesPattern, Tenant, authz.PermAppsRead, s.appReleases},
		{"POST", paths.ReleasesPattern, Tenant, authz.PermReleasePrepare, s.appReleasePrepare},
		{"GET", paths.ReleasePattern, Tenant, authz.PermAppsRead, s.appRelease},
		{"GET", paths.ReleaseEventsPattern, Tenant, authz.PermAppsRead, s.appReleaseEvents},
		{"GET", paths.ReleaseQRPattern, Tenant, authz.PermAppsRead, s.appReleaseQR},
		{"GET", paths.ReleaseScreenshotPattern, Tenant, authz.PermAppsRead, s.appReleaseScreenshot},
		{"POST", paths.ReleaseStepPattern, Tenant, authz.PermReleasePrepare, s.appReleaseStep},
		{"GET", paths.ReleaseItemsPattern, Tenant, authz.PermReleasePrepare, s.appReleaseItems},
		{"POST", paths.ReleaseItemsPattern, Tenant, authz.PermReleasePrepare, s.appReleaseItemsSave},
		{"POST", paths.ReleaseMediaPattern, Tenant, authz.PermReleasePrepare, s.appReleaseMediaAdd},
		{"GET", paths.ReleaseMediaFilePattern, Tenant, authz.PermAppsRead, s.appReleaseMediaFile},
		{"POST", paths.ReleaseMediaDropPattern, Tenant, authz.PermReleasePrepare, s.appReleaseMediaDrop},
		{"GET", paths.ReleaseReviewPattern, Tenant, authz.PermReleaseApprove, s.appReleaseReview},
		{"POST", paths.ReleaseSubmitPattern, Tenant, authz.PermReleaseApprove, s.appReleaseSubmit},
		{"POST", paths.ReleaseShipPattern, Tenant, authz.PermReleaseApprove, s.appReleaseShip},
		{"POST", paths.AppTagsPattern, Tenant, authz.PermConfigWrite, s.appTagsSave},
		{"GET", paths.AppSettingsPattern, Tenant, authz.PermAppsRead, s.appSettings},
		{"GET", paths.AppPrivacyPattern, Tenant, authz.PermAppsRead, s.appPrivacy},
		{"POST", paths.AppPrivacyPattern, Tenant, authz.PermConfigWrite, s.appPrivacySave},
		{"POST", paths.AppTestersPattern, Tenant, authz.PermConfigWrite, s.appTesterBind},
		{"POST", paths.AppTesterUnbindPattern, Tenant, authz.PermConfigWrite, s.appTesterUnbind},
		{"GET", paths.AppLinksPattern, Tenant, authz.PermAppsRead, s.appLinks},
		{"POST", paths.AppLinksPattern, Tenant, authz.PermLinksWrite, s.appLinkCreate},
		{"GET", paths.AppLinkPattern, Tenant, authz.PermAppsRead, s.appLink},
		{"POST", paths.AppWxaCodesPattern, Tenant, authz.PermLinksWrite, s.appWxaCodeCreate},
		{"GET", paths.AppWxaCodePattern, Tenant, authz.PermAppsRead, s.appWxaCodePNG},
		{"GET", paths.AppDomainsPattern, Tenant, authz.PermAppsRead, s.appDomains},
		{"POST", paths.AppDomainsPattern, Tenant, authz.PermDomainsWrite, s.appDomainsChange},
		{"POST", paths.AppServerDomainsPattern, Tenant, authz.PermDomainsWrite, s.appServerDomainsChange},
		{"GET", paths.TenantCampaignsPattern, Tenant, authz.PermCampaignsRead, s.campaignsList},
		{"GET", paths.TenantCampaignNewPattern, Tenant, authz.PermCampaignsWrite, s.campaignNew},
		{"POST", paths.TenantCampaignPreviewPattern, Tenant, authz.PermCampaignsWrite, s.campaignPreview}, // evaluates only, never writes
		{"POST", paths.TenantCampaignsPattern, Tenant, authz.PermCampaignsWrite, s.campaignCreate},
		{"GET", paths.TenantCampaignPattern, Tenant, authz.PermCampaignsRead, s.campaignPage},
		{"GET", paths.TenantCampaignEventsPattern, Tenant, authz.PermCampaignsRead, s.campaignEvents},
		{"GET", paths.TenantCampaignReportPattern, Tenant, authz.PermCampaignsRead, s.campaignReport},
		{"POST", paths.TenantCampaignApprovePattern, Tenant, authz.PermCampaignsApprove, s.campaignApprove},
		{"POST", paths.TenantCampaignActionPattern, Tenant, authz.PermCampaignsWrite, s.campaignAction},
		{"GET", paths.AuthorizePattern, Tenant, authz.PermAppsAuthorize, s.authorizePage},
		{"POST", paths.AuthorizePattern, Tenant, authz.PermAppsAuthorize, s.authorizeCreate},
		{"GET", paths.AttemptPattern, Tenant, authz.PermAppsAuthorize, s.attemptPage},
		{"GET", paths.AttemptEventsPattern, Tenant, authz.PermAppsAuthorize, s.attemptEvents},
		{"POST", paths.AttemptCancelPattern, Tenant, authz.PermAppsAuthorize, s.attemptCancel},
		// WeChat's redirect: the one GET that writes. Public, because the
		// phone that scanned the QR code is not signed in: it gets the
		// public 授权完成 page and binds nothing; a signed-in browser passes
		// the tenant guard (apps authorize) in authorizeCallbackEntry.
		{"GET", paths.AttemptCallbackPattern, Public, authz.Perm{}, s.authorizeCallbackEntry},

		{"GET", paths.StaffTenants, Platform, authz.PermTenantsRead, s.staffTenants},
		{"GET", paths.StaffTenantPattern, Platform, authz.PermTenantsRead, s.staffTenant},
		{"POST", paths.StaffTenantStatusPattern, Platform, authz.PermTenantsWrite, s.staffTenantStatus},
		{"GET", paths.StaffWeChat, Platform, authz.PermWeChatRead, s.staffWeChat},
		{"POST", paths.StaffWeChatTicket, Platform, authz.PermWeChatWrite, s.staffWeChatTicket},
		{"GET", paths.StaffDomains, Platform, authz.PermWeChatRead, s.staffDomains},
		{"POST", paths.StaffDomains, Platform, authz.PermWeChatWrite, s.staffDomainsSave},
		{"POST", paths.StaffAppServerDomains, Platform, authz.PermWeChatWrite, s.staffAppServerDomains},
		{"GET", paths.StaffSiteFiles, Platform, authz.PermWeChatRead, s.staffSiteFiles},
		{"GET", paths.StaffGoLive, Platform, authz.PermStaffRead, s.staffGoLive},
		{"POST", paths.StaffSiteFiles, Platform, authz.PermSiteFilesWrite, s.staffSiteFileSave},
		{"POST", paths.StaffSiteFileDeletePattern, Platform, authz.PermSiteFilesWrite, s.staffSiteFileDelete},
		{"GET", paths.StaffApps, Platform, authz.PermAppsRead, s.staffApps},
		{"GET", paths.StaffAppsEvents, Platform, authz.PermAppsRead, s.staffAppsEvents},
		{"POST", paths.StaffReconcile, Platform, authz.PermWeChatWrite, s.staffReconcile},
		{"POST", paths.StaffConflictPattern, Platform, authz.PermAppsAssign, s.staffConflictResolve},
		{"GET", paths.StaffAppPattern, Platform, authz.PermAppsRead, s.staffApp},
		{"GET", paths.StaffAppAvatarPattern, Platform, authz.PermAppsRead, s.staffAppAvatar},
		{"POST", paths.StaffAppAssignPattern, Platform, authz.PermAppsAssign, s.staffAppAssign},
		{"GET", paths.StaffTemplates, Platform, authz.PermTemplatesRead, s.staffTemplates},
		{"POST", paths.StaffTemplatesSync, Platform, authz.PermTemplatesWrite, s.staffTemplatesSync},
		{"POST", paths.StaffTemplateDrafts, Platform, authz.PermTemplatesWrite, s.staffTemplateAddDraft},
		{"POST", paths.StaffTemplateDeletePattern, Platform, authz.PermTemplatesWrite, s.staffTemplateDelete},
		{"GET", paths.StaffTemplateSchemaPattern, Platform, authz.PermTemplatesRead, s.staffTemplateSchema},
		{"POST", paths.StaffTemplateSchemaPattern, Platform, authz.PermTemplatesWrite, s.staffTemplateSchemaSave},
		{"POST", paths.StaffTemplatePreviewPattern, Platform, authz.PermTemplatesRead, s.staffTemplateSchemaPreview}, // renders only, never writes
		{"GET", paths.StaffFleet, Platform, authz.PermAppsRead, s.staffFleet},
		{"GET", paths.StaffFleetEvents, Platform, authz.PermAppsRead, s.staffFleetEvents},
		{"GET", paths.StaffCampaigns, Platform, authz.PermCampaignsRead, s.campaignsList},
		{"GET", paths.StaffCampaignNew, Platform, authz.PermCampaignsWrite, s.campaignNew},
		{"POST", paths.StaffCampaignPreview, Platform, authz.PermCampaignsWrite, s.campaignPreview}, // evaluates only, never writes
		{"POST", paths.StaffCampaigns, Platform, authz.PermCampaignsWrite, s.campaignCreate},
		{"GET", paths.StaffCampaignPattern, Platform, authz.PermCampaignsRead, s.campaignPage},
		{"GET", paths.StaffCampaignEventsPattern, Platform, authz.PermCampaignsRead, s.campaignEvents},
		{"GET", paths.StaffCampaignReportPattern, Platform, authz.PermCampaignsRead, s.campaignReport},
		{"POST", paths.StaffCampaignApprovePattern, Platform, authz.PermCampaignsApprove, s.campaignApprove},
		{"POST", paths.StaffCampaignActionPattern, Platform, authz.PermCampaignsWrite, s.campaignAction},
		{"GET", paths.StaffApprovalPattern, Platform, authz.PermReleaseApprove, s.staffApproval},
		{"GET", paths.StaffApprovalQRPattern, Platform, authz.PermReleaseApprove, s.staffApprovalQR},
		{"GET", paths.StaffApprovalMediaPattern, Platform, authz.PermReleaseApprove, s.staffApprovalMedia},
		{"POST", paths.StaffApprovalSubmitPattern, Platform, authz.PermReleaseApprove, s.staffApprovalSubmit},
		{"GET", paths.StaffAPIKeys, Platform, authz.PermAPIKeysWrite, s.apiKeysPage},
		{"POST", paths.StaffAPIKeys, Platform, authz.PermAPIKeysWrite, s.apiKeyCreate},
		{"POST", paths.StaffAPIKeyRevokePattern, Platform, authz.PermAPIKeysWrite, s.apiKeyRevoke},
		{"GET", paths.StaffWebhooks, Platform, authz.PermWebhooksManage, s.webhooksList},
		{"POST", paths.StaffWebhooks, Platform, authz.PermWebhooksManage, s.webhookCreate},
		{"GET", paths.StaffWebhookPattern, Platform, authz.PermWebhooksManage, s.webhookPage},
		{"POST", paths.StaffWebhookPattern, Platform, authz.PermWebhooksManage, s.webhookSave},
		{"POST", paths.StaffWebhookDeletePattern, Platform, authz.PermWebhooksManage, s.webhookDelete},
		{"POST", paths.StaffWebhookResumePattern, Platform, authz.PermWebhooksManage, s.webhookResume},
		{"POST", paths.StaffWebhookRotatePattern, Platform, authz.PermWebhooksManage, s.webhookRotate},
		{"POST", paths.StaffWebhookReplayPattern, Platform, authz.PermWebhooksManage, s.webhookReplay},
		{"GET", paths.StaffActivity, Platform, authz.PermActivityRead, s.staffActivity},
		{"GET", paths.StaffActivityCSV, Platform, authz.PermActivityRead, s.staffActivityCSV},
	}
}

// routes registers, in order: recovery and request ids for everything; the
// push routes; the browser middleware; static files and the sandbox; the
// sessions, users, locales, error pages and CSRF of the pages; the pages.
// A route registered before a middleware never runs it.
func (s *Server) routes(app *fiber.App) {
	s.baseMiddleware(app)
	for _, r := range s.rootRoutes() {
		app.Add(r.Method, r.Path, r.Handler)
	}
	// The JSON API: its own guard (API keys), JSON errors, no browser middleware.
	s.api.Mount(app)
	s.browserMiddleware(app)
	// Static assets are public and need no session.
	app.Use(paths.Static, filesystem.New(filesystem.Config{Root: http.FS(static.FS), MaxAge: 3600}))
	if s.Sandbox != nil {
		// The emulator stands in for WeChat's hosts; it is public like they are
		// and absent in live mode.
		// Its pages imitate WeChat's with inline styles: a CSP of their own.
		app.Use(paths.Sandbox, func(c *fiber.Ctx) error {
			c.Set(fiber.HeaderContentSecurityPolicy, sandboxCSP)
			return c.Next()
		}, adaptor.HTTPHandler(http.StripPrefix(paths.Sandbox, s.Sandbox)))
	}
	app.Use(s.sessionMiddleware, s.loadUser, s.locale, s.renderErrors, formBodyLimit, s.readOnlyGate, s.csrfMiddleware())
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
		if r.Method == fiber.MethodGet {
			// HEAD answers as GET does (status and headers; Fiber drops the body).
			app.Add(fiber.MethodHead, r.Path, append(h, r.Handler)...)
		}
	}
	app.Use(func(c *fiber.Ctx) error { return fiber.ErrNotFound })
}
