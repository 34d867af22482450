package sandbox

import (
	"crypto/sha1"
	"encoding/hex"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Links into a released Mini Program (docs/links.md): generatescheme,
// generate_urllink, genwxashortlink, queryscheme, query_urllink and
// getwxacodeunlimit, with the current doc's validation and quotas.

const (
	linkMaxDays           = 30
	linkMaxQuery          = 1024
	linkDailyGenerate     = 500000 // schemes + URL Links a day, per app
	linkDailyVisits       = 6000000
	shortLinkPermanentCap = 100000 // permanent Short Links, ever, per app
	wxaCodeMaxScene       = 32
)

// linkQueryChars are the characters the doc allows in a query (and %).
const linkQueryChars = "!#$&'()*+,/:;=?@-._~%"

// sceneChars are the characters allowed in a 小程序码 scene (no %).
const sceneChars = "!#$&'()*+,/:;=?@-._~"

type sbLink struct {
	kind, path, query, env string
	created, expires       time.Time
}

type linkState struct {
	byLink         map[string]*sbLink
	day            string // the day the counters below count
	generated      int
	permanentShort int
}

func (l *linkState) today(now time.Time) {
	if d := now.Format("2006-01-02"); l.day != d {
		l.day, l.generated = d, 0
	}
	if l.byLink == nil {
		l.byLink = map[string]*sbLink{}
	}
}

func allowedChars(s, extra string) bool {
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || strings.ContainsRune(extra, r)) {
			return false
		}
	}
	return true
}

// livePage reports whether path is a page of the released version ("" is
// the home page). Paths are compared without a leading slash.
func livePage(a *app, path string) bool {
	if path == "" {
		return true
	}
	return slices.Contains(a.code.live.pages, strings.TrimPrefix(path, "/"))
}

type linkReq struct {
	JumpWxa *struct {
		Path       string `json:"path"`
		Query      string `json:"query"`
		EnvVersion string `json:"env_version"`
	} `json:"jump_wxa"`
	Path           string `json:"path"`
	Query          string `json:"query"`
	EnvVersion     string `json:"env_version"`
	ExpireType     int    `json:"expire_type"`
	ExpireTime     int64  `json:"expire_time"`
	ExpireInterval int    `json:"expire_interval"`
}

// checkLinkLocked validates a scheme or URL Link request the way the doc's
// errcodes say and returns its expiry.
func (c *call) checkLink(req *linkReq) (time.Time, *apiError) {
	a := c.app
	if a.code.live == nil {
		return time.Time{}, fail(85079)
	}
	switch req.EnvVersion {
	case "", "release", "trial", "develop":
	default:
		return time.Time{}, fail(85402)
	}
	if strings.Contains(req.Path, "?") || !livePage(a, req.Path) {
		return time.Time{}, fail(40165)
	}
	if len(req.Query) > linkMaxQuery || !allowedChars(req.Query, linkQueryChars) {
		return time.Time{}, fail(40212)
	}
	var exp time.Time
	switch req.ExpireType {
	case 0:
		exp = time.Unix(req.ExpireTime, 0)
		if d := exp.Sub(c.now); d <= time.Minute || d > linkMaxDays*24*time.Hour {
			return time.Time{}, fail(85401)
		}
	case 1:
		if req.ExpireInterval < 1 || req.ExpireInterval > linkMaxDays {
			return time.Time{}, fail(85401)
		}
		exp = c.now.Add(time.Duration(req.ExpireInterval) * 24 * time.Hour)
	default:
		return time.Time{}, failMsg(47001, "data format error: expire_type")
	}
	a.links.today(c.now)
	if a.links.generated >= linkDailyGenerate {
		return time.Time{}, fail(45009)
	}
	return exp, nil
}

func (s *Sandbox) newLinkLocked(a *app, kind string, req *linkReq, exp time.Time, now time.Time) string {
	ticket := s.opaqueLocked("", 11)
	var link string
	switch kind {
	case "scheme":
		link = "weixin://dl/business/?t=" + ticket
	case "urllink":
		link = "https://wxaurl.cn/" + ticket
	}
	env := req.EnvVersion
	if env == "" {
		env = "release"
	}
	a.links.byLink[link] = &sbLink{kind: kind, path: req.Path, query: req.Query, env: env, created: now, expires: exp}
	a.links.generated++
	return link
}

