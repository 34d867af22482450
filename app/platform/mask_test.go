package platform

import "testing"

func FuzzMaskSecretsMatchesRegexp(f *testing.F) {
	for _, s := range []string{
		"<xml><ComponentVerifyTicket><![CDATA[ticket@@@x]]></ComponentVerifyTicket></xml>",
		"<xml><AuthorizationCode>a</AuthorizationCode><PreAuthCode>p</PreAuthCode><auth_code>c</auth_code></xml>",
		"<auth_code>open only", "<PreAuthCode>x</AuthorizationCode>y</PreAuthCode>", "<<auth_code>>x</auth_code>>",
		"<ComponentVerifyTicket></ComponentVerifyTicket><ComponentVerifyTicket>\n</ComponentVerifyTicket>", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := maskSecrets(s), secretElems.ReplaceAllString(s, "<$1>***</$1>"); got != want {
			t.Fatalf("maskSecrets(%q) = %q, want %q", s, got, want)
		}
	})
}
