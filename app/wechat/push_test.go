package wechat

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

const (
	ticketCDATA = `<xml><AppId><![CDATA[wx2c2769f8efd9abc2]]></AppId><CreateTime>1413192605</CreateTime><InfoType><![CDATA[component_verify_ticket]]></InfoType><ComponentVerifyTicket><![CDATA[ticket@@@test]]></ComponentVerifyTicket></xml>`
	ticketPlain = "<xml>\n <AppId>wx2c2769f8efd9abc2</AppId>\n <CreateTime>1413192605</CreateTime>\n <InfoType>component_verify_ticket</InfoType>\n <ComponentVerifyTicket>ticket@@@test</ComponentVerifyTicket>\n</xml>"

	authorizedXML = `<xml>
  <AppId><![CDATA[wx_component_appid]]></AppId>
  <CreateTime>1700000000</CreateTime>
  <InfoType><![CDATA[authorized]]></InfoType>
  <AuthorizerAppid><![CDATA[wx_merchant_mp_appid]]></AuthorizerAppid>
  <AuthorizationCode><![CDATA[queryauthcode@@@abc]]></AuthorizationCode>
  <AuthorizationCodeExpiredTime>1700003600</AuthorizationCodeExpiredTime>
  <PreAuthCode><![CDATA[preauthcode@@@xyz]]></PreAuthCode>
</xml>`

	auditFailXML = `<xml>
  <ToUserName><![CDATA[gh_0123456789ab]]></ToUserName>
  <FromUserName><![CDATA[od1P50M-fNQI5Gcq-trm4a7apsU8]]></FromUserName>
  <CreateTime>1700000500</CreateTime>
  <MsgType><![CDATA[event]]></MsgType>
  <Event><![CDATA[weapp_audit_fail]]></Event>
  <Reason><![CDATA[1:账号信息不符合规范:<br>(1):包含色情因素<br>]]></Reason>
  <FailTime>1700000500</FailTime>
  <ScreenShot><![CDATA[mediaid1|mediaid2]]></ScreenShot>
</xml>`
)

func mustParse(t *testing.T, s string) Push {
	t.Helper()
	p, err := ParsePush([]byte(s))
	if err != nil {
		t.Fatalf("ParsePush: %v\n%s", err, s)
	}
	return p
}

func TestParseTicketCDATAAndPlain(t *testing.T) {
	var keys []string
	for _, s := range []string{ticketCDATA, ticketPlain} {
		p, ok := mustParse(t, s).(*ComponentVerifyTicket)
		if !ok {
			t.Fatalf("got %T, want *ComponentVerifyTicket", p)
		}
		want := ComponentVerifyTicket{AppID: "wx2c2769f8efd9abc2", CreateTime: 1413192605, Ticket: "ticket@@@test"}
		if *p != want {
			t.Errorf("ticket = %+v, want %+v", *p, want)
		}
		if p.Kind() != KindComponentVerifyTicket {
			t.Errorf("Kind = %q", p.Kind())
		}
		keys = append(keys, p.DedupeKey())
	}
	if keys[0] != keys[1] {
		t.Errorf("same push, different encodings, different keys: %q vs %q", keys[0], keys[1])
	}
	if keys[0] != "component_verify_ticket:wx2c2769f8efd9abc2|1413192605|ticket@@@test" {
		t.Errorf("DedupeKey = %q", keys[0])
	}
}

