package sandbox

import (
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"rsc.io/qr"
)

// authParams are an authorization link's query (protocol doc §4).
type authParams struct {
	ComponentAppID string
	PreAuthCode    string
	RedirectURI    string
	AuthType       int
	BizAppID       string
	CategoryList   string
	Mobile         bool
}

func readAuthParams(v url.Values) authParams {
	p := authParams{
		ComponentAppID: v.Get("component_appid"),
		PreAuthCode:    v.Get("pre_auth_code"),
		RedirectURI:    v.Get("redirect_uri"),
		BizAppID:       v.Get("biz_appid"),
		CategoryList:   v.Get("category_id_list"),
		Mobile:         v.Get("mobile") == "1",
	}
	p.AuthType, _ = strconv.Atoi(v.Get("auth_type"))
	return p
}

// checkLinkLocked validates what both pages need; the message is shown to
// the merchant as WeChat's error page would.
func (s *Sandbox) checkLinkLocked(p authParams) (authRequest, string) {
	var req authRequest
	if p.ComponentAppID != s.opts.ComponentAppID {
		return req, "第三方平台 component_appid 无效"
	}
	if p.RedirectURI == "" {
		return req, "缺少 redirect_uri 参数"
	}
	ru, err := url.Parse(p.RedirectURI)
	if err != nil || (ru.Scheme != "http" && ru.Scheme != "https") || ru.Host == "" {
		return req, "redirect_uri 不是有效的网址"
	}
	if h := s.opts.AllowedEntryHost; h != "" && !sameHost(ru, h) {
		return req, "回调URL域名与第三方平台配置的授权发起页域名不一致"
	}
	if p.AuthType < 0 || p.AuthType > 3 {
		return req, "auth_type 参数错误"
	}
	cats, err := parseCategoryList(p.CategoryList)
	if err != nil {
		return req, "category_id_list 参数错误"
	}
	if _, err := s.livePreAuthLocked(p.PreAuthCode); err != nil {
		return req, "该授权链接已失效（pre_auth_code 无效、已使用或已过期），请重新发起授权"
	}
	return authRequest{preAuthCode: p.PreAuthCode, authType: p.AuthType, bizAppID: p.BizAppID, categories: cats}, ""
}

// sameHost compares a URL's host with the configured domain; a configured
// port must match too.
func sameHost(u *url.URL, want string) bool {
	if strings.Contains(want, ":") {
		return strings.EqualFold(u.Host, want)
	}
	return strings.EqualFold(u.Hostname(), want)
}

// pcAuthPage is mp.weixin.qq.com's scan page. WeChat checks that it was
// opened from a page on the authorization-start domain.
func (s *Sandbox) pcAuthPage(w http.ResponseWriter, r *http.Request) {
	if h := s.opts.AllowedEntryHost; h != "" {
		ref, err := url.Parse(r.Referer())
		if r.Referer() == "" || err != nil || ref.Host == "" {
			s.renderAuthError(w, "授权入口页所在域名：空", "请从第三方平台配置的授权发起页域名下的页面打开此链接，不能直接打开或跳转。")
			return
		}
		if !sameHost(ref, h) {
			s.renderAuthError(w, "授权入口页所在域名："+ref.Host, "授权入口页所在域名与第三方平台配置的授权发起页域名不一致。")
			return
		}
	}
	s.renderAuthForm(w, readAuthParams(r.URL.Query()), false)
}

// mobileAuthPage is the quick-auth page opened inside WeChat; no Referer check.
func (s *Sandbox) mobileAuthPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if a := q.Get("action"); a != "" && a != "bindcomponent" {
		s.renderAuthError(w, "参数错误", "action 必须为 bindcomponent")
		return
	}
	s.renderAuthForm(w, readAuthParams(q), true)
}

type appChoice struct {
	AppID, Nickname, Kind, Principal string
	Authorized                       bool
}

type permChoice struct {
	ID      int
	Name    string
	Checked bool
}

type authFormData struct {
	P            authParams
	Mobile       bool
	Action       string
	QRDataURI    template.URL
	Apps         []appChoice
	MPSets       []permChoice
	OASets       []permChoice
	AllowMP      bool
	AllowOA      bool
	ComponentApp string
}

const maxListedApps = 100

