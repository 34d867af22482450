package sandbox

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The console shows what the emulator holds and lets an operator act as
// WeChat or the merchant. Sandbox mode only: it has no authentication.

type consoleApp struct {
	AppID, Nickname, UserName, Kind string
	Authorized                      bool
	Perms                           string
	Token                           string
	Trial, Audit, Live              string
	InFlight                        bool
	Visitor, Visited                string // content checks' visitor openid and when they last opened the app
}

type consoleData struct {
	Base         string
	PublishCheck []PublishCheckCase // the last 全网发布 test run, if any
	PublishRan   string
	Now          string
	ComponentID  string
	Ticket       string
	TicketAge    string
	Token        string
	Apps         []consoleApp
	AppsHidden   int
	Pushes       []PushRecord
	AuditQuota   string
	EventsURL    string
	AppEventsURL string
	NextRisky    string // the next media check comes back risky (which app, or any)
}

// mask shows only the ends of a secret.
func mask(v string) string {
	if len(v) <= 12 {
		return strings.Repeat("•", len(v))
	}
	return v[:6] + "…" + v[len(v)-4:]
}

var auditStatusNames = map[int]string{0: "审核通过", 1: "审核被拒", 2: "审核中", 3: "已撤回", 4: "审核延后"}

const consoleMaxApps = 200

func (s *Sandbox) consolePage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.pumpLocked()
	now := s.clock.Now()
	d := consoleData{Base: s.opts.PublicBase, Now: now.Format(time.DateTime), ComponentID: s.opts.ComponentAppID,
		EventsURL: s.opts.ComponentEventsURL, AppEventsURL: s.opts.AppEventsURL,
		AuditQuota: fmt.Sprintf("%d / %d", s.quota.audits[monthKey(now)], s.opts.AuditQuota)}
	if n := len(s.tickets); n > 0 {
		t := s.tickets[n-1]
		d.Ticket, d.TicketAge = mask(t.value), now.Sub(t.at).Round(time.Second).String()
	}
	if t := s.compTokens.cur; t != nil {
		d.Token = mask(t.value) + " 剩余 " + t.expires.Sub(now).Round(time.Second).String()
	}
	for i := len(s.appOrder) - 1; i >= 0; i-- {
		if len(d.Apps) == consoleMaxApps {
			d.AppsHidden = i + 1
			break
		}
		d.Apps = append(d.Apps, s.consoleAppLocked(s.apps[s.appOrder[i]], now))
	}
	d.PublishCheck, d.PublishRan = s.publishCheck, s.publishRan
	for app, label := range s.nextRisky {
		if app == "" {
			app = "任意帐号"
		}
		d.NextRisky += fmt.Sprintf("%s → 标签 %d  ", app, label)
	}
	pushes := slices.Clone(s.pushLog)
	s.mu.Unlock()
	slices.Reverse(pushes)
	d.Pushes = pushes[:min(len(pushes), 50)]
	renderHTML(w, http.StatusOK, consoleTmpl, d)
}

func (s *Sandbox) consoleAppLocked(a *app, now time.Time) consoleApp {
	ca := consoleApp{AppID: a.appID, Nickname: a.nickname, UserName: a.userName, Kind: a.kind.String(), Authorized: a.authorized}
	ids := make([]string, len(a.perms))
	for i, id := range a.perms {
		ids[i] = strconv.Itoa(id)
	}
	ca.Perms = strings.Join(ids, ",")
	if t := a.tokens.cur; t != nil && a.authorized {
		ca.Token = mask(t.value)
	}
	if v := a.code.trial; v != nil {
		ca.Trial = fmt.Sprintf("%s (模板 %d)", v.userVersion, v.template.id)
		if now.Before(v.scanDone) {
			ca.Trial += " · 隐私扫描中"
		}
	}
	if au := a.latestAudit(); au != nil {
		ca.Audit = fmt.Sprintf("#%d %s %s", au.id, au.version.userVersion, auditStatusNames[au.status])
		if au.released {
			ca.Audit += " · 已发布"
		}
		ca.InFlight = inFlight(au)
	}
	if l := a.code.live; l != nil {
		ca.Live = fmt.Sprintf("%s (v%d)", l.userVersion, l.appVersion)
		if g := a.code.gray; g != nil && g.status == 1 {
			ca.Live += fmt.Sprintf(" · 灰度 %d%%", g.percentage)
		}
	}
	ca.Visitor = s.VisitorOpenID(a.appID)
	if !a.visitedAt.IsZero() {
		ca.Visited = now.Sub(a.visitedAt).Round(time.Second).String() + " 前"
	}
	return ca
}

