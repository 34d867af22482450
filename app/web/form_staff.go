package web

import (
	"errors"
	"io"
	"maps"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/wechat"
	"github.com/minifleet/minifleet/views"
)

// Staff forms: tenants, server domains, the template library.

// TenantStatusForm is staff suspending (with a reason) or reactivating a tenant.
type TenantStatusForm struct {
	Status model.TenantStatus
	Reason string
}

// NewTenantStatusForm reads the status change from the request.
func NewTenantStatusForm(c *fiber.Ctx) TenantStatusForm {
	return TenantStatusForm{Status: model.TenantStatus(c.FormValue("status")), Reason: strings.TrimSpace(c.FormValue("reason"))}
}

// Validate checks the status and the reason a suspension needs.
func (f TenantStatusForm) Validate() error {
	switch {
	case f.Status != model.TenantActive && f.Status != model.TenantSuspended:
		return model.Errorf(model.CodeInvalid, "form.invalid_choice")
	case !safeLine(f.Reason):
		return model.FieldError("reason", "form.unsafe_text")
	case f.Status == model.TenantSuspended && f.Reason == "":
		return model.FieldError("reason", "form.required")
	case tooLong(f.Reason, 200):
		return model.FieldError("reason", "form.too_long")
	}
	return nil
}

// View is the form to show again.
func (f TenantStatusForm) View() views.Form {
	v := views.NewForm()
	v.Values["reason"] = f.Reason
	return v
}

// DomainsForm is the server domains every app gets: one origin a line in
// each of domainFields' lists, as typed.
type DomainsForm struct {
	Lists map[string]string // by domainFields' Name
}

// NewDomainsForm reads the server domains form from the request.
func NewDomainsForm(c *fiber.Ctx) DomainsForm {
	f := DomainsForm{Lists: make(map[string]string, len(domainFields))}
	for _, fd := range domainFields {
		f.Lists[fd.Name] = c.FormValue(fd.Name)
	}
	return f
}

// domainsFormOf is the form showing the stored domains.
func domainsFormOf(d wechat.ServerDomains) DomainsForm {
	f := DomainsForm{Lists: make(map[string]string, len(domainFields))}
	for _, fd := range domainFields {
		f.Lists[fd.Name] = strings.Join(*fd.list(&d), "\n")
	}
	return f
}

// Domains reads every list (parseDomains). A list with a bad line is a
// field error, and the first bad line is also the form's summary (with
// the line as its Value); nothing is returned then.
func (f DomainsForm) Domains() (wechat.ServerDomains, error) {
	var d wechat.ServerDomains
	errs := model.FieldErrors{}
	var summary *model.Error
	for _, fd := range domainFields {
		list, bad := parseDomains(f.Lists[fd.Name], fd.Scheme)
		if bad != "" {
			errs.Add(fd.Name, "domains.err."+fd.Scheme)
			if summary == nil {
				summary = &model.Error{Code: model.CodeInvalid, Key: "domains.err.summary", Data: map[string]any{"Value": bad}}
			}
			continue
		}
		*fd.list(&d) = list
	}
	if summary != nil {
		return wechat.ServerDomains{}, errors.Join(errs, summary)
	}
	return d, nil
}

// Validate reports the lists Domains cannot read.
func (f DomainsForm) Validate() error {
	_, err := f.Domains()
	return err
}

// View is the form to show again.
func (f DomainsForm) View() views.Form {
	v := views.NewForm()
	maps.Copy(v.Values, f.Lists)
	return v
}

// SchemaForm is a template's schema editor (save and preview): the
// schema's JSON and the template's pages, one a line, as typed. The schema
// itself is parsed by the editor's view (schemaView), which shows where
// it is wrong.
type SchemaForm struct {
	Schema string
	Pages  string
}

// NewSchemaForm reads the schema editor from the request.
func NewSchemaForm(c *fiber.Ctx) SchemaForm {
	return SchemaForm{Schema: c.FormValue("schema"), Pages: c.FormValue("pages")}
}

// PageList is the pages, trimmed, without empty lines.
func (f SchemaForm) PageList() []string {
	var pages []string
	for _, l := range strings.Split(f.Pages, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			pages = append(pages, l)
		}
	}
	return pages
}

// Validate checks that a schema is there.
func (f SchemaForm) Validate() error {
	if strings.TrimSpace(f.Schema) == "" {
		return model.FieldError("schema", "form.required")
	}
	return nil
}

// DraftForm is the library page's button adding a draft as a template.
type DraftForm struct {
	DraftID int64
	bad     bool // not a number
}

// NewDraftForm reads the draft's id from the request.
func NewDraftForm(c *fiber.Ctx) DraftForm {
	id, err := strconv.ParseInt(c.FormValue("draft_id"), 10, 64)
	return DraftForm{DraftID: id, bad: err != nil}
}

// Validate checks the draft's id.
func (f DraftForm) Validate() error {
	if f.bad || f.DraftID < 0 {
		return model.Errorf(model.CodeInvalid, "form.invalid_choice")
	}
	return nil
}

// AssignForm is staff binding an app bound to no tenant to one.
type AssignForm struct {
	TenantID int64 // 0 when not a number
}

// NewAssignForm reads the tenant from the request.
func NewAssignForm(c *fiber.Ctx) AssignForm {
	id, err := strconv.ParseInt(c.FormValue("tenant"), 10, 64)
	if err != nil {
		id = 0
	}
	return AssignForm{TenantID: id}
}

// Validate checks that a tenant is chosen.
func (f AssignForm) Validate() error {
	if f.TenantID <= 0 {
		return model.Errorf(model.CodeInvalid, "apps.assign_no_tenant")
	}
	return nil
}

// ConflictForm is staff resolving an app a second tenant authorized:
// "kept" (it stays with its owner) or "moved" (to the claimant).
type ConflictForm struct {
	Resolution string
}

// NewConflictForm reads the resolution from the request.
func NewConflictForm(c *fiber.Ctx) ConflictForm {
	return ConflictForm{Resolution: c.FormValue("resolution")}
}

// Validate checks the choice.
func (f ConflictForm) Validate() error {
	if f.Resolution != "kept" && f.Resolution != "moved" {
		return model.Errorf(model.CodeInvalid, "form.invalid_choice")
	}
	return nil
}

// Moved reports whether the app goes to the claimant.
func (f ConflictForm) Moved() bool { return f.Resolution == "moved" }

// SiteFileForm is an uploaded domain verification file.
type SiteFileForm struct {
	Name    string
	Content []byte
}

// NewSiteFileForm reads the upload; a missing file or one larger than a
// site file may be is refused before its content is read.
func NewSiteFileForm(c *fiber.Ctx) (SiteFileForm, error) {
	fh, err := c.FormFile("file")
	if err != nil {
		return SiteFileForm{}, &model.Error{Code: model.CodeInvalid, Key: "site_files.err.missing", Field: "file"}
	}
	f := SiteFileForm{Name: fh.Filename}
	if fh.Size > model.MaxSiteFileBytes {
		return f, &model.Error{Code: model.CodeInvalid, Key: "site_files.err.too_large", Field: "file", Data: map[string]any{"Max": model.MaxSiteFileBytes}}
	}
	r, err := fh.Open()
	if err != nil {
		return f, err
	}
	defer r.Close()
	f.Content, err = io.ReadAll(io.LimitReader(r, model.MaxSiteFileBytes+1))
	return f, err
}

// Validate checks the name (served at /<name>) and the content.
func (f SiteFileForm) Validate() error { return model.CheckSiteFile(f.Name, f.Content) }
