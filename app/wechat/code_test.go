package wechat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
)

func TestCommitSendsExtJSONAsString(t *testing.T) {
	c, _, fs := newTestClient(t, ok(`{"errcode":0,"errmsg":"ok"}`))
	ext := `{"extEnable":true,"extAppid":"wx_merchant","ext":{"shopId":"S1001"}}`
	err := c.Commit(context.Background(), "wx_merchant", CommitRequest{TemplateID: 12, ExtJSON: ext, UserVersion: "1.4.2", UserDesc: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	r := fs.last(t)
	var body map[string]any
	if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
		t.Fatal(err)
	}
	if s, ok := body["ext_json"].(string); !ok || s != ext {
		t.Errorf("ext_json = %#v (%T), want the JSON text as a string", body["ext_json"], body["ext_json"])
	}
	if body["template_id"] != float64(12) {
		t.Errorf("template_id = %#v, want the number 12", body["template_id"])
	}
	if r.Path != "/wxa/commit" || r.Query.Get("access_token") != "A1" {
		t.Errorf("request %s?%v", r.Path, r.Query)
	}
}

func TestCommitRejectsNonObjectExtJSON(t *testing.T) {
	c, _, fs := newTestClient(t, ok(`{"errcode":0}`))
	for _, ext := range []string{`{"extAppid":`, `"just a string"`, `[1]`} {
		if err := c.Commit(context.Background(), "wx", CommitRequest{TemplateID: 1, ExtJSON: ext}); err == nil {
			t.Errorf("ext_json %s accepted", ext)
		}
	}
	if len(fs.requests()) != 0 {
		t.Error("an invalid commit was sent")
	}
}

var jpeg = append([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F', 0}, bytes.Repeat([]byte{1}, 64)...)

func TestTrialQRCode(t *testing.T) {
	c, _, fs := newTestClient(t, func(recorded) reply { return reply{ContentType: "image/jpeg", Body: string(jpeg)} })
	qr, err := c.TrialQRCode(context.Background(), "wx", "page/index?action=1")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(qr.Image, jpeg) || qr.ContentType != "image/jpeg" {
		t.Errorf("qr = %d bytes %q", len(qr.Image), qr.ContentType)
	}
	r := fs.last(t)
	if r.Method != http.MethodGet || r.Query.Get("path") != "page/index?action=1" {
		t.Errorf("request %s %v", r.Method, r.Query)
	}
}

func TestTrialQRCodeErrors(t *testing.T) {
	// A JSON error may arrive with an image content type; the body decides.
	c, _, _ := newTestClient(t, func(recorded) reply {
		return reply{ContentType: "image/jpeg", Body: `{"errcode":86001,"errmsg":"no code committed"}`}
	})
	if _, err := c.TrialQRCode(context.Background(), "wx", ""); !IsCode(err, 86001) {
		t.Errorf("err = %v, want errcode 86001", err)
	}

	// A mislabelled image is sniffed; HTML is not an image.
	c, _, _ = newTestClient(t, func(recorded) reply { return reply{ContentType: "application/octet-stream", Body: string(jpeg)} })
	if qr, err := c.TrialQRCode(context.Background(), "wx", ""); err != nil || qr.ContentType != "image/jpeg" {
		t.Errorf("octet-stream jpeg: %v, %+v", err, qr)
	}
	c, _, _ = newTestClient(t, func(recorded) reply { return reply{ContentType: "text/html", Body: "<html></html>"} })
	if _, err := c.TrialQRCode(context.Background(), "wx", ""); !errors.Is(err, ErrBadResponse) {
		t.Errorf("html: err = %v, want ErrBadResponse", err)
	}

	// Token errors heal here too.
	c, tokens, _ := newTestClient(t, func(r recorded) reply {
		if r.Query.Get("access_token") == "A1" {
			return reply{Body: `{"errcode":40001,"errmsg":"invalid credential"}`}
		}
		return reply{ContentType: "image/jpeg", Body: string(jpeg)}
	})
	if _, err := c.TrialQRCode(context.Background(), "wx", ""); err != nil || len(tokens.expired) != 1 {
		t.Errorf("heal: err = %v, expired = %v", err, tokens.expired)
	}
}

func TestSubmitAuditRequest(t *testing.T) {
	c, _, fs := newTestClient(t, ok(`{"errcode":0,"errmsg":"ok","auditid":1234567}`))
	id, err := c.SubmitAudit(context.Background(), "wx", SubmitAuditRequest{
		ItemList:         []AuditItem{{Address: "pages/index/index", Tag: "购物 商城", FirstClass: "生活服务", SecondClass: "丽人服务", FirstID: 1, SecondID: 2, Title: "首页"}},
		VersionDesc:      "v1",
		PreviewInfo:      &PreviewInfo{PicIDList: []string{"m1"}},
		UGCDeclare:       &UGCDeclare{Scene: []int{0}, HasAuditTeam: 0},
		PrivacyAPINotUse: true,
		OrderPath:        "pages/order/index",
	})
	if err != nil || id != 1234567 {
		t.Fatalf("SubmitAudit = %d, %v", id, err)
	}
	const want = `{"item_list":[{"address":"pages/index/index","tag":"购物 商城","first_class":"生活服务","second_class":"丽人服务","first_id":1,"second_id":2,"title":"首页"}],"version_desc":"v1","preview_info":{"pic_id_list":["m1"]},"ugc_declare":{"scene":[0],"has_audit_team":0},"privacy_api_not_use":true,"order_path":"pages/order/index"}`
	if got := fs.last(t).Body; got != want {
		t.Errorf("body =\n %s\nwant\n %s", got, want)
	}
}

func TestSubmitAuditWithoutAuditID(t *testing.T) {
	c, _, _ := newTestClient(t, ok(`{"errcode":0,"errmsg":"ok"}`))
	if _, err := c.SubmitAudit(context.Background(), "wx", SubmitAuditRequest{}); !errors.Is(err, ErrBadResponse) {
		t.Errorf("err = %v, want ErrBadResponse", err)
	}
}

func TestAuditStatus(t *testing.T) {
	c, _, fs := newTestClient(t, ok(`{"errcode":0,"errmsg":"ok","auditid":99,"status":1,"reason":"bad","ScreenShot":"a|b","user_version":"1.0","user_desc":"d","submit_audit_time":1700000000}`))
	st, err := c.LatestAuditStatus(context.Background(), "wx")
	if err != nil {
		t.Fatal(err)
	}
	want := AuditStatus{AuditID: 99, Status: AuditRejected, Reason: "bad", ScreenShot: "a|b", UserVersion: "1.0", UserDesc: "d", SubmitAuditTime: 1700000000}
	if *st != want {
		t.Errorf("latest = %+v, want %+v", *st, want)
	}
	if r := fs.last(t); r.Method != http.MethodGet || r.Path != "/wxa/get_latest_auditstatus" {
		t.Errorf("request %s %s", r.Method, r.Path)
	}

	c, _, fs = newTestClient(t, ok(`{"errcode":0,"errmsg":"ok","status":2,"screenshot":"x"}`))
	st, err = c.AuditStatus(context.Background(), "wx", 77)
	if err != nil || st.Status != AuditReviewing || st.AuditID != 77 || st.ScreenShot != "x" {
		t.Errorf("AuditStatus = %+v, %v", st, err)
	}
	if r := fs.last(t); r.Method != http.MethodPost || r.Body != `{"auditid":77}` {
		t.Errorf("request %s %s", r.Method, r.Body)
	}
}

func TestReleaseFamilyRequests(t *testing.T) {
	ctx := context.Background()
	c, _, fs := newTestClient(t, ok(`{"errcode":0,"errmsg":"ok","version_list":[{"app_version":3,"user_version":"1.2","user_desc":"d","commit_time":5}],
	  "gray_release_plan":{"status":1,"create_timestamp":10,"gray_percentage":20,"support_experiencer_first":true,"support_debuger_first":false},
	  "rest":18,"limit":20,"speedup_rest":1,"speedup_limit":2}`))
	for _, tc := range []struct {
		name, method, path, query, body string
		call                            func() error
	}{
		{"revert to previous", "GET", "/wxa/revertcoderelease", "access_token=A1", "", func() error { return c.RevertRelease(ctx, "wx", 0) }},
		{"revert to version", "GET", "/wxa/revertcoderelease", "access_token=A1&app_version=3", "", func() error { return c.RevertRelease(ctx, "wx", 3) }},
		{"history", "GET", "/wxa/revertcoderelease", "access_token=A1&action=get_history_version", "", func() error {
			h, err := c.ReleaseHistory(ctx, "wx")
			if err == nil && (len(h) != 1 || h[0].AppVersion != 3) {
				t.Errorf("history = %+v", h)
			}
			return err
		}},
		{"gray", "POST", "/wxa/grayrelease", "access_token=A1", `{"gray_percentage":20}`, func() error { return c.GrayRelease(ctx, "wx", GrayReleaseRequest{GrayPercentage: 20}) }},
		{"gray plan", "GET", "/wxa/getgrayreleaseplan", "access_token=A1", "", func() error {
			p, err := c.GrayReleasePlan(ctx, "wx")
			if err == nil && (p.Status != GrayRunning || p.GrayPercentage != 20 || !p.SupportExperiencerFirst) {
				t.Errorf("plan = %+v", p)
			}
			return err
		}},
		{"revert gray", "GET", "/wxa/revertgrayrelease", "access_token=A1", "", func() error { return c.RevertGrayRelease(ctx, "wx") }},
		{"undo", "GET", "/wxa/undocodeaudit", "access_token=A1", "", func() error { return c.UndoAudit(ctx, "wx") }},
		{"speedup", "POST", "/wxa/speedupaudit", "access_token=A1", `{"auditid":42}`, func() error { return c.SpeedUpAudit(ctx, "wx", 42) }},
		{"quota", "GET", "/wxa/queryquota", "access_token=A1", "", func() error {
			q, err := c.AuditQuota(ctx, "wx")
			if err == nil && *q != (AuditQuota{Rest: 18, Limit: 20, SpeedupRest: 1, SpeedupLimit: 2}) {
				t.Errorf("quota = %+v", q)
			}
			return err
		}},
	} {
		if err := tc.call(); err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		r := fs.last(t)
		if r.Method != tc.method || r.Path != tc.path || r.Query.Encode() != tc.query || r.Body != tc.body {
			t.Errorf("%s: got %s %s?%s %q, want %s %s?%s %q", tc.name, r.Method, r.Path, r.Query.Encode(), r.Body, tc.method, tc.path, tc.query, tc.body)
		}
	}
}

func TestPagesAndCategories(t *testing.T) {
	c, _, _ := newTestClient(t, ok(`{"errcode":0,"errmsg":"ok","page_list":["pages/a","pages/b"],
	  "category_list":[{"first_class":"教育","second_class":"在线教育","first_id":8,"second_id":9}]}`))
	pages, err := c.Pages(context.Background(), "wx")
	if err != nil || len(pages) != 2 {
		t.Errorf("Pages = %v, %v", pages, err)
	}
	cats, err := c.Categories(context.Background(), "wx")
	if err != nil || len(cats) != 1 || cats[0].SecondID != 9 || cats[0].FirstClass != "教育" {
		t.Errorf("Categories = %+v, %v", cats, err)
	}
}

var pngImage = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{2}, 64)...)

func TestMaterial(t *testing.T) {
	c, _, fs := newTestClient(t, func(recorded) reply { return reply{ContentType: "application/octet-stream", Body: string(pngImage)} })
	m, err := c.Material(context.Background(), "wx", "media_1")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.Body, pngImage) || m.ContentType != "image/png" {
		t.Errorf("media = %d bytes %q", len(m.Body), m.ContentType)
	}
	r := fs.last(t)
	if r.Method != http.MethodPost || r.Path != "/cgi-bin/material/get_material" || r.Query.Get("access_token") != "A1" || r.Body != `{"media_id":"media_1"}` {
		t.Errorf("request %s %s %v %s", r.Method, r.Path, r.Query, r.Body)
	}

	c, _, _ = newTestClient(t, func(recorded) reply {
		return reply{ContentType: "text/plain", Body: `{"errcode":40007,"errmsg":"invalid media_id"}`}
	})
	if _, err := c.Material(context.Background(), "wx", "nope"); !IsCode(err, 40007) {
		t.Errorf("err = %v, want errcode 40007", err)
	}
	c, _, _ = newTestClient(t, func(recorded) reply { return reply{ContentType: "image/png", Body: "<html>not an image</html>"} })
	if _, err := c.Material(context.Background(), "wx", "m"); !errors.Is(err, ErrBadResponse) {
		t.Errorf("html: err = %v, want ErrBadResponse", err)
	}
}
