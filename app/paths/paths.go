// Package paths is where every URL of the web UI is said, once: the route
// patterns the route table (app/web/routes.go) registers, and beside each
// one the typed function that builds its URL. Handlers and views build
// URLs only through these functions, so a route and its links cannot drift
// apart.
//
// A pattern without parameters is a plain constant, used both as the route
// and as the URL. A pattern with parameters is XxxPattern, and Xxx(...)
// fills it: the arguments replace the :params in order, path-escaped (ids
// are decimal, appids and tokens are URL-safe, so valid values come out as
// they are). Builders whose page takes a query string say so in their name
// or arguments and encode it themselves.
//
// Pure: imports only the standard library; used by app/web and views.
package paths

import (
	"net/url"
	"strconv"
	"strings"
)

// Mounts: the embedded static files (public, no session) and, in sandbox
// mode, the WeChat emulator.
const (
	Static  = "/static"
	Sandbox = "/sandbox"
)

// Public and account routes.
const (
	Healthz            = "/healthz"
	Readyz             = "/readyz"
	Home               = "/"
	Login              = "/login"
	Logout             = "/logout"
	Signup             = "/signup"
	Lang               = "/lang"
	Switch             = "/switch"
	Account            = "/account"
	AccountPassword    = "/account/password"
	AccountPreferences = "/account/preferences"
	InvitePattern      = "/invite/:token"
)

// Invite is an invitation's page.
func Invite(token string) string { return fill(InvitePattern, token) }

// LoginNext is the login page that returns to next (any local URL) afterwards.
func LoginNext(next string) string { return Login + "?next=" + url.QueryEscape(next) }

// InviteLogin is the login page that comes back to an invitation (next
// unescaped: an invitation's path has nothing to escape in a query).
func InviteLogin(token string) string { return Login + "?next=" + Invite(token) }

// WeChat's pushes, signed and encrypted.
const (
	WeChatComponentEvents  = "/wechat/component/events"
	WeChatAppEventsPattern = "/wechat/apps/:appid/events"
)

// WeChatAppEvents is where WeChat pushes an authorized app's events.
func WeChatAppEvents(appID string) string { return fill(WeChatAppEventsPattern, appID) }

// A tenant, its members and settings.
const (
	TenantPattern            = "/t/:tid"
	MembersPattern           = "/t/:tid/members"
	MemberRolePattern        = "/t/:tid/members/:uid/role"
	MemberRemovePattern      = "/t/:tid/members/:uid/remove"
	InvitesPattern           = "/t/:tid/invites"
	InviteRevokePattern      = "/t/:tid/invites/:iid/revoke"
	TenantActivityPattern    = "/t/:tid/activity"
	TenantActivityCSVPattern = "/t/:tid/activity.csv"
	ContactPattern           = "/t/:tid/settings/contact"
)

// Tenant is a tenant's home page.
func Tenant(tid int64) string { return fill(TenantPattern, id(tid)) }

// Members is a tenant's members page.
func Members(tid int64) string { return fill(MembersPattern, id(tid)) }

// MemberRole changes a member's role.
func MemberRole(tid, uid int64) string { return fill(MemberRolePattern, id(tid), id(uid)) }

// MemberRemove removes a member.
func MemberRemove(tid, uid int64) string { return fill(MemberRemovePattern, id(tid), id(uid)) }

// Invites creates an invitation.
func Invites(tid int64) string { return fill(InvitesPattern, id(tid)) }

// InviteRevoke revokes an invitation.
func InviteRevoke(tid, iid int64) string { return fill(InviteRevokePattern, id(tid), id(iid)) }

// Activity is a tenant's activity log, or staff's (tid 0).
func Activity(tid int64) string { return scoped(tid, StaffActivity, TenantActivityPattern) }

// ActivityCSV is Activity's CSV export.
func ActivityCSV(tid int64) string { return scoped(tid, StaffActivityCSV, TenantActivityCSVPattern) }

// Contact is a tenant's contact settings.
func Contact(tid int64) string { return fill(ContactPattern, id(tid)) }

