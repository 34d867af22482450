package main

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/wechat"
	"github.com/minifleet/minifleet/app/wechat/msgcrypt"
	"github.com/minifleet/minifleet/app/wechat/sandbox"
)

// WeChat's 全网发布 test, as the sandbox runs it against the whole app over
// HTTP (the sandbox console's button does the same): every case of every
// group passes, the test accounts' grants do not bind them to any tenant,
// and the other apps' pushes keep their plain "success".
func TestPublishCheckPassesForAllGroups(t *testing.T) {
	a, _, budget := startReleaseRig(t, 90*time.Second)
	if len(sandbox.PublishTestAccounts) != len(wechat.PublishTestAccounts) {
		t.Fatal("the sandbox's and the client's test account lists differ")
	}
	for i, acc := range sandbox.PublishTestAccounts {
		w := wechat.PublishTestAccounts[i]
		if acc.AppID != w.AppID || acc.UserName != w.UserName || acc.Group != w.Group || acc.Official != w.Official {
			t.Fatalf("test account %d: sandbox %+v, client %+v", i, acc, w)
		}
	}
	res := a.sandbox.sb.RunPublishCheck(budget)
	if len(res) != 30 {
		t.Fatalf("%d cases, want 30 (10 accounts × text, event, api)", len(res))
	}
	groups := map[int]bool{}
	for _, c := range res {
		if !c.OK {
			t.Errorf("group %d %s %s: %s", c.Group, c.AppID, c.Case, c.Detail)
		}
		groups[c.Group] = true
	}
	if len(groups) != 5 {
		t.Errorf("groups tested: %v", groups)
	}
	// A second run answers again (WeChat may test more than once).
	for _, c := range a.sandbox.sb.RunPublishCheck(budget) {
		if !c.OK {
			t.Errorf("second run, group %d %s %s: %s", c.Group, c.AppID, c.Case, c.Detail)
		}
	}
	for _, acc := range wechat.PublishTestAccounts {
		if tid, err := a.store.TenantOfApp(budget, acc.AppID); err != nil || tid != 0 {
			t.Errorf("%s: tenant %d, %v; want bound to none", acc.AppID, tid, err)
		}
	}
	// The go-live checklist says so.
	checks, err := a.platform.GoLive(budget, platform.GoLiveEnv{BaseURL: a.cfg.BaseURL})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range checks {
		if c.Key == "publish_test" && !c.OK {
			t.Errorf("go-live: publish test not green after passing: %v", c.Data)
		}
	}
}

// Only the listed test accounts get passive replies; a test message with a
// wrong signature is refused as any push is.
func TestPublishCheckOnlyForTestAccounts(t *testing.T) {
	a, _, budget := startReleaseRig(t, 60*time.Second)
	c, err := msgcrypt.New(a.cfg.WeChat.Token, a.cfg.WeChat.AESKey, a.cfg.WeChat.ComponentAppID)
	if err != nil {
		t.Fatal(err)
	}
	post := func(appID, userName, content string, forge bool) (int, string) {
		msg := "<xml><ToUserName><![CDATA[" + userName + "]]></ToUserName><FromUserName><![CDATA[o_fan]]></FromUserName><CreateTime>" +
			strconv.FormatInt(time.Now().Unix(), 10) + "</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[" + content +
			"]]></Content><MsgId>" + strconv.FormatInt(time.Now().UnixNano(), 10) + "</MsgId></xml>"
		body, q, err := c.SealPush(msgcrypt.FieldToUserName, userName, []byte(msg), strconv.FormatInt(time.Now().Unix(), 10), "77")
		if err != nil {
			t.Fatal(err)
		}
		if forge {
			q.Set("msg_signature", strings.Repeat("0", 40))
		}
		resp, err := http.Post(a.base+"/wechat/apps/"+appID+"/events?"+q.Encode(), "text/xml", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	test := wechat.PublishTestAccounts[1]
	if status, body := post(test.AppID, test.UserName, wechat.PublishTestText, false); status != 200 || !strings.Contains(body, "<Encrypt>") {
		t.Errorf("test account: %d %q, want a passive reply", status, body)
	}
	if status, body := post(test.AppID, test.UserName, wechat.PublishTestText, true); status != 403 || strings.Contains(body, "Encrypt") {
		t.Errorf("forged test message: %d %q, want 403", status, body)
	}
	// An ordinary app saying the same text gets today's answer.
	ids := a.sandbox.sb.AddApps(1)
	if status, body := post(ids[0], "gh_ordinary", wechat.PublishTestText, false); status != 200 || body != "success" {
		t.Errorf("ordinary app: %d %q, want success", status, body)
	}
	var stored int
	if err := a.store.R.QueryRowContext(budget, `SELECT COUNT(*) FROM wechat_pushes WHERE appid = ?`, test.AppID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != 1 {
		t.Errorf("%d pushes stored for the test account, want 1 (the forged one is not)", stored)
	}
}
