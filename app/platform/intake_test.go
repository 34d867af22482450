package platform_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat"
	"github.com/minifleet/minifleet/app/wechat/msgcrypt"
)

func TestTicketPushRecordedWithTicket(t *testing.T) {
	r := newRig(t, rigOpts{})
	ct := r.now().Unix()
	res := r.receive(ticketXML("ticket@@@one", ct), "")
	if res.Verdict != platform.Accepted || res.Outcome != store.PushApplied {
		t.Fatalf("got %+v, want accepted and applied", res)
	}
	c, err := r.st.ComponentCreds(r.ctx, testAppID)
	if err != nil || c.Ticket != "ticket@@@one" || c.TicketCreateTime != ct || !c.TicketReceivedAt.Equal(r.now()) {
		t.Fatalf("creds = %+v, %v", c, err)
	}
	p, err := r.st.PushByID(r.ctx, res.PushID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Kind != wechat.KindComponentVerifyTicket || p.CreateTime != ct || strings.Contains(p.XML, "ticket@@@one") || !strings.Contains(p.XML, "***") {
		t.Errorf("push = %+v; want the ticket masked in the readable XML", p)
	}
	if n := r.count(`SELECT COUNT(*) FROM wechat_pushes WHERE xml_sealed LIKE '%ticket@@@%' OR dedupe_key LIKE '%ticket@@@%'`); n != 0 {
		t.Errorf("ticket found in clear in %d push rows", n)
	}
	full, err := r.st.PushFullXML(r.ctx, res.PushID)
	if err != nil || !strings.Contains(full, "ticket@@@one") {
		t.Errorf("sealed full XML = %q, %v", full, err)
	}
}

// The push record and its state change share one transaction: when the
// state change fails, neither the push nor what the handler wrote stays.
func TestPushAndStateChangeAreOneTransaction(t *testing.T) {
	r := newRig(t, rigOpts{})
	r.p.Intake.OnAppPush(wechat.KindAuditSuccess, func(ctx context.Context, tx *store.PushTx, p wechat.Push) (string, error) {
		if _, err := tx.SaveTicket(testAppID, "ticket@@@from-handler", 1); err != nil {
			return "", err
		}
		return "", errors.New("state change failed")
	})
	xml := "<xml><ToUserName><![CDATA[gh_abc]]></ToUserName><FromUserName><![CDATA[o_sys]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[weapp_audit_success]]></Event><SuccTime>1700000000</SuccTime></xml>"
	body, q, err := r.crypter.SealPush(msgcrypt.FieldToUserName, "gh_abc", []byte(xml), "1700000000", "1")
	if err != nil {
		t.Fatal(err)
	}
	if res := r.p.Intake.Receive(r.ctx, body, q, "wx1111111111111111"); res.Verdict != platform.Failed {
		t.Fatalf("verdict = %v, want Failed", res.Verdict)
	}
	if n := r.count(`SELECT COUNT(*) FROM wechat_pushes`); n != 0 {
		t.Errorf("%d pushes stored, want 0", n)
	}
	if _, err := r.st.ComponentCreds(r.ctx, testAppID); err == nil {
		t.Errorf("the handler's ticket was kept")
	}

	// The registered hook applies audit pushes on the per-app URL.
	r.p.Intake.OnAppPush(wechat.KindAuditSuccess, func(ctx context.Context, tx *store.PushTx, p wechat.Push) (string, error) {
		return store.PushApplied, nil
	})
	res := r.p.Intake.Receive(r.ctx, body, q, "wx1111111111111111")
	if res.Verdict != platform.Accepted || res.Outcome != store.PushApplied || res.AppID != "wx1111111111111111" {
		t.Errorf("got %+v", res)
	}
}

func TestDuplicatePushAppliedOnce(t *testing.T) {
	r := newRig(t, rigOpts{})
	xml := authXML("authorized", "wx2222222222222222", "queryauthcode@@@abc", 1700000000)
	body, q := r.seal(xml)
	first := r.p.Intake.Receive(r.ctx, body, q, "")
	if first.Verdict != platform.Accepted || first.Outcome != store.PushQueued {
		t.Fatalf("first = %+v", first)
	}
	// WeChat retries with the same message (a fresh envelope each time).
	for range 2 {
		body, q = r.seal(xml)
		if res := r.p.Intake.Receive(r.ctx, body, q, ""); res.Verdict != platform.Duplicate || res.PushID != first.PushID {
			t.Fatalf("retry = %+v, want duplicate of %d", res, first.PushID)
		}
	}
	p, _ := r.st.PushByID(r.ctx, first.PushID)
	if p.Duplicates != 2 {
		t.Errorf("duplicates = %d, want 2", p.Duplicates)
	}
	jobs, _ := r.st.JobsByKind(r.ctx, platform.JobAuthorized)
	if len(jobs) != 1 {
		t.Errorf("%d jobs, want 1", len(jobs))
	}
	if strings.Contains(string(jobs[0].Payload), "queryauthcode") {
		t.Errorf("auth code in job payload: %s", jobs[0].Payload)
	}
}

func TestOutOfOrderPushes(t *testing.T) {
	r := newRig(t, rigOpts{})
	if res := r.receive(ticketXML("ticket@@@new", 2000), ""); res.Outcome != store.PushApplied {
		t.Fatalf("newer ticket: %+v", res)
	}
	if res := r.receive(ticketXML("ticket@@@old", 1000), ""); res.Verdict != platform.Accepted || res.Outcome != store.PushStale {
		t.Fatalf("older ticket: %+v, want accepted but stale", res)
	}
	if c, _ := r.st.ComponentCreds(r.ctx, testAppID); c.Ticket != "ticket@@@new" {
		t.Errorf("ticket = %q, want the newer one", c.Ticket)
	}

	// The revocation is made after the authorization but arrives first.
	const app = "wx3333333333333333"
	if res := r.receive(authXML("unauthorized", app, "", 200), ""); res.Outcome != store.PushQueued {
		t.Fatalf("unauthorized: %+v", res)
	}
	if res := r.receive(authXML("authorized", app, "queryauthcode@@@late", 100), ""); res.Outcome != store.PushStale {
		t.Fatalf("late authorized: %+v, want stale", res)
	}
	if jobs, _ := r.st.JobsByKind(r.ctx, platform.JobAuthorized); len(jobs) != 0 {
		t.Errorf("a stale authorization was queued")
	}
	if n := r.count(`SELECT COUNT(*) FROM wechat_pushes`); n != 4 {
		t.Errorf("%d pushes recorded, want all 4", n)
	}
}

func TestRefusedPushesStoreNothing(t *testing.T) {
	r := newRig(t, rigOpts{})
	body, q := r.seal(ticketXML("ticket@@@x", 1))

	forged := map[string][]string{}
	for k, v := range q {
		forged[k] = v
	}
	forged["msg_signature"] = []string{strings.Repeat("0", 40)}

	other, _ := msgcrypt.New(testToken, testAESKey, "wxffffffffffffffff") // right keys, another component
	otherBody, otherQ, _ := other.SealPush(msgcrypt.FieldAppID, "wxffffffffffffffff", []byte(ticketXML("ticket@@@y", 1)), "1", "2")

	wrongInner := strings.Replace(ticketXML("ticket@@@z", 1), testAppID, "wxffffffffffffffff", 1)
	wrongBody, wrongQ := r.seal(wrongInner)

	notXML, notXMLQ := r.seal("this is not xml")

	cases := []struct {
		name  string
		body  []byte
		q     map[string][]string
		route string
		want  platform.Verdict
	}{
		{"forged signature", body, forged, "", platform.Rejected},
		{"no signature", body, nil, "", platform.Rejected},
		{"another component's key", otherBody, otherQ, "", platform.Rejected},
		{"ticket for another appid", wrongBody, wrongQ, "", platform.Rejected},
		{"bad appid in URL", body, q, "wx../../x", platform.Rejected},
		{"not an envelope", []byte("<xml><Encrypt>"), q, "", platform.Malformed},
		{"plaintext not XML", notXML, notXMLQ, "", platform.Malformed},
		{"over 64 KB", append(body, make([]byte, platform.MaxPushBody)...), q, "", platform.TooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if res := r.p.Intake.Receive(r.ctx, c.body, c.q, c.route); res.Verdict != c.want {
				t.Errorf("verdict = %v (%v), want %v", res.Verdict, res.Err, c.want)
			}
		})
	}
	if n := r.count(`SELECT COUNT(*) FROM wechat_pushes`); n != 0 {
		t.Errorf("%d pushes stored from refused requests", n)
	}
	if _, err := r.st.ComponentCreds(r.ctx, testAppID); err == nil {
		t.Errorf("a refused ticket was stored")
	}
}