// A tenant's apps.
const (
	TenantAppsPattern       = "/t/:tid/apps"
	TenantAppsEventsPattern = "/t/:tid/apps/events"
	TenantAppPattern        = "/t/:tid/apps/:appid"
	TenantAppAvatarPattern  = "/t/:tid/apps/:appid/avatar"
	AppReauthorizePattern   = "/t/:tid/apps/:appid/reauthorize"
	AppTagsPattern          = "/t/:tid/apps/:appid/tags"
	AppSettingsPattern      = "/t/:tid/apps/:appid/settings"
	AppTestersPattern       = "/t/:tid/apps/:appid/testers"
	AppPrivacyPattern       = "/t/:tid/apps/:appid/privacy"
	AppTesterUnbindPattern  = "/t/:tid/apps/:appid/testers/unbind"
)

// AppSettings is an app's settings section (testers, domains).
func AppSettings(tid int64, appID string) string { return fill(AppSettingsPattern, id(tid), appID) }

// AppPrivacy is an app's user privacy guideline (用户隐私保护指引).
func AppPrivacy(tid int64, appID string) string { return fill(AppPrivacyPattern, id(tid), appID) }

// AppTesters binds a trial-version tester.
func AppTesters(tid int64, appID string) string { return fill(AppTestersPattern, id(tid), appID) }

// AppTesterUnbind removes a trial-version tester.
func AppTesterUnbind(tid int64, appID string) string {
	return fill(AppTesterUnbindPattern, id(tid), appID)
}

// TenantApps is a tenant's apps list.
func TenantApps(tid int64) string { return fill(TenantAppsPattern, id(tid)) }

// TenantAppsListEvents streams the apps list's changes.
func TenantAppsListEvents(tid int64) string {
	return fill(TenantAppsEventsPattern, id(tid)) + "?view=list"
}

// TenantAppEvents streams one app page's changes.
func TenantAppEvents(tid int64, appID string) string {
	return fill(TenantAppsEventsPattern, id(tid)) + "?view=app&appid=" + url.QueryEscape(appID)
}

// TenantApp is an app's page in its tenant.
func TenantApp(tid int64, appID string) string { return fill(TenantAppPattern, id(tid), appID) }

// TenantAppAvatar is an app's avatar, served from our origin.
func TenantAppAvatar(tid int64, appID string) string {
	return fill(TenantAppAvatarPattern, id(tid), appID)
}

// AppReauthorize starts the app's authorization again.
func AppReauthorize(tid int64, appID string) string {
	return fill(AppReauthorizePattern, id(tid), appID)
}

// AppTags saves an app's tags.
func AppTags(tid int64, appID string) string { return fill(AppTagsPattern, id(tid), appID) }

// An app's configuration.
const (
	ConfigPattern        = "/t/:tid/apps/:appid/config"
	ConfigDiffPattern    = "/t/:tid/apps/:appid/config/diff"
	ConfigExtJSONPattern = "/t/:tid/apps/:appid/config/ext_json"
	ConfigRestorePattern = "/t/:tid/apps/:appid/config/restore"
)

// Config is an app's configuration page (and its save).
func Config(tid int64, appID string) string { return fill(ConfigPattern, id(tid), appID) }

// ConfigDiff is the diff form's target.
func ConfigDiff(tid int64, appID string) string { return fill(ConfigDiffPattern, id(tid), appID) }

// ConfigDiffBetween compares two configuration versions.
func ConfigDiffBetween(tid int64, appID string, from, to int64) string {
	return ConfigDiff(tid, appID) + "?from=" + id(from) + "&to=" + id(to)
}

// ConfigExtJSON is the ext_json a configuration version commits.
func ConfigExtJSON(tid int64, appID string, version int64) string {
	return fill(ConfigExtJSONPattern, id(tid), appID) + "?version=" + id(version)
}

// ConfigRestore restores an earlier version.
func ConfigRestore(tid int64, appID string) string {
	return fill(ConfigRestorePattern, id(tid), appID)
}

