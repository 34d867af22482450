package web

import (
	"net/url"
	"testing"
)

// The browser edge's rows (issue #12): redirects after sign-in and the
// language switch stay on this site, searches with control characters
// answer an empty list without an error, and forms refuse control and
// bidi characters in what people type, keeping what was typed.
func TestEdgeScenarios(t *testing.T) { runScenarios(t, edgeScenarios()) }

// nextAttacks are next values a browser would follow off this site once
// it drops tabs and newlines and reads backslashes as slashes, or after
// one more percent-decoding.
var nextAttacks = []string{
	"/\t/evil.example", "/\\evil.example", "//evil.example", "\\\\evil.example", "/%09/evil.example",
	"https://evil.example", "/\r\n/evil.example", "\t//evil.example", "/\n/evil.example", "/\r/evil.example",
	"/%2F/evil.example", "/%5Cevil.example", "http:evil.example", "javascript:alert(1)", " //evil.example",
	"/\x00/evil", "evil.example", "",
}

// unsafeTexts are what the forms refuse in names, notes and descriptions.
var unsafeTexts = []string{"a\x00b", "a\rb", "a\x1bb", "名\u202e称", "名\u2066称", "a\u0085b"}

func edgeScenarios() []scenario {
	var sc []scenario
	add := func(s ...scenario) { sc = append(sc, s...) }
	for i, next := range nextAttacks[:6] { // all of them: TestSafeNext
		n := itoa(int64(i))
		add(
			scenario{name: "login form signed in next " + n, method: "GET", url: "/login?next=" + url.QueryEscape(next), who: "ownerA", status: 303, locIs: "/"},
			scenario{name: "login form next kept " + n, method: "GET", url: "/login?next=" + url.QueryEscape(next), who: "anon", status: 200,
				want: []string{`name="next" value="/"`}},
			scenario{name: "login next " + n, method: "POST", url: "/login", form: form("email", "owner@a.test", "password", testPassword, "next", next), who: "anon", status: 303, locIs: "/"},
			scenario{name: "language switch next " + n, method: "POST", url: "/lang", form: form("lang", "en", "next", next), who: "anon", status: 303, locIs: "/"},
		)
	}
	add(
		scenario{name: "login next on this site", method: "POST", url: "/login", form: form("email", "owner@a.test", "password", testPassword, "next", "/t/{A}/members?x=1#top"), who: "anon", status: 303, locIs: "/t/{A}/members?x=1#top"},
		scenario{name: "login next with a tab inside is cleaned", method: "POST", url: "/login", form: form("email", "owner@a.test", "password", testPassword, "next", "/t/{A}/mem\tbers"), who: "anon", status: 303, locIs: "/t/{A}/members"},
		scenario{name: "language switch next on this site", method: "POST", url: "/lang", form: form("lang", "en", "next", "/signup"), who: "anon", status: 303, locIs: "/signup"},
	)

	// Searches: a control character matches nothing, and is no error.
	for i, q := range []string{"a%00b", "Alpha%00Foods", "ab%0Dc%1F%7F", "%FFabc"} {
		n := itoa(int64(i)) // not q: a test's temp dir is named after it, and the store opens a file: URI
		add(
			scenario{name: "staff tenants search " + n, method: "GET", url: "/staff/tenants?q=" + q, who: "staffsupport", status: 200, quiet: true,
				want: []string{"t:tenants.empty"}, notWant: []string{tenantAName, tenantBName}},
			scenario{name: "staff apps search " + n, method: "GET", url: "/staff/apps?q=" + q, who: "staffsupport", status: 200, quiet: true,
				notWant: []string{`data-testid="staff-app-wxapp`}},
			scenario{name: "staff activity search " + n, method: "GET", url: "/staff/activity?q=" + q, who: "staffsupport", status: 200, quiet: true,
				notWant: []string{"owner@a.test"}},
			scenario{name: "tenant activity search " + n, method: "GET", url: "/t/{A}/activity?q=" + q, who: "ownerA", status: 200, quiet: true,
				notWant: []string{"developer@a.test"}},
			scenario{name: "tenant activity csv search " + n, method: "GET", url: "/t/{A}/activity.csv?q=" + q, who: "ownerA", status: 200, quiet: true,
				notWant: []string{"developer@a.test"}},
		)
	}

	// Forms: control and bidi characters refused with the field's error,
	// what was typed kept.
	unsafe := "t:form.unsafe_text"
	for i, bad := range unsafeTexts[:4] { // all of them: TestUnsafeText
		n := itoa(int64(i))
		add(
			scenario{name: "signup tenant name " + n, method: "POST", url: "/signup", form: form("tenant", bad, "name", "Dan", "email", "dan@d.test", "password", "a long enough password"), who: "anon", status: 422,
				want: []string{`data-testid="error-tenant"`, unsafe, `value="dan@d.test"`}},
			scenario{name: "signup user name " + n, method: "POST", url: "/signup", form: form("tenant", "Delta", "name", bad, "email", "dan@d.test", "password", "a long enough password"), who: "anon", status: 422,
				want: []string{`data-testid="error-name"`, unsafe, `value="Delta"`}},
			scenario{name: "invite note " + n, method: "POST", url: "/t/{A}/invites", form: form("role", "viewer", "note", bad), who: "ownerA", status: 422,
				want: []string{unsafe}, notWant: []string{"invite-link"}},
			scenario{name: "contact name " + n, method: "POST", url: "/t/{A}/settings/contact", form: form("name", bad, "email", "wang@a.test", "notice_method", "弹窗"), who: "ownerA", status: 422,
				want: []string{`data-testid="error-name"`, unsafe, `value="wang@a.test"`}},
			scenario{name: "suspension reason " + n, method: "POST", url: "/staff/tenants/{B}/status", form: form("status", "suspended", "reason", bad), who: "staffadmin", status: 422,
				want: []string{unsafe}},
			scenario{name: "release version description " + n, method: "POST", url: "/t/{D}/apps/{appD}/releases", form: form("template_id", "{tpl}", "user_version", "1.0.0", "user_desc", "首发"+bad), who: "ownerD", status: 422,
				want: []string{`data-testid="error-user_desc"`, unsafe, `value="1.0.0"`}},
			scenario{name: "release version " + n, method: "POST", url: "/t/{D}/apps/{appD}/releases", form: form("template_id", "{tpl}", "user_version", bad, "user_desc", "首发"), who: "ownerD", status: 422,
				want: []string{`data-testid="error-user_version"`, unsafe, "首发"}},
			scenario{name: "campaign name " + n, method: "POST", url: "/t/{D}/campaigns", form: form(campaignFormValues("name", bad)...), who: "ownerD", status: 422,
				want: []string{unsafe, "冬季上新"}},
			scenario{name: "campaign description " + n, method: "POST", url: "/t/{D}/campaigns", form: form(campaignFormValues("user_desc", "冬季"+bad)...), who: "ownerD", status: 422,
				want: []string{unsafe, `value="丁批量"`}},
			scenario{name: "app tags " + n, method: "POST", url: "/t/{A}/apps/{appA}/tags", form: form("tags", "旗舰店, "+bad), who: "developerA", status: 422,
				want: []string{unsafe}},
			scenario{name: "audit item title " + n, method: "POST", url: "/t/{E}/apps/{appE}/releases/{relE}/items", form: form("seq", "{seqE}", "items.0.category", "287:612:0", "items.0.address", "pages/index/index", "items.0.title", bad, "items.0.tag", "店铺"), who: "ownerE", status: 422,
				want: []string{`data-testid="error-items.0.title"`, unsafe, `value="店铺"`}},
			scenario{name: "config note " + n, method: "POST", url: "/t/{A}/apps/{appA}/config", form: form("template_id", "{tpl}", "shopName", "甲店三号", "theme", "light", "note", bad), who: "developerA", status: 422,
				want: []string{unsafe}},
		)
	}
	add(
		scenario{name: "release version description with line breaks", method: "POST", url: "/t/{D}/apps/{appD}/releases", form: form("template_id", "{tpl}", "user_version", "1.0.0", "user_desc", "首发\r\n第二行\n第三行"), who: "ownerD", status: 303, loc: "/t/{D}/apps/{appD}/releases/"},
	)
	return sc
}
