package web

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/wechat/msgcrypt"
)

// The push routes and the WeChat health page, as scenario rows.
func TestWeChatScenarios(t *testing.T) { runScenarios(t, wechatScenarios()) }

// rawPush seals xml as WeChat would and returns the URL with its signature
// and the option that puts the envelope in the request body.
func rawPush(target, field, value, xml string) (string, reqOpt) {
	c, err := msgcrypt.New(wxToken, wxAESKey, wxAppID)
	if err != nil {
		panic(err)
	}
	body, q, err := c.SealPush(field, value, []byte(xml), "1700000000", "5")
	if err != nil {
		panic(err)
	}
	return target + "?" + q.Encode(), func(r *http.Request) {
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		r.Header.Set("Content-Type", "text/xml")
	}
}

func wechatScenarios() []scenario {
	ticketURL, ticket := rawPush("/wechat/component/events", msgcrypt.FieldAppID, wxAppID, wxTicketXML("ticket@@@scenario", 1700000000))
	auditURL, audit := rawPush("/wechat/apps/wx1111111111111111/events", msgcrypt.FieldToUserName, "gh_abc",
		"<xml><ToUserName><![CDATA[gh_abc]]></ToUserName><FromUserName><![CDATA[o]]></FromUserName><CreateTime>1700000001</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[weapp_audit_delay]]></Event><Reason><![CDATA[busy]]></Reason><DelayTime>1</DelayTime></xml>")
	sc := []scenario{
		{name: "wechat component push", method: "POST", url: ticketURL, opt: ticket, who: "anon", status: 200, want: []string{"success"}},
		{name: "wechat component push unsigned", method: "POST", url: "/wechat/component/events", who: "anon", status: 400},
		{name: "wechat app push", method: "POST", url: auditURL, opt: audit, who: "anon", status: 200, want: []string{"success"}},
		{name: "wechat app push with a forged signature", method: "POST", url: strings.Replace(auditURL, "msg_signature=", "msg_signature=0", 1), opt: audit, who: "anon", status: 403},
		{name: "wechat ticket request as staffadmin", method: "POST", url: "/staff/wechat/ticket", who: "staffadmin", status: 200, want: []string{"t:wechat.ticket_requested"}},
		{name: "wechat ticket request as staffoperator", method: "POST", url: "/staff/wechat/ticket", htmx: true, who: "staffoperator", status: 200, want: []string{`data-testid="toast"`}},
		{name: "wechat health anonymous", method: "GET", url: "/staff/wechat", who: "anon", status: 303, loc: "/login?next=%2Fstaff%2Fwechat"},
	}
	// Pushes' age (issue #12 item 11): accepted, counted over 24 h, shown.
	sc = append(sc,
		scenario{name: "wechat push older than an hour is accepted and counted", method: "POST", url: ticketURL, opt: ticket, who: "anon", status: 200, want: []string{"success"},
			check: func(t *testing.T, h *harness, w *world) {
				if n, err := h.st.AgedPushes(context.Background(), h.clock.Now().Add(-24*time.Hour)); err != nil || n != 1 {
					t.Errorf("aged pushes = %d (%v), want 1 (CreateTime 2023, received 2026)", n, err)
				}
			}},
		scenario{name: "wechat health shows aged pushes", method: "GET", url: "/staff/wechat", who: "staffsupport", status: 200,
			setup: func(t *testing.T, h *harness, w *world) {
				now := h.clock.Now().Unix()
				for i, ct := range []int64{now - 2*3600, now - 25*3600, now + 2*3600, now - 60} { // old, old, future, fresh
					h.receivePush(t, wxTicketXML("ticket@@@aged"+strconv.Itoa(i), ct))
				}
			},
			want: []string{`data-testid="aged-pushes"`, "最近 24 小时有 3 条推送"},
			check: func(t *testing.T, h *harness, w *world) {
				// The window is by arrival: none arrived after now.
				if n, err := h.st.AgedPushes(context.Background(), h.clock.Now().Add(time.Second)); err != nil || n != 0 {
					t.Errorf("aged pushes after now = %d (%v)", n, err)
				}
			}},
		scenario{name: "wechat health without aged pushes", method: "GET", url: "/staff/wechat", who: "staffsupport", status: 200,
			want: []string{"t:wechat.aged_pushes_none"}},
	)
	// Upstream backoff (issue #12 item 15): the last error in words, the IP
	// WeChat saw for 61004, and the next attempt.
	sc = append(sc, scenario{name: "wechat health explains 61004 and the next attempt", method: "GET", url: "/staff/wechat", who: "staffsupport", status: 200,
		setup: func(t *testing.T, h *harness, w *world) {
			ctx := context.Background()
			h.sb.SetAllowedIPs([]string{"203.0.113.7"})
			if c, err := h.st.ComponentCreds(ctx, wxAppID); err == nil && c.Token != "" {
				h.p.Vault.ExpireComponentAccessToken(ctx, c.Token) // as after a 40001
			}
			before := h.sb.CallCount("api_component_token")
			_, err := h.p.Vault.ComponentAccessToken(ctx)
			if err == nil || !strings.Contains(err.Error(), "61004") {
				t.Fatalf("first call: %v, want 61004", err)
			}
			for range 3 { // callers during the backoff get the last error and call nothing
				var bo *platform.Backoff
				if _, err := h.p.Vault.ComponentAccessToken(ctx); !errors.As(err, &bo) {
					t.Fatalf("during the backoff: %v", err)
				}
			}
			if n := h.sb.CallCount("api_component_token") - before; n != 1 {
				t.Fatalf("api_component_token called %d times, want 1", n)
			}
		},
		want: []string{`data-testid="token-problem"`, "微信看到本服务器的地址是 127.0.0.1；请在开放平台管理后台把它加入 IP 白名单（IP白名单）", `data-testid="token-next-attempt"`}})
	for _, who := range staffAll {
		sc = append(sc, scenario{name: "wechat health as " + who, method: "GET", url: "/staff/wechat", who: who, status: 200,
			want: []string{`data-testid="wechat-component"`, `data-testid="token-states"`}, notWant: []string{"ticket@@@"}})
	}
	for _, who := range []string{"ownerA", "nobody"} {
		sc = append(sc, scenario{name: "wechat health as " + who, method: "GET", url: "/staff/wechat", who: who, status: 403})
	}
	for _, who := range []string{"staffapprover", "staffsupport", "ownerA"} {
		sc = append(sc, scenario{name: "wechat ticket request as " + who, method: "POST", url: "/staff/wechat/ticket", who: who, status: 403})
	}
	return sc
}

