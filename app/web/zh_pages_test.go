package web

import (
	"context"
	"html"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/store"
)

var (
	reDropBlocks = regexp.MustCompile(`(?is)<(script|style|template|svg|pre|textarea)\b.*?</(script|style|template|svg|pre|textarea)>`) // pre: code (ext_json) as sent to WeChat; textarea: what the user typed (a schema's JSON)
	reTag        = regexp.MustCompile(`(?s)<[^>]*>`)
	// Allowed Latin text: e-mail addresses, URLs, AppIDs, versions,
	// hashes, and the names WeChat and our product give things.
	reAllowed    = regexp.MustCompile(`\bMINIFLEET_[A-Z_]+\b|\bcomponent_[a-z_]+\b|(/[\w$.-]+){2,}|\b[A-Z][a-z]+/[A-Za-z_]+\b|\bUTC\b|\bgh_[0-9a-z]+\b|[\w.+-]+@[\w.-]+|https?://\S+|\bwx[0-9a-z]{6,}\b|\bv?\d+(\.\d+)+\b|sha256:\w+|#[0-9A-Fa-f]{6}\b|\b[0-9a-f]{16,}\b|\bformat: [a-z-]+|\bx-[a-z]+(-[a-z]+)*(\.[A-Za-z]+)?(: true)?|\bmf_(live|test)_[\w-]+|\b(tokens|apps|config|releases|campaigns|events):(read|write|manage)\b|\bBearer\b|\bAuthorization\b`)
	reWord       = regexp.MustCompile(`[A-Za-z][A-Za-z_]+`)
	allowedWords = map[string]bool{
		"WeChat": true, "Minifleet": true, "AppID": true, "AppSecret": true, "CSV": true, "JSON": true, "ext_json": true,
		"ext": true, "requiredPrivateInfos": true, "IP": true, "QR": true, "English": true, "HTTPS": true, "URL": true,
		"UTF": true, "ID": true, "Schema": true, "UDP": true, "TCP": true, "request": true, "socket": true,
		"uploadFile": true, "downloadFile": true, "token": true, "access": true, "Token": true, "UGC": true,
		// WeChat's own words on its pages (消息加解密Key, https 域名) and the host.
		"Key": true, "https": true, "localhost": true,
		// The WebSocket scheme, the size unit and the extension of WeChat's verification files.
		"wss": true, "KB": true, "txt": true,
		// API keys (issue #15): "API 密钥" is how Chinese developers say it.
		"API": true,
		// WeChat's app.json keys, named in the extra ext_json fields.
		"window": true, "tabBar": true, "list": true, "extPages": true, "pages": true, "navigationBarTitleText": true, "pagePath": true,
		// Image formats and sizes, and WeChat's openid (content security, issue #16).
		"JPG": true, "PNG": true, "WebP": true, "MB": true, "openid": true,
		// Screenshots and recordings for the reviewers (the submit form).
		"JPEG": true, "GIF": true, "MP4": true,
	}
)

// visibleText is what a reader sees of a page: text outside tags, scripts
// and styles, entities decoded.
func visibleText(body string) string {
	s := reDropBlocks.ReplaceAllString(body, " ")
	s = reTag.ReplaceAllString(s, " ")
	return html.UnescapeString(s)
}

// englishWords lists the Latin words of text outside the allow-list and
// the user data (names the test typed).
func englishWords(text string, userData []string) []string {
	for _, d := range userData {
		text = strings.ReplaceAll(text, d, " ")
	}
	text = reAllowed.ReplaceAllString(text, " ")
	seen := map[string]bool{}
	for _, w := range reWord.FindAllString(text, -1) {
		if !allowedWords[w] {
			seen[w] = true
		}
	}
	var out []string
	for w := range seen {
		out = append(out, w)
	}
	sort.Strings(out)
	return out
}

