// Package api is the JSON API of the provider's own backends (issue #15):
// the token service and the apps, config, releases and campaigns a CI or a
// Mini Program's server drives, under /api/v1. Callers authenticate with an
// API key (Authorization: Bearer mf_live_…); cookies are never read, so a
// browser session authorizes nothing here and CSRF does not apply. Every
// route names a key scope and one of authz's named permissions, checked for
// the key's creator in the key's domain (a tenant key in its tenant, a
// platform key in the platform domain): a key never does more than its
// creator's role. Objects are looked up within the key's tenants; another
// tenant's is not found. The routes are mounted on the web layer's Fiber
// app before the browser middleware.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/authz"
	"github.com/minifleet/minifleet/app/i18n"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat"
)

// Deps is what the API needs.
type Deps struct {
	Store    *store.Store
	Authz    *authz.Authorizer
	Platform *platform.Platform
	I18n     *i18n.Bundle
	Log      *slog.Logger
	// Rate and Burst are each key's token bucket: requests a second and
	// the most at once; 0 means 50 and 100.
	Rate  float64
	Burst int
	// BodyLimit is the largest request body the API reads; 0 means 64 KiB.
	BodyLimit int
}

// API serves /api/v1.
type API struct {
	Deps
	limits  *limiter
	tenants *ttlCache // tenant id → active, for CacheTTL
}

// New builds the API.
func New(d Deps) *API {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Rate <= 0 {
		d.Rate = 50
	}
	if d.Burst <= 0 {
		d.Burst = 100
	}
	if d.BodyLimit <= 0 {
		d.BodyLimit = 64 << 10
	}
	a := &API{Deps: d, limits: newLimiter(d.Rate, d.Burst, d.Platform.Now), tenants: newTTLCache(30*time.Second, d.Platform.Now)}
	return a
}

// Route is one row of the API's route table.
type Route struct {
	Method  string
	Path    string
	Scope   model.APIScope // "" only for the public OpenAPI document
	Perm    authz.Perm
	Handler fiber.Handler
	// PlatformOnly: only platform keys (the component token).
	PlatformOnly bool
}

// Routes is the API's route table; the OpenAPI document lists exactly
// these (TestOpenAPIMatchesRoutes).
func (a *API) Routes() []Route {
	return []Route{
		{"GET", paths.APIOpenAPI, "", authz.Perm{}, a.openAPI, false},
		{"GET", paths.APIApps, model.ScopeAppsRead, authz.PermAppsRead, a.listApps, false},
		{"GET", paths.APIAppPattern, model.ScopeAppsRead, authz.PermAppsRead, a.getApp, false},
		{"GET", paths.APIAppTokenPattern, model.ScopeTokensRead, authz.PermAppsRead, a.appToken, false},
		{"POST", paths.APIAppTokenInvalidPattern, model.ScopeTokensRead, authz.PermAppsRead, a.appTokenInvalid, false},
		{"GET", paths.APIComponentToken, model.ScopeTokensRead, authz.PermWeChatWrite, a.componentToken, true},
		{"GET", paths.APIAppConfigPattern, model.ScopeAppsRead, authz.PermAppsRead, a.getConfig, false},
		{"POST", paths.APIAppConfigPattern, model.ScopeConfigWrite, authz.PermConfigWrite, a.saveConfig, false},
		{"GET", paths.APIAppReleasesPattern, model.ScopeAppsRead, authz.PermAppsRead, a.listReleases, false},
		{"POST", paths.APIAppReleasesPattern, model.ScopeReleasesWrite, authz.PermReleasePrepare, a.createRelease, false},
		{"GET", paths.APIAppReleasePattern, model.ScopeAppsRead, authz.PermAppsRead, a.getRelease, false},
		{"GET", paths.APICampaigns, model.ScopeAppsRead, authz.PermCampaignsRead, a.listCampaigns, false},
		{"POST", paths.APICampaigns, model.ScopeCampaignsWrite, authz.PermCampaignsWrite, a.createCampaign, false},
		{"GET", paths.APICampaignPattern, model.ScopeAppsRead, authz.PermCampaignsRead, a.getCampaign, false},
		{"POST", paths.APICampaignPausePattern, model.ScopeCampaignsWrite, authz.PermCampaignsWrite, a.campaignAction(model.CampActPause), false},
		{"POST", paths.APICampaignResumePattern, model.ScopeCampaignsWrite, authz.PermCampaignsWrite, a.campaignAction(model.CampActResume), false},
		{"POST", paths.APICampaignCancelPattern, model.ScopeCampaignsWrite, authz.PermCampaignsWrite, a.campaignAction(model.CampActCancel), false},
		{"GET", paths.APIWebhooks, model.ScopeEventsManage, authz.PermWebhooksManage, a.listWebhooks, false},
		{"POST", paths.APIWebhooks, model.ScopeEventsManage, authz.PermWebhooksManage, a.createWebhook, false},
		{"GET", paths.APIWebhookPattern, model.ScopeEventsManage, authz.PermWebhooksManage, a.getWebhook, false},
		{"DELETE", paths.APIWebhookPattern, model.ScopeEventsManage, authz.PermWebhooksManage, a.deleteWebhook, false},
		{"GET", paths.APIWebhookDeliveries, model.ScopeEventsManage, authz.PermWebhooksManage, a.listDeliveries, false},
		{"POST", paths.APIWebhookReplayPattern, model.ScopeEventsManage, authz.PermWebhooksManage, a.replayDelivery, false},
	}
}