func (s *Sandbox) apiGenerateScheme(c *call) any {
	var req linkReq
	if e := c.decode(&req); e != nil {
		return e
	}
	if j := req.JumpWxa; j != nil {
		req.Path, req.Query, req.EnvVersion = j.Path, j.Query, j.EnvVersion
	}
	exp, e := c.checkLink(&req)
	if e != nil {
		return e
	}
	return struct {
		okEnvelope
		OpenLink string `json:"openlink"`
	}{ok(), s.newLinkLocked(c.app, "scheme", &req, exp, c.now)}
}

func (s *Sandbox) apiGenerateURLLink(c *call) any {
	var req linkReq
	if e := c.decode(&req); e != nil {
		return e
	}
	exp, e := c.checkLink(&req)
	if e != nil {
		return e
	}
	return struct {
		okEnvelope
		URLLink string `json:"url_link"`
	}{ok(), s.newLinkLocked(c.app, "urllink", &req, exp, c.now)}
}

func (s *Sandbox) apiGenerateShortLink(c *call) any {
	var req struct {
		PageURL     string `json:"page_url"`
		PageTitle   string `json:"page_title"`
		IsPermanent bool   `json:"is_permanent"`
	}
	if e := c.decode(&req); e != nil {
		return e
	}
	a := c.app
	if a.code.live == nil {
		return fail(85079)
	}
	page, _, _ := strings.Cut(req.PageURL, "?")
	if req.PageURL == "" || len(req.PageURL) > linkMaxQuery || !livePage(a, page) {
		return fail(40165)
	}
	a.links.today(c.now)
	if req.IsPermanent && a.links.permanentShort >= shortLinkPermanentCap {
		return fail(85400)
	}
	title := []rune(req.PageTitle)
	if len(title) > 20 {
		title = append(title[:20], []rune("...")...)
	}
	link := "#小程序://" + a.nickname + "/" + string(title) + "/" + s.opaqueLocked("", 15)
	exp := c.now.Add(linkMaxDays * 24 * time.Hour)
	if req.IsPermanent {
		a.links.permanentShort++
		exp = time.Time{}
	}
	a.links.byLink[link] = &sbLink{kind: "shortlink", path: page, env: "release", created: c.now, expires: exp}
	return struct {
		okEnvelope
		Link string `json:"link"`
	}{ok(), link}
}

type sbLinkInfo struct {
	AppID      string `json:"appid"`
	Path       string `json:"path"`
	Query      string `json:"query"`
	CreateTime int64  `json:"create_time"`
	ExpireTime int64  `json:"expire_time"`
	EnvVersion string `json:"env_version"`
}

type sbQuotaInfo struct {
	RemainVisitQuota int64 `json:"remain_visit_quota"`
}

func (s *Sandbox) queryLinkLocked(c *call, kind, link string, queryType int) any {
	a := c.app
	a.links.today(c.now)
	if queryType == 1 {
		return struct {
			okEnvelope
			QuotaInfo sbQuotaInfo `json:"quota_info"`
		}{ok(), sbQuotaInfo{linkDailyVisits}}
	}
	if queryType != 0 {
		return fail(40097)
	}
	base, _, _ := strings.Cut(link, "&cq=")
	base, _, _ = strings.Cut(base, "?cq=")
	l := a.links.byLink[base]
	if l == nil || l.kind != kind {
		return fail(85403)
	}
	info := sbLinkInfo{AppID: a.appID, Path: l.path, Query: l.query, CreateTime: l.created.Unix(), EnvVersion: l.env}
	if !l.expires.IsZero() {
		info.ExpireTime = l.expires.Unix()
	}
	if kind == "scheme" {
		return struct {
			okEnvelope
			SchemeInfo sbLinkInfo  `json:"scheme_info"`
			QuotaInfo  sbQuotaInfo `json:"quota_info"`
		}{ok(), info, sbQuotaInfo{linkDailyVisits}}
	}
	return struct {
		okEnvelope
		Info      sbLinkInfo  `json:"url_link_info"`
		QuotaInfo sbQuotaInfo `json:"quota_info"`
	}{ok(), info, sbQuotaInfo{linkDailyVisits}}
}

