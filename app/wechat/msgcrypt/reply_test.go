package msgcrypt

import (
	"errors"
	"strings"
	"testing"
)

func TestPassiveReplyRoundTrip(t *testing.T) {
	c, err := New("pushtoken", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wx0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("<xml><ToUserName><![CDATA[o_fan]]></ToUserName><Content><![CDATA[TESTCOMPONENT_MSG_TYPE_TEXT_callback]]></Content></xml>")
	body, err := c.SealReply(msg, "1700000000", "9876")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<Encrypt><![CDATA[", "<MsgSignature><![CDATA[", "<TimeStamp>1700000000</TimeStamp>", "<Nonce><![CDATA[9876]]></Nonce>"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("reply lacks %s: %s", want, body)
		}
	}
	got, err := c.OpenReply(body)
	if err != nil || string(got) != string(msg) {
		t.Fatalf("OpenReply = %q, %v", got, err)
	}
	// A reply whose signature does not cover its Encrypt is refused.
	forged := strings.Replace(string(body), "<TimeStamp>1700000000</TimeStamp>", "<TimeStamp>1700000001</TimeStamp>", 1)
	if _, err := c.OpenReply([]byte(forged)); !errors.Is(err, ErrSignature) {
		t.Errorf("forged reply: %v, want ErrSignature", err)
	}
	other, _ := New("pushtoken", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wxother000000000")
	if _, err := other.OpenReply(body); !errors.Is(err, ErrAppID) {
		t.Errorf("reply for another appid: %v, want ErrAppID", err)
	}
	if _, err := c.OpenReply([]byte("success")); !errors.Is(err, ErrMalformed) {
		t.Errorf("plain text reply: %v, want ErrMalformed", err)
	}
}
