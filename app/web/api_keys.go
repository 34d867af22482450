package web

import (
	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/api"
	"github.com/minifleet/minifleet/app/i18n"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/views"
)

// API keys (issue #15): a tenant owner's keys under the tenant's settings
// (/t/:tid/settings/api-keys), a staff admin's platform keys
// (/staff/api-keys). One set of handlers; the route says which.

// keysScope is the page's scope: the tenant's id, or 0 for platform keys.
func keysScope(c *fiber.Ctx) int64 {
	if t := currentTenant(c); t != nil {
		return t.ID
	}
	return 0
}

// grantable is every scope whose permission the viewer holds where the key
// will act: a key never gets more than its creator's role.
func (s *Server) grantable(c *fiber.Ctx) []model.APIScope {
	var out []model.APIScope
	for _, sc := range model.APIScopes {
		if s.can(c, api.ScopePerms[sc]) {
			out = append(out, sc)
		}
	}
	return out
}

func (s *Server) apiKeysView(c *fiber.Ctx, f views.Form) (views.APIKeysView, error) {
	ctx := c.UserContext()
	tid := keysScope(c)
	v := views.APIKeysView{Staff: tid == 0, TenantID: tid, Scopes: s.grantable(c), Form: f, TenantNames: map[int64]string{}}
	var err error
	if v.Keys, err = s.Store.APIKeys(ctx, tid); err != nil {
		return v, err
	}
	if v.Staff {
		if v.Tenants, _, err = s.Store.ListTenants(ctx, store.TenantFilter{Limit: 500}); err != nil {
			return v, err
		}
		for _, t := range v.Tenants {
			v.TenantNames[t.ID] = t.Name
		}
	}
	return v, nil
}

func (s *Server) apiKeysTitle(c *fiber.Ctx) views.Page {
	if keysScope(c) == 0 {
		return s.page(c, "apikey.title", "apikey.help_staff")
	}
	return s.page(c, "apikey.title", "apikey.help_tenant")
}

// apiKeysPage lists the keys and the form for a new one.
func (s *Server) apiKeysPage(c *fiber.Ctx) error {
	f := views.NewForm()
	f.Values["tenants_mode"] = "all"
	v, err := s.apiKeysView(c, f)
	if err != nil {
		return err
	}
	return s.render(c, views.APIKeysPage(s.apiKeysTitle(c), v))
}

// apiKeyCreate makes a key and shows its secret once, on this response
// (never stored, never redirected with): the page says to copy it now.
func (s *Server) apiKeyCreate(c *fiber.Ctx) error {
	tid := keysScope(c)
	kf := NewAPIKeyForm(c, i18n.From(c.UserContext()).Loc)
	f := kf.View()
	in, err := kf.Input(tid, s.grantable(c), s.Now())
	var key model.APIKey
	var secret string
	if err == nil {
		key, secret, err = s.Platform.Keys.Create(c.UserContext(), actor(c), in)
	}
	if err != nil {
		if !formError(&f, err) {
			return err
		}
		v, verr := s.apiKeysView(c, f)
		if verr != nil {
			return verr
		}
		c.Status(statusOf(err))
		return s.render(c, views.APIKeysPage(s.apiKeysTitle(c), v))
	}
	nf := views.NewForm()
	nf.Values["tenants_mode"] = "all"
	v, err := s.apiKeysView(c, nf)
	if err != nil {
		return err
	}
	v.Secret, v.Created = secret, &key
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Status(fiber.StatusCreated)
	return s.render(c, views.APIKeysPage(s.apiKeysTitle(c), v))
}

// apiKeyRevoke revokes a key of this scope; another tenant's key is not found.
func (s *Server) apiKeyRevoke(c *fiber.Ctx) error {
	tid := keysScope(c)
	id, err := parseID(c, "kid")
	if err != nil {
		return err
	}
	if _, err := s.Platform.Keys.Revoke(c.UserContext(), actor(c), tid, id); err != nil {
		return err
	}
	to := paths.StaffAPIKeys
	if tid != 0 {
		to = paths.TenantAPIKeys(tid)
	}
	return s.redirectFlash(c, to, "apikey.revoked")
}