// An app's releases.
const (
	ReleasesPattern          = "/t/:tid/apps/:appid/releases"
	ReleasePattern           = "/t/:tid/apps/:appid/releases/:rid"
	ReleaseEventsPattern     = "/t/:tid/apps/:appid/releases/:rid/events"
	ReleaseQRPattern         = "/t/:tid/apps/:appid/releases/:rid/qr"
	ReleaseScreenshotPattern = "/t/:tid/apps/:appid/releases/:rid/screenshots/:media"
	ReleaseStepPattern       = "/t/:tid/apps/:appid/releases/:rid/step"
	ReleaseItemsPattern      = "/t/:tid/apps/:appid/releases/:rid/items"
	ReleaseMediaPattern      = "/t/:tid/apps/:appid/releases/:rid/media"
	ReleaseMediaFilePattern  = "/t/:tid/apps/:appid/releases/:rid/media/:sha"
	ReleaseMediaDropPattern  = "/t/:tid/apps/:appid/releases/:rid/media/:sha/remove"
	ReleaseReviewPattern     = "/t/:tid/apps/:appid/releases/:rid/review"
	ReleaseSubmitPattern     = "/t/:tid/apps/:appid/releases/:rid/submit"
	ReleaseShipPattern       = "/t/:tid/apps/:appid/releases/:rid/ship"
)

// Releases is an app's releases (and where a new one is prepared).
func Releases(tid int64, appID string) string { return fill(ReleasesPattern, id(tid), appID) }

// Release is a release's page.
func Release(tid int64, appID string, rid int64) string {
	return fill(ReleasePattern, id(tid), appID, id(rid))
}

// ReleaseEvents streams a release page rendered at seq.
func ReleaseEvents(tid int64, appID string, rid, seq int64) string {
	return fill(ReleaseEventsPattern, id(tid), appID, id(rid)) + "?seq=" + id(seq)
}

// ReviewEvents streams the review page rendered at seq showing the payload hash shown.
func ReviewEvents(tid int64, appID string, rid, seq int64, shown string) string {
	return ReleaseEvents(tid, appID, rid, seq) + "&view=review&hash=" + url.QueryEscape(shown)
}

// ReleaseQR is a release's trial QR code.
func ReleaseQR(tid int64, appID string, rid int64) string {
	return fill(ReleaseQRPattern, id(tid), appID, id(rid))
}

// ReleaseScreenshot is one screenshot an audit named.
func ReleaseScreenshot(tid int64, appID string, rid int64, media string) string {
	return fill(ReleaseScreenshotPattern, id(tid), appID, id(rid), media)
}

// ReleaseStep moves a release one step.
func ReleaseStep(tid int64, appID string, rid int64) string {
	return fill(ReleaseStepPattern, id(tid), appID, id(rid))
}

// ReleaseItems is a release's audit items.
func ReleaseItems(tid int64, appID string, rid int64) string {
	return fill(ReleaseItemsPattern, id(tid), appID, id(rid))
}

// ReleaseMedia adds a file for the reviewers to a release.
func ReleaseMedia(tid int64, appID string, rid int64) string {
	return fill(ReleaseMediaPattern, id(tid), appID, id(rid))
}

// ReleaseMediaFile is one of a release's files for the reviewers.
func ReleaseMediaFile(tid int64, appID string, rid int64, sha string) string {
	return fill(ReleaseMediaFilePattern, id(tid), appID, id(rid), sha)
}

// ReleaseMediaDrop removes a file for the reviewers from a release.
func ReleaseMediaDrop(tid int64, appID string, rid int64, sha string) string {
	return fill(ReleaseMediaDropPattern, id(tid), appID, id(rid), sha)
}

// ReleaseReview is the approver's review page.
func ReleaseReview(tid int64, appID string, rid int64) string {
	return fill(ReleaseReviewPattern, id(tid), appID, id(rid))
}

// ReleaseSubmit submits a release for audit.
func ReleaseSubmit(tid int64, appID string, rid int64) string {
	return fill(ReleaseSubmitPattern, id(tid), appID, id(rid))
}