func (s *Sandbox) apiQueryScheme(c *call) any {
	var req struct {
		Scheme    string `json:"scheme"`
		QueryType int    `json:"query_type"`
	}
	if e := c.decode(&req); e != nil {
		return e
	}
	return s.queryLinkLocked(c, "scheme", req.Scheme, req.QueryType)
}

func (s *Sandbox) apiQueryURLLink(c *call) any {
	var req struct {
		URLLink   string `json:"url_link"`
		QueryType int    `json:"query_type"`
	}
	if e := c.decode(&req); e != nil {
		return e
	}
	return s.queryLinkLocked(c, "urllink", req.URLLink, req.QueryType)
}

// apiGetWxaCodeUnlimit draws a QR code of the scene and page (WeChat draws
// its round 小程序码; a scanner of the sandbox's reads the text).
func (s *Sandbox) apiGetWxaCodeUnlimit(c *call) any {
	var req struct {
		Scene      string `json:"scene"`
		Page       string `json:"page"`
		CheckPath  *bool  `json:"check_path"`
		EnvVersion string `json:"env_version"`
		Width      *int   `json:"width"`
	}
	if e := c.decode(&req); e != nil {
		return e
	}
	a := c.app
	if req.Scene == "" || len(req.Scene) > wxaCodeMaxScene {
		return fail(40169)
	}
	if !allowedChars(req.Scene, sceneChars) {
		return fail(40129)
	}
	if req.Width != nil && (*req.Width < 280 || *req.Width > 1280) {
		return failMsg(40097, "invalid args: width")
	}
	switch req.EnvVersion {
	case "", "release", "trial", "develop":
	default:
		return failMsg(40097, "invalid args: env_version")
	}
	check := req.CheckPath == nil || *req.CheckPath
	if strings.HasPrefix(req.Page, "/") || strings.Contains(req.Page, "?") {
		return fail(41030)
	}
	if check && (a.code.live == nil || !livePage(a, req.Page)) {
		return fail(41030)
	}
	text := "https://mp.weixin.qq.com/a/~" + a.appID + "?page=" + url.QueryEscape(req.Page) + "&scene=" + url.QueryEscape(req.Scene)
	return binary{contentType: "image/jpeg", render: func() ([]byte, error) { return qrJPEG(text) }}
}

// Business domains set directly on the app (setwebviewdomain_directly).

const webviewMaxDomains = 300

// confirmFile is the app's business-domain verification file: a stable
// name and content derived from the appid.
func confirmFile(appID string) (name, content string) {
	sum := sha1.Sum([]byte("confirm:" + appID))
	h := hex.EncodeToString(sum[:])
	return h[:10] + ".txt", h[10:]
}

func (s *Sandbox) apiGetWebviewConfirmFile(c *call) any {
	var req struct{}
	if e := c.decode(&req); e != nil {
		return e
	}
	name, content := confirmFile(c.app.appID)
	return struct {
		okEnvelope
		FileName    string `json:"file_name"`
		FileContent string `json:"file_content"`
	}{ok(), name, content}
}

// checkWebviewDomain: https only, a host name (no IP, no port, no path).
func checkWebviewDomain(d string) bool {
	u, err := url.Parse(d)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.Port() != "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return false
	}
	return net.ParseIP(u.Hostname()) == nil && strings.Contains(u.Hostname(), ".")
}

func (s *Sandbox) apiSetWebviewDomainDirectly(c *call) any {
	var req struct {
		Action        string   `json:"action"`
		WebviewDomain []string `json:"webviewdomain"`
	}
	if e := c.decode(&req); e != nil {
		return e
	}
	a := c.app
	switch req.Action {
	case "get":
	case "add", "delete", "set":
		if req.WebviewDomain == nil {
			return failMsg(47001, "data format error: webviewdomain is required")
		}
		for _, d := range req.WebviewDomain {
			if !checkWebviewDomain(d) {
				return failMsg(47001, "data format error: invalid webviewdomain "+d)
			}
		}
		next := applyDomainAction(req.Action, slices.Clone(a.webview), req.WebviewDomain)
		if len(next) > webviewMaxDomains {
			return fail(85016)
		}
		a.webview = next
	default:
		return failMsg(47001, "data format error: invalid action")
	}
	return struct {
		okEnvelope
		WebviewDomain []string `json:"webviewdomain"`
	}{ok(), append([]string{}, a.webview...)}
}