func (s *Sandbox) renderAuthForm(w http.ResponseWriter, p authParams, mobile bool) {
	s.mu.Lock()
	req, msg := s.checkLinkLocked(p)
	if msg != "" {
		s.mu.Unlock()
		s.renderAuthError(w, msg, "")
		return
	}
	d := authFormData{P: p, Mobile: mobile, AllowMP: authTypeAllows(p.AuthType, MiniProgram),
		AllowOA: authTypeAllows(p.AuthType, ServiceAccount), ComponentApp: s.opts.ComponentAppID}
	d.Action = s.url("/cgi-bin/componentloginpage")
	if mobile {
		d.Action = s.url("/safe/bindcomponent")
	}
	for i := len(s.appOrder) - 1; i >= 0 && len(d.Apps) < maxListedApps; i-- {
		a := s.apps[s.appOrder[i]]
		if !authTypeAllows(p.AuthType, a.kind) || (p.BizAppID != "" && a.appID != p.BizAppID) {
			continue
		}
		d.Apps = append(d.Apps, appChoice{a.appID, a.nickname, a.kind.String(), a.principal, a.authorized})
	}
	s.mu.Unlock()
	checked := func(id int) bool { return req.categories == nil || slices.Contains(req.categories, id) }
	for _, ps := range MiniProgramPermissionSets {
		d.MPSets = append(d.MPSets, permChoice{ps.ID, ps.Name, checked(ps.ID)})
	}
	for _, ps := range OfficialAccountPermissionSets {
		d.OASets = append(d.OASets, permChoice{ps.ID, ps.Name, checked(ps.ID)})
	}
	if !mobile {
		// The real page shows a QR code the admin scans; here it encodes the mobile link.
		q := url.Values{"action": {"bindcomponent"}, "no_scan": {"1"}, "component_appid": {p.ComponentAppID},
			"pre_auth_code": {p.PreAuthCode}, "redirect_uri": {p.RedirectURI}, "auth_type": {strconv.Itoa(p.AuthType)}}
		if code, err := qr.Encode(s.url("/wxaopen/safe/bindcomponent?")+q.Encode(), qr.L); err == nil {
			code.Scale = 4
			d.QRDataURI = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(code.PNG()))
		}
	}
	renderHTML(w, http.StatusOK, authFormTmpl, d)
}

// authSubmit is the merchant's decision on either page.
func (s *Sandbox) authSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.renderAuthError(w, "请求无效", err.Error())
		return
	}
	f := r.PostForm
	p := readAuthParams(f)
	if f.Get("decision") != "approve" {
		// WeChat documents no redirect on cancel; the page just says so.
		renderHTML(w, http.StatusOK, authDoneTmpl, map[string]string{"Title": "已取消授权", "Text": "你已取消本次授权，可关闭此页面。"})
		return
	}
	spec := AppSpec{AppID: f.Get("app")}
	if spec.AppID == "new" || spec.AppID == "" {
		spec = AppSpec{Nickname: strings.TrimSpace(f.Get("nickname")), PrincipalName: strings.TrimSpace(f.Get("principal"))}
		switch f.Get("kind") {
		case "service":
			spec.Kind = ServiceAccount
		case "subscription":
			spec.Kind = SubscriptionAccount
		}
	}
	s.mu.Lock()
	req, msg := s.checkLinkLocked(p)
	if msg != "" {
		s.mu.Unlock()
		s.renderAuthError(w, msg, "")
		return
	}
	kind := spec.Kind
	if a := s.apps[spec.AppID]; a != nil {
		kind = a.kind
	}
	field := "perm_mp"
	if kind != MiniProgram {
		field = "perm_oa"
	}
	spec.PermissionSets = []int{}
	for _, v := range f[field] {
		if id, err := strconv.Atoi(v); err == nil {
			spec.PermissionSets = append(spec.PermissionSets, id)
		}
	}
	if len(spec.PermissionSets) == 0 {
		s.mu.Unlock()
		s.renderAuthError(w, "请至少选择一个权限集", "")
		return
	}
	code, err := s.authorizeLocked(req, spec)
	s.mu.Unlock()
	if err != nil {
		s.renderAuthError(w, "授权失败", err.Error())
		return
	}
	target, _ := url.Parse(p.RedirectURI)
	q := target.Query()
	q.Set("auth_code", code.value)
	q.Set("expires_in", strconv.Itoa(int(s.opts.AuthCodeTTL.Seconds())))
	target.RawQuery = q.Encode()
	http.Redirect(w, r, target.String(), http.StatusFound)
}

func (s *Sandbox) renderAuthError(w http.ResponseWriter, title, text string) {
	renderHTML(w, http.StatusOK, authErrorTmpl, map[string]string{"Title": title, "Text": text})
}