func TestParseAuthorizationEvents(t *testing.T) {
	p, ok := mustParse(t, authorizedXML).(*Authorized)
	if !ok {
		t.Fatalf("got %T, want *Authorized", p)
	}
	want := AuthorizationGrant{
		AppID: "wx_component_appid", CreateTime: 1700000000, AuthorizerAppID: "wx_merchant_mp_appid",
		AuthorizationCode: "queryauthcode@@@abc", AuthorizationCodeExpiredTime: 1700003600, PreAuthCode: "preauthcode@@@xyz",
	}
	if p.AuthorizationGrant != want {
		t.Errorf("authorized = %+v, want %+v", p.AuthorizationGrant, want)
	}

	upd := strings.Replace(authorizedXML, "[authorized]", "[updateauthorized]", 1)
	u, ok := mustParse(t, upd).(*UpdateAuthorized)
	if !ok || u.AuthorizationGrant != want || u.Kind() != KindUpdateAuthorized {
		t.Errorf("updateauthorized = %T %+v", u, u)
	}
	if u.DedupeKey() == p.DedupeKey() {
		t.Error("authorized and updateauthorized share a dedupe key")
	}

	const unauth = `<xml><AppId>wx_component_appid</AppId><CreateTime>1700000900</CreateTime><InfoType>unauthorized</InfoType><AuthorizerAppid>wx_merchant_mp_appid</AuthorizerAppid></xml>`
	un, ok := mustParse(t, unauth).(*Unauthorized)
	if !ok || un.AuthorizerAppID != "wx_merchant_mp_appid" || un.CreateTime != 1700000900 {
		t.Errorf("unauthorized = %T %+v", un, un)
	}
}

func TestParseFastRegister(t *testing.T) {
	const s = `<xml><AppId><![CDATA[wx_component]]></AppId><CreateTime>1700000000</CreateTime><InfoType><![CDATA[notify_third_fasteregister]]></InfoType>
<appid><![CDATA[wx_new]]></appid><status>0</status><auth_code><![CDATA[code123]]></auth_code><msg><![CDATA[OK]]></msg>
<info><name><![CDATA[某公司]]></name><code><![CDATA[91440300]]></code><code_type>1</code_type><legal_persona_wechat><![CDATA[wxid]]></legal_persona_wechat><legal_persona_name><![CDATA[张三]]></legal_persona_name><component_phone><![CDATA[1234]]></component_phone></info></xml>`
	p, ok := mustParse(t, s).(*FastRegister)
	if !ok {
		t.Fatalf("got %T", p)
	}
	if p.AppID != "wx_component" || p.NewAppID != "wx_new" || p.AuthCode != "code123" || p.Info.Name != "某公司" || p.Info.CodeType != 1 || p.Info.LegalPersonaName != "张三" {
		t.Errorf("fast register = %+v", p)
	}
}

func TestParseAuditEvents(t *testing.T) {
	f, ok := mustParse(t, auditFailXML).(*AuditFail)
	if !ok {
		t.Fatalf("got %T, want *AuditFail", f)
	}
	if f.ToUserName != "gh_0123456789ab" || f.FailTime != 1700000500 || f.Reason != "1:账号信息不符合规范:<br>(1):包含色情因素<br>" {
		t.Errorf("audit fail = %+v", f)
	}
	if got := f.ScreenShots(); !slices.Equal(got, []string{"mediaid1", "mediaid2"}) {
		t.Errorf("ScreenShots = %v", got)
	}

	succ := `<xml><ToUserName>gh_0123456789ab</ToUserName><FromUserName>od1P50M</FromUserName><CreateTime>1700000600</CreateTime><MsgType>event</MsgType><Event>weapp_audit_success</Event><SuccTime>1700000600</SuccTime></xml>`
	s, ok := mustParse(t, succ).(*AuditSuccess)
	if !ok || s.SuccTime != 1700000600 || s.Kind() != KindAuditSuccess {
		t.Errorf("audit success = %T %+v", s, s)
	}

	delay := `<xml><ToUserName>gh_0123456789ab</ToUserName><FromUserName>od1P50M</FromUserName><CreateTime>1700000700</CreateTime><MsgType>event</MsgType><Event>weapp_audit_delay</Event><Reason>queue</Reason><DelayTime>1700090000</DelayTime></xml>`
	d, ok := mustParse(t, delay).(*AuditDelay)
	if !ok || d.Reason != "queue" || d.DelayTime != 1700090000 {
		t.Errorf("audit delay = %T %+v", d, d)
	}
	if s.DedupeKey() != "weapp_audit_success:gh_0123456789ab|od1P50M|1700000600" {
		t.Errorf("DedupeKey = %q", s.DedupeKey())
	}
}

