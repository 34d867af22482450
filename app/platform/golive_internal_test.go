package platform

import "testing"

func TestAuthDomainWantsAPublicHTTPSHost(t *testing.T) {
	for base, want := range map[string]bool{
		"https://portal.example.com":      true,
		"https://portal.example.com:8443": true,
		"http://portal.example.com":       false,
		"https://localhost:8080":          false,
		"https://127.0.0.1":               false,
		"https://10.0.0.5":                false,
		"https://intranet":                false,
		"":                                false,
	} {
		if _, got := authDomain(base); got != want {
			t.Errorf("authDomain(%q) = %v, want %v", base, got, want)
		}
	}
}

func TestWhitelistIPFromErrmsg(t *testing.T) {
	for msg, want := range map[string]string{
		"errcode 61004: access clientip is not registered, requestIP: 203.0.113.7 rid: 6571": "203.0.113.7",
		"61004 invalid ip 198.51.100.23 ipv6 ::ffff:198.51.100.23, not in whitelist":         "198.51.100.23",
	} {
		if got := whitelistIP.FindString(msg); got != want {
			t.Errorf("IP in %q = %q, want %q", msg, got, want)
		}
	}
}