func renderHTML(w http.ResponseWriter, status int, t *template.Template, data any) {
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(b.String()))
}

const pageStyle = `<style>
body{font-family:-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;background:#f2f2f2;color:#111}
main{max-width:760px;margin:24px auto;background:#fff;padding:24px;border-radius:4px}
h1{font-size:20px}h2{font-size:16px;margin-top:24px}
.muted{color:#888;font-size:13px}.err{color:#fa5151}
label{display:block;margin:6px 0}input[type=text],select{padding:4px;width:280px}
button{padding:8px 20px;margin-right:8px;border:0;border-radius:4px;background:#07c160;color:#fff;font-size:15px}
button.secondary{background:#eee;color:#333}
table{border-collapse:collapse;width:100%;font-size:13px}td,th{border-bottom:1px solid #eee;padding:4px;text-align:left;vertical-align:top}
.tag{display:inline-block;padding:0 6px;border-radius:3px;background:#eee;font-size:12px}
</style>`

var authFormTmpl = template.Must(template.New("auth").Parse(`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>公众号/小程序授权 - 微信开放平台（沙箱）</title>` + pageStyle + `</head><body><main data-testid="auth-page">
<h1>授权给第三方平台 <span class="tag">{{.ComponentApp}}</span></h1>
<p class="muted">沙箱模拟的{{if .Mobile}}微信内快速授权页{{else}}扫码授权页：真实环境中管理员用微信扫描下方二维码，并在手机上确认{{end}}。</p>
{{if .QRDataURI}}<p><img src="{{.QRDataURI}}" alt="授权二维码" data-testid="auth-qr"></p>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="component_appid" value="{{.P.ComponentAppID}}">
<input type="hidden" name="pre_auth_code" value="{{.P.PreAuthCode}}">
<input type="hidden" name="redirect_uri" value="{{.P.RedirectURI}}">
<input type="hidden" name="auth_type" value="{{.P.AuthType}}">
<input type="hidden" name="biz_appid" value="{{.P.BizAppID}}">
<input type="hidden" name="category_id_list" value="{{.P.CategoryList}}">
{{if .Mobile}}<input type="hidden" name="mobile" value="1">{{end}}
<h2>选择要授权的帐号</h2>
{{range .Apps}}<label><input type="radio" name="app" value="{{.AppID}}" data-testid="app-{{.AppID}}"> {{.Nickname}} <span class="tag">{{.Kind}}</span> <span class="muted">{{.AppID}} · {{.Principal}}{{if .Authorized}} · 已授权{{end}}</span></label>
{{end}}{{if not .P.BizAppID}}<label><input type="radio" name="app" value="new" checked data-testid="app-new"> 新建一个帐号：</label>
<label>名称 <input type="text" name="nickname" placeholder="测试小店"></label>
<label>主体 <input type="text" name="principal" placeholder="沙箱测试商户有限公司"></label>
<label>类型 <select name="kind">{{if .AllowMP}}<option value="miniprogram">小程序</option>{{end}}{{if .AllowOA}}<option value="service">服务号（公众号）</option><option value="subscription">订阅号（公众号）</option>{{end}}</select></label>{{end}}
{{if .AllowMP}}<h2>小程序权限集</h2>
{{range .MPSets}}<label><input type="checkbox" name="perm_mp" value="{{.ID}}"{{if .Checked}} checked{{end}}> {{.ID}} {{.Name}}</label>
{{end}}{{end}}{{if .AllowOA}}<h2>公众号权限集</h2>
{{range .OASets}}<label><input type="checkbox" name="perm_oa" value="{{.ID}}"{{if .Checked}} checked{{end}}> {{.ID}} {{.Name}}</label>
{{end}}{{end}}
<p><button type="submit" name="decision" value="approve" data-testid="approve">授权</button>
<button type="submit" name="decision" value="cancel" class="secondary" data-testid="cancel">取消</button></p>
</form></main></body></html>`))

var authErrorTmpl = template.Must(template.New("autherr").Parse(`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>授权出错 - 微信开放平台（沙箱）</title>` + pageStyle + `</head>
<body><main data-testid="auth-error"><h1 class="err">{{.Title}}</h1><p>{{.Text}}</p></main></body></html>`))

var authDoneTmpl = template.Must(template.New("authdone").Parse(`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{{.Title}} - 微信开放平台（沙箱）</title>` + pageStyle + `</head>
<body><main data-testid="auth-done"><h1>{{.Title}}</h1><p>{{.Text}}</p></main></body></html>`))