// TestZhPagesSpeakChinese renders the main pages in zh-CN over seeded data
// (a release timeline with the platform's own details, a rejection whose
// reason carries <br>, activity of every kind, a campaign with a filter)
// and fails on any English word outside the allow-list.
func TestZhPagesSpeakChinese(t *testing.T) {
	h := newHarness(t)
	w := h.seed()
	releaseFixture(h, w)
	ctx := context.Background()
	st := h.st
	tD, err := st.TenantOfApp(ctx, appD)
	if err != nil {
		t.Fatal(err)
	}
	ownerD := w.users["ownerD"]
	boss := h.user("boss@d.test", "老板", model.StaffNone)
	h.join(tD, ownerD.ID, boss.ID, model.RoleApprover)

	// A release of app D through review to a rejection, with the details
	// the platform writes.
	r, err := model.NewRelease(tD, appD, 1, model.ReleasePayload{TemplateID: relTemplateID, UserVersion: "3.0.0", UserDesc: "冬季上新",
		ExtJSON: `{"ext":{"shopName":"丁店","theme":"dark"},"extAppid":"` + appD + `","extEnable":true}`},
		model.Actor{UserID: ownerD.ID, Label: ownerD.Email}, h.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if r, err = st.CreateRelease(ctx, tD, r); err != nil {
		t.Fatal(err)
	}
	sys := func(kind model.CauseKind, detail string) model.Cause {
		return model.Cause{Kind: kind, Actor: "system", Detail: detail, At: h.clock.Now()}
	}
	reason := "1:页面内容不完整<br>2:请补充类目资质<br>"
	for _, step := range []struct {
		ev model.ReleaseEvent
		c  model.Cause
	}{
		{model.EvCommit, model.Cause{Kind: model.CauseUser, ActorID: ownerD.ID, Actor: ownerD.Email, At: h.clock.Now()}},
		{model.EvCommitOK, sys(model.CauseSystem, "commit")},
		{model.EvScan, sys(model.CauseSystem, "get_qrcode")},
		{model.EvScanDone, sys(model.CausePoll, "privacy scan: 0 without authorization, 1 without configuration")},
		{model.EvPreflightOK, sys(model.CauseSystem, "category, pages, privacy, domains")},
		{model.EvApprove, model.Cause{Kind: model.CauseUser, ActorID: boss.ID, Actor: boss.Email, SeenHash: r.PayloadHash, At: h.clock.Now()}},
		{model.EvSubmitOK, model.Cause{Kind: model.CauseSystem, Actor: "system", Detail: "submit_audit", AuditID: 4242, At: h.clock.Now()}},
		{model.EvAuditFail, model.Cause{Kind: model.CausePush, Actor: "wechat", Detail: "push #12", Reason: reason, At: h.clock.Now()}},
	} {
		if r, err = st.TransitionRelease(ctx, tD, r.ID, step.ev, step.c); err != nil {
			t.Fatalf("%s: %v", step.ev, err)
		}
	}
	// Activity the engines write.
	for _, a := range []struct{ action, object, detail string }{
		{store.ActCampaignHalt, "campaign #1", "wave 1: 3 of 3 decided rejected (100% > 20%)"},
		{store.ActCampaignCreate, "campaign #1", "冬季活动 3.0.0: 12 apps, 1 skipped"},
		{store.ActCampaignWave, "campaign #1", "wave 2: 9 apps; canary passed"},
		{store.ActCampaignDone, "campaign #1", "12 apps"},
	} {
		if err := st.Activity(ctx, model.Actor{Label: "system"}, tD, a.action, a.object, a.detail); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Activity(ctx, model.Actor{Label: "system"}, 0, store.ActReconcile, "nightly", "listed=3 backfilled=0 unauthorized=1 unbound=0"); err != nil {
		t.Fatal(err)
	}
	// A campaign with a target filter.
	c := model.Campaign{TenantID: tD, Name: "冬季活动", TemplateID: relTemplateID, UserVersion: "3.0.0", UserDesc: "冬季",
		Filter:           "tag=华东 status=authorized",
		CampaignSettings: model.CampaignSettings{CanarySize: 1, WaveMax: 200, Concurrency: 20, HaltRate: 0.2, ReleaseMode: model.ReleaseEach},
		CreatorID:        ownerD.ID, Creator: ownerD.Email}
	targets := []model.CampaignTarget{{AppID: appD, TenantID: tD, ExtHash: "sha256:d"}}
	c.SetHash = model.CampaignSetHash(relTemplateID, "3.0.0", c.UserDesc, targets)
	if c, err = st.CreateCampaign(ctx, c, targets, nil); err != nil {
		t.Fatal(err)
	}

	// API keys (issue #15) with every scope, so their lists show them all.
	if _, _, err := h.p.Keys.Create(ctx, model.Actor{UserID: ownerD.ID, Label: ownerD.Email}, platform.NewAPIKey{TenantID: tD, Name: "持续集成", Scopes: model.APIScopes}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.p.Keys.Create(ctx, model.Actor{UserID: w.users["staffadmin"].ID, Label: "admin@staff.test"}, platform.NewAPIKey{Name: "运维", Tenants: []int64{tD}, Scopes: []model.APIScope{model.ScopeTokensRead}}); err != nil {
		t.Fatal(err)
	}

	userData := []string{appD, "Delta Deli", "Dora Owner", "Acme Alpha", "Bravo Bakery", "Charlie Closed", "nightly", "canary passed", "unpaid"}
	for _, u := range w.users {
		userData = append(userData, u.Name, u.Email)
	}
	for k := range w.users {
		userData = append(userData, k) // the fixture's actor labels
	}
	sort.Slice(userData, func(i, j int) bool { return len(userData[i]) > len(userData[j]) }) // longest first

	owner := h.client().login(ownerD.Email)
	staff := h.client().login(w.users["staffadmin"].Email)
	pages := []struct {
		who  *client
		path string
	}{
		{owner, paths.Tenant(tD)},
		{owner, paths.TenantApps(tD)},
		{owner, paths.TenantApp(tD, appD)},
		{owner, paths.Releases(tD, appD)},
		{owner, paths.Release(tD, appD, r.ID)},
		{owner, paths.Config(tD, appD)},
		{owner, paths.Activity(tD)},
		{owner, paths.Members(tD)},
		{owner, paths.Campaigns(tD)},
		{owner, paths.Campaign(tD, c.ID)},
		{staff, paths.Activity(0)},
		{staff, paths.StaffTenants},
		{staff, paths.StaffTenant(tD)},
		{staff, paths.Campaigns(0)},
		{staff, paths.StaffApps},
		{staff, paths.StaffFleet},
		{staff, paths.StaffTemplates},
		{staff, paths.StaffWeChat},
		{staff, paths.StaffGoLive},
		{staff, paths.StaffApp(appD)},
		{owner, paths.ReleaseReview(tD, appD, r.ID)},
		{owner, paths.Contact(tD)},
		{owner, paths.TenantAPIKeys(tD)},
		{staff, paths.StaffAPIKeys},
		{owner, "/account"},
		// The rest of the pages the role matrix (app/e2e_matrix_test.go) visits.
		{owner, paths.AppSettings(tD, appD)},
		{owner, paths.ReleaseItems(tD, appD, r.ID)},
		{owner, paths.AppPrivacy(tD, appD)},
		{owner, paths.Approvals(tD)},
		{owner, paths.Authorize(tD)},
		{owner, paths.CampaignNew(tD)},
		{staff, paths.Campaign(0, c.ID)},
		{staff, paths.CampaignNew(0)},
		{staff, paths.StaffTemplateSchema(relTemplateID)},
		{staff, paths.StaffDomains},
		{staff, paths.StaffSiteFiles},
	}
	for _, p := range pages {
		res := p.who.get(p.path)
		if res.Status != 200 {
			t.Errorf("%s: status %d", p.path, res.Status)
			continue
		}
		text := visibleText(res.Body)
		if words := englishWords(text, userData); len(words) > 0 {
			t.Errorf("%s shows English in zh-CN: %v", p.path, words)
		}
		if strings.Contains(text, "<br") {
			t.Errorf("%s shows a literal <br>", p.path)
		}
	}

	// The rejection reason is two lines of text, never HTML.
	res := owner.get(paths.Release(tD, appD, r.ID))
	mustContain(t, "reason lines", res, "1:页面内容不完整<br>", "2:请补充类目资质")
	mustNotContain(t, "reason", res, "&lt;br&gt;")
	// The timeline says in words what the platform did.
	mustContain(t, "timeline", res, "已检查服务类目、页面、用户隐私保护指引和服务器域名", "已生成体验版二维码", "隐私检测：0 个接口", "审核单号")
	// The approver's diff names fields and choices by the schema's labels.
	mustContain(t, "review diff", owner.get(paths.ReleaseReview(tD, appD, r.ID)), `title="ext.shopName" data-label="字段">店铺名称</td>`)
	// The activity log: states, waves and tenants by name.
	act := staff.get(paths.Activity(0))
	mustContain(t, "activity", act, "第 1 波：已出结果的 3 个中 3 个被拒（100% 超过 20%）", "待审批 → 提交审核中", "Delta Deli 丁商户")
	mustContain(t, "campaign filter", owner.get(paths.Campaign(tD, c.ID)), "带标签“华东”的小程序", "状态为已授权")
}
