package platform

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat"
)

// WeChat's automated test before the platform may be published (全网发布):
// messages to its dedicated test accounts (wechat.PublishTestAccounts) get
// the answers its doc asks for. Every other app's pushes are untouched.

// JobPublishCheckAPI answers a QUERY_AUTH_CODE test message: exchange the
// code, then send code + "_from_api" through the customer-service API.
// Payload: AuthJob (the push to read; its sealed XML holds the code).
const JobPublishCheckAPI = "wechat.publish_check_api"

// publishCheckAction is the rule for the test accounts' pushes.
func (p *Platform) publishCheckAction() pushAction {
	return pushAction{apply: p.queuePublishCheckAPI, reply: publishCheckReply}
}

// testMessage is what the test cases read of a message push.
type testMessage struct {
	ToUserName   string `xml:"ToUserName"`
	FromUserName string `xml:"FromUserName"`
	MsgType      string `xml:"MsgType"`
	Content      string `xml:"Content"`
	Event        string `xml:"Event"`
}

func testMessageOf(raw []byte) (testMessage, bool) {
	var m testMessage
	if err := xml.Unmarshal(raw, &m); err != nil {
		return m, false
	}
	return m, true
}

// rawOf is the plaintext XML of a push the typed parsers did not claim
// (user messages and events are UnknownPush).
func rawOf(push wechat.Push) []byte {
	if u, ok := push.(*wechat.UnknownPush); ok {
		return u.Raw
	}
	return nil
}

// publishCheckReply answers the test cases that want a passive reply: the
// text case and the event case, and the QUERY_AUTH_CODE case with an empty
// answer (its real answer goes through the customer-service API).
func publishCheckReply(push wechat.Push, now time.Time) ([]byte, bool) {
	m, ok := testMessageOf(rawOf(push))
	if !ok {
		return nil, false
	}
	var content string
	switch {
	case m.MsgType == "text" && m.Content == wechat.PublishTestText:
		content = wechat.PublishTestText + "_callback"
	case m.MsgType == "text":
		if _, ok := wechat.QueryAuthCodeOf(m.Content); ok {
			return nil, true
		}
		return nil, false
	case m.MsgType == "event" && m.Event != "":
		content = m.Event + wechat.PublishTestEventSuffix
	default:
		return nil, false
	}
	return textReply(m.FromUserName, m.ToUserName, content, now), true
}

// textReply is a passive text reply from the account to the user.
func textReply(toUser, fromAccount, content string, now time.Time) []byte {
	var b bytes.Buffer
	b.WriteString("<xml><ToUserName><![CDATA[")
	xml.EscapeText(&b, []byte(toUser))
	b.WriteString("]]></ToUserName><FromUserName><![CDATA[")
	xml.EscapeText(&b, []byte(fromAccount))
	b.WriteString("]]></FromUserName><CreateTime>")
	b.WriteString(strconv.FormatInt(now.Unix(), 10))
	b.WriteString("</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[")
	b.WriteString(strings.ReplaceAll(content, "]]>", "]]]]><![CDATA[>"))
	b.WriteString("]]></Content></xml>")
	return b.Bytes()
}

// queuePublishCheckAPI enqueues the QUERY_AUTH_CODE case's API answer in
// the push's transaction; other test messages are only recorded.
func (p *Platform) queuePublishCheckAPI(_ context.Context, tx *store.PushTx, push wechat.Push) (string, error) {
	m, ok := testMessageOf(rawOf(push))
	if !ok || m.MsgType != "text" {
		return store.PushRecorded, nil
	}
	if _, ok := wechat.QueryAuthCodeOf(m.Content); !ok {
		return store.PushRecorded, nil
	}
	_, _, err := tx.Enqueue(store.NewJob{
		Kind:        JobPublishCheckAPI,
		DedupeKey:   "push:" + tx.Push.DedupeKey,
		Payload:     AuthJob{PushID: tx.Push.ID, AppID: tx.Push.AppID, CreateTime: tx.Push.CreateTime},
		MaxAttempts: 5,
	})
	return store.PushQueued, err
}

// jobPublishCheckAPI exchanges the test's query_auth_code and sends
// "<code>_from_api" to the sender with the token the exchange returned.
// The grant is not stored: it belongs to WeChat's test, not to a merchant.
func (p *Platform) jobPublishCheckAPI(ctx context.Context, j store.Job) error {
	pl, full, err := p.jobPush(ctx, j)
	if err != nil {
		return err
	}
	m, ok := testMessageOf([]byte(full))
	code, isCode := wechat.QueryAuthCodeOf(m.Content)
	if !ok || !isCode {
		return Permanent(fmt.Errorf("push %d is not a QUERY_AUTH_CODE message", pl.PushID))
	}
	info, err := p.Client.QueryAuth(ctx, code)
	if err != nil {
		return err
	}
	if err := p.Client.SendCustomText(ctx, info.AuthorizerAccessToken, m.FromUserName, code+wechat.PublishTestAPISuffix); err != nil {
		return err
	}
	p.log.Info("answered WeChat's publish test", "appid", pl.AppID)
	return nil
}