// consoleVisit makes the app's visitor open it now (content checks need an
// openid that visited within two hours).
func (s *Sandbox) consoleVisit(w http.ResponseWriter, r *http.Request) {
	s.Visit(r.FormValue("appid"))
	s.backToConsole(w, r)
}

// consoleMediaRisky makes the next media check come back risky.
func (s *Sandbox) consoleMediaRisky(w http.ResponseWriter, r *http.Request) {
	label, _ := strconv.Atoi(r.FormValue("label"))
	s.SetNextMediaRisky(r.FormValue("appid"), label)
	s.backToConsole(w, r)
}

func (s *Sandbox) backToConsole(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, s.url("/console"), http.StatusSeeOther)
}

func (s *Sandbox) consoleTicket(w http.ResponseWriter, r *http.Request) {
	s.PushTicket()
	s.backToConsole(w, r)
}

func (s *Sandbox) consoleRevoke(w http.ResponseWriter, r *http.Request) {
	if err := s.Revoke(r.FormValue("appid")); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.backToConsole(w, r)
}

func (s *Sandbox) consolePermissions(w http.ResponseWriter, r *http.Request) {
	var sets []int
	for _, f := range strings.FieldsFunc(r.FormValue("sets"), func(c rune) bool { return c == ',' || c == ' ' || c == '|' }) {
		id, err := strconv.Atoi(f)
		if err != nil {
			http.Error(w, "bad permission set id "+f, http.StatusBadRequest)
			return
		}
		sets = append(sets, id)
	}
	if err := s.UpdatePermissions(r.FormValue("appid"), sets); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.backToConsole(w, r)
}

func (s *Sandbox) consoleAudit(w http.ResponseWriter, r *http.Request) {
	var d AuditDecision
	switch r.FormValue("decision") {
	case "approve":
		d.Outcome = AuditApprove
	case "reject":
		d.Outcome = AuditReject
	case "delay":
		d = AuditDecision{Outcome: AuditDelay, Reason: "运营在沙箱控制台中延后了审核"}
	default:
		http.Error(w, "unknown decision", http.StatusBadRequest)
		return
	}
	if err := s.DecideAudit(r.FormValue("appid"), d); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.backToConsole(w, r)
}

// consolePublishCheck runs WeChat's 全网发布 test against the platform and
// shows the outcome on the console.
func (s *Sandbox) consolePublishCheck(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Minute)
	defer cancel()
	res := s.RunPublishCheck(ctx)
	s.mu.Lock()
	s.publishCheck, s.publishRan = res, s.clock.Now().Format(time.DateTime)
	s.mu.Unlock()
	s.backToConsole(w, r)
}

func (s *Sandbox) consoleAddApp(w http.ResponseWriter, r *http.Request) {
	spec := AppSpec{Nickname: strings.TrimSpace(r.FormValue("nickname"))}
	switch r.FormValue("kind") {
	case "service":
		spec.Kind = ServiceAccount
	case "subscription":
		spec.Kind = SubscriptionAccount
	}
	s.CreateApp(spec)
	s.backToConsole(w, r)
}

