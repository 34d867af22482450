package sandbox

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/minifleet/minifleet/app/wechat/msgcrypt"
)

// WeChat's 全网发布 automated test (Open Platform doc releases_instructions),
// run against the platform: WeChat's dedicated test accounts are authorized
// to it, then each gets the doc's cases on its message URL, with 5 seconds
// for each answer.

// PublishTestAccount mirrors the doc's table (wechat.PublishTestAccounts;
// the sandbox imports nothing of the client).
type PublishTestAccount struct {
	Group    int
	AppID    string
	UserName string
	Official bool
}

// PublishTestAccounts are the doc's five groups.
var PublishTestAccounts = []PublishTestAccount{
	{1, "wx570bc396a51b8ff8", "gh_3c884a361561", true},
	{1, "wxd101a85aa106f53e", "gh_8dad206e9538", false},
	{2, "wx9252c5e0bb1836fc", "gh_c0f28a78b318", true},
	{2, "wxc39235c15087f6f3", "gh_905ae9d01059", false},
	{3, "wx8e1097c5bc82cde9", "gh_3f222ed8d140", true},
	{3, "wx7720d01d4b2a4500", "gh_393666f1fdf4", false},
	{4, "wx14550af28c71a144", "gh_26128078e9ab", true},
	{4, "wx05d483572dcd5d8b", "gh_39abb5d4e1b7", false},
	{5, "wxa35b9c23cfe664eb", "gh_2b3713f184a6", true},
	{5, "wx5910277cae6fd970", "gh_7818dcb60240", false},
}

// PublishCheckCase is the outcome of one case for one account.
type PublishCheckCase struct {
	Group  int
	AppID  string
	Case   string // "text", "event", "api"
	OK     bool
	Detail string // what went wrong, in words
}

// The answer window the doc gives.
const publishAnswerWindow = 5 * time.Second

// customMessage is a customer-service message an authorizer sent.
type customMessage struct {
	appID, toUser, content string
}

// apiSendCustom is cgi-bin/message/custom/send: the message is recorded
// (for the publish test) and nothing is delivered.
func (s *Sandbox) apiSendCustom(c *call) any {
	var req struct {
		ToUser  string `json:"touser"`
		MsgType string `json:"msgtype"`
		Text    struct {
			Content string `json:"content"`
		} `json:"text"`
	}
	if e := c.decode(&req); e != nil {
		return e
	}
	if req.ToUser == "" || req.MsgType == "" {
		return failMsg(40003, "invalid openid")
	}
	s.customMsgs = append(s.customMsgs, customMessage{appID: c.app.appID, toUser: req.ToUser, content: req.Text.Content})
	return struct{}{}
}

// RunPublishCheck runs every case for both accounts of every group and
// returns the outcomes; a group passes when all its cases do.
func (s *Sandbox) RunPublishCheck(ctx context.Context) []PublishCheckCase {
	var out []PublishCheckCase
	for _, acc := range PublishTestAccounts {
		s.mu.Lock()
		s.ensurePublishAppLocked(acc)
		s.mu.Unlock()
		s.WaitPushes() // the authorized push first, as WeChat does
		openID := "o_publish_test_" + acc.AppID[2:10]
		cases := []struct {
			name string
			run  func() error
		}{
			{"event", func() error {
				event := "LOCATION"
				if !acc.Official {
					event = "user_enter_tempsession"
				}
				return s.expectTextReply(ctx, acc, s.userMessage(acc, openID, "event", "<Event><![CDATA["+event+"]]></Event>"), openID, event+"from_callback")
			}},
			{"text", func() error {
				return s.expectTextReply(ctx, acc, s.userMessage(acc, openID, "text", "<Content><![CDATA[TESTCOMPONENT_MSG_TYPE_TEXT]]></Content>"), openID, "TESTCOMPONENT_MSG_TYPE_TEXT_callback")
			}},
			{"api", func() error { return s.expectAPIAnswer(ctx, acc, openID) }},
		}
		for _, c := range cases {
			r := PublishCheckCase{Group: acc.Group, AppID: acc.AppID, Case: c.name, OK: true}
			if err := c.run(); err != nil {
				r.OK, r.Detail = false, err.Error()
			}
			out = append(out, r)
		}
	}
	return out
}

// ensurePublishAppLocked makes the test account exist with its fixed ids
// and be authorized to the platform (an authorized push with a fresh code).
func (s *Sandbox) ensurePublishAppLocked(acc PublishTestAccount) {
	a := s.apps[acc.AppID]
	if a == nil {
		kind := MiniProgram
		if acc.Official {
			kind = ServiceAccount
		}
		a = s.newAppLocked(AppSpec{Kind: kind, Nickname: fmt.Sprintf("全网发布测试号 %d", acc.Group), PrincipalName: "微信全网发布测试"})
		delete(s.apps, a.appID)
		s.appOrder = s.appOrder[:len(s.appOrder)-1]
		a.appID, a.userName = acc.AppID, acc.UserName
		s.apps[a.appID] = a
		s.appOrder = append(s.appOrder, a.appID)
	}
	if a.authorized {
		return
	}
	info := "authorized"
	if a.everAuth {
		info = "updateauthorized"
	}
	s.grantLocked(a, allSetIDs(a.kind))
	s.pushAuthEventLocked(info, a, s.newAuthCodeLocked(a), "")
}

