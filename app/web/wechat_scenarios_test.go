package web

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

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
