package sandbox

import (
	"strings"
	"time"
)

type ticket struct {
	value string
	at    time.Time
}

// pushTicketLocked issues a new component_verify_ticket and pushes it.
func (s *Sandbox) pushTicketLocked() {
	now := s.clock.Now()
	t := ticket{value: s.opaqueLocked("ticket@@@", 48), at: now}
	// Forget tickets long dead; recently expired ones still answer 61005.
	kept := s.tickets[:0]
	for _, old := range s.tickets {
		if now.Sub(old.at) < 2*s.opts.TicketTTL {
			kept = append(kept, old)
		}
	}
	s.tickets = append(kept, t)
	var b xmlBuilder
	b.open()
	b.cdata("AppId", s.opts.ComponentAppID)
	b.num("CreateTime", now.Unix())
	b.cdata("InfoType", "component_verify_ticket")
	b.cdata("ComponentVerifyTicket", t.value)
	b.close()
	s.pushComponentLocked("component_verify_ticket", "", b.bytes())
}

// PushTicket issues and pushes a new ticket now (like api_start_push_ticket).
func (s *Sandbox) PushTicket() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pushTicketLocked()
}

// Ticket returns the latest ticket issued ("" before Start).
func (s *Sandbox) Ticket() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.tickets) == 0 {
		return ""
	}
	return s.tickets[len(s.tickets)-1].value
}

func (c *call) checkComponentAppID(appID string) *apiError {
	if appID != c.s.opts.ComponentAppID {
		return fail(61011)
	}
	return nil
}

func (s *Sandbox) apiStartPushTicket(c *call) any {
	var req struct {
		ComponentAppID  string `json:"component_appid"`
		ComponentSecret string `json:"component_secret"`
	}
	if e := c.decode(&req); e != nil {
		return e
	}
	if e := c.checkComponentAppID(req.ComponentAppID); e != nil {
		return e
	}
	if req.ComponentSecret == "" {
		return fail(41004)
	}
	if req.ComponentSecret != s.opts.ComponentSecret {
		return fail(40125)
	}
	s.pushTicketLocked()
	return nil
}

func (s *Sandbox) apiComponentToken(c *call) any {
	var req struct {
		ComponentAppID     string `json:"component_appid"`
		ComponentAppSecret string `json:"component_appsecret"`
		Ticket             string `json:"component_verify_ticket"`
	}
	if e := c.decode(&req); e != nil {
		return e
	}
	if e := c.checkComponentAppID(req.ComponentAppID); e != nil {
		return e
	}
	switch req.ComponentAppSecret {
	case "":
		return fail(41004)
	case s.opts.ComponentSecret:
	default:
		return fail(40125)
	}
	// A stale-but-unexpired ticket still works (protocol doc §2.1).
	found := false
	for _, t := range s.tickets {
		if t.value == req.Ticket {
			if c.now.Sub(t.at) >= s.opts.TicketTTL {
				return fail(61005)
			}
			found = true
		}
	}
	if !found {
		return fail(61006)
	}
	t := s.issueTokenLocked(&s.compTokens, tokenOwner{component: true})
	return struct {
		Token     string `json:"component_access_token"`
		ExpiresIn int    `json:"expires_in"`
	}{t.value, int(s.opts.TokenTTL / time.Second)}
}

func (s *Sandbox) apiCreatePreAuthCode(c *call) any {
	var req struct {
		ComponentAppID string `json:"component_appid"`
	}
	if e := c.decode(&req); e != nil {
		return e
	}
	if e := c.checkComponentAppID(req.ComponentAppID); e != nil {
		return e
	}
	p := s.newPreAuthCodeLocked()
	return struct {
		PreAuthCode string `json:"pre_auth_code"`
		ExpiresIn   int    `json:"expires_in"`
	}{p.value, int(s.opts.PreAuthCodeTTL / time.Second)}
}

type funcScope struct {
	ID int `json:"id"`
}

type confirmInfo struct {
	NeedConfirm    int `json:"need_confirm"`
	AlreadyConfirm int `json:"already_confirm"`
	CanConfirm     int `json:"can_confirm"`
}

type funcInfo struct {
	Category    funcScope    `json:"funcscope_category"`
	ConfirmInfo *confirmInfo `json:"confirm_info,omitempty"`
}

func funcInfoOf(a *app) []funcInfo {
	out := make([]funcInfo, 0, len(a.perms))
	for _, id := range a.perms {
		fi := funcInfo{Category: funcScope{id}}
		if id == 18 || id == 1 { // sets WeChat shows a confirm_info block for
			fi.ConfirmInfo = &confirmInfo{}
		}
		out = append(out, fi)
	}
	return out
}

type authorizationInfo struct {
	AuthorizerAppID        string     `json:"authorizer_appid"`
	AuthorizerAccessToken  string     `json:"authorizer_access_token,omitempty"`
	ExpiresIn              int        `json:"expires_in,omitempty"`
	AuthorizerRefreshToken string     `json:"authorizer_refresh_token,omitempty"`
	FuncInfo               []funcInfo `json:"func_info"`
}