// ReleaseShip releases (or grays) an approved release.
func ReleaseShip(tid int64, appID string, rid int64) string {
	return fill(ReleaseShipPattern, id(tid), appID, id(rid))
}

// Campaigns, a tenant's and staff's: the same pages under two bases. The
// builders take the tenant id, 0 for staff's.
const (
	TenantCampaignsPattern       = "/t/:tid/campaigns"
	TenantCampaignNewPattern     = "/t/:tid/campaigns/new"
	TenantCampaignPreviewPattern = "/t/:tid/campaigns/preview"
	TenantCampaignPattern        = "/t/:tid/campaigns/:cid"
	TenantCampaignEventsPattern  = "/t/:tid/campaigns/:cid/events"
	TenantCampaignReportPattern  = "/t/:tid/campaigns/:cid/report.csv"
	TenantCampaignApprovePattern = "/t/:tid/campaigns/:cid/approve"
	TenantCampaignActionPattern  = "/t/:tid/campaigns/:cid/action"

	StaffCampaigns              = "/staff/campaigns"
	StaffCampaignNew            = "/staff/campaigns/new"
	StaffCampaignPreview        = "/staff/campaigns/preview"
	StaffCampaignPattern        = "/staff/campaigns/:cid"
	StaffCampaignEventsPattern  = "/staff/campaigns/:cid/events"
	StaffCampaignReportPattern  = "/staff/campaigns/:cid/report.csv"
	StaffCampaignApprovePattern = "/staff/campaigns/:cid/approve"
	StaffCampaignActionPattern  = "/staff/campaigns/:cid/action"
)

// Campaigns is the campaigns list (and where a new one is created).
func Campaigns(tid int64) string { return scoped(tid, StaffCampaigns, TenantCampaignsPattern) }

// CampaignNew is the new-campaign form.
func CampaignNew(tid int64) string { return scoped(tid, StaffCampaignNew, TenantCampaignNewPattern) }

// CampaignPreview evaluates a campaign form without saving it.
func CampaignPreview(tid int64) string {
	return scoped(tid, StaffCampaignPreview, TenantCampaignPreviewPattern)
}

// Campaign is a campaign's page.
func Campaign(tid, cid int64) string {
	return campaign(tid, cid, TenantCampaignPattern, StaffCampaignPattern)
}

// CampaignEvents streams a campaign page.
func CampaignEvents(tid, cid int64) string {
	return campaign(tid, cid, TenantCampaignEventsPattern, StaffCampaignEventsPattern)
}

// CampaignEventsAt streams a campaign page rendered at seq.
func CampaignEventsAt(tid, cid, seq int64) string {
	return CampaignEvents(tid, cid) + "?seq=" + id(seq)
}

// CampaignReport is a campaign's CSV report.
func CampaignReport(tid, cid int64) string {
	return campaign(tid, cid, TenantCampaignReportPattern, StaffCampaignReportPattern)
}

// CampaignApprove approves a campaign.
func CampaignApprove(tid, cid int64) string {
	return campaign(tid, cid, TenantCampaignApprovePattern, StaffCampaignApprovePattern)
}

// CampaignAction pauses, resumes or stops a campaign.
func CampaignAction(tid, cid int64) string {
	return campaign(tid, cid, TenantCampaignActionPattern, StaffCampaignActionPattern)
}

func campaign(tid, cid int64, tenantPattern, staffPattern string) string {
	return scoped(tid, staffPattern, tenantPattern, id(cid))
}

// scoped fills a route with a staff twin: staff's pattern for tid 0, else
// the tenant's (whose first param is the tenant id), with args after it.
func scoped(tid int64, staffPattern, tenantPattern string, args ...string) string {
	if tid == 0 {
		return fill(staffPattern, args...)
	}
	return fill(tenantPattern, append([]string{id(tid)}, args...)...)
}