func TestParseNicknameAndMediaCheck(t *testing.T) {
	nick := `<xml><ToUserName>gh_1</ToUserName><FromUserName>o1</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType><Event>wxa_nickname_audit</Event><ret>3</ret><nickname>新名字</nickname><reason></reason></xml>`
	n, ok := mustParse(t, nick).(*NicknameAudit)
	if !ok || n.Ret != NicknameApproved || n.Nickname != "新名字" {
		t.Errorf("nickname audit = %T %+v", n, n)
	}

	v1 := `<xml><ToUserName>gh_1</ToUserName><FromUserName>o1</FromUserName><CreateTime>5</CreateTime><MsgType>event</MsgType><Event>wxa_media_check</Event>
<isrisky>1</isrisky><extra_info_json></extra_info_json><appid>wx_app</appid><trace_id>T1</trace_id><status_code>4294966288</status_code></xml>`
	m1, ok := mustParse(t, v1).(*MediaCheck)
	if !ok || m1.IsRisky != 1 || m1.TraceID != "T1" || m1.StatusCode != 4294966288 || m1.AppID != "wx_app" {
		t.Errorf("media check v1 = %T %+v", m1, m1)
	}
	v2 := `<xml><ToUserName>gh_1</ToUserName><FromUserName>o1</FromUserName><CreateTime>5</CreateTime><MsgType>event</MsgType><Event>wxa_media_check</Event>
<appid>wx_app</appid><trace_id>T2</trace_id><version>2</version><result><suggest>risky</suggest><label>20002</label></result>
<detail><strategy>content_model</strategy><errcode>0</errcode><suggest>risky</suggest><label>20002</label><prob>90</prob></detail>
<detail><strategy>keyword</strategy><errcode>0</errcode><suggest>pass</suggest><label>100</label><keyword>x</keyword></detail></xml>`
	m2, ok := mustParse(t, v2).(*MediaCheck)
	if !ok || m2.Version != 2 || m2.Result.Suggest != "risky" || m2.Result.Label != 20002 || len(m2.Detail) != 2 || m2.Detail[0].Prob != 90 {
		t.Errorf("media check v2 = %T %+v", m2, m2)
	}
	// Two checks finishing in the same second must not collapse.
	if m1.DedupeKey() == m2.DedupeKey() {
		t.Errorf("media checks with different trace_id share key %q", m1.DedupeKey())
	}
}

func TestParseUnknownKeepsRaw(t *testing.T) {
	const s = `<xml><ToUserName>gh_1</ToUserName><FromUserName>o1</FromUserName><CreateTime>9</CreateTime><MsgType>event</MsgType><Event>wxa_privacy_apply</Event><Foo>bar</Foo></xml>`
	p, ok := mustParse(t, s).(*UnknownPush)
	if !ok {
		t.Fatalf("got %T, want *UnknownPush", p)
	}
	if p.Kind() != "wxa_privacy_apply" || string(p.Raw) != s || p.ToUserName != "gh_1" || p.CreateTime != 9 {
		t.Errorf("unknown = %+v", p)
	}
	other := strings.Replace(s, "<Foo>bar</Foo>", "<Foo>baz</Foo>", 1)
	if mustParse(t, other).DedupeKey() == p.DedupeKey() {
		t.Error("different unknown pushes in the same second share a key")
	}
	if mustParse(t, s).DedupeKey() != p.DedupeKey() {
		t.Error("the same unknown push got two keys")
	}

	// User messages dedupe by MsgId, whatever else differs.
	msg := `<xml><ToUserName>gh_1</ToUserName><FromUserName>o1</FromUserName><CreateTime>9</CreateTime><MsgType>text</MsgType><Content>hi</Content><MsgId>6054768590064713728</MsgId></xml>`
	m := mustParse(t, msg)
	if m.Kind() != "text" || m.DedupeKey() != "text:gh_1|msgid|6054768590064713728" {
		t.Errorf("message kind %q key %q", m.Kind(), m.DedupeKey())
	}
	newInfo := `<xml><AppId>wx_c</AppId><CreateTime>1</CreateTime><InfoType>notify_something_new</InfoType></xml>`
	if k := mustParse(t, newInfo).Kind(); k != "notify_something_new" {
		t.Errorf("Kind = %q", k)
	}
}

