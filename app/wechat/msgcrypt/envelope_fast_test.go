package msgcrypt

import (
	"encoding/xml"
	"testing"
)

// The fast path must agree with encoding/xml whenever it answers.
func TestEncryptFieldFastAgreesWithDecoder(t *testing.T) {
	cases := []string{
		"<xml><AppId><![CDATA[wx1]]></AppId><Encrypt><![CDATA[abc=]]></Encrypt></xml>",
		"<xml>\n <ToUserName><![CDATA[gh_1]]></ToUserName>\n <Encrypt>abc=</Encrypt>\n</xml>",
		"<xml><Encrypt><![CDATA[ abc= ]]></Encrypt><CreateTime>1</CreateTime></xml>",
		"<xml><Encrypt>a</Encrypt><Encrypt>b</Encrypt></xml>",      // two: refused by both
		"<xml><Encrypt>a&amp;b</Encrypt></xml>",                    // entity: fast path declines
		"<xml><A><B>x</B></A><Encrypt>abc</Encrypt></xml>",         // nesting: fast path declines
		"<xml><Encrypt a=\"1\">abc</Encrypt></xml>",                // attribute: fast path declines
		"<xml><Encrypt><![CDATA[abc]]></Encrypt></xml><xml></xml>", // two roots
		"<xml><Encrypt></Encrypt></xml>",                           // empty
		"<root><Encrypt>abc</Encrypt></root>",                      // wrong root
		"<xml><!-- c --><Encrypt>abc</Encrypt></xml>",              // comment: declines
		"<xml><Encrypt><![CDATA[abc]]></Encrypt></xml>trailing",    // trailing junk
	}
	for _, c := range cases {
		fast, ok := encryptFieldFast([]byte(c))
		slow, err := encryptFieldSlow([]byte(c))
		if ok && (err != nil || fast != slow) {
			t.Errorf("%q: fast path gave %q, decoder gave %q, %v", c, fast, slow, err)
		}
		if ok && xml.Unmarshal([]byte(c), new(struct{})) != nil {
			t.Errorf("%q: fast path accepted XML the decoder rejects", c)
		}
	}
	if _, ok := encryptFieldFast([]byte(cases[0])); !ok {
		t.Fatal("the canonical envelope must take the fast path")
	}
}

func FuzzEncryptFieldFast(f *testing.F) {
	f.Add([]byte("<xml><AppId><![CDATA[wx1]]></AppId><Encrypt><![CDATA[abc=]]></Encrypt></xml>"))
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, ok := encryptFieldFast(body)
		if !ok {
			return
		}
		slow, err := encryptFieldSlow(body)
		if err != nil || fast != slow {
			t.Fatalf("fast %q, decoder %q, %v", fast, slow, err)
		}
	})
}
