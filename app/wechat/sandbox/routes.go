package sandbox

import "net/http"

// buildRoutes is the one table of everything the sandbox serves.
func (s *Sandbox) buildRoutes() {
	const codeSet = 18
	comp := func(name string, h func(*call) any) *route {
		return &route{name: name, path: "/cgi-bin/component/" + name, cred: credComponent, h: h}
	}
	wxa := func(name string, h func(*call) any) *route {
		return &route{name: name, path: "/wxa/" + name, cred: credAuthorizer, perms: []int{codeSet}, mpOnlyCode: 48001, h: h}
	}
	tpl := func(name string, h func(*call) any) *route {
		return &route{name: name, path: "/wxa/" + name, cred: credComponent, h: h}
	}
	routes := []*route{
		{name: "api_start_push_ticket", path: "/cgi-bin/component/api_start_push_ticket", h: s.apiStartPushTicket},
		{name: "api_component_token", path: "/cgi-bin/component/api_component_token", h: s.apiComponentToken},
		comp("api_create_preauthcode", s.apiCreatePreAuthCode),
		comp("api_query_auth", s.apiQueryAuth),
		comp("api_authorizer_token", s.apiAuthorizerToken),
		comp("api_get_authorizer_info", s.apiGetAuthorizerInfo),
		comp("api_get_authorizer_list", s.apiGetAuthorizerList),
		comp("api_get_authorizer_option", s.apiGetAuthorizerOptionLegacy),
		comp("api_set_authorizer_option", s.apiSetAuthorizerOptionLegacy),
		{name: "get_authorizer_option", path: "/cgi-bin/component/get_authorizer_option", cred: credAuthorizer, h: s.apiGetAuthorizerOption},
		{name: "set_authorizer_option", path: "/cgi-bin/component/set_authorizer_option", cred: credAuthorizer, h: s.apiSetAuthorizerOption},
		{name: "clear_quota", path: "/cgi-bin/clear_quota", cred: credAnyToken, h: s.apiClearQuota},
		{name: "quota_get", path: "/cgi-bin/openapi/quota/get", cred: credAnyToken, h: s.apiQuotaGet},

		tpl("gettemplatedraftlist", s.apiGetTemplateDraftList),
		tpl("addtotemplate", s.apiAddToTemplate),
		tpl("gettemplatelist", s.apiGetTemplateList),
		tpl("deletetemplate", s.apiDeleteTemplate),

		wxa("commit", s.apiCommit),
		wxa("get_page", s.apiGetPage),
		wxa("getversioninfo", s.apiGetVersionInfo),
		{name: "get_qrcode", path: "/wxa/get_qrcode", cred: credAuthorizer, perms: []int{codeSet, 86}, mpOnlyCode: 48001, h: s.apiGetQRCode},
		wxa("get_category", s.apiGetCategory),
		wxa("submit_audit", s.apiSubmitAudit),
		wxa("uploadmedia", s.apiUploadMedia),
		wxa("get_auditstatus", s.apiGetAuditStatus),
		wxa("get_latest_auditstatus", s.apiGetLatestAuditStatus),
		wxa("undocodeaudit", s.apiUndoCodeAudit),
		wxa("speedupaudit", s.apiSpeedupAudit),
		wxa("queryquota", s.apiQueryQuota),
		wxa("release", s.apiRelease),
		wxa("revertcoderelease", s.apiRevertCodeRelease),
		wxa("grayrelease", s.apiGrayRelease),
		wxa("revertgrayrelease", s.apiRevertGrayRelease),
		wxa("getgrayreleaseplan", s.apiGetGrayReleasePlan),
		wxa("bind_tester", s.apiBindTester),
		wxa("unbind_tester", s.apiUnbindTester),
		wxa("memberauth", s.apiMemberAuth),
		{name: "modify_domain", path: "/wxa/modify_domain", cred: credAuthorizer, perms: []int{codeSet}, mpOnlyCode: 85015, h: s.apiModifyDomain},
		{name: "setwebviewdomain", path: "/wxa/setwebviewdomain", cred: credAuthorizer, perms: []int{codeSet}, mpOnlyCode: 85015, h: s.apiSetWebviewDomain},
		{name: "generatescheme", path: "/wxa/generatescheme", cred: credAuthorizer, perms: []int{88}, mpOnlyCode: 48001, h: s.apiGenerateScheme},
		{name: "generate_urllink", path: "/wxa/generate_urllink", cred: credAuthorizer, perms: []int{88}, mpOnlyCode: 48001, h: s.apiGenerateURLLink},
		{name: "genwxashortlink", path: "/wxa/genwxashortlink", cred: credAuthorizer, perms: []int{88}, mpOnlyCode: 48001, h: s.apiGenerateShortLink},
		{name: "queryscheme", path: "/wxa/queryscheme", cred: credAuthorizer, perms: []int{88}, mpOnlyCode: 48001, h: s.apiQueryScheme},
		{name: "query_urllink", path: "/wxa/query_urllink", cred: credAuthorizer, perms: []int{88}, mpOnlyCode: 48001, h: s.apiQueryURLLink},
		{name: "getwxacodeunlimit", path: "/wxa/getwxacodeunlimit", cred: credAuthorizer, perms: []int{17}, mpOnlyCode: 48001, h: s.apiGetWxaCodeUnlimit},
		{name: "setwebviewdomain_directly", path: "/wxa/setwebviewdomain_directly", cred: credAuthorizer, perms: []int{codeSet}, mpOnlyCode: 85015, h: s.apiSetWebviewDomainDirectly},
		{name: "modify_domain_directly", path: "/wxa/modify_domain_directly", cred: credAuthorizer, perms: []int{codeSet}, mpOnlyCode: 85015, h: s.apiModifyDomainDirectly},
		{name: "get_webviewdomain_confirmfile", path: "/wxa/get_webviewdomain_confirmfile", cred: credAuthorizer, perms: []int{codeSet}, mpOnlyCode: 85015, h: s.apiGetWebviewConfirmFile},
		{name: "get_code_privacy_info", path: "/wxa/security/get_code_privacy_info", cred: credAuthorizer, perms: []int{codeSet}, mpOnlyCode: 48001, h: s.apiGetCodePrivacyInfo},
		{name: "setprivacysetting", path: "/cgi-bin/component/setprivacysetting", cred: credAuthorizer, perms: []int{codeSet}, mpOnlyCode: 48001, h: s.apiSetPrivacySetting},
		{name: "get_material", path: "/cgi-bin/material/get_material", cred: credAuthorizer, h: s.apiGetMaterial},
		{name: "media_upload", path: "/cgi-bin/media/upload", cred: credAuthorizer, h: s.apiUploadTemp},
		{name: "custom_send", path: "/cgi-bin/message/custom/send", cred: credAuthorizer, h: s.apiSendCustom},
		{name: "media_check_async", path: "/wxa/media_check_async", cred: credAuthorizer, perms: []int{codeSet}, h: s.apiMediaCheckAsync},
		{name: "msg_sec_check", path: "/wxa/msg_sec_check", cred: credAuthorizer, perms: []int{codeSet}, h: s.apiMsgSecCheck},
		{name: "getprivacysetting", path: "/cgi-bin/component/getprivacysetting", cred: credAuthorizer, perms: []int{codeSet}, mpOnlyCode: 48001, h: s.apiGetPrivacySetting},
	}
	s.mux = http.NewServeMux()
	s.routes = map[string]*route{}
	for _, rt := range routes {
		s.routes[rt.name] = rt
		s.mux.Handle(rt.path, s.handleAPI(rt))
	}

	// Authorization pages (mp.weixin.qq.com and open.weixin.qq.com).
	s.mux.HandleFunc("GET /cgi-bin/componentloginpage", s.pcAuthPage)
	s.mux.HandleFunc("POST /cgi-bin/componentloginpage", s.authSubmit)
	s.mux.HandleFunc("GET /safe/bindcomponent", s.mobileAuthPage)
	s.mux.HandleFunc("GET /wxaopen/safe/bindcomponent", s.mobileAuthPage)
	s.mux.HandleFunc("POST /safe/bindcomponent", s.authSubmit)
	s.mux.HandleFunc("POST /wxaopen/safe/bindcomponent", s.authSubmit)

	// Authorizers' head images (wx.qlogo.cn).
	s.mux.HandleFunc("GET /mmopen/{appid}/0", s.serveHeadImg)

	// Operator console (sandbox mode only).
	s.mux.HandleFunc("GET /console", s.consolePage)
	s.mux.HandleFunc("POST /console/ticket", s.consoleTicket)
	s.mux.HandleFunc("POST /console/revoke", s.consoleRevoke)
	s.mux.HandleFunc("POST /console/permissions", s.consolePermissions)
	s.mux.HandleFunc("POST /console/audit", s.consoleAudit)
	s.mux.HandleFunc("POST /console/apps", s.consoleAddApp)
	s.mux.HandleFunc("POST /console/publish-check", s.consolePublishCheck)
	s.mux.HandleFunc("POST /console/visit", s.consoleVisit)
	s.mux.HandleFunc("POST /console/media-risky", s.consoleMediaRisky)
}