func TestUnknownKindsAreKept(t *testing.T) {
	r := newRig(t, rigOpts{})
	xml := "<xml><AppId><![CDATA[" + testAppID + "]]></AppId><CreateTime>1700000000</CreateTime><InfoType><![CDATA[notify_something_new]]></InfoType><Foo>bar</Foo></xml>"
	res := r.receive(xml, "")
	if res.Verdict != platform.Accepted || res.Kind != "notify_something_new" || res.Outcome != store.PushRecorded {
		t.Fatalf("got %+v", res)
	}
	p, _ := r.st.PushByID(r.ctx, res.PushID)
	if !strings.Contains(p.XML, "<Foo>bar</Foo>") {
		t.Errorf("xml = %q", p.XML)
	}
}

// A push on the per-app URL whose ToUserName is not the app we know under
// that appid is refused.
func TestAppPushForAnotherApp(t *testing.T) {
	r := newRig(t, rigOpts{})
	const app = "wx4444444444444444"
	if _, err := r.st.SaveAuthorizerGrant(r.ctx, app, store.AuthorizerGrant{RefreshToken: "refreshtoken@@@x"}); err != nil {
		t.Fatal(err)
	}
	if err := r.st.SaveAuthorizerInfo(r.ctx, app, "Shop", "gh_right", nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		to   string
		want platform.Verdict
	}{{"gh_wrong", platform.Rejected}, {"gh_right", platform.Accepted}} {
		xml := "<xml><ToUserName><![CDATA[" + c.to + "]]></ToUserName><FromUserName><![CDATA[o]]></FromUserName><CreateTime>1700000001</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[weapp_audit_fail]]></Event><Reason><![CDATA[x]]></Reason></xml>"
		body, q, _ := r.crypter.SealPush(msgcrypt.FieldToUserName, c.to, []byte(xml), "1", "2")
		if res := r.p.Intake.Receive(r.ctx, body, q, app); res.Verdict != c.want {
			t.Errorf("ToUserName %s: verdict %v, want %v", c.to, res.Verdict, c.want)
		}
	}
}
