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