// ScopePerms is the permission each scope stands for: a person may give a
// key a scope only when they hold its permission in the key's domain
// (app/web's key forms check it), and each route checks the creator still
// does.
var ScopePerms = map[model.APIScope]authz.Perm{
	model.ScopeTokensRead:     authz.PermAppsRead,
	model.ScopeAppsRead:       authz.PermAppsRead,
	model.ScopeConfigWrite:    authz.PermConfigWrite,
	model.ScopeReleasesWrite:  authz.PermReleasePrepare,
	model.ScopeCampaignsWrite: authz.PermCampaignsWrite,
	model.ScopeEventsManage:   authz.PermWebhooksManage,
}

// Mount registers the routes on app (before the browser middleware), and
// answers anything else under /api with a JSON 404.
func (a *API) Mount(app fiber.Router) {
	for _, r := range a.Routes() {
		h := []fiber.Handler{a.common}
		if r.Scope != "" {
			h = append(h, a.guard(r))
		}
		app.Add(r.Method, r.Path, append(h, r.Handler)...)
	}
	app.Use("/api", a.common, func(c *fiber.Ctx) error {
		return fail(c, fiber.StatusNotFound, "not_found", "no such API route", 0)
	})
}

// common: no caching of anything the API answers (tokens!), JSON errors
// for panics and for bodies over BodyLimit.
func (a *API) common(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	if len(c.Body()) > a.BodyLimit {
		return fail(c, fiber.StatusRequestEntityTooLarge, "payload_too_large", "the request body is larger than "+strconv.Itoa(a.BodyLimit)+" bytes", 0)
	}
	return c.Next()
}

type ctxKey int

const keyKey ctxKey = 0

// keyOf is the request's verified key.
func keyOf(c *fiber.Ctx) model.APIKey {
	k, _ := c.Locals(keyKey).(model.APIKey)
	return k
}

// guard admits a request whose bearer key is usable, within its rate,
// holds the route's scope, reaches the route's kind of key, and whose
// creator still holds the route's permission in the key's domain. Bad,
// unknown, revoked and expired keys all get the same 401.
func (a *API) guard(r Route) fiber.Handler {
	return func(c *fiber.Ctx) error {
		secret, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
		if !ok {
			return unauthorized(c)
		}
		k, err := a.Platform.Keys.Verify(c.UserContext(), strings.TrimSpace(secret))
		if errors.Is(err, platform.ErrBadKey) {
			return unauthorized(c)
		}
		if err != nil {
			return a.fail(c, err)
		}
		if wait, ok := a.limits.take(k.ID); !ok {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(wait.Seconds()+0.999)))
			return fail(c, fiber.StatusTooManyRequests, "rate_limited", "too many requests for this key; retry after the Retry-After seconds", 0)
		}
		if !k.Has(r.Scope) {
			return fail(c, fiber.StatusForbidden, "forbidden", "the key does not have the scope "+string(r.Scope), 0)
		}
		if r.PlatformOnly && !k.Platform() {
			return fail(c, fiber.StatusForbidden, "forbidden", "only a platform key may do this", 0)
		}
		dom := authz.Platform
		if !k.Platform() {
			dom = authz.TenantDomain(k.TenantID)
			if !a.tenantActive(c.UserContext(), k.TenantID) {
				return fail(c, fiber.StatusForbidden, "forbidden", "the tenant is suspended", 0)
			}
		}
		if !a.Authz.Can(k.CreatedBy, dom, r.Perm) {
			return fail(c, fiber.StatusForbidden, "forbidden", "the key's creator does not hold the permission "+r.Perm.String(), 0)
		}
		c.Locals(keyKey, k)
		return c.Next()
	}
}

// tenantActive is whether a tenant is active, read at most every 30 s.
func (a *API) tenantActive(ctx context.Context, tid int64) bool {
	if v, ok := a.tenants.get(tid); ok {
		return v
	}
	t, err := a.Store.Tenant(ctx, tid)
	active := err == nil && t.Status == model.TenantActive
	if err == nil || model.IsNotFound(err) {
		a.tenants.put(tid, active)
	}
	return active
}

// ---- errors ----

// apiError is the one error shape: a stable code, a message, WeChat's
// errcode when WeChat refused, and field errors for invalid input.
type apiError struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Errcode int               `json:"errcode,omitempty"`
	Fields  map[string]string `json:"fields,omitempty"`
}

