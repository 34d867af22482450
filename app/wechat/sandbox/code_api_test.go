package sandbox

import (
	"bytes"
	"image/jpeg"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// codeApp returns an authorized Mini Program's token and a template id of the plain seeded draft.
func (h *harness) codeApp() (appID, tok string, templateID int64) {
	h.t.Helper()
	ct := h.componentToken()
	m := h.call("/wxa/gettemplatedraftlist", acc(ct), nil)
	h.expectCode(m, 0, "drafts")
	draftID := m["draft_list"].([]any)[0].(map[string]any)["draft_id"]
	h.expectCode(h.call("/wxa/addtotemplate", acc(ct), map[string]any{"draft_id": draftID, "template_type": 0}), 0, "addtotemplate")
	list := h.call("/wxa/gettemplatelist", acc(ct), nil)["template_list"].([]any)
	templateID = int64(list[len(list)-1].(map[string]any)["template_id"].(float64))
	appID, tok = h.authorizedApp(ct, AppSpec{})
	return appID, tok, templateID
}

func (h *harness) commit(tok string, templateID int64, ext any, desc string) map[string]any {
	h.t.Helper()
	return h.call("/wxa/commit", acc(tok), map[string]any{
		"template_id": templateID, "ext_json": ext, "user_version": "1.0.0", "user_desc": desc})
}

func (h *harness) submit(tok, versionDesc string) map[string]any {
	h.t.Helper()
	return h.call("/wxa/submit_audit", acc(tok), map[string]any{
		"item_list":    []map[string]any{{"address": "pages/index/index", "tag": "花店 鲜花", "first_class": "生活服务", "second_class": "丽人服务", "first_id": 150, "second_id": 627, "title": "首页"}},
		"version_desc": versionDesc,
	})
}

func TestCommitValidatesExtJSON(t *testing.T) {
	h := newHarness(t, nil)
	_, tok, tpl := h.codeApp()
	cases := []struct {
		name string
		ext  any
		want int
	}{
		{"object instead of string", map[string]any{"extEnable": true}, 47001},
		{"malformed string", `{"extEnable":`, 85048},
		{"page not in template", `{"pages":["pages/index/index","pages/new/new"]}`, 85045},
		{"empty pages", `{"pages":[]}`, 85047},
		{"tabBar item without path", `{"tabBar":{"list":[{"text":"x"}]}}`, 85046},
		{"subset of pages", `{"extEnable":true,"ext":{"shopId":"S1"},"pages":["pages/index/index","pages/mine/mine"]}`, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { h.expectCode(h.commit(tok, tpl, c.ext, "v"), c.want, c.name) })
	}
	h.expectCode(h.commit(tok, 999999, "", "v"), 85014, "unknown template")
	pages := h.call("/wxa/get_page", acc(tok), nil)["page_list"].([]any)
	if len(pages) != 2 || pages[1] != "pages/mine/mine" {
		t.Fatalf("page_list %v, want the ext_json pages", pages)
	}
}

func TestAuditApproveAndRelease(t *testing.T) {
	h := newHarness(t, func(o *Options) {
		o.PrivacyScanDuration = 30 * time.Second
		o.AuditDelay = 30 * time.Minute
	})
	appID, tok, tpl := h.codeApp()
	h.expectCode(h.submit(tok, "first"), 85086, "submit before commit")
	h.expectCode(h.commit(tok, tpl, `{"extEnable":true}`, "首个版本"), 0, "commit")
	h.expectCode(h.call("/wxa/security/get_code_privacy_info", acc(tok), nil), 61039, "privacy info while scanning")
	h.expectCode(h.submit(tok, "first"), 61039, "submit while scanning")
	h.clock.Advance(30 * time.Second)
	pi := h.call("/wxa/security/get_code_privacy_info", acc(tok), nil)
	h.expectCode(pi, 0, "privacy info after scan")

	m := h.submit(tok, "first")
	h.expectCode(m, 0, "submit")
	auditID := m["auditid"]
	h.expectCode(h.submit(tok, "again"), 85009, "second submit while reviewing")
	h.expectCode(h.call("/wxa/release", acc(tok), "{}"), 85020, "release while reviewing")
	st := h.call("/wxa/get_auditstatus", acc(tok), map[string]any{"auditid": auditID})
	if st["status"].(float64) != AuditReviewing {
		t.Fatalf("status %v, want 2", st["status"])
	}

	h.clock.Advance(30 * time.Minute)
	p := h.apps.nextType("weapp_audit_success")
	if p.Path != "/wechat/apps/"+appID+"/events" || p.Envelope["ToUserName"] != h.sb.UserName(appID) || p.Msg["ToUserName"] != h.sb.UserName(appID) {
		t.Fatalf("audit push to %s, envelope %v, msg %v", p.Path, p.Envelope, p.Msg)
	}
	if p.Msg["MsgType"] != "event" || p.Msg["SuccTime"] == "" {
		t.Fatalf("success push %v", p.Msg)
	}
	latest := h.call("/wxa/get_latest_auditstatus", acc(tok), nil)
	if latest["status"].(float64) != AuditApproved || latest["auditid"] != auditID {
		t.Fatalf("latest audit %v", latest)
	}

	h.expectCode(h.call("/wxa/release", acc(tok), ""), 44002, "release with empty body")
	h.expectCode(h.call("/wxa/release", acc(tok), "{}"), 0, "release")
	h.expectCode(h.call("/wxa/release", acc(tok), "{}"), 85052, "release twice")

	// A second version, gray-released then rolled back.
	h.expectCode(h.commit(tok, tpl, "", "第二版"), 0, "commit 2")
	h.clock.Advance(30 * time.Second)
	h.expectCode(h.submit(tok, "second"), 0, "submit 2")
	h.clock.Advance(30 * time.Minute)
	h.apps.nextType("weapp_audit_success")
	h.expectCode(h.call("/wxa/grayrelease", acc(tok), map[string]any{"gray_percentage": 0}), 85081, "gray 0%")
	h.expectCode(h.call("/wxa/grayrelease", acc(tok), map[string]any{"gray_percentage": 10}), 0, "gray 10%")
	h.expectCode(h.call("/wxa/grayrelease", acc(tok), map[string]any{"gray_percentage": 5}), 85082, "gray lower")
	if plan := h.call("/wxa/getgrayreleaseplan", acc(tok), nil)["gray_release_plan"].(map[string]any); plan["status"].(float64) != 1 || plan["gray_percentage"].(float64) != 10 {
		t.Fatalf("gray plan %v", plan)
	}
	h.expectCode(h.call("/wxa/revertcoderelease", acc(tok), nil), 87011, "revert during gray")
	h.expectCode(h.call("/wxa/release", acc(tok), "{}"), 0, "full release")
	hist := h.call("/wxa/revertcoderelease", map[string][]string{"access_token": {tok}, "action": {"get_history_version"}}, nil)
	if list := hist["version_list"].([]any); len(list) != 1 || list[0].(map[string]any)["user_version"] != "1.0.0" {
		t.Fatalf("history %v", hist)
	}
	h.expectCode(h.call("/wxa/revertcoderelease", acc(tok), nil), 0, "revert")
	h.expectCode(h.call("/wxa/revertcoderelease", acc(tok), nil), 87012, "revert with no history")
}

func TestAuditRejectAndDelay(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.AuditDelay = 30 * time.Minute })
	_, tok, tpl := h.codeApp()
	h.expectCode(h.commit(tok, tpl, "", "please reject this"), 0, "commit")
	h.clock.Advance(time.Minute)
	h.expectCode(h.submit(tok, "v1"), 0, "submit")
	h.clock.Advance(30 * time.Minute)
	p := h.apps.nextType("weapp_audit_fail")
	if p.Msg["Reason"] == "" || !strings.Contains(p.Msg["ScreenShot"], "|") || p.Msg["FailTime"] == "" {
		t.Fatalf("fail push %v", p.Msg)
	}
	latest := h.call("/wxa/get_latest_auditstatus", acc(tok), nil)
	if latest["status"].(float64) != AuditRejected || latest["ScreenShot"] != p.Msg["ScreenShot"] {
		t.Fatalf("latest audit %v", latest)
	}
	h.expectCode(h.call("/wxa/release", acc(tok), "{}"), 85020, "release a rejected version")

	h.expectCode(h.commit(tok, tpl, "", "fixed"), 0, "commit 2")
	h.clock.Advance(time.Minute)
	h.expectCode(h.submit(tok, "please delay"), 0, "submit 2")
	h.clock.Advance(30 * time.Minute)
	if p := h.apps.nextType("weapp_audit_delay"); p.Msg["Reason"] == "" || p.Msg["DelayTime"] == "" {
		t.Fatalf("delay push %v", p.Msg)
	}
	h.expectCode(h.submit(tok, "again"), 85009, "submit while delayed")
	h.clock.Advance(30 * time.Minute)
	h.apps.nextType("weapp_audit_success")
	h.expectCode(h.call("/wxa/release", acc(tok), "{}"), 0, "release after delay")
}

