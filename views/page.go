// Package views holds Minifleet's templ components: full pages and the HTMX
// fragments beside them. Components take typed props and do no I/O.
package views

import (
	"encoding/json"
	"time"

	"github.com/minifleet/minifleet/app/model"
)

// NavItem is one link in the left navigation (already filtered by role).
type NavItem struct {
	Section string // translation key of the group heading
	Label   string // translation key
	Href    string
	Active  bool
	TestID  string
}

// Page is what the layout needs on every page.
type Page struct {
	Title       string // translation key
	Help        string // translation key, one line under the title
	User        *model.User
	Tenant      *model.Tenant // the tenant being viewed, if any
	Memberships []model.Membership
	Nav         []NavItem
	CSRF        string
	Lang        string
	Path        string // current path, for the language switcher's return
	Now         time.Time
	Flash       string // translation key of a one-time message
	// StaffNotice is a problem every staff page shows until it is fixed
	// (WeChat refusing this server's IP), a translation key and its data.
	StaffNotice     string
	StaffNoticeData map[string]any
	Sandbox         bool
	// Inbox is the 待我审批 list of an approver's landing page (nil: the
	// viewer approves nothing, and the landing page shows no inbox).
	Inbox *Inbox
}

// HXHeaders is the hx-headers value that carries the CSRF token on every HTMX request.
func (p Page) HXHeaders() string {
	b, _ := json.Marshal(map[string]string{"X-Csrf-Token": p.CSRF})
	return string(b)
}

// Form carries what the user typed and the errors found, so a failed submit
// re-renders with nothing lost.
type Form struct {
	Values  map[string]string
	Errors  map[string]string // field -> translation key
	Summary string            // translation key of a form-level error
	Data    map[string]any    // template data for the summary
}

// NewForm returns an empty form.
func NewForm() Form { return Form{Values: map[string]string{}, Errors: map[string]string{}} }

// V returns a typed value.
func (f Form) V(name string) string { return f.Values[name] }

// E returns a field's error key.
func (f Form) E(name string) string { return f.Errors[name] }

// HasErrors reports whether anything is wrong.
func (f Form) HasErrors() bool { return len(f.Errors) > 0 || f.Summary != "" }
