package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/png"
	"slices"
	"strings"
	"testing"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/wechat"
)

// The full submit form (提审信息): version description, UGC declaration,
// screenshots and recordings, and feedback after a rejection.

func TestSubmitFormScenarios(t *testing.T) { runScenarios(t, submitFormScenarios()) }

const (
	appS  = "wxapps0000000001"
	appS2 = "wxapps0000000002"
)

// smallPNG is a w×h PNG.
func smallPNG(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetRGBA(x, y, color.RGBA{uint8(x * 9), uint8(y * 5), 120, 255})
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

func shaOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// submitFormFixture: tenant S (owner, viewer; staff approve its releases)
// with app S awaiting approval carrying one screenshot, and app S2 whose
// first audit was rejected and which waits for approval again.
func submitFormFixture(h *harness, w *world) []string {
	ctx := context.Background()
	uS, tS := h.signup("owner@s.test", "Sam Owner", "Sierra Shop 辛商户")
	w.users["ownerS"] = uS
	viewer := h.user("viewer@s.test", "S viewer", model.StaffNone)
	h.join(tS.ID, uS.ID, viewer.ID, model.RoleViewer)
	w.users["viewerS"] = viewer
	approver := h.user("approver@s.test", "S approver", model.StaffNone)
	h.join(tS.ID, uS.ID, approver.ID, model.RoleApprover)
	addApp(h, appS, "Sierra Shop 辛小程序", []int{18}, tS.ID)
	addApp(h, appS2, "Sierra Shop 辛二号", []int{18}, tS.ID)
	shot := smallPNG(30, 50)
	m := model.AuditMedia{SHA256: shaOf(shot), Kind: model.MediaImage, Name: "首页.png", Size: len(shot)}
	if err := h.st.SaveAuditMedia(ctx, tS.ID, m, "image/png", shot); err != nil {
		h.t.Fatal(err)
	}
	mk := func(appID string, sub model.SubmitChoices, evs ...model.ReleaseEvent) model.Release {
		p := model.ReleasePayload{TemplateID: relTemplateID, UserVersion: "5.0.0", UserDesc: "辛店上新", ExtJSON: `{"ext":{"shopName":"辛店"},"extAppid":"` + appID + `","extEnable":true}`, Submit: sub}
		r, err := model.NewRelease(tS.ID, appID, 1, p, model.Actor{UserID: uS.ID, Label: uS.Email}, h.clock.Now())
		if err != nil {
			h.t.Fatal(err)
		}
		if r, err = h.st.CreateRelease(ctx, tS.ID, r); err != nil {
			h.t.Fatal(err)
		}
		for _, ev := range evs {
			c := model.Cause{Kind: model.CauseSystem, Actor: "system", At: h.clock.Now()}
			switch ev {
			case model.EvCommit, model.EvRecheck:
				c = model.Cause{Kind: model.CauseUser, ActorID: uS.ID, Actor: uS.Email, At: h.clock.Now()}
			case model.EvApprove:
				c = model.Cause{Kind: model.CauseUser, ActorID: approver.ID, Actor: approver.Email, SeenHash: r.PayloadHash, At: h.clock.Now()}
			case model.EvSubmitOK:
				c.AuditID = 5150
			case model.EvAuditFail:
				c.Kind, c.Reason = model.CausePush, "页面存在测试内容"
			}
			if r, err = h.st.TransitionRelease(ctx, tS.ID, r.ID, ev, c); err != nil {
				h.t.Fatalf("%s: %v", ev, err)
			}
		}
		return r
	}
	item := []model.AuditItemChoice{{Address: "pages/index/index", FirstClass: "工具", SecondClass: "信息查询", FirstID: 287, SecondID: 612}}
	toApproval := []model.ReleaseEvent{model.EvCommit, model.EvCommitOK, model.EvScan, model.EvScanDone, model.EvPreflightOK}
	rel := mk(appS, model.SubmitChoices{Items: item, VersionDesc: "辛店首发说明", Preview: []model.AuditMedia{m}}, toApproval...)
	rel2 := mk(appS2, model.SubmitChoices{Items: item}, append(toApproval, model.EvApprove, model.EvSubmitOK, model.EvAuditFail, model.EvRecheck, model.EvPreflightOK)...)
	if err := h.st.SetTenantApprovals(ctx, model.Actor{UserID: uS.ID, Label: "fixture"}, tS.ID, model.ApprovalsStaff); err != nil {
		h.t.Fatal(err)
	}
	return []string{"{S}", itoa(tS.ID), "{appS}", appS, "{relS}", itoa(rel.ID), "{seqS}", itoa(rel.Seq), "{shaS}", m.SHA256,
		"{appS2}", appS2, "{relS2}", itoa(rel2.ID), "{seqS2}", itoa(rel2.Seq)}
}

func submitFormScenarios() []scenario {
	rel := "/t/{S}/apps/{appS}/releases/{relS}"
	items, media, file := rel+"/items", rel+"/media", rel+"/media/{shaS}"
	drop := file + "/remove"
	staffFile := "/staff/approvals/{S}/{relS}/media/{shaS}"
	items2 := "/t/{S}/apps/{appS2}/releases/{relS2}/items"
	relS := func(t *testing.T, h *harness, w *world, appID string) model.Release {
		t.Helper()
		var tid int64
		if err := h.st.R.QueryRow(`SELECT id FROM tenants WHERE name = 'Sierra Shop 辛商户'`).Scan(&tid); err != nil {
			t.Fatal(err)
		}
		r, err := h.st.OpenRelease(context.Background(), tid, appID)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	unchanged := func(t *testing.T, h *harness, w *world) {
		t.Helper()
		if r := relS(t, h, w, appS); len(r.Submit.Preview) != 1 || r.Submit.UGC != nil {
			t.Errorf("submit choices changed: %+v", r.Submit)
		}
		if n := h.count(`SELECT COUNT(*) FROM audit_media`); n != 1 {
			t.Errorf("%d files kept, want the fixture's 1", n)
		}
	}
	shot := smallPNG(40, 70)
	zip := append([]byte("PK\x03\x04"), make([]byte, 300)...)
	return []scenario{
		{name: "submit form shows every part", method: "GET", url: items, who: "ownerS", status: 200,
			want: []string{`data-testid="version-desc-input"`, "辛店首发说明", `data-testid="ugc-scene-0"`, `data-testid="ugc-method-4"`,
				`data-testid="media-preview"`, `src="` + file + `"`, "首页.png", `action="` + media + `"`, `enctype="multipart/form-data"`, "t:release.submit.ugc_scene_2"},
			notWant: []string{`data-testid="feedback"`, `data-testid="media-feedback"`}},
		{name: "submit form after a rejection asks for feedback", method: "GET", url: items2, who: "ownerS", status: 200,
			want: []string{`data-testid="feedback"`, `data-testid="media-feedback"`, "t:release.submit.feedback_help"}},
		{name: "release page shows what will be submitted", method: "GET", url: rel, who: "viewerS", status: 200,
			want: []string{`data-testid="submit-info"`, "辛店首发说明", `src="` + file + `"`, "t:release.submit.ugc_absent"}},
		{name: "submit form refused to a viewer", method: "GET", url: items, who: "viewerS", status: 403},

		{name: "upload a screenshot", method: "POST", url: media, who: "ownerS", status: 303, form: form("seq", "{seqS}", "purpose", "preview"),
			opt: uploadAs("media", "详情页.png", shot), locIs: items + "?flash=release.media.added",
			check: func(t *testing.T, h *harness, w *world) {
				r := relS(t, h, w, appS)
				if len(r.Submit.Preview) != 2 || r.Submit.Preview[1].SHA256 != shaOf(shot) || r.Submit.Preview[1].Name != "详情页.png" {
					t.Errorf("preview = %+v", r.Submit.Preview)
				}
				if r.State != model.RelPreflight || r.ApprovalHash != "" {
					t.Errorf("after a new file: state %s, approval %q", r.State, r.ApprovalHash)
				}
			}},
		{name: "upload a zip named .png", method: "POST", url: media, who: "ownerS", status: 422, form: form("seq", "{seqS}", "purpose", "preview"),
			opt: uploadAs("media", "shot.png", zip), want: []string{`data-testid="error-media"`, "t:release.media.err.type", "辛店首发说明"}, check: unchanged},
		{name: "upload without a file", method: "POST", url: media, who: "ownerS", status: 422, form: form("seq", "{seqS}", "purpose", "preview"),
			want: []string{"t:release.media.err.missing"}, check: unchanged},
		{name: "upload with a made-up purpose", method: "POST", url: media, who: "ownerS", status: 422, form: form("seq", "{seqS}", "purpose", "avatar"),
			opt: uploadAs("media", "a.png", shot), want: []string{"t:form.invalid_choice"}, check: unchanged},
		{name: "upload on a stale page", method: "POST", url: media, who: "ownerS", status: 409, form: form("seq", "1", "purpose", "preview"),
			opt: uploadAs("media", "a.png", shot), check: func(t *testing.T, h *harness, w *world) {
				if r := relS(t, h, w, appS); len(r.Submit.Preview) != 1 {
					t.Errorf("preview = %+v", r.Submit.Preview)
				}
			}},
		{name: "upload refused to a viewer", method: "POST", url: media, who: "viewerS", status: 403, form: form("seq", "{seqS}", "purpose", "preview"),
			opt: uploadAs("media", "a.png", shot), check: unchanged},
		{name: "upload to S's release as B", method: "POST", url: media, who: "ownerB", status: 404, form: form("seq", "{seqS}", "purpose", "preview"),
			opt: uploadAs("media", "a.png", shot), check: unchanged},
		{name: "upload anonymous", method: "POST", url: media, who: "anon", status: 303, loc: "/login", form: form("seq", "{seqS}", "purpose", "preview"),
			opt: uploadAs("media", "a.png", shot), check: unchanged},

		{name: "screenshot served to a member", method: "GET", url: file, who: "viewerS", status: 200, want: []string{"\x89PNG"}},
		{name: "screenshot of S's release as B", method: "GET", url: file, who: "ownerB", status: 404, notWant: []string{"\x89PNG"}},
		{name: "screenshot through B's tenant", method: "GET", url: "/t/{B}/apps/{appS}/releases/{relS}/media/{shaS}", who: "ownerB", status: 404, notWant: []string{"\x89PNG"}},
		{name: "screenshot the release does not name", method: "GET", url: rel + "/media/" + shaOf([]byte("other")), who: "ownerS", status: 404},
		{name: "screenshot anonymous", method: "GET", url: file, who: "anon", status: 303, notWant: []string{"\x89PNG"}},
		{name: "screenshot for the staff approver", method: "GET", url: staffFile, who: "staffapprover", status: 200, want: []string{"\x89PNG"}},
		{name: "screenshot for staff support", method: "GET", url: staffFile, who: "staffsupport", status: 403, notWant: []string{"\x89PNG"}},
		{name: "screenshot for staff through another tenant", method: "GET", url: "/staff/approvals/{A}/{relS}/media/{shaS}", who: "staffapprover", status: 404},
		{name: "staff review shows the screenshot", method: "GET", url: "/staff/approvals/{S}/{relS}", who: "staffapprover", status: 200,
			want: []string{`data-testid="submit-info"`, `src="` + staffFile + `"`}},

		{name: "remove a screenshot", method: "POST", url: drop, who: "ownerS", status: 303, form: form("seq", "{seqS}"), locIs: items + "?flash=release.media.removed",
			check: func(t *testing.T, h *harness, w *world) {
				if r := relS(t, h, w, appS); len(r.Submit.Preview) != 0 {
					t.Errorf("preview = %+v", r.Submit.Preview)
				}
			}},
		{name: "remove refused to a viewer", method: "POST", url: drop, who: "viewerS", status: 403, form: form("seq", "{seqS}"), check: unchanged},
		{name: "remove on S's release as B", method: "POST", url: drop, who: "ownerB", status: 404, form: form("seq", "{seqS}"), check: unchanged},
		{name: "remove a file the release does not name", method: "POST", url: rel + "/media/" + shaOf([]byte("other")) + "/remove", who: "ownerS", status: 404, form: form("seq", "{seqS}"), check: unchanged},

		{name: "declaration: no UGC together with pictures", method: "POST", url: items, who: "ownerS", status: 422,
			form: form("seq", "{seqS}", "items.0.category", "287:612:0", "items.0.address", "pages/index/index", "version_desc", "改过的说明", "ugc_scene", "0", "ugc_scene", "2"),
			want: []string{`data-testid="error-ugc_scene"`, "t:release.err.ugc_none_alone", "改过的说明", `value="2" checked`}, check: unchanged},
		{name: "declaration: pictures without a check", method: "POST", url: items, who: "ownerS", status: 422,
			form: form("seq", "{seqS}", "items.0.category", "287:612:0", "items.0.address", "pages/index/index", "ugc_scene", "2"),
			want: []string{`data-testid="error-ugc_method"`, "t:release.err.ugc_method"}, check: unchanged},
		{name: "declaration saved", method: "POST", url: items, who: "ownerS", status: 303,
			form: form("seq", "{seqS}", "items.0.category", "287:612:0", "items.0.address", "pages/index/index", "version_desc", "新增会员卡\r\n修复下单",
				"ugc_scene", "4", "ugc_scene", "2", "ugc_method", "1", "ugc_method", "3", "ugc_team", "1", "ugc_audit_desc", "先审后发"),
			locIs: rel + "?flash=release.items_saved",
			check: func(t *testing.T, h *harness, w *world) {
				r := relS(t, h, w, appS)
				u := r.Submit.UGC
				if u == nil || !slices.Equal(u.Scene, []int{2, 4}) || !slices.Equal(u.Method, []int{1, 3}) || !u.HasAuditTeam || u.AuditDesc != "先审后发" ||
					r.Submit.VersionDesc != "新增会员卡\r\n修复下单" || len(r.Submit.Preview) != 1 {
					t.Errorf("submit = %+v, ugc %+v", r.Submit, u)
				}
			}},
		{name: "feedback saved after a rejection", method: "POST", url: items2, who: "ownerS", status: 303,
			form:  form("seq", "{seqS2}", "items.0.category", "287:612:0", "items.0.address", "pages/index/index", "feedback_info", "已删除测试内容"),
			locIs: "/t/{S}/apps/{appS2}/releases/{relS2}?flash=release.items_saved",
			check: func(t *testing.T, h *harness, w *world) {
				if r := relS(t, h, w, appS2); r.Submit.FeedbackInfo != "已删除测试内容" {
					t.Errorf("feedback = %q", r.Submit.FeedbackInfo)
				}
			}},
		{name: "feedback ignored when nothing was rejected", method: "POST", url: items, who: "ownerS", status: 303,
			form:  form("seq", "{seqS}", "items.0.category", "287:612:0", "items.0.address", "pages/index/index", "feedback_info", "不该保存"),
			locIs: rel + "?flash=release.items_saved",
			check: func(t *testing.T, h *harness, w *world) {
				if r := relS(t, h, w, appS); r.Submit.FeedbackInfo != "" {
					t.Errorf("feedback = %q", r.Submit.FeedbackInfo)
				}
			}},
	}
}

// The server takes bodies up to MINIFLEET_MAX_BODY so a recording fits;
// any other form is held to 1 MiB (413, in words), and a multipart upload
// over 1 MiB still reaches its handler.
func TestFormBodyHeldToOneMiB(t *testing.T) {
	h := newHarness(t)
	r := h.fixture().repl
	c := h.client().login("owner@s.test")
	items := r.Replace("/t/{S}/apps/{appS}/releases/{relS}/items")
	res := c.post(items, form("seq", r.Replace("{seqS}"), "version_desc", strings.Repeat("长", maxFormBody/3+1)))
	wantStatus(t, "big form", res, 413)
	if !strings.Contains(res.Body, h.tr("zh-CN", "error.too_large")) {
		t.Errorf("413 body lacks the localized message")
	}
	big := append(smallPNG(8, 8), make([]byte, maxFormBody)...) // a PNG with 1 MiB of trailing bytes: still under 2 MB
	res = c.post(r.Replace("/t/{S}/apps/{appS}/releases/{relS}/media"), form("seq", r.Replace("{seqS}"), "purpose", "preview"), uploadAs("media", "big.png", big))
	wantStatus(t, "upload over 1 MiB", res, 303)
	if n := h.count(`SELECT COUNT(*) FROM audit_media WHERE length(data) > ?`, maxFormBody); n != 1 {
		t.Errorf("%d big files kept, want 1", n)
	}
}

// The privacy guideline page reads WeChat's guideline of a real sandbox
// app (S3) and writes an edit back as a merge.
func privacyFixture(h *harness, w *world) []string {
	var tid int64
	if err := h.st.R.QueryRow(`SELECT id FROM tenants WHERE name = 'Sierra Shop 辛商户'`).Scan(&tid); err != nil {
		h.t.Fatal(err)
	}
	app := sandboxApp(h, tid, "Sierra 隐私小程序")
	err := h.srv.Releases.WeChat.SetPrivacySetting(context.Background(), app, wechat.PrivacySetting{PrivacyVer: wechat.PrivacyDev,
		OwnerSetting: wechat.OwnerSetting{ContactEmail: "privacy@s.test", NoticeMethod: "弹窗提示", ExtFileMediaID: "media_ext_kept", StoreExpireTimestamp: "30天"},
		SettingList:  []wechat.PrivacyItem{{PrivacyKey: "Location", PrivacyText: "用于推荐附近门店"}, {PrivacyKey: "Album", PrivacyText: "用于上传头像"}}})
	if err != nil {
		h.t.Fatal(err)
	}
	return []string{"{appP}", app}
}

func privacyScenarios() []scenario {
	page := "/t/{S}/apps/{appP}/privacy"
	guide := func(t *testing.T, h *harness) *wechat.PrivacySettingResult {
		t.Helper()
		var app string
		if err := h.st.R.QueryRow(`SELECT appid FROM authorizers WHERE nickname = 'Sierra 隐私小程序'`).Scan(&app); err != nil {
			t.Fatal(err)
		}
		g, err := h.srv.Releases.WeChat.PrivacySetting(context.Background(), app, wechat.PrivacyDev)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	unchanged := func(t *testing.T, h *harness, w *world) {
		if g := guide(t, h); g.OwnerSetting.ContactEmail != "privacy@s.test" || len(g.SettingList) != 2 {
			t.Errorf("guideline changed: %+v", g)
		}
	}
	return []scenario{
		{name: "privacy guideline shows every key in WeChat's words", method: "GET", url: page, who: "ownerS", status: 200,
			want: []string{`data-testid="privacy-form"`, "位置信息", `value="用于推荐附近门店"`, "选中的照片或视频信息", "手机号码", `name="purpose.PhoneNumber"`, `value="弹窗提示"`, `data-testid="privacy-save"`}},
		{name: "privacy guideline read-only for a viewer", method: "GET", url: page, who: "viewerS", status: 200,
			want: []string{`value="用于推荐附近门店"`, `data-testid="privacy-read-only"`}, notWant: []string{`data-testid="privacy-save"`}},
		{name: "settings link to the privacy guideline", method: "GET", url: "/t/{S}/apps/{appP}/settings", who: "viewerS", status: 200,
			want: []string{`href="` + page + `"`, `data-testid="open-privacy"`}},
		{name: "privacy guideline of S's app as B", method: "GET", url: "/t/{B}/apps/{appP}/privacy", who: "ownerB", status: 404, notWant: []string{"用于推荐附近门店"}},
		{name: "privacy guideline anonymous", method: "GET", url: page, who: "anon", status: 303},
		{name: "privacy guideline saved as a merge", method: "POST", url: page, who: "ownerS", status: 303, locIs: page + "?flash=privacy.saved",
			form: form("contact_email", "privacy@s.test", "contact_weixin", "sierra_shop", "notice_method", "站内信", "store_expire", "30天",
				"purpose.Location", "用于计算配送距离", "purpose.Album", "", "purpose.PhoneNumber", "用于联系收货人"),
			check: func(t *testing.T, h *harness, w *world) {
				g := guide(t, h)
				o := g.OwnerSetting
				if o.ContactWeixin != "sierra_shop" || o.NoticeMethod != "站内信" || o.ExtFileMediaID != "media_ext_kept" || o.StoreExpireTimestamp != "30天" {
					t.Errorf("owner = %+v", o)
				}
				got := map[string]string{}
				for _, it := range g.SettingList {
					got[it.PrivacyKey] = it.PrivacyText
				}
				if len(got) != 2 || got["Location"] != "用于计算配送距离" || got["PhoneNumber"] != "用于联系收货人" {
					t.Errorf("settings = %v", got)
				}
				if n := h.count(`SELECT COUNT(*) FROM activity WHERE action = 'privacy_saved'`); n != 1 {
					t.Errorf("%d activity rows", n)
				}
			}},
		{name: "privacy guideline without a contact", method: "POST", url: page, who: "ownerS", status: 422,
			form: form("notice_method", "站内信", "purpose.Location", "用于计算配送距离"),
			want: []string{"t:privacy.err.contact", `value="用于计算配送距离"`}, check: unchanged},
		{name: "privacy guideline with nothing left", method: "POST", url: page, who: "ownerS", status: 422,
			form: form("contact_email", "privacy@s.test", "notice_method", "站内信", "purpose.Location", "", "purpose.Album", ""),
			want: []string{"t:privacy.err.empty"}, check: unchanged},
		{name: "privacy guideline refused to a viewer", method: "POST", url: page, who: "viewerS", status: 403,
			form: form("contact_email", "x@s.test", "notice_method", "站内信", "purpose.Location", "改"), check: unchanged},
		{name: "privacy guideline of S's app posted as B", method: "POST", url: "/t/{B}/apps/{appP}/privacy", who: "ownerB", status: 404,
			form: form("contact_email", "x@s.test", "notice_method", "站内信", "purpose.Location", "改"), check: unchanged},
	}
}

func TestPrivacyScenarios(t *testing.T) { runScenarios(t, privacyScenarios()) }