func TestAuditQuotaAndUndo(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.AuditQuota = 2; o.UndoDailyLimit = 1 })
	_, tok, tpl := h.codeApp()
	h.expectCode(h.commit(tok, tpl, "", "v"), 0, "commit")
	h.clock.Advance(time.Minute)
	h.expectCode(h.call("/wxa/undocodeaudit", acc(tok), nil), 85019, "undo with nothing pending")
	h.expectCode(h.submit(tok, "1"), 0, "submit 1")
	h.expectCode(h.call("/wxa/undocodeaudit", acc(tok), nil), 0, "undo")
	h.expectCode(h.submit(tok, "2"), 0, "submit 2")
	h.expectCode(h.call("/wxa/undocodeaudit", acc(tok), nil), 87013, "undo past the daily limit")
	h.sb.DecideAudit(h.sb.AppIDs()[0], AuditDecision{Outcome: AuditReject})
	h.expectCode(h.submit(tok, "3"), 85085, "submit past the monthly quota")
	q := h.call("/wxa/queryquota", acc(tok), nil)
	if q["rest"].(float64) != 0 || q["limit"].(float64) != 2 {
		t.Fatalf("queryquota %v", q)
	}
}

func TestPrivacyScanFindingsBlockSubmit(t *testing.T) {
	h := newHarness(t, nil)
	ct := h.componentToken()
	// Draft 2 uses wx.getLocation and wx.chooseImage.
	h.expectCode(h.call("/wxa/addtotemplate", acc(ct), map[string]any{"draft_id": 2}), 0, "addtotemplate")
	tpl := int64(h.call("/wxa/gettemplatelist", acc(ct), nil)["template_list"].([]any)[0].(map[string]any)["template_id"].(float64))
	_, tok := h.authorizedApp(ct, AppSpec{})
	h.expectCode(h.commit(tok, tpl, "", "v"), 0, "commit")
	h.clock.Advance(time.Minute)
	pi := h.call("/wxa/security/get_code_privacy_info", acc(tok), nil)
	if len(pi["without_auth_list"].([]any)) != 1 || len(pi["without_conf_list"].([]any)) != 2 {
		t.Fatalf("privacy findings %v", pi)
	}
	h.expectCode(h.submit(tok, "v"), 61040, "submit with unconfigured privacy APIs")

	h.expectCode(h.commit(tok, tpl, `{"requiredPrivateInfos":["getLocation"]}`, "v"), 0, "commit with requiredPrivateInfos")
	h.expectCode(h.call("/cgi-bin/component/setprivacysetting", acc(tok), map[string]any{
		"owner_setting": map[string]any{"contact_email": "a@example.com", "notice_method": "弹窗"},
		"setting_list":  []map[string]any{{"privacy_key": "Location", "privacy_text": "门店定位"}, {"privacy_key": "Album", "privacy_text": "上传图片"}},
	}), 0, "setprivacysetting")
	h.expectCode(h.call("/cgi-bin/component/setprivacysetting", acc(tok), map[string]any{
		"privacy_ver": 1, "owner_setting": map[string]any{"contact_email": "a@example.com", "notice_method": "弹窗"}}), 86074, "live guideline before release")
	h.clock.Advance(time.Minute)
	h.expectCode(h.submit(tok, "v"), 0, "submit once configured")
}