func (s *Sandbox) apiQueryAuth(c *call) any {
	var req struct {
		ComponentAppID    string `json:"component_appid"`
		AuthorizationCode string `json:"authorization_code"`
	}
	if e := c.decode(&req); e != nil {
		return e
	}
	if e := c.checkComponentAppID(req.ComponentAppID); e != nil {
		return e
	}
	code := s.authCodes[req.AuthorizationCode]
	if code == nil || code.used {
		return fail(61009)
	}
	if !c.now.Before(code.expires) {
		return fail(61010)
	}
	a := s.apps[code.appID]
	if !a.authorized {
		return fail(61003)
	}
	code.used = true
	a.exchanged = true
	t := s.issueTokenLocked(&a.tokens, tokenOwner{appID: a.appID})
	return struct {
		Info authorizationInfo `json:"authorization_info"`
	}{authorizationInfo{
		AuthorizerAppID:        a.appID,
		AuthorizerAccessToken:  t.value,
		ExpiresIn:              int(s.opts.TokenTTL / time.Second),
		AuthorizerRefreshToken: a.refreshToken,
		FuncInfo:               funcInfoOf(a),
	}}
}

func (s *Sandbox) apiAuthorizerToken(c *call) any {
	var req struct {
		ComponentAppID string `json:"component_appid"`
		AppID          string `json:"authorizer_appid"`
		RefreshToken   string `json:"authorizer_refresh_token"`
	}
	if e := c.decode(&req); e != nil {
		return e
	}
	if e := c.checkComponentAppID(req.ComponentAppID); e != nil {
		return e
	}
	a := s.apps[req.AppID]
	switch {
	case a == nil || !a.everAuth:
		return fail(61003)
	case !a.authorized || req.RefreshToken != a.refreshToken:
		return fail(61023)
	}
	t := s.issueTokenLocked(&a.tokens, tokenOwner{appID: a.appID})
	return struct {
		Token        string `json:"authorizer_access_token"`
		ExpiresIn    int    `json:"expires_in"`
		RefreshToken string `json:"authorizer_refresh_token"`
	}{t.value, int(s.opts.TokenTTL / time.Second), a.refreshToken}
}

type typeInfo struct {
	ID int `json:"id"`
}

type network struct {
	RequestDomain   []string `json:"RequestDomain"`
	WsRequestDomain []string `json:"WsRequestDomain"`
	UploadDomain    []string `json:"UploadDomain"`
	DownloadDomain  []string `json:"DownloadDomain"`
	BizDomain       []string `json:"BizDomain"`
	UDPDomain       []string `json:"UDPDomain"`
	TCPDomain       []string `json:"TCPDomain"`
}

type infoCategory struct {
	First  string `json:"first"`
	Second string `json:"second"`
}

type miniProgramInfo struct {
	Network     network        `json:"network"`
	Categories  []infoCategory `json:"categories"`
	VisitStatus int            `json:"visit_status"`
}

type authorizerInfo struct {
	NickName        string           `json:"nick_name"`
	HeadImg         string           `json:"head_img"`
	ServiceTypeInfo typeInfo         `json:"service_type_info"`
	VerifyTypeInfo  typeInfo         `json:"verify_type_info"`
	UserName        string           `json:"user_name"`
	Alias           string           `json:"alias"`
	QRCodeURL       string           `json:"qrcode_url"`
	PrincipalName   string           `json:"principal_name"`
	Signature       string           `json:"signature"`
	BusinessInfo    map[string]int   `json:"business_info"`
	MiniProgramInfo *miniProgramInfo `json:"MiniProgramInfo,omitempty"`
	RegisterType    int              `json:"register_type"`
	AccountStatus   int              `json:"account_status"`
	BasicConfig     map[string]bool  `json:"basic_config"`
}

func (s *Sandbox) authorizerInfoOf(a *app) authorizerInfo {
	info := authorizerInfo{
		NickName:      a.nickname,
		HeadImg:       s.headImgURL(a.appID),
		UserName:      a.userName,
		QRCodeURL:     "http://mmbiz.qpic.cn/mmbiz_jpg/sandbox_" + a.appID + "/0",
		PrincipalName: a.principal,
		Signature:     a.nickname + "（沙箱）",
		BusinessInfo:  map[string]int{"open_pay": 0, "open_shake": 0, "open_scan": 0, "open_card": 0, "open_store": 0},
		AccountStatus: 1,
		BasicConfig:   map[string]bool{"is_phone_configured": true, "is_email_configured": true},
	}
	info.VerifyTypeInfo.ID = -1
	if a.verified {
		info.VerifyTypeInfo.ID = 0
	}
	switch a.kind {
	case ServiceAccount:
		info.ServiceTypeInfo.ID = 2
	case SubscriptionAccount:
		info.ServiceTypeInfo.ID = 0
	case MiniProgram:
		d := func(k string) []string { return append([]string{}, a.domains[k]...) }
		mp := &miniProgramInfo{Network: network{
			RequestDomain: d("requestdomain"), WsRequestDomain: d("wsrequestdomain"),
			UploadDomain: d("uploaddomain"), DownloadDomain: d("downloaddomain"),
			BizDomain: append([]string{}, a.webview...), UDPDomain: d("udpdomain"), TCPDomain: d("tcpdomain"),
		}}
		for _, cat := range a.categories {
			mp.Categories = append(mp.Categories, infoCategory{cat.First, cat.Second})
		}
		info.MiniProgramInfo = mp
	}
	return info
}

