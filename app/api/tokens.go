package api

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/platform"
)

// tokenJSON is a token as the token service hands it out: never a refresh
// token.
type tokenJSON struct {
	AccessToken string    `json:"access_token"`
	ExpiresAt   time.Time `json:"expires_at"`
	ExpiresIn   int       `json:"expires_in"` // seconds from now
}

func (a *API) tokenOut(t platform.Token) tokenJSON {
	return tokenJSON{AccessToken: t.Value, ExpiresAt: t.ExpiresAt.UTC(), ExpiresIn: max(0, int(t.ExpiresAt.Sub(a.Platform.Now()).Seconds()))}
}

// appReach checks, before anything else, that the key reaches the app's
// tenant: from the vault's cache (no SQL) or, on a miss, the authorizer row.
// An app of no tenant or another tenant is not found.
func (a *API) appReach(c *fiber.Ctx, appID string) (int64, bool, error) {
	tid, ok := a.Platform.Vault.CachedTenant(appID)
	if !ok {
		au, err := a.Store.Authorizer(c.UserContext(), appID)
		if model.IsNotFound(err) {
			return 0, false, nil
		}
		if err != nil {
			return 0, false, err
		}
		tid = au.TenantID
	}
	return tid, keyOf(c).Reaches(tid), nil
}

// appToken: GET /api/v1/apps/:appid/access-token — the authorizer access
// token from the vault (cached: no SQL, no WeChat; WeChat only when it is
// expiring, under the vault's single-flight and lease).
func (a *API) appToken(c *fiber.Ctx) error {
	appID := c.Params("appid")
	tid, ok, err := a.appReach(c, appID)
	if err != nil {
		return a.fail(c, err)
	}
	if !ok {
		return notFound(c, "app")
	}
	t, err := a.Platform.Vault.AuthorizerToken(c.UserContext(), appID)
	if err != nil {
		return a.fail(c, err)
	}
	if t.TenantID != tid { // moved to another tenant meanwhile
		return notFound(c, "app")
	}
	return c.JSON(a.tokenOut(t))
}

// appTokenInvalid: POST /api/v1/apps/:appid/access-token/invalid with the
// token a backend saw rejected (40001): the vault expires it only if it is
// still current, fetches one new token, and answers the usable token.
func (a *API) appTokenInvalid(c *fiber.Ctx) error {
	var in struct {
		AccessToken string `json:"access_token"`
	}
	if err := decode(c, &in); err != nil {
		return a.fail(c, err)
	}
	if in.AccessToken == "" || len(in.AccessToken) > 512 {
		return c.Status(fiber.StatusUnprocessableEntity).JSON(fiber.Map{"error": apiError{Code: "invalid", Message: "access_token is required",
			Fields: map[string]string{"access_token": "required, at most 512 characters"}}})
	}
	appID := c.Params("appid")
	tid, ok, err := a.appReach(c, appID)
	if err != nil {
		return a.fail(c, err)
	}
	if !ok {
		return notFound(c, "app")
	}
	t, healed, err := a.Platform.Vault.HealAuthorizerToken(c.UserContext(), appID, in.AccessToken)
	if err != nil {
		return a.fail(c, err)
	}
	if t.TenantID != tid {
		return notFound(c, "app")
	}
	return c.JSON(struct {
		tokenJSON
		Healed bool `json:"healed"`
	}{a.tokenOut(t), healed})
}

// componentToken: GET /api/v1/component/access-token, platform keys only.
func (a *API) componentToken(c *fiber.Ctx) error {
	if len(keyOf(c).Tenants) > 0 {
		return fail(c, fiber.StatusForbidden, "forbidden", "the component token needs a platform key for every tenant", 0)
	}
	t, err := a.Platform.Vault.ComponentToken(c.UserContext())
	if err != nil {
		return a.fail(c, err)
	}
	return c.JSON(a.tokenOut(t))
}
