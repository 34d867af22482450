package web

import (
	"slices"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/views"
)

// APIKeyForm is the new API key form: a name, the scopes, an optional
// expiry date (the key works until the end of that day in the viewer's
// time zone) and, for a platform key, every tenant or chosen ones.
type APIKeyForm struct {
	Name        string
	Scopes      []string
	Expires     string
	TenantsMode string // "all" or "chosen" (platform keys)
	Tenants     []string
	Loc         *time.Location
}

// NewAPIKeyForm reads the form.
func NewAPIKeyForm(c *fiber.Ctx, loc *time.Location) APIKeyForm {
	v := postValues(c)
	return APIKeyForm{Name: formText(c, "name"), Scopes: v["scopes"], Expires: formText(c, "expires"),
		TenantsMode: formText(c, "tenants_mode"), Tenants: v["tenants"], Loc: loc}
}

// View is the form to show again, as typed.
func (f APIKeyForm) View() views.Form {
	v := views.NewForm()
	v.Values["name"], v.Values["expires"], v.Values["tenants_mode"] = f.Name, f.Expires, f.TenantsMode
	for _, s := range f.Scopes {
		v.Values["scope:"+s] = "on"
	}
	for _, t := range f.Tenants {
		v.Values["tenant:"+t] = "on"
	}
	return v
}

// Input checks the form against what the viewer may grant (allowed) and
// returns the key to create; tenantID is 0 for a platform key.
func (f APIKeyForm) Input(tenantID int64, allowed []model.APIScope, now time.Time) (platform.NewAPIKey, error) {
	errs := model.FieldErrors{}
	n := platform.NewAPIKey{TenantID: tenantID, Name: f.Name}
	checkText(errs, "name", f.Name)
	for _, s := range f.Scopes {
		if !slices.Contains(allowed, model.APIScope(s)) {
			errs.Add("scopes", "apikey.err.scope_not_yours")
			continue
		}
		if !slices.Contains(n.Scopes, model.APIScope(s)) {
			n.Scopes = append(n.Scopes, model.APIScope(s))
		}
	}
	if f.Expires != "" {
		d, err := time.ParseInLocation("2006-01-02", f.Expires, f.Loc)
		if err != nil {
			errs.Add("expires", "apikey.err.expires")
		} else {
			n.ExpiresAt = d.AddDate(0, 0, 1) // the end of the chosen day
		}
	}
	if tenantID == 0 {
		switch f.TenantsMode {
		case "", "all":
		case "chosen":
			for _, t := range f.Tenants {
				id, err := strconv.ParseInt(t, 10, 64)
				if err != nil || id <= 0 {
					errs.Add("tenants", "form.invalid_choice")
					continue
				}
				if !slices.Contains(n.Tenants, id) {
					n.Tenants = append(n.Tenants, id)
				}
			}
			if len(n.Tenants) == 0 {
				errs.Add("tenants", "apikey.err.tenants_none")
			}
		default:
			errs.Add("tenants", "form.invalid_choice")
		}
	}
	if err := errs.Err(); err != nil {
		return n, err
	}
	return n, n.Check(now)
}