// Authorizing an app (onboarding).
const (
	AuthorizePattern       = "/t/:tid/authorize"
	AttemptPattern         = "/t/:tid/authorize/:aid"
	AttemptEventsPattern   = "/t/:tid/authorize/:aid/events"
	AttemptCancelPattern   = "/t/:tid/authorize/:aid/cancel"
	AttemptCallbackPattern = "/t/:tid/authorize/:aid/callback"
)

// Authorize is the authorize page (and where an attempt starts).
func Authorize(tid int64) string { return fill(AuthorizePattern, id(tid)) }

// Attempt is an authorization attempt's page.
func Attempt(tid, aid int64) string { return fill(AttemptPattern, id(tid), id(aid)) }

// AttemptEvents streams an attempt's page.
func AttemptEvents(tid, aid int64) string { return fill(AttemptEventsPattern, id(tid), id(aid)) }

// AttemptCancel cancels an attempt.
func AttemptCancel(tid, aid int64) string { return fill(AttemptCancelPattern, id(tid), id(aid)) }

// AttemptCallback is where WeChat sends the browser back after authorizing.
func AttemptCallback(tid, aid int64) string { return fill(AttemptCallbackPattern, id(tid), id(aid)) }

// AttemptCallbackState is the redirect_uri of an attempt: its callback with
// the attempt's state in the query (WeChat keeps it and appends auth_code
// and expires_in). An empty state gives the bare callback.
func AttemptCallbackState(tid, aid int64, state string) string {
	if state == "" {
		return AttemptCallback(tid, aid)
	}
	return AttemptCallback(tid, aid) + "?state=" + url.QueryEscape(state)
}

// Staff pages.
const (
	StaffTenants               = "/staff/tenants"
	StaffTenantPattern         = "/staff/tenants/:tid"
	StaffTenantStatusPattern   = "/staff/tenants/:tid/status"
	StaffWeChat                = "/staff/wechat"
	StaffWeChatTicket          = "/staff/wechat/ticket"
	StaffDomains               = "/staff/settings/domains"
	StaffSiteFiles             = "/staff/settings/files"
	StaffGoLive                = "/staff/golive"
	StaffSiteFileDeletePattern = "/staff/settings/files/:name/delete"
	// SiteFilePattern serves a domain verification file at the web root
	// (:file is the name without ".txt").
	SiteFilePattern             = "/:file.txt"
	StaffApps                   = "/staff/apps"
	StaffAppsEvents             = "/staff/apps/events"
	StaffReconcile              = "/staff/apps/reconcile"
	StaffConflictPattern        = "/staff/apps/conflicts/:cid"
	StaffAppPattern             = "/staff/apps/:appid"
	StaffAppAvatarPattern       = "/staff/apps/:appid/avatar"
	StaffAppAssignPattern       = "/staff/apps/:appid/assign"
	StaffTemplates              = "/staff/templates"
	StaffTemplatesSync          = "/staff/templates/sync"
	StaffTemplateDrafts         = "/staff/templates/drafts"
	StaffTemplateDeletePattern  = "/staff/templates/:id/delete"
	StaffTemplateSchemaPattern  = "/staff/templates/:id/schema"
	StaffTemplatePreviewPattern = "/staff/templates/:id/schema/preview"
	StaffFleet                  = "/staff/fleet"
	StaffFleetEvents            = "/staff/fleet/events"
	StaffActivity               = "/staff/activity"
	StaffActivityCSV            = "/staff/activity.csv"
)

// StaffTenant is a tenant's page for staff.
func StaffTenant(tid int64) string { return fill(StaffTenantPattern, id(tid)) }

// StaffTenantStatus suspends or reactivates a tenant.
func StaffTenantStatus(tid int64) string { return fill(StaffTenantStatusPattern, id(tid)) }

// StaffConflict resolves an app bound to two tenants.
func StaffConflict(cid int64) string { return fill(StaffConflictPattern, id(cid)) }

// StaffApp is an app's page for staff.
func StaffApp(appID string) string { return fill(StaffAppPattern, appID) }

// StaffAppEvents streams one app's page for staff.
func StaffAppEvents(appID string) string { return StaffAppsEvents + "?appid=" + url.QueryEscape(appID) }

