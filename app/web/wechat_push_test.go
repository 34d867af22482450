package web

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/wechat/msgcrypt"
)

func wxCrypter(t testing.TB) *msgcrypt.Crypter {
	c, err := msgcrypt.New(wxToken, wxAESKey, wxAppID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func wxTicketXML(ticket string, createTime int64) string {
	return "<xml><AppId><![CDATA[" + wxAppID + "]]></AppId><CreateTime>" + strconv.FormatInt(createTime, 10) +
		"</CreateTime><InfoType><![CDATA[component_verify_ticket]]></InfoType><ComponentVerifyTicket><![CDATA[" + ticket + "]]></ComponentVerifyTicket></xml>"
}

// wxPushRequest seals msg into a push request for target.
func wxPushRequest(t testing.TB, c *msgcrypt.Crypter, target, field, value, msg string) (*http.Request, []byte, url.Values) {
	body, q, err := c.SealPush(field, value, []byte(msg), "1700000000", "42")
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("POST", target+"?"+q.Encode(), bytes.NewReader(body))
	req.Header.Set("Content-Type", "text/xml")
	return req, body, q
}

func (h *harness) wxSend(req *http.Request) (int, string) {
	h.t.Helper()
	resp, err := h.app.Test(req, -1)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestWeChatPushRoutes(t *testing.T) {
	h := newHarness(t)
	c := wxCrypter(t)

	ticket := wxTicketXML("ticket@@@web", 1700000000)
	audit := "<xml><ToUserName><![CDATA[gh_abc]]></ToUserName><FromUserName><![CDATA[o]]></FromUserName><CreateTime>1700000001</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[weapp_audit_success]]></Event><SuccTime>1700000001</SuccTime></xml>"

	valid := func() *http.Request {
		r, _, _ := wxPushRequest(t, c, "/wechat/component/events", msgcrypt.FieldAppID, wxAppID, ticket)
		return r
	}
	forged := func() *http.Request {
		_, body, q := wxPushRequest(t, c, "/wechat/component/events", msgcrypt.FieldAppID, wxAppID, wxTicketXML("ticket@@@forged", 1700000002))
		q.Set("msg_signature", strings.Repeat("a", 40))
		return httptest.NewRequest("POST", "/wechat/component/events?"+q.Encode(), bytes.NewReader(body))
	}
	tooBig := func() *http.Request {
		_, body, q := wxPushRequest(t, c, "/wechat/component/events", msgcrypt.FieldAppID, wxAppID, wxTicketXML("ticket@@@big", 1700000003))
		body = append(body, bytes.Repeat([]byte(" "), 64<<10)...)
		return httptest.NewRequest("POST", "/wechat/component/events?"+q.Encode(), bytes.NewReader(body))
	}
	appPush := func() *http.Request {
		r, _, _ := wxPushRequest(t, c, "/wechat/apps/wx1111111111111111/events", msgcrypt.FieldToUserName, "gh_abc", audit)
		return r
	}
	cases := []struct {
		name       string
		req        func() *http.Request
		wantStatus int
		wantBody   string
	}{
		{"valid ticket", valid, 200, "success"},
		{"duplicate", valid, 200, "success"},
		{"forged signature", forged, 403, ""},
		{"malformed XML", func() *http.Request {
			return httptest.NewRequest("POST", "/wechat/component/events?msg_signature=x&timestamp=1&nonce=2", strings.NewReader("<xml><Encrypt>"))
		}, 400, ""},
		{"over 64 KB", tooBig, 413, ""},
		{"audit push on the app URL", appPush, 200, "success"},
		{"GET is not a push", func() *http.Request { return httptest.NewRequest("GET", "/wechat/component/events", nil) }, 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := h.wxSend(tc.req())
			if tc.wantStatus == 0 {
				if status == 200 {
					t.Errorf("status 200, want an error")
				}
				return
			}
			if status != tc.wantStatus || (tc.wantBody != "" && body != tc.wantBody) {
				t.Errorf("got %d %q, want %d %q", status, body, tc.wantStatus, tc.wantBody)
			}
		})
	}
	if n := h.count(`SELECT COUNT(*) FROM wechat_pushes`); n != 2 {
		t.Errorf("%d pushes stored, want 2 (ticket once, audit)", n)
	}
	if n := h.count(`SELECT duplicates FROM wechat_pushes WHERE kind = 'component_verify_ticket'`); n != 1 {
		t.Errorf("duplicates = %d, want 1", n)
	}
	creds, err := h.st.ComponentCreds(context.Background(), wxAppID)
	if err != nil || creds.Ticket != "ticket@@@web" {
		t.Errorf("ticket not stored: %v", err)
	}
}

func TestWeChatHealthPage(t *testing.T) {
	h := newHarness(t)
	p, sb := h.p, h.sb
	c := wxCrypter(t)
	for i, xml := range []string{wxTicketXML("ticket@@@secret-value", 1700000000), wxTicketXML("ticket@@@second", 1700000600)} {
		req, _, _ := wxPushRequest(t, c, "/wechat/component/events", msgcrypt.FieldAppID, wxAppID, xml)
		if status, _ := h.wxSend(req); status != 200 {
			t.Fatalf("push %d: %d", i, status)
		}
	}
	h.st.SaveTicket(context.Background(), wxAppID, sb.Ticket(), 1800000000, h.clock.Now()) // the sandbox's, to get a real token
	sb.PushTicket()
	h.st.SaveTicket(context.Background(), wxAppID, sb.Ticket(), 1800000001, h.clock.Now())
	tok, err := p.Vault.ComponentAccessToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	h.user("ops@example.com", "Ops", model.StaffAdmin)
	h.user("help@example.com", "Help", model.StaffSupport)
	ca := h.client().login("ops@example.com")
	r := ca.get("/staff/wechat")
	if r.Status != 200 {
		t.Fatalf("GET /staff/wechat = %d", r.Status)
	}
	for _, want := range []string{`data-testid="ticket-age"`, `data-testid="token-expiry"`, `data-testid="request-ticket"`, `data-testid="token-state-needs_reauth"`, `data-testid="last-push-component_verify_ticket"`, `href="/staff/wechat"`} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	for _, secret := range []string{"ticket@@@secret-value", sb.Ticket(), tok} {
		if strings.Contains(r.Body, secret) {
			t.Errorf("a secret is on the page")
		}
	}
	if n := strings.Count(r.Body, `data-testid="push-row-`); n != 2 {
		t.Errorf("%d push rows, want 2", n)
	}
	if r := ca.get("/staff/wechat?kind=weapp_audit_fail"); strings.Contains(r.Body, `data-testid="push-row-`) {
		t.Errorf("kind filter ignored")
	}
	if r := ca.get("/staff/wechat?outcome=applied"); strings.Count(r.Body, `data-testid="push-row-`) != 2 {
		t.Errorf("outcome filter dropped applied pushes")
	}

	if r := ca.post("/staff/wechat/ticket", nil, ca.htmx()); r.Status != 200 || sb.CallCount("api_start_push_ticket") != 1 {
		t.Errorf("ticket request: %d, calls %d", r.Status, sb.CallCount("api_start_push_ticket"))
	}
	if r := ca.post("/staff/wechat/ticket", nil, ca.htmx()); r.Status != 429 {
		t.Errorf("second request within a minute: %d, want 429", r.Status)
	}

	cs := h.client().login("help@example.com")
	if r := cs.get("/staff/wechat"); r.Status != 200 || strings.Contains(r.Body, `data-testid="request-ticket"`) {
		t.Errorf("support: %d, button shown = %v", r.Status, strings.Contains(r.Body, `data-testid="request-ticket"`))
	}
	if r := cs.post("/staff/wechat/ticket", nil, cs.htmx()); r.Status != 403 {
		t.Errorf("support may not request a ticket: %d", r.Status)
	}
	h.signup("m@example.com", "M", "Shop")
	if r := h.client().login("m@example.com").get("/staff/wechat"); r.Status != 403 {
		t.Errorf("merchant: %d, want 403", r.Status)
	}
}

// Messages and events WeChat sends to an app stay recorded and are listed
// on the staff app page (newest first, XML readable), with a link to all of
// them on the WeChat page filtered by the app.
func TestStaffAppPageListsTheAppsPushes(t *testing.T) {
	h := newHarness(t)
	f := h.fixture()
	c := wxCrypter(t)
	const app = "wxappa0000000001"
	msg := "<xml><ToUserName><![CDATA[gh_appa0000000001]]></ToUserName><FromUserName><![CDATA[o_fan_1]]></FromUserName><CreateTime>1700000100</CreateTime>" +
		"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好，营业时间？]]></Content><MsgId>990001</MsgId></xml>"
	req, _, _ := wxPushRequest(t, c, "/wechat/apps/"+app+"/events", msgcrypt.FieldToUserName, "gh_appa0000000001", msg)
	if status, body := h.wxSend(req); status != 200 || body != "success" {
		t.Fatalf("message push: %d %q", status, body)
	}
	admin := h.client().login(f.users["staffsupport"].Email)
	r := admin.get("/staff/apps/" + app)
	wantStatus(t, "staff app page", r, 200)
	mustContain(t, "the app's pushes", r, `data-testid="app-pushes"`, "你好，营业时间？", `href="/staff/wechat?appid=`+app+`"`)
	r = admin.get("/staff/wechat?appid=" + app)
	if n := strings.Count(r.Body, `data-testid="push-row-`); n != 1 {
		t.Errorf("%d push rows for the app on the WeChat page, want 1", n)
	}
	// Another app's page does not list it.
	if r := admin.get("/staff/apps/wxappb0000000002"); strings.Contains(r.Body, "你好，营业时间？") {
		t.Error("another app's page lists the push")
	}
}