func TestParsePushMalformed(t *testing.T) {
	for name, s := range map[string]string{
		"empty":            "",
		"not xml":          "success",
		"truncated":        "<xml><InfoType>authorized",
		"wrong root":       "<root><InfoType>authorized</InfoType></root>",
		"bad CreateTime":   "<xml><InfoType>authorized</InfoType><CreateTime>soon</CreateTime></xml>",
		"unknown bad time": "<xml><Event>x</Event><CreateTime>soon</CreateTime></xml>",
		"oversized":        "<xml>" + strings.Repeat(" ", MaxPushBytes) + "</xml>",
	} {
		if _, err := ParsePush([]byte(s)); !errors.Is(err, ErrMalformedPush) {
			t.Errorf("%s: err = %v, want ErrMalformedPush", name, err)
		}
	}
}

func TestDedupeKeyEscapesSeparators(t *testing.T) {
	a := &ComponentVerifyTicket{AppID: "wx|1", CreateTime: 1, Ticket: "t"}
	b := &ComponentVerifyTicket{AppID: "wx", CreateTime: 1, Ticket: "t"}
	if a.DedupeKey() == b.DedupeKey() || strings.Count(a.DedupeKey(), "|") != 2 {
		t.Errorf("keys %q and %q", a.DedupeKey(), b.DedupeKey())
	}
	long := &ComponentVerifyTicket{AppID: "wx", Ticket: strings.Repeat("t", 1000)}
	if k := long.DedupeKey(); len(k) > maxDedupeKey || !strings.HasPrefix(k, "component_verify_ticket:sha256:") {
		t.Errorf("long key = %q", k)
	}
}

func FuzzParsePush(f *testing.F) {
	for _, s := range []string{ticketCDATA, ticketPlain, authorizedXML, auditFailXML, "<xml/>", "<xml><Event>x</Event></xml>", "<xml><MsgId>1</MsgId></xml>"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePush(b)
		if err != nil {
			if !errors.Is(err, ErrMalformedPush) {
				t.Fatalf("error %v does not wrap ErrMalformedPush", err)
			}
			return
		}
		kind, key := p.Kind(), p.DedupeKey()
		if kind == "" || key == "" || len(key) > maxDedupeKey {
			t.Fatalf("kind %q, key %q", kind, key)
		}
		again, err := ParsePush(b)
		if err != nil || again.Kind() != kind || again.DedupeKey() != key {
			t.Fatalf("second parse differs: %v %q %q", err, again.Kind(), again.DedupeKey())
		}
	})
}

// Where the flat scanner answers, it answers what encoding/xml does.
func FuzzParseFlatMatchesXML(f *testing.F) {
	for _, s := range []string{ticketCDATA, ticketPlain, authorizedXML, auditFailXML, "<xml/>", "<xml></xml>",
		"<xml><Event>x</Event></xml>", "<xml><MsgId>1</MsgId></xml>", "<xml><CreateTime> 12 </CreateTime><InfoType>unauthorized</InfoType></xml>",
		"<xml><Event><![CDATA[weapp_audit_fail]]></Event><Reason><![CDATA[第一<br>二]]></Reason><FailTime></FailTime></xml>",
		"<xml><Event>wxa_nickname_audit</Event><ret>3</ret><ret>2</ret><nickname>a&amp;b</nickname></xml>",
		" <xml>\n\t<InfoType>authorized</InfoType><CreateTime>1</CreateTime><CreateTime>x</CreateTime>\n</xml>\n",
		"<xml><InfoType>component_verify_ticket</InfoType><ComponentVerifyTicket>a\rb</ComponentVerifyTicket></xml>"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fast, ok := parseFlat(b)
		if !ok {
			return
		}
		slow, err := parseXML(b)
		if err != nil {
			t.Fatalf("flat accepted what encoding/xml refuses (%v): %q", err, b)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("flat %#v\nxml  %#v\ninput %q", fast, slow, b)
		}
	})
}

func TestParseFlatTakesRealPushes(t *testing.T) {
	for _, s := range []string{ticketCDATA, ticketPlain, authorizedXML, auditFailXML} {
		if _, ok := parseFlat([]byte(s)); !ok {
			t.Errorf("flat scanner declined %q", s)
		}
	}
}

func BenchmarkParsePushTicket(b *testing.B) {
	b.ReportAllocs()
	for range b.N {
		if _, err := ParsePush([]byte(ticketCDATA)); err != nil {
			b.Fatal(err)
		}
	}
}