// StaffAppAvatar is an app's avatar for staff.
func StaffAppAvatar(appID string) string { return fill(StaffAppAvatarPattern, appID) }

// StaffAppAssign assigns an app to a tenant.
func StaffAppAssign(appID string) string { return fill(StaffAppAssignPattern, appID) }

// StaffTemplateDelete deletes a template.
func StaffTemplateDelete(tid int64) string { return fill(StaffTemplateDeletePattern, id(tid)) }

// StaffTemplateSchema is a template's config schema editor.
func StaffTemplateSchema(tid int64) string { return fill(StaffTemplateSchemaPattern, id(tid)) }

// StaffTemplatePreview renders a schema without saving it.
func StaffTemplatePreview(tid int64) string { return fill(StaffTemplatePreviewPattern, id(tid)) }

// WithQuery is base, "?" and q's encoding (a bare "?" when q is empty).
func WithQuery(base string, q url.Values) string { return base + "?" + q.Encode() }

// WithQueryOmitEmpty is WithQuery, or base alone when q is empty.
func WithQueryOmitEmpty(base string, q url.Values) string {
	if len(q) == 0 {
		return base
	}
	return WithQuery(base, q)
}

func id(n int64) string { return strconv.FormatInt(n, 10) }

// fill replaces pattern's :params, in order, by args, path-escaped. A
// param runs to the next '/' or '.'. A count that does not match is a bug
// in this file, caught by its test.
func fill(pattern string, args ...string) string {
	var b strings.Builder
	b.Grow(len(pattern) + 16*len(args))
	n := 0
	for {
		i := strings.IndexByte(pattern, ':')
		if i < 0 {
			b.WriteString(pattern)
			break
		}
		b.WriteString(pattern[:i])
		pattern = pattern[i+1:]
		j := strings.IndexAny(pattern, "/.")
		if j < 0 {
			j = len(pattern)
		}
		pattern = pattern[j:]
		if n >= len(args) {
			panic("paths: too few arguments")
		}
		b.WriteString(url.PathEscape(args[n]))
		n++
	}
	if n != len(args) {
		panic("paths: too many arguments")
	}
	return b.String()
}

// StaffSiteFileDelete removes a verification file.
func StaffSiteFileDelete(name string) string { return fill(StaffSiteFileDeletePattern, name) }

// SiteFile is where a verification file is served ("MP_verify_x.txt").
func SiteFile(name string) string { return "/" + url.PathEscape(name) }

// Content security (issue #16): images uploaded into config forms and
// WeChat's checks of them.
const (
	ConfigImagesPattern      = "/t/:tid/apps/:appid/config/images"
	ConfigCheckOpenIDPattern = "/t/:tid/apps/:appid/config/check-openid"
	ConfigRecheckPattern     = "/t/:tid/apps/:appid/config/recheck"
	ConfigChecksPattern      = "/t/:tid/apps/:appid/config/checks"
	// MediaImagePattern serves an uploaded image to anyone (the Mini
	// Program and WeChat's checker load it), by tenant and content hash.
	MediaImagePattern = "/media/:tid/:hash"
)

// ConfigImages uploads an image into an app's config form.
func ConfigImages(tid int64, appID string) string { return fill(ConfigImagesPattern, id(tid), appID) }

// ConfigCheckOpenID sets the openid an app's content checks are sent with.
func ConfigCheckOpenID(tid int64, appID string) string {
	return fill(ConfigCheckOpenIDPattern, id(tid), appID)
}

// ConfigRecheck asks WeChat again about one content of an app's config.
func ConfigRecheck(tid int64, appID string) string { return fill(ConfigRecheckPattern, id(tid), appID) }

// ConfigChecks is the live fragment of an app's content checks.
func ConfigChecks(tid int64, appID string) string { return fill(ConfigChecksPattern, id(tid), appID) }

// MediaImage is where an uploaded image is served.
func MediaImage(tid int64, hash string) string { return fill(MediaImagePattern, id(tid), hash) }