// userMessage is a message from openID to the account; body holds the
// fields after MsgType.
func (s *Sandbox) userMessage(acc PublishTestAccount, openID, msgType, body string) []byte {
	s.mu.Lock()
	now := s.clock.Now()
	id := s.rnd.Int64()
	s.mu.Unlock()
	return []byte("<xml><ToUserName><![CDATA[" + acc.UserName + "]]></ToUserName><FromUserName><![CDATA[" + openID +
		"]]></FromUserName><CreateTime>" + strconv.FormatInt(now.Unix(), 10) + "</CreateTime><MsgType><![CDATA[" + msgType +
		"]]></MsgType>" + body + "<MsgId>" + strconv.FormatInt(id, 10) + "</MsgId></xml>")
}

// send posts msg to the account's message URL and returns the answer body.
func (s *Sandbox) sendToApp(ctx context.Context, acc PublishTestAccount, msg []byte) (string, error) {
	s.mu.Lock()
	now := s.clock.Now()
	nonce := strconv.FormatUint(uint64(s.rnd.Uint32()), 10)
	target := strings.ReplaceAll(s.opts.AppEventsURL, "$APPID$", acc.AppID)
	s.mu.Unlock()
	if target == "" {
		return "", errors.New("no message URL configured")
	}
	body, query, err := s.crypter.SealPush(msgcrypt.FieldToUserName, acc.UserName, msg, strconv.FormatInt(now.Unix(), 10), nonce)
	if err != nil {
		return "", err
	}
	sep := "?"
	if strings.Contains(target, "?") {
		sep = "&"
	}
	ctx, cancel := context.WithTimeout(ctx, publishAnswerWindow)
	defer cancel()
	status, reply, err := s.postOnce(ctx, target+sep+query.Encode(), body)
	if err != nil {
		return "", fmt.Errorf("no answer within 5 s: %v", err)
	}
	if status != 200 {
		return "", fmt.Errorf("answered HTTP %d", status)
	}
	return reply, nil
}

// expectTextReply sends msg and wants an encrypted passive text reply to
// openID saying content.
func (s *Sandbox) expectTextReply(ctx context.Context, acc PublishTestAccount, msg []byte, openID, content string) error {
	reply, err := s.sendToApp(ctx, acc, msg)
	if err != nil {
		return err
	}
	if reply == "" || reply == "success" {
		return fmt.Errorf("answered %q, want a passive reply saying %q", reply, content)
	}
	plain, err := s.crypter.OpenReply([]byte(reply))
	if err != nil {
		return fmt.Errorf("the passive reply does not open: %v", err)
	}
	var m struct {
		ToUserName   string `xml:"ToUserName"`
		FromUserName string `xml:"FromUserName"`
		MsgType      string `xml:"MsgType"`
		Content      string `xml:"Content"`
	}
	if err := xml.Unmarshal(plain, &m); err != nil {
		return fmt.Errorf("the passive reply is not XML: %v", err)
	}
	if m.MsgType != "text" || m.Content != content || m.ToUserName != openID || m.FromUserName != acc.UserName {
		return fmt.Errorf("replied %s %q to %s from %s, want text %q to %s from %s", m.MsgType, m.Content, m.ToUserName, m.FromUserName, content, openID, acc.UserName)
	}
	return nil
}

// expectAPIAnswer sends QUERY_AUTH_CODE:<code> with a fresh code of the
// account, wants an empty answer at once, then the customer-service message
// "<code>_from_api" to openID sent with that account's token.
func (s *Sandbox) expectAPIAnswer(ctx context.Context, acc PublishTestAccount, openID string) error {
	s.mu.Lock()
	code := s.newAuthCodeLocked(s.apps[acc.AppID]).value
	s.mu.Unlock()
	reply, err := s.sendToApp(ctx, acc, s.userMessage(acc, openID, "text", "<Content><![CDATA[QUERY_AUTH_CODE:"+code+"]]></Content>"))
	if err != nil {
		return err
	}
	if reply != "" && reply != "success" {
		return fmt.Errorf("answered %q, want an empty answer", reply)
	}
	want := customMessage{appID: acc.AppID, toUser: openID, content: code + "_from_api"}
	deadline := time.Now().Add(publishAnswerWindow)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		for _, m := range s.customMsgs {
			if m == want {
				s.mu.Unlock()
				return nil
			}
		}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return fmt.Errorf("no customer-service message %q to %s with the account's token within 5 s", want.content, openID)
}