// receivePush hands a sealed push to the intake, as the push route does.
func (h *harness) receivePush(t *testing.T, xml string) {
	t.Helper()
	c, err := msgcrypt.New(wxToken, wxAESKey, wxAppID)
	if err != nil {
		t.Fatal(err)
	}
	body, q, err := c.SealPush(msgcrypt.FieldAppID, wxAppID, []byte(xml), "1700000000", "9")
	if err != nil {
		t.Fatal(err)
	}
	if res := h.p.Intake.Receive(context.Background(), body, q, ""); res.Err != nil {
		t.Fatal(res.Err)
	}
}

// Every meaning the health page may show is translated in both languages.
func TestUpstreamProblemsTranslated(t *testing.T) {
	h := newHarness(t)
	for _, msg := range []string{
		"component token: Post \"http://127.0.0.1:1/x\": dial tcp 127.0.0.1:1: connect: connection refused",
		"wechat /cgi-bin/component/api_component_token: errcode 61004: access clientip is not registered, not allow to access from your ip (ip: 198.51.100.4) rid: 1",
		"wechat x: errcode 61004: access clientip is not registered hint: [abc]",
		"wechat x: errcode 45009: reach max api daily quota limit",
		"wechat x: errcode -1: system error", "wechat x: errcode 61005: x", "wechat x: errcode 61006: x", "wechat x: errcode 40001: x",
		"wechat x: errcode 42001: x", "wechat x: errcode 61003: x", "wechat x: errcode 61023: x", "wechat x: errcode 48001: api unauthorized",
	} {
		p := platform.ExplainUpstream(msg)
		for _, lang := range []string{"zh-CN", "en"} {
			got := h.tr(lang, p.Key, "Errcode", p.Errcode, "IP", p.IP)
			if got == p.Key || got == "" {
				t.Errorf("%s: %q has no translation (from %q)", lang, p.Key, msg)
			}
		}
	}
	if p := platform.ExplainUpstream("wechat x: errcode 61004: access clientip is not registered, not allow to access from your ip (ip: 198.51.100.4) rid: 1"); p.IP != "198.51.100.4" {
		t.Errorf("61004 IP = %q", p.IP)
	}
	if p := platform.ExplainUpstream("wechat x: errcode 61004: invalid ip 2001:db8::5 ipv6 ::ffff:2001:db8::5, not in whitelist rid: 6"); p.IP != "2001:db8::5" {
		t.Errorf("61004 IPv6 = %q", p.IP)
	}
}
