package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/store"
)

// appJSON is an app as the API shows it.
type appJSON struct {
	AppID           string    `json:"appid"`
	TenantID        int64     `json:"tenant_id"`
	TenantName      string    `json:"tenant_name,omitempty"`
	Nickname        string    `json:"nickname"`
	UserName        string    `json:"user_name"`
	PrincipalName   string    `json:"principal_name"`
	Status          string    `json:"status"`
	TokenState      string    `json:"token_state"`
	ReleasedVersion string    `json:"released_version,omitempty"`
	AuthorizedAt    time.Time `json:"authorized_at,omitzero"`
	UpdatedAt       time.Time `json:"updated_at,omitzero"`
}

func appOut(x model.App) appJSON {
	return appJSON{AppID: x.AppID, TenantID: x.TenantID, TenantName: x.TenantName, Nickname: x.Nickname, UserName: x.UserName,
		PrincipalName: x.PrincipalName, Status: string(x.DisplayStatus()), TokenState: x.TokenState, ReleasedVersion: x.ReleasedVersion,
		AuthorizedAt: x.AuthorizedAt.UTC(), UpdatedAt: x.UpdatedAt.UTC()}
}

// cursor is an opaque position in a list: "o<offset>" (apps) or
// "b<id>" (before an id), base64url.
func cursorOf(kind byte, n int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(string(kind) + strconv.FormatInt(n, 10)))
}

