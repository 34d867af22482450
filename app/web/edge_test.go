package web

import (
	"strings"
	"testing"
)

// TestSafeNext: what a browser would follow off this site (after dropping
// tabs and newlines and reading backslashes as slashes, or after one more
// percent-decoding) is the landing page; paths on this site stay, cleaned.
func TestSafeNext(t *testing.T) {
	for _, next := range nextAttacks {
		if got := safeNext(next); got != "/" {
			t.Errorf("safeNext(%q) = %q, want /", next, got)
		}
	}
	for _, next := range []string{
		"/\\/evil", "/\t\\evil", "/%5C%5Cevil", "/%2f%2fevil", "/\u202e/x", "/%E2%80%AE", "\x00/x", "/x\x7f", "/%00",
		"///evil", "/ /x\t", "/\\t/evil", "https:/evil", "//", "\\", "/\\", "%2F%2Fevil", "/..//evil",
	} {
		got := safeNext(next)
		if got != "/" && (next == "/\\/evil" || next == "/\t\\evil" || next == "///evil" || next == "/\\") {
			t.Errorf("safeNext(%q) = %q, want /", next, got)
		}
		if len(got) > 1 && (got[1] == '/' || got[1] == '\\') {
			t.Errorf("safeNext(%q) = %q: an authority", next, got)
		}
	}
	for in, want := range map[string]string{
		"/":                       "/",
		"/t/1/members":            "/t/1/members",
		"/staff/apps?q=a%20b&x=1": "/staff/apps?q=a%20b&x=1",
		"/t/1/apps#top":           "/t/1/apps#top",
		"/t/1/mem\tbers":          "/t/1/members",
		"/t/1/apps\r\n":           "/t/1/apps",
		"/t/1\\apps":              "/t/1/apps",
		"/account?next=//evil":    "/account?next=//evil", // a query is not where a browser looks for a host
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestUnsafeText: the one check every form uses for names, notes and
// descriptions.
func TestUnsafeText(t *testing.T) {
	for _, s := range unsafeTexts {
		if safeLine(s) || safeLines(s) {
			t.Errorf("%q accepted", s)
		}
	}
	for _, s := range []string{"a\u202ab", "a\u202db", "a\u2067b", "a\u2069b", "a\tb", "a\x7fb", "a\u009fb", "a\x9fb", "a\nb", "a\r\nb\r"} {
		if safeLine(s) {
			t.Errorf("safeLine(%q) accepted", s)
		}
	}
	for _, s := range []string{"a\rb", "a\r", "\r", "a\r\r\nb", "a\x00\nb", "a\u202e\nb"} {
		if safeLines(s) {
			t.Errorf("safeLines(%q) accepted", s)
		}
	}
	for _, s := range []string{"", "甲店 Alpha", "emoji 🍜", "a\u200db", "ZWJ 👩‍💻", "العربية", "עברית"} {
		if !safeLine(s) || !safeLines(s) {
			t.Errorf("%q refused", s)
		}
	}
	for _, s := range []string{"one\ntwo", "one\r\ntwo\r\n", "\n\n"} {
		if !safeLines(s) {
			t.Errorf("safeLines(%q) refused", s)
		}
	}
}

// TestHSTS: Strict-Transport-Security on every browser response when the
// base URL is https (TLS ends at the proxy, so the request itself is
// http), never when it is http.
func TestHSTS(t *testing.T) {
	for _, base := range []string{"https://portal.example", "http://localhost:8080"} {
		h := newHarnessWith(t, func(d *Deps) { d.Config.BaseURL = base })
		h.signup("owner@a.test", "Owner", "Alpha")
		c := h.client()
		for _, r := range []response{c.get("/login"), c.get("/healthz"), c.get("/static/app.js"), c.get("/nope"), c.login("owner@a.test").get("/account")} {
			got := r.Header.Get("Strict-Transport-Security")
			want := ""
			if strings.HasPrefix(base, "https:") {
				want = "max-age=31536000; includeSubDomains"
			}
			if got != want {
				t.Errorf("%s: status %d, Strict-Transport-Security %q, want %q", base, r.Status, got, want)
			}
		}
	}
}

// TestRequestLogKeepsSecretsOut: the request log names route patterns,
// never an invitation's token or an authorization callback's code.
func TestRequestLogKeepsSecretsOut(t *testing.T) {
	h := newHarness(t)
	f := h.fixture()
	code := "queryauthcode@@@SECRETCODE0001"
	anon := h.client()
	anon.get("/invite/" + f.tokenA)
	anon.post("/invite/"+f.tokenA, form("name", "Zoe", "email", "zoe@z.test", "password", "a long enough password"))
	owner := h.client().login("owner@a.test")
	owner.get("/t/" + itoa(f.A.ID) + "/authorize/1/callback?auth_code=" + code + "&expires_in=3600")
	owner.get("/t/" + itoa(f.A.ID) + "/authorize/" + code + "/callback")
	owner.get("/nope/" + code)
	logs := h.logs.String()
	for _, secret := range []string{f.tokenA, code, "SECRETCODE"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds %q:\n%s", secret, logs)
		}
	}
	for _, want := range []string{"route=/invite/:token", "route=/t/:tid/authorize/:aid/callback"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %q:\n%s", want, logs)
		}
	}
}