var consoleTmpl = template.Must(template.New("console").Parse(`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>WeChat 沙箱控制台</title>` + pageStyle + `
<style>main{max-width:1200px}form.inline{display:inline}form.inline button{padding:2px 8px;font-size:12px;margin:0}
input.sets{width:120px}</style></head><body><main data-testid="console">
<h1>WeChat 开放平台沙箱</h1>
<p class="muted">时钟 {{.Now}} · 第三方平台 {{.ComponentID}}</p>
<h2>票据与令牌</h2>
<table>
<tr><th>component_verify_ticket</th><td data-testid="ticket">{{if .Ticket}}{{.Ticket}}（{{.TicketAge}} 前推送）{{else}}尚未推送{{end}}</td></tr>
<tr><th>component_access_token</th><td>{{if .Token}}{{.Token}}{{else}}尚未获取{{end}}</td></tr>
<tr><th>授权事件接收 URL</th><td>{{.EventsURL}}</td></tr>
<tr><th>消息与事件接收 URL</th><td>{{.AppEventsURL}}</td></tr>
<tr><th>本月审核额度</th><td>{{.AuditQuota}}</td></tr>
</table>
<form method="post" action="{{.Base}}/console/ticket"><p><button type="submit" data-testid="push-ticket">立即推送票据</button></p></form>
<h2>全网发布检测</h2>
<p class="muted">像微信一样授权五组专用测试号（公众号与小程序各一），再发送检测说明里的文本、事件和 QUERY_AUTH_CODE 消息，每条 5 秒内须得到应答。</p>
<form method="post" action="{{.Base}}/console/publish-check"><p><button type="submit" data-testid="publish-check">运行全网发布检测</button></p></form>
{{if .PublishRan}}<p class="muted">上次检测 {{.PublishRan}}</p>
<table data-testid="publish-check-results"><tr><th>组</th><th>帐号</th><th>用例</th><th>结果</th></tr>
{{range .PublishCheck}}<tr><td>{{.Group}}</td><td>{{.AppID}}</td><td>{{.Case}}</td><td>{{if .OK}}通过{{else}}<span class="err">未通过：{{.Detail}}</span>{{end}}</td></tr>{{end}}
</table>{{end}}
<h2>内容安全检测</h2>
<p class="muted">图片检测（media_check_async v2）在 1 秒后推送 wxa_media_check；文本检测（msg_sec_check v2）含“违禁”即判为违规。两者都需要近两小时访问过小程序的用户 openid：每个帐号有一位访问者，点“模拟访问”记下访问时间。</p>
<form method="post" action="{{.Base}}/console/media-risky"><p>下一次图片检测判为违规：
<input type="text" name="appid" placeholder="appid（留空为任意帐号）">
<select name="label"><option value="20002">20002 色情</option><option value="20001">20001 时政</option><option value="10001">10001 广告</option><option value="20006">20006 违法犯罪</option></select>
<button type="submit" data-testid="media-risky">设置</button></p></form>
{{if .NextRisky}}<p data-testid="next-risky">已设置：{{.NextRisky}}</p>{{end}}
<h2>帐号</h2>
<form method="post" action="{{.Base}}/console/apps"><p>新建未授权帐号：<input type="text" name="nickname" placeholder="名称">
<select name="kind"><option value="miniprogram">小程序</option><option value="service">服务号</option><option value="subscription">订阅号</option></select>
<button type="submit">新建</button></p></form>
<table><tr><th>帐号</th><th>授权</th><th>权限集</th><th>体验版</th><th>最近审核</th><th>线上版本</th><th>操作</th></tr>
{{range .Apps}}<tr data-testid="app-{{.AppID}}"><td>{{.Nickname}} <span class="tag">{{.Kind}}</span><br><span class="muted">{{.AppID}} · {{.UserName}}</span>{{if .Token}}<br><span class="muted">token {{.Token}}</span>{{end}}</td>
<td>{{if .Authorized}}已授权{{else}}未授权{{end}}{{if eq .Kind "小程序"}}<br><span class="muted">访问者 <code data-testid="visitor-{{.AppID}}">{{.Visitor}}</code>{{if .Visited}} · {{.Visited}}{{end}}</span>
<form class="inline" method="post" action="{{$.Base}}/console/visit"><input type="hidden" name="appid" value="{{.AppID}}"><button type="submit" class="secondary" data-testid="visit-{{.AppID}}">模拟访问</button></form>{{end}}</td><td>{{.Perms}}</td><td>{{.Trial}}</td><td>{{.Audit}}</td><td>{{.Live}}</td>
<td>{{if .Authorized}}<form class="inline" method="post" action="{{$.Base}}/console/revoke"><input type="hidden" name="appid" value="{{.AppID}}"><button type="submit" class="secondary">取消授权</button></form>
<form class="inline" method="post" action="{{$.Base}}/console/permissions"><input type="hidden" name="appid" value="{{.AppID}}"><input class="sets" type="text" name="sets" value="{{.Perms}}"><button type="submit" class="secondary">修改权限集</button></form>{{end}}
{{if .InFlight}}<form class="inline" method="post" action="{{$.Base}}/console/audit"><input type="hidden" name="appid" value="{{.AppID}}">
<button type="submit" name="decision" value="approve">通过</button><button type="submit" name="decision" value="reject" class="secondary">驳回</button><button type="submit" name="decision" value="delay" class="secondary">延后</button></form>{{end}}</td></tr>
{{else}}<tr><td colspan="7" class="muted">还没有帐号</td></tr>{{end}}
</table>{{if .AppsHidden}}<p class="muted">另有 {{.AppsHidden}} 个较早的帐号未列出</p>{{end}}
<h2>最近推送</h2>
<table><tr><th>#</th><th>时间</th><th>类型</th><th>帐号</th><th>尝试</th><th>结果</th></tr>
{{range .Pushes}}<tr><td>{{.ID}}</td><td>{{.CreatedAt.Format "01-02 15:04:05"}}</td><td>{{.Type}}</td><td>{{.AppID}}</td><td>{{.Attempts}}</td>
<td>{{if .Delivered}}HTTP {{.Status}} {{.Reply}}{{else if .Err}}<span class="err">{{.Err}}</span>{{else if .Status}}<span class="err">HTTP {{.Status}}</span>{{else}}等待中{{end}}</td></tr>
{{else}}<tr><td colspan="6" class="muted">还没有推送</td></tr>{{end}}
</table></main></body></html>`))
