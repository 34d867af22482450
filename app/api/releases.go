package api

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/paths"
)

// releaseJSON is a release as the API shows it (never the ext_json's
// secrets: it holds none, but the payload is the approver's to read).
type releaseJSON struct {
	ID          int64     `json:"id"`
	AppID       string    `json:"appid"`
	TemplateID  int64     `json:"template_id"`
	UserVersion string    `json:"user_version"`
	UserDesc    string    `json:"user_desc"`
	State       string    `json:"state"`
	Seq         int64     `json:"seq"`
	PayloadHash string    `json:"payload_hash"`
	Preparer    string    `json:"preparer"`
	Approver    string    `json:"approver,omitempty"`
	Errcode     int       `json:"errcode,omitempty"`
	NextAction  string    `json:"next_action,omitempty"` // after a failure: retry, wait or stop
	Reason      string    `json:"reason,omitempty"`
	CampaignID  int64     `json:"campaign_id,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	SubmittedAt time.Time `json:"submitted_at,omitzero"`
	ReleasedAt  time.Time `json:"released_at,omitzero"`
}

func releaseOut(r model.Release) releaseJSON {
	out := releaseJSON{ID: r.ID, AppID: r.AppID, TemplateID: r.TemplateID, UserVersion: r.UserVersion, UserDesc: r.UserDesc,
		State: string(r.State), Seq: r.Seq, PayloadHash: r.PayloadHash, Preparer: r.Preparer, Approver: r.Approver, Errcode: r.Errcode,
		Reason: r.Reason, CampaignID: r.CampaignID, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		SubmittedAt: r.SubmittedAt.UTC(), ReleasedAt: r.ReleasedAt.UTC()}
	if act, ok := r.ErrAction(); ok {
		switch {
		case act.Retry:
			out.NextAction = "retry"
		case act.Wait:
			out.NextAction = "wait"
		default:
			out.NextAction = "stop"
		}
	}
	return out
}

// listReleases: the app's releases, newest first, paged by cursor.
func (a *API) listReleases(c *fiber.Ctx) error {
	limit, ok := limitOf(c)
	if !ok {
		return badRequest(c, "limit must be a whole number from 1 to 100")
	}
	before, ok := parseCursor(c.Query("cursor"), 'b')
	if !ok {
		return badRequest(c, "cursor is not one this API returned")
	}
	x, err := a.loadApp(c)
	if err != nil {
		return a.fail(c, err)
	}
	rs, err := a.Store.ReleasesBefore(c.UserContext(), x.TenantID, x.AppID, before, limit+1)
	if err != nil {
		return a.fail(c, err)
	}
	res := fiber.Map{}
	if len(rs) > limit {
		rs = rs[:limit]
		res["next_cursor"] = cursorOf('b', rs[limit-1].ID)
	}
	out := make([]releaseJSON, 0, len(rs))
	for _, r := range rs {
		out = append(out, releaseOut(r))
	}
	res["releases"] = out
	return c.JSON(res)
}

func (a *API) getRelease(c *fiber.Ctx) error {
	x, err := a.loadApp(c)
	if err != nil {
		return a.fail(c, err)
	}
	id, err := strconv.ParseInt(c.Params("rid"), 10, 64)
	if err != nil {
		return notFound(c, "release")
	}
	r, err := a.Store.Release(c.UserContext(), x.TenantID, id)
	if err != nil || r.AppID != x.AppID {
		return notFound(c, "release")
	}
	return c.JSON(releaseOut(r))
}

// releaseIn starts a release as the releases page does: the template
// version and its description. The API then commits it (the page's
// "continue"); it stops at awaiting approval, for a person to approve.
type releaseIn struct {
	TemplateID  int64  `json:"template_id"`
	UserVersion string `json:"user_version"`
	UserDesc    string `json:"user_desc"`
}

func (a *API) createRelease(c *fiber.Ctx) error {
	var in releaseIn
	if err := decode(c, &in); err != nil {
		return a.fail(c, err)
	}
	x, err := a.loadApp(c)
	if err != nil {
		return a.fail(c, err)
	}
	errs := model.FieldErrors{}
	in.UserVersion, in.UserDesc = strings.TrimSpace(in.UserVersion), strings.TrimSpace(in.UserDesc)
	if in.TemplateID <= 0 {
		errs.Add("template_id", "release.err.template_required")
	}
	switch {
	case in.UserVersion == "":
		errs.Add("user_version", "form.required")
	case !model.SafeLine(in.UserVersion):
		errs.Add("user_version", "form.unsafe_text")
	case utf8.RuneCountInString(in.UserVersion) > model.MaxUserVersionLen:
		errs.Add("user_version", "form.too_long")
	}
	if !model.SafeLines(in.UserDesc) {
		errs.Add("user_desc", "form.unsafe_text")
	}
	if err := errs.Err(); err != nil {
		return a.fail(c, err)
	}
	ctx, who := c.UserContext(), keyOf(c).Actor(c.IP())
	r, err := a.Platform.Releases.PrepareRelease(ctx, x.TenantID, x.AppID, in.TemplateID, in.UserVersion, in.UserDesc, who)
	if err != nil {
		return a.fail(c, err)
	}
	// Commit as the page's "continue" does; a failure is the release's state
	// (its errcode and next action), which the answer shows.
	if _, cerr := a.Platform.Releases.Commit(ctx, x.TenantID, r.ID, who, r.Seq); cerr != nil {
		a.Log.Warn("api: commit after prepare", "appid", x.AppID, "release", r.ID, "err", cerr)
	}
	if now, rerr := a.Store.Release(ctx, x.TenantID, r.ID); rerr == nil {
		r = now
	}
	c.Location(paths.APIRelease(x.AppID, r.ID))
	return c.Status(fiber.StatusCreated).JSON(releaseOut(r))
}