func (s *Sandbox) apiGetAuthorizerInfo(c *call) any {
	var req struct {
		ComponentAppID string `json:"component_appid"`
		AppID          string `json:"authorizer_appid"`
	}
	if e := c.decode(&req); e != nil {
		return e
	}
	if e := c.checkComponentAppID(req.ComponentAppID); e != nil {
		return e
	}
	a := s.apps[req.AppID]
	if a == nil || !a.authorized {
		return fail(61003)
	}
	return struct {
		Info     authorizerInfo    `json:"authorizer_info"`
		AuthInfo authorizationInfo `json:"authorization_info"`
	}{s.authorizerInfoOf(a), authorizationInfo{
		AuthorizerAppID:        a.appID,
		AuthorizerRefreshToken: a.refreshToken,
		FuncInfo:               funcInfoOf(a),
	}}
}

type listItem struct {
	AppID        string `json:"authorizer_appid"`
	RefreshToken string `json:"refresh_token,omitempty"`
	AuthTime     int64  `json:"auth_time"`
}

func (s *Sandbox) apiGetAuthorizerList(c *call) any {
	var req struct {
		ComponentAppID string `json:"component_appid"`
		Offset         int    `json:"offset"`
		Count          int    `json:"count"`
	}
	if e := c.decode(&req); e != nil {
		return e
	}
	if e := c.checkComponentAppID(req.ComponentAppID); e != nil {
		return e
	}
	if req.Offset < 0 || req.Count <= 0 || req.Count > 500 {
		return failMsg(47001, "data format error: count must be 1 to 500")
	}
	var all []*app
	for _, id := range s.appOrder {
		if a := s.apps[id]; a.authorized {
			all = append(all, a)
		}
	}
	list := []listItem{}
	for i := req.Offset; i < len(all) && i < req.Offset+req.Count; i++ {
		a := all[i]
		item := listItem{AppID: a.appID, AuthTime: a.authTime.Unix()}
		if a.exchanged { // observed: no refresh_token until the code is exchanged
			item.RefreshToken = a.refreshToken
		}
		list = append(list, item)
	}
	return struct {
		TotalCount int        `json:"total_count"`
		List       []listItem `json:"list"`
	}{len(all), list}
}

// apiClearQuota resets an account's daily API counters; 10 per month.
func (s *Sandbox) apiClearQuota(c *call) any {
	var req struct {
		AppID string `json:"appid"`
	}
	if e := c.decode(&req); e != nil {
		return e
	}
	if req.AppID != s.opts.ComponentAppID && s.apps[req.AppID] == nil {
		return fail(40013)
	}
	k := monthKey(c.now) + "|" + req.AppID
	if s.quota.clears[k] >= 10 {
		return fail(48006)
	}
	s.quota.clears[k]++
	day := dayKey(c.now) + "|"
	for key := range s.quota.daily {
		if api, found := strings.CutPrefix(key, day); found && !isTokenAPI(api) {
			delete(s.quota.daily, key)
		}
	}
	return nil
}

// Token-issuing APIs are not cleared by clear_quota (staff answer, §3.2).
func isTokenAPI(name string) bool {
	switch name {
	case "api_component_token", "api_authorizer_token", "api_create_preauthcode":
		return true
	}
	return false
}

func (s *Sandbox) apiQuotaGet(c *call) any {
	var req struct {
		CgiPath string `json:"cgi_path"`
	}
	if e := c.decode(&req); e != nil {
		return e
	}
	name := s.apiName(req.CgiPath)
	if _, found := s.routes[name]; !found {
		return failMsg(76021, "cgi_path not found")
	}
	limit := s.opts.DailyQuotas[name]
	used := s.quota.used(name, c.now)
	remain := 0
	if limit > 0 {
		remain = max(limit-used, 0)
	}
	type quota struct {
		DailyLimit int `json:"daily_limit"`
		Used       int `json:"used"`
		Remain     int `json:"remain"`
	}
	type rate struct {
		CallCount     int `json:"call_count"`
		RefreshSecond int `json:"refresh_second"`
	}
	return struct {
		okEnvelope
		Quota quota `json:"quota"`
		Rate  rate  `json:"rate_limit"`
		Comp  rate  `json:"component_rate_limit"`
	}{ok(), quota{limit, used, remain}, rate{1000, 60}, rate{1000, 60}}
}