func parseCursor(s string, kind byte) (int64, bool) {
	if s == "" {
		return 0, true
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 2 || b[0] != kind {
		return 0, false
	}
	n, err := strconv.ParseInt(string(b[1:]), 10, 64)
	return n, err == nil && n >= 0
}

// limitOf is the ?limit= (1..100, default 50).
func limitOf(c *fiber.Ctx) (int, bool) {
	s := c.Query("limit")
	if s == "" {
		return 50, true
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 1 && n <= 100
}

// listApps: the staff apps list's filters (status, problems, q) within the
// key's tenants, paged by cursor.
func (a *API) listApps(c *fiber.Ctx) error {
	k := keyOf(c)
	limit, ok := limitOf(c)
	if !ok {
		return badRequest(c, "limit must be a whole number from 1 to 100")
	}
	off, ok := parseCursor(c.Query("cursor"), 'o')
	if !ok {
		return badRequest(c, "cursor is not one this API returned")
	}
	f := store.AppFilter{Query: strings.TrimSpace(c.Query("q")), Status: c.Query("status"), Problems: c.Query("problems") == "true" || c.Query("problems") == "1",
		Offset: int(off), Limit: limit}
	switch f.Status {
	case "", string(model.AppAuthorized), string(model.AppNeedsReauth), string(model.AppUnauthorized), string(model.AppPending), "unbound":
	default:
		return badRequest(c, "status must be one of authorized, needs_reauth, unauthorized, pending, unbound")
	}
	if t := c.Query("tenant"); t != "" {
		id, err := strconv.ParseInt(t, 10, 64)
		if err != nil || !k.Reaches(id) {
			return notFound(c, "tenant")
		}
		f.TenantID = id
	}
	switch {
	case !k.Platform():
		f.TenantID = k.TenantID
	case f.TenantID == 0 && len(k.Tenants) == 1:
		f.TenantID = k.Tenants[0]
	case f.TenantID == 0 && len(k.Tenants) > 1:
		return badRequest(c, "this key reaches chosen tenants: name one with ?tenant=")
	}
	if f.Status == "unbound" && f.TenantID != 0 {
		return c.JSON(fiber.Map{"apps": []appJSON{}, "total": 0, "more": false})
	}
	page, err := a.Store.StaffApps(c.UserContext(), f)
	if err != nil {
		return a.fail(c, err)
	}
	out := make([]appJSON, 0, len(page.Apps))
	for _, x := range page.Apps {
		out = append(out, appOut(x))
	}
	res := fiber.Map{"apps": out, "total": page.Total, "more": page.More}
	if next := f.Offset + len(page.Apps); len(page.Apps) == limit && (next < page.Total || page.More) {
		res["next_cursor"] = cursorOf('o', int64(next))
	}
	return c.JSON(res)
}

// loadApp is :appid within the key's tenants (another tenant's app, or an
// app of no tenant, is not found).
func (a *API) loadApp(c *fiber.Ctx) (model.App, error) {
	k, appID := keyOf(c), c.Params("appid")
	tid := k.TenantID
	if k.Platform() {
		au, err := a.Store.Authorizer(c.UserContext(), appID)
		if err != nil {
			return model.App{}, err
		}
		if !k.Reaches(au.TenantID) {
			return model.App{}, model.NotFound("app")
		}
		tid = au.TenantID
	}
	return a.Store.App(c.UserContext(), tid, appID)
}

func (a *API) getApp(c *fiber.Ctx) error {
	x, err := a.loadApp(c)
	if err != nil {
		return a.fail(c, err)
	}
	return c.JSON(appOut(x))
}

// configJSON is one immutable config version.
type configJSON struct {
	Version      int64           `json:"version"`
	TemplateID   int64           `json:"template_id"`
	Config       json.RawMessage `json:"config,omitempty"`
	Extra        json.RawMessage `json:"extra,omitempty"`
	Author       string          `json:"author"`
	Note         string          `json:"note"`
	RestoredFrom int64           `json:"restored_from,omitempty"`
	CreatedAt    time.Time       `json:"created_at"`
}

func configOut(x model.AppConfig, full bool) configJSON {
	out := configJSON{Version: x.Version, TemplateID: x.TemplateID, Author: x.Author, Note: x.Note, RestoredFrom: x.RestoredFrom, CreatedAt: x.CreatedAt.UTC()}
	if full {
		out.Config, out.Extra = json.RawMessage(x.JSON), json.RawMessage(x.Extra)
		if x.Extra == "" {
			out.Extra = json.RawMessage("{}")
		}
	}
	return out
}

// getConfig: the newest config version (or ?version=N) and the list of
// versions, newest first.
func (a *API) getConfig(c *fiber.Ctx) error {
	x, err := a.loadApp(c)
	if err != nil {
		return a.fail(c, err)
	}
	ctx := c.UserContext()
	var cur model.AppConfig
	if v := c.Query("version"); v != "" {
		n, perr := strconv.ParseInt(v, 10, 64)
		if perr != nil {
			return badRequest(c, "version must be a whole number")
		}
		cur, err = a.Store.Config(ctx, x.TenantID, x.AppID, n)
	} else {
		cur, err = a.Store.LatestConfig(ctx, x.TenantID, x.AppID)
	}
	if err != nil {
		return a.fail(c, err)
	}
	all, err := a.Store.ListConfigs(ctx, x.TenantID, x.AppID)
	if err != nil {
		return a.fail(c, err)
	}
	versions := make([]configJSON, 0, len(all))
	for _, v := range all {
		versions = append(versions, configOut(v, false))
	}
	return c.JSON(fiber.Map{"config": configOut(cur, true), "versions": versions})
}

// configIn is a config write: the template, the form's fields by the
// config form's names ("shopName", "banners.0.title", "extra.window") and
// a note. The same schema rules as the form apply (Releases.SaveConfig).
type configIn struct {
	TemplateID int64                      `json:"template_id"`
	Values     map[string]json.RawMessage `json:"values"`
	Note       string                     `json:"note"`
}

func (a *API) saveConfig(c *fiber.Ctx) error {
	var in configIn
	if err := decode(c, &in); err != nil {
		return a.fail(c, err)
	}
	x, err := a.loadApp(c)
	if err != nil {
		return a.fail(c, err)
	}
	errs := model.FieldErrors{}
	if in.TemplateID <= 0 {
		errs.Add("template_id", "release.err.template_required")
	}
	if !model.SafeLines(in.Note) || len([]rune(in.Note)) > 200 {
		errs.Add("note", "form.unsafe_text")
	}
	form := url.Values{}
	for name, raw := range in.Values {
		var one string
		var many []string
		switch {
		case json.Unmarshal(raw, &one) == nil:
			form.Set(name, one)
		case json.Unmarshal(raw, &many) == nil:
			form[name] = many
		default:
			errs.Add("values."+name, "form.invalid_choice")
		}
	}
	if err := errs.Err(); err != nil {
		return a.fail(c, err)
	}
	saved, err := a.Platform.Releases.SaveConfig(c.UserContext(), keyOf(c).Actor(c.IP()), x.TenantID, x.AppID, in.TemplateID, form, in.Note)
	var bad *platform.ConfigInvalid
	if errors.As(err, &bad) {
		e := apiError{Code: "invalid", Message: "the config does not pass the template's schema", Fields: map[string]string{}}
		for f, m := range bad.Fields {
			e.Fields[f] = a.msg(m.Key, m.Args)
		}
		return c.Status(fiber.StatusUnprocessableEntity).JSON(fiber.Map{"error": e})
	}
	if err != nil {
		return a.fail(c, err)
	}
	return c.Status(fiber.StatusCreated).JSON(configOut(saved, true))
}
