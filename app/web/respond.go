package web

import (
	"errors"
	"maps"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/views"
)

// What a handler answers besides a page: a redirect with a flash message
// after a successful POST, and a coded error put on the form that failed.

// flashKeys are the messages a ?flash= parameter may show: only keys we
// set, so a link cannot put arbitrary text on a page.
var flashKeys = map[string]bool{
	// account and members
	"account.saved": true, "account.password_changed": true, "login.session_expired": true,
	"members.role_saved": true, "members.removed": true, "invite.revoked_ok": true, "invite.welcome": true,
	// tenant settings
	"contact.saved": true, "apikey.revoked": true,
	// apps: authorization, config, tags, releases
	"authorize.done_flash": true, "authorize.cancelled_ok": true,
	"config.saved": true, "config.restored": true, "tags.saved": true,
	"content.openid_saved": true, "content.rechecked": true, "content.uploaded": true,
	"link.created": true, "wxacode.created": true, "domain.changed": true, "domain.server_changed": true, "domain.per_app_saved": true,
	"release.prepared": true, "release.moved": true, "release.submitted": true, "release.items_saved": true,
	"release.media.added": true, "release.media.removed": true, "privacy.saved": true,
	// campaigns
	"campaign.created": true, "campaign.decided": true,
	// event delivery
	"webhooks.saved": true, "webhooks.deleted": true, "webhooks.resumed": true, "webhooks.not_paused": true,
	"webhooks.replayed": true, "webhooks.replay_pending": true,
	// staff
	"tenant.status_saved": true, "domains.saved": true, "site_files.saved": true, "site_files.deleted": true,
	"staff_apps.assigned": true, "staff_apps.resolved": true, "staff_apps.reconciled": true,
	"templates.synced": true, "templates.added": true, "templates.deleted_flash": true, "schema.saved": true,
}

// redirectFlash redirects after a successful POST and shows key on the next
// page. The key travels in the URL, not the session, so GETs never write.
func (s *Server) redirectFlash(c *fiber.Ctx, to, key string) error {
	sep := "?"
	if strings.Contains(to, "?") {
		sep = "&"
	}
	return c.Redirect(to+sep+"flash="+key, fiber.StatusSeeOther)
}

// formError puts a coded invalid-input or conflict error, or the field
// errors a form's Validate found, or both (errors.Join), on the form; a
// summary keeps the error's Data for its message. It reports false for
// errors the form cannot show (nil among them). It takes a pointer: Summary
// is a plain field, and setting it on a copy would lose the error.
func formError(f *views.Form, err error) bool {
	shown := false
	var fields model.FieldErrors
	if errors.As(err, &fields) {
		maps.Copy(f.Errors, fields)
		shown = true
	}
	var e *model.Error
	if !errors.As(err, &e) {
		return shown
	}
	switch {
	case e.Field != "":
		f.Errors[e.Field] = e.Key
	case e.Code == model.CodeInvalid || e.Code == model.CodeConflict || e.Code == model.CodeForbidden:
		f.Summary = e.Key
		if e.Data != nil {
			f.Data = e.Data
		}
	default:
		return shown
	}
	return true
}