// WebviewDomains returns the app's business domains as the emulator has them.
func (s *Sandbox) WebviewDomains(appID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.apps[appID]; a != nil {
		return slices.Clone(a.webview)
	}
	return nil
}

// SetWebviewDomains sets the app's business domains as if the merchant had
// set them in WeChat's own back end.
func (s *Sandbox) SetWebviewDomains(appID string, domains []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.apps[appID]; a != nil {
		a.webview = slices.Clone(domains)
	}
}

// ReleaseForTest gives an app a released version with these pages, as if
// commit, audit and release had run (tests and the console).
func (s *Sandbox) ReleaseForTest(appID, userVersion string, pages []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[appID]
	if a == nil {
		return
	}
	a.code.appVersion++
	a.code.live = &liveVersion{appVersion: a.code.appVersion, userVersion: userVersion, commitTime: s.clock.Now(), pages: slices.Clone(pages)}
}

// apiModifyDomainDirectly sets an app's own server domains without the
// platform's registration (no 85018); the doc marks all six lists
// required for add/delete/set, so a missing one is a format error.
func (s *Sandbox) apiModifyDomainDirectly(c *call) any {
	var req struct {
		Action          string    `json:"action"`
		RequestDomain   *[]string `json:"requestdomain"`
		WsRequestDomain *[]string `json:"wsrequestdomain"`
		UploadDomain    *[]string `json:"uploaddomain"`
		DownloadDomain  *[]string `json:"downloaddomain"`
		UDPDomain       *[]string `json:"udpdomain"`
		TCPDomain       *[]string `json:"tcpdomain"`
	}
	if e := c.decode(&req); e != nil {
		return e
	}
	a := c.app
	in := map[string]*[]string{"requestdomain": req.RequestDomain, "wsrequestdomain": req.WsRequestDomain, "uploaddomain": req.UploadDomain,
		"downloaddomain": req.DownloadDomain, "udpdomain": req.UDPDomain, "tcpdomain": req.TCPDomain}
	switch req.Action {
	case "get":
	case "add", "delete", "set":
		next := map[string][]string{}
		empty := true
		for _, k := range domainKinds {
			list := in[k.key]
			if list == nil {
				return failMsg(47001, "data format error: "+k.key+" is required")
			}
			for _, d := range *list {
				if !checkDomainPort(d, k.scheme) {
					return failMsg(47001, "data format error: invalid "+k.key+" "+d)
				}
			}
			if len(*list) > 0 {
				empty = false
			}
			next[k.key] = applyDomainAction(req.Action, slices.Clone(a.domains[k.key]), *list)
			if len(next[k.key]) > maxDomainsPerKind {
				return fail(85016)
			}
		}
		if empty && req.Action != "set" {
			return fail(85017)
		}
		a.domains = next
	default:
		return failMsg(47001, "data format error: invalid action")
	}
	var out domainLists
	for k, p := range out.byKind() {
		*p = append([]string{}, a.domains[k]...)
	}
	return struct {
		okEnvelope
		domainLists
	}{ok(), out}
}

// checkDomainPort: scheme://host[:port], no path, no IP address.
func checkDomainPort(d, scheme string) bool {
	u, err := url.Parse(d)
	return err == nil && u.Scheme == scheme && u.Hostname() != "" && (u.Path == "" || u.Path == "/") &&
		net.ParseIP(u.Hostname()) == nil && u.Hostname() != "api.weixin.qq.com"
}

// ServerDomainsOf returns an app's server domains as the emulator has them.
func (s *Sandbox) ServerDomainsOf(appID string) map[string][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]string{}
	if a := s.apps[appID]; a != nil {
		for k, v := range a.domains {
			out[k] = slices.Clone(v)
		}
	}
	return out
}

// SetServerDomains sets an app's server domains as if the merchant had.
func (s *Sandbox) SetServerDomains(appID, kind string, domains []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.apps[appID]; a != nil {
		a.domains[kind] = slices.Clone(domains)
	}
}
