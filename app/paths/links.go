package paths

import "strconv"

// Links into a released app (URL Scheme, URL Link, Short Link, 小程序码)
// and the app's own business domains.
const (
	AppLinksPattern    = "/t/:tid/apps/:appid/links"
	AppLinkPattern     = "/t/:tid/apps/:appid/links/:lid"
	AppWxaCodesPattern = "/t/:tid/apps/:appid/wxacodes"
	AppWxaCodePattern  = "/t/:tid/apps/:appid/wxacodes/:lid/png"
	AppDomainsPattern  = "/t/:tid/apps/:appid/domains"
	// AppServerDomainsPattern changes an app's own server domains, when the
	// platform allows it (StaffAppServerDomains).
	AppServerDomainsPattern = "/t/:tid/apps/:appid/domains/server"
	StaffAppServerDomains   = "/staff/settings/domains/per-app"
)

// AppServerDomains changes an app's own server domains.
func AppServerDomains(tid int64, appID string) string {
	return fill(AppServerDomainsPattern, id(tid), appID)
}

// AppLinks is an app's 链接 tab: its links and codes, and the forms.
func AppLinks(tid int64, appID string) string { return fill(AppLinksPattern, id(tid), appID) }

// AppLink is one link with what WeChat says of it now.
func AppLink(tid int64, appID string, lid int64) string {
	return fill(AppLinkPattern, id(tid), appID, strconv.FormatInt(lid, 10))
}

// AppWxaCodes makes a 小程序码.
func AppWxaCodes(tid int64, appID string) string { return fill(AppWxaCodesPattern, id(tid), appID) }

// AppWxaCode is a 小程序码's PNG.
func AppWxaCode(tid int64, appID string, lid int64) string {
	return fill(AppWxaCodePattern, id(tid), appID, strconv.FormatInt(lid, 10))
}

// AppDomains is an app's business domains (业务域名).
func AppDomains(tid int64, appID string) string { return fill(AppDomainsPattern, id(tid), appID) }