func TestGetQRCodeIsAnImage(t *testing.T) {
	h := newHarness(t, nil)
	_, tok, tpl := h.codeApp()
	h.expectCode(h.call("/wxa/get_qrcode", acc(tok), nil), 86001, "qrcode before commit")
	h.expectCode(h.commit(tok, tpl, "", "v"), 0, "commit")
	resp, err := http.Get(h.srv.URL + "/wxa/get_qrcode?access_token=" + tok + "&path=pages%2Findex%2Findex%3Fa%3D1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "image/jpeg" {
		t.Fatalf("Content-Type %q", ct)
	}
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a JPEG: %v", err)
	}
	if img.Bounds().Dx() < 100 {
		t.Fatalf("QR image only %d px wide", img.Bounds().Dx())
	}
}

func TestTemplateLibraryCap(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.TemplateCap = 2 })
	ct := h.componentToken()
	add := func(draft int, typ int) map[string]any {
		return h.call("/wxa/addtotemplate", acc(ct), map[string]any{"draft_id": draft, "template_type": typ})
	}
	h.expectCode(add(1, 0), 0, "add 1")
	h.expectCode(add(2, 0), 0, "add 2")
	h.expectCode(add(1, 0), 85065, "library full")
	h.expectCode(add(1, 1), 0, "standard library is separate")
	h.expectCode(add(99, 0), 85064, "unknown draft")
	list := h.call("/wxa/gettemplatelist", map[string][]string{"access_token": {ct}, "template_type": {"0"}}, nil)["template_list"].([]any)
	if len(list) != 2 {
		t.Fatalf("normal templates %d, want 2", len(list))
	}
	first := list[0].(map[string]any)["template_id"]
	h.expectCode(h.call("/wxa/deletetemplate", acc(ct), map[string]any{"template_id": first}), 0, "delete")
	h.expectCode(h.call("/wxa/deletetemplate", acc(ct), map[string]any{"template_id": first}), 85064, "delete twice")
	h.expectCode(add(1, 0), 0, "room again")
}
