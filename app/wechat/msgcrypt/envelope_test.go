package msgcrypt

import (
	"errors"
	"strings"
	"testing"
)

func TestOpenPushMalformed(t *testing.T) {
	c := mustNew(t, vecAToken, vecAAppID)
	sig := func(enc string) string { return c.MsgSignature("1", "n", enc) }
	for _, tc := range []struct{ name, body string }{
		{"not xml", "success"},
		{"truncated", "<xml><Encrypt><![CDATA[" + vecAEncrypt},
		{"no Encrypt", "<xml><AppId>wx</AppId></xml>"},
		{"empty Encrypt", "<xml><Encrypt></Encrypt></xml>"},
		{"two Encrypt", "<xml><Encrypt>" + vecAEncrypt + "</Encrypt><Encrypt>" + vecAEncrypt + "</Encrypt></xml>"},
		{"nested Encrypt only", "<xml><A><Encrypt>" + vecAEncrypt + "</Encrypt></A></xml>"},
		{"wrong root", "<root><Encrypt>" + vecAEncrypt + "</Encrypt></root>"},
		{"two roots", "<xml><Encrypt>" + vecAEncrypt + "</Encrypt></xml><xml/>"},
		{"oversized", "<xml><Encrypt>" + strings.Repeat("A", MaxBodyLen) + "</Encrypt></xml>"},
	} {
		_, err := c.OpenPush([]byte(tc.body), "1", "n", sig(vecAEncrypt))
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", tc.name, err)
		}
	}
}

func TestOpenPushEnvelopeVariants(t *testing.T) {
	c := mustNew(t, vecAToken, vecAAppID)
	// Plain (non-CDATA) Encrypt, surrounding whitespace, and extra plaintext
	// siblings as in the official sample must all be accepted.
	for _, body := range []string{
		"<xml><ToUserName>gh_10f6c3c3ac5a</ToUserName><Encrypt>" + vecAEncrypt + "</Encrypt></xml>",
		"<xml>\n  <Encrypt><![CDATA[" + vecAEncrypt + "]]></Encrypt>\n  <MsgType>text</MsgType>\n</xml>\n",
		"<?xml version=\"1.0\"?><xml><Encrypt>\n" + vecAEncrypt + "\n</Encrypt></xml>",
	} {
		msg, err := c.OpenPush([]byte(body), vecATimestamp, vecANonce, vecAMsgSig)
		if err != nil || string(msg) != vecAMsg {
			t.Errorf("OpenPush(%.60q) = %.40q, %v", body, msg, err)
		}
	}
	// An uppercase signature is not what WeChat sends; reject it.
	if _, err := c.OpenPush([]byte("<xml><Encrypt>"+vecAEncrypt+"</Encrypt></xml>"), vecATimestamp, vecANonce, strings.ToUpper(vecAMsgSig)); !errors.Is(err, ErrSignature) {
		t.Errorf("uppercase signature: err = %v, want ErrSignature", err)
	}
}

func TestSealPush(t *testing.T) {
	c := mustNew(t, "tok", "wxcomponent")
	msg := []byte("<xml><Event><![CDATA[weapp_audit_success]]></Event></xml>")
	body, q, err := c.SealPush(FieldToUserName, "gh_abc", msg, "1700000000", "nonce1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(body), "<xml><ToUserName><![CDATA[gh_abc]]></ToUserName><Encrypt><![CDATA[") {
		t.Errorf("body = %s", body)
	}
	if q.Get("signature") != c.Signature("1700000000", "nonce1") {
		t.Errorf("signature = %q", q.Get("signature"))
	}
	got, err := c.OpenPush(body, q.Get("timestamp"), q.Get("nonce"), q.Get("msg_signature"))
	if err != nil || string(got) != string(msg) {
		t.Errorf("OpenPush(SealPush) = %q, %v", got, err)
	}
	for _, tc := range []struct{ field, value string }{
		{"FromUserName", "x"},
		{FieldAppID, "a]]>b"},
		{FieldAppID, "a\x00b"},
	} {
		if _, _, err := c.SealPush(tc.field, tc.value, msg, "1", "n"); err == nil {
			t.Errorf("SealPush(%q, %q) succeeded, want error", tc.field, tc.value)
		}
	}
}
