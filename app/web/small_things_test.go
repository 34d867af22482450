package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/paths"
)

// TestFaviconHeadLoginAndSandboxCSP: every page links a favicon that is
// served; HEAD /login answers as GET does; the sandbox's pages (WeChat's
// look-alike, with their own inline styles) get a CSP that lets them be
// styled, and only they do.
func TestFaviconHeadLoginAndSandboxCSP(t *testing.T) {
	h := newHarnessWith(t, func(d *Deps) {
		d.Sandbox = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(`<!doctype html><style>main{margin:0}</style><main>沙箱</main>`))
		})
	})
	c := h.client()
	login := c.get(paths.Login)
	wantStatus(t, "GET /login", login, 200)
	mustContain(t, "favicon link", login, `rel="icon" href="/static/favicon.svg"`)
	fav := c.get("/static/favicon.svg")
	wantStatus(t, "favicon", fav, 200)
	if ct := fav.Header.Get("Content-Type"); !strings.Contains(ct, "svg") {
		t.Errorf("favicon Content-Type %q", ct)
	}
	head := c.do("HEAD", paths.Login, nil)
	if head.Status != login.Status || head.Header.Get("Content-Type") != login.Header.Get("Content-Type") {
		t.Errorf("HEAD /login = %d %q, GET = %d %q", head.Status, head.Header.Get("Content-Type"), login.Status, login.Header.Get("Content-Type"))
	}
	if csp := login.Header.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe-inline") {
		t.Errorf("the portal's CSP allows inline code: %s", csp)
	}
	sb := c.get(paths.Sandbox + "/console")
	if csp := sb.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "style-src 'self' 'unsafe-inline'") || !strings.Contains(csp, "script-src 'none'") {
		t.Errorf("sandbox page (%d) CSP = %q, want inline styles and no scripts", sb.Status, csp)
	}
}

// TestSuspensionAsksReasonAndTellsWhom: the suspend form requires a reason
// before it confirms (required input; the server refuses an empty one and
// keeps the tenant active), and the suspended merchant's members see the
// reason and whom to contact.
func TestSuspensionAsksReasonAndTellsWhom(t *testing.T) {
	h := newHarness(t)
	w := h.seed()
	staff := h.client().login(w.users["staffadmin"].Email)
	page := staff.get(paths.StaffTenant(w.B.ID))
	mustContain(t, "suspend form", page, `required maxlength="200" data-testid="suspend-reason"`)
	r := staff.post(paths.StaffTenantStatus(w.B.ID), url.Values{"status": {"suspended"}, "reason": {""}})
	wantStatus(t, "suspend without a reason", r, 422)
	if h.tenantStatus(w.B.ID) != model.TenantActive {
		t.Fatal("suspended without a reason")
	}
	r = staff.post(paths.StaffTenantStatus(w.B.ID), url.Values{"status": {"suspended"}, "reason": {"账单逾期未付"}})
	if r.Status != 303 && r.Status != 302 {
		t.Fatalf("suspend: status %d", r.Status)
	}
	owner := h.client().login(w.users["ownerB"].Email)
	res := owner.get(paths.Tenant(w.B.ID))
	wantStatus(t, "suspended tenant", res, 403)
	mustContain(t, "suspended page", res, `data-testid="suspended-reason"`, "账单逾期未付", `data-testid="suspended-contact"`, "mailto:"+w.users["staffadmin"].Email)
}