func fail(c *fiber.Ctx, status int, code, msg string, errcode int) error {
	return c.Status(status).JSON(fiber.Map{"error": apiError{Code: code, Message: msg, Errcode: errcode}})
}

func unauthorized(c *fiber.Ctx) error {
	c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="minifleet"`)
	return fail(c, fiber.StatusUnauthorized, "unauthorized", "a valid API key is required (Authorization: Bearer <key>)", 0)
}

func notFound(c *fiber.Ctx, what string) error {
	return fail(c, fiber.StatusNotFound, "not_found", "no such "+what, 0)
}

func badRequest(c *fiber.Ctx, msg string) error {
	return fail(c, fiber.StatusBadRequest, "bad_request", msg, 0)
}

// loc is the English localizer: field errors and refusals reuse the
// portal's translation keys.
func (a *API) msg(key string, args map[string]any) string {
	if a.I18n == nil {
		return key
	}
	return a.I18n.Localizer("en", time.UTC).T(key, args)
}

// fail answers err: coded model errors and field errors by their code,
// WeChat's refusals with their errcode, an upstream backoff as 503.
func (a *API) fail(c *fiber.Ctx, err error) error {
	e := apiError{}
	status := fiber.StatusInternalServerError
	var fields model.FieldErrors
	var me *model.Error
	var we *wechat.Error
	var bo *platform.Backoff
	var be *bodyError
	switch {
	case errors.As(err, &be):
		status, e.Code, e.Message = fiber.StatusBadRequest, "bad_request", be.msg
	case errors.As(err, &fields):
		status, e.Code, e.Message, e.Fields = fiber.StatusUnprocessableEntity, "invalid", "the input is invalid", map[string]string{}
		for f, k := range fields {
			e.Fields[f] = a.msg(k, nil)
		}
	case errors.As(err, &me):
		e.Code, e.Message = string(me.Code), a.msg(me.Key, me.Data)
		switch me.Code {
		case model.CodeInvalid:
			status = fiber.StatusUnprocessableEntity
			if me.Field != "" {
				e.Fields = map[string]string{me.Field: e.Message}
			}
		case model.CodeNotFound:
			status, e.Message = fiber.StatusNotFound, "not found"
		case model.CodeConflict:
			status = fiber.StatusConflict
		case model.CodeForbidden:
			status = fiber.StatusForbidden
		case model.CodeThrottled:
			status = fiber.StatusTooManyRequests
		default:
			status, e.Code, e.Message = fiber.StatusInternalServerError, "internal", "internal error"
		}
	case errors.As(err, &bo):
		status, e.Code, e.Message = fiber.StatusServiceUnavailable, "upstream_backoff", "WeChat failed recently; the next attempt is at "+bo.Next.UTC().Format(time.RFC3339)
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(max(1, int(time.Until(bo.Next).Seconds()+0.999))))
	case errors.As(err, &we):
		status, e.Code, e.Message, e.Errcode = fiber.StatusBadGateway, "wechat_error", "WeChat refused the call ("+we.API+")", we.Code
	default:
		a.Log.Error("api", "route", c.Route().Path, "err", err)
		e.Code, e.Message = "internal", "internal error"
	}
	return c.Status(status).JSON(fiber.Map{"error": e})
}

// bodyError is a request body the API cannot read: 400 bad_request.
type bodyError struct{ msg string }

func (e *bodyError) Error() string { return e.msg }

// decode reads a JSON body into v: JSON only, no unknown fields, one value.
func decode(c *fiber.Ctx, v any) error {
	if ct := c.Get(fiber.HeaderContentType); !strings.HasPrefix(ct, fiber.MIMEApplicationJSON) {
		return &bodyError{"the body must be JSON (Content-Type: application/json)"}
	}
	d := json.NewDecoder(bytes.NewReader(c.Body()))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return &bodyError{"the body is not valid JSON for this route: " + err.Error()}
	}
	if d.More() {
		return &bodyError{"the body holds more than one JSON value"}
	}
	return nil
}

// ---- small caches ----

// ttlCache remembers small facts (a tenant's status) for a while.
type ttlCache struct {
	ttl time.Duration
	now func() time.Time
	mu  sync.RWMutex
	m   map[int64]ttlEntry
}

type ttlEntry struct {
	v  bool
	at time.Time
}

func newTTLCache(ttl time.Duration, now func() time.Time) *ttlCache {
	return &ttlCache{ttl: ttl, now: now, m: map[int64]ttlEntry{}}
}

func (t *ttlCache) get(k int64) (bool, bool) {
	t.mu.RLock()
	e, ok := t.m[k]
	t.mu.RUnlock()
	if !ok || t.now().Sub(e.at) >= t.ttl || t.now().Before(e.at) {
		return false, false
	}
	return e.v, true
}

func (t *ttlCache) put(k int64, v bool) {
	t.mu.Lock()
	if len(t.m) > 10000 {
		t.m = map[int64]ttlEntry{}
	}
	t.m[k] = ttlEntry{v: v, at: t.now()}
	t.mu.Unlock()
}
