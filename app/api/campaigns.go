package api

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/app/platform"
)

// campScope is the campaigns a key works on, as the pages' scopes: a
// tenant key its tenant's (tenant id), a platform key for every tenant the
// staff's (0). A platform key limited to chosen tenants has none: a staff
// campaign may reach any tenant.
func campScope(c *fiber.Ctx) (int64, bool) {
	k := keyOf(c)
	if !k.Platform() {
		return k.TenantID, true
	}
	return 0, len(k.Tenants) == 0
}

func noCampaigns(c *fiber.Ctx) error {
	return fail(c, fiber.StatusForbidden, "forbidden", "campaigns need a tenant key or a platform key for every tenant", 0)
}

type campaignJSON struct {
	ID          int64          `json:"id"`
	TenantID    int64          `json:"tenant_id,omitempty"`
	Name        string         `json:"name"`
	TemplateID  int64          `json:"template_id"`
	UserVersion string         `json:"user_version"`
	UserDesc    string         `json:"user_desc"`
	State       string         `json:"state"`
	Seq         int64          `json:"seq"`
	Creator     string         `json:"creator"`
	Approver    string         `json:"approver,omitempty"`
	Wave        int            `json:"wave"`
	CreatedAt   time.Time      `json:"created_at"`
	UpdatedAt   time.Time      `json:"updated_at"`
	FinishedAt  time.Time      `json:"finished_at,omitzero"`
	Progress    *progressJSON  `json:"progress,omitempty"`
	Settings    map[string]any `json:"settings"`
}

type progressJSON struct {
	Total    int            `json:"total"`
	Settled  int            `json:"settled"`
	Percent  int            `json:"percent"`
	Phases   map[string]int `json:"phases"`
	Failures []failureJSON  `json:"failures"`
	ETA      time.Time      `json:"eta,omitzero"`
	Actions  []string       `json:"actions"`
}

type failureJSON struct {
	Errcode int      `json:"errcode"`
	Count   int      `json:"count"`
	Apps    []string `json:"apps"`
}

func campaignOut(m model.Campaign) campaignJSON {
	s := m.CampaignSettings
	out := campaignJSON{ID: m.ID, TenantID: m.TenantID, Name: m.Name, TemplateID: m.TemplateID, UserVersion: m.UserVersion, UserDesc: m.UserDesc,
		State: string(m.State), Seq: m.Seq, Creator: m.Creator, Approver: m.Approver, Wave: m.Wave, CreatedAt: m.CreatedAt.UTC(),
		UpdatedAt: m.UpdatedAt.UTC(), FinishedAt: m.FinishedAt.UTC(),
		Settings: map[string]any{"canary_size": s.CanarySize, "wave_max": s.WaveMax, "concurrency": s.Concurrency,
			"halt_rate": int(s.HaltRate*100 + 0.5), "release_mode": s.ReleaseMode, "gray_percent": s.GrayPercent}}
	if !s.ReleaseAt.IsZero() {
		out.Settings["release_at"] = s.ReleaseAt.UTC()
	}
	return out
}

func (a *API) listCampaigns(c *fiber.Ctx) error {
	tid, ok := campScope(c)
	if !ok {
		return noCampaigns(c)
	}
	cs, err := a.Store.Campaigns(c.UserContext(), tid, 100)
	if err != nil {
		return a.fail(c, err)
	}
	out := make([]campaignJSON, 0, len(cs))
	for _, m := range cs {
		out = append(out, campaignOut(m))
	}
	return c.JSON(fiber.Map{"campaigns": out})
}

func (a *API) getCampaign(c *fiber.Ctx) error {
	tid, ok := campScope(c)
	if !ok {
		return noCampaigns(c)
	}
	id, err := strconv.ParseInt(c.Params("cid"), 10, 64)
	if err != nil {
		return notFound(c, "campaign")
	}
	p, err := a.Platform.Campaigns.Progress(c.UserContext(), tid, id)
	if err != nil {
		return a.fail(c, err)
	}
	out := campaignOut(p.Campaign)
	pj := &progressJSON{Total: p.Total, Settled: p.Settled, Percent: p.Percent, Phases: map[string]int{}, Failures: []failureJSON{}, ETA: p.ETA.UTC(), Actions: []string{}}
	for ph, n := range p.Counts {
		pj.Phases[string(ph)] = n
	}
	for _, f := range p.Failures {
		pj.Failures = append(pj.Failures, failureJSON{Errcode: f.Errcode, Count: f.Count, Apps: f.Apps})
	}
	for _, act := range p.Actions {
		pj.Actions = append(pj.Actions, string(act))
	}
	out.Progress = pj
	return c.JSON(out)
}

// campaignIn is the new campaign form as JSON; the same checks apply
// (platform.CampaignInput.check, the engine's preview).
type campaignIn struct {
	Name        string `json:"name"`
	TemplateID  int64  `json:"template_id"`
	UserVersion string `json:"user_version"`
	UserDesc    string `json:"user_desc"`
	Filter      struct {
		Tenant     int64  `json:"tenant"` // platform keys: one tenant's apps (0: every tenant)
		Tag        string `json:"tag"`
		TemplateID int64  `json:"template_id"` // the live template
		Version    string `json:"version"`     // the live version
		Status     string `json:"status"`
	} `json:"filter"`
	CanarySize  int       `json:"canary_size"`
	WaveMax     int       `json:"wave_max"`
	Concurrency int       `json:"concurrency"`
	HaltRate    int       `json:"halt_rate"` // percent, 1..100
	ReleaseMode string    `json:"release_mode"`
	ReleaseAt   time.Time `json:"release_at"`
	GrayPercent int       `json:"gray_percent"`
}

func (a *API) createCampaign(c *fiber.Ctx) error {
	tid, ok := campScope(c)
	if !ok {
		return noCampaigns(c)
	}
	var in campaignIn
	if err := decode(c, &in); err != nil {
		return a.fail(c, err)
	}
	errs := model.FieldErrors{}
	filter := func(f string) string { return "filter." + f } // JSON paths of the body's fields, not translation keys
	for f, v := range map[string]string{"name": in.Name, "user_version": in.UserVersion, filter("tag"): in.Filter.Tag, filter("version"): in.Filter.Version} {
		if !model.SafeLine(v) {
			errs.Add(f, "form.unsafe_text")
		}
	}
	if !model.SafeLines(in.UserDesc) {
		errs.Add("user_desc", "form.unsafe_text")
	}
	if in.HaltRate < 1 || in.HaltRate > 100 {
		errs.Add("halt_rate", "campaign.err.halt_rate")
	}
	switch in.Filter.Status {
	case "", string(model.AppAuthorized), string(model.AppNeedsReauth), string(model.AppUnauthorized):
	default:
		errs.Add(filter("status"), "form.invalid_choice")
	}
	if in.ReleaseMode == "" {
		in.ReleaseMode = model.ReleaseEach
	}
	if err := errs.Err(); err != nil {
		return a.fail(c, err)
	}
	p := platform.CampaignInput{TenantID: tid, Name: strings.TrimSpace(in.Name), TemplateID: in.TemplateID, UserVersion: strings.TrimSpace(in.UserVersion),
		UserDesc: strings.TrimSpace(in.UserDesc)}
	p.CanarySize, p.WaveMax, p.Concurrency, p.GrayPercent = in.CanarySize, in.WaveMax, in.Concurrency, in.GrayPercent
	p.HaltRate, p.ReleaseMode, p.ReleaseAt = float64(in.HaltRate)/100, in.ReleaseMode, in.ReleaseAt
	if tid == 0 {
		p.Filter.TenantID = in.Filter.Tenant
	}
	p.Filter.Tag, p.Filter.TemplateID, p.Filter.Version, p.Filter.Status = in.Filter.Tag, in.Filter.TemplateID, in.Filter.Version, in.Filter.Status
	m, _, err := a.Platform.Campaigns.Create(c.UserContext(), p, keyOf(c).Actor(c.IP()))
	if err != nil {
		return a.fail(c, err)
	}
	c.Location(paths.APICampaign(m.ID))
	return c.Status(fiber.StatusCreated).JSON(campaignOut(m))
}

// campaignAction pauses, resumes or cancels, as the campaign page's
// buttons do. The body may carry the seq the caller saw ({"seq": N}); without
// it the current one is used.
func (a *API) campaignAction(act model.CampaignAction) fiber.Handler {
	return func(c *fiber.Ctx) error {
		tid, ok := campScope(c)
		if !ok {
			return noCampaigns(c)
		}
		var in struct {
			Seq int64 `json:"seq"`
		}
		if len(c.Body()) > 0 {
			if err := decode(c, &in); err != nil {
				return a.fail(c, err)
			}
		}
		id, err := strconv.ParseInt(c.Params("cid"), 10, 64)
		if err != nil {
			return notFound(c, "campaign")
		}
		cur, err := a.Store.Campaign(c.UserContext(), tid, id)
		if err != nil {
			return a.fail(c, err)
		}
		if in.Seq == 0 {
			in.Seq = cur.Seq
		}
		m, err := a.Platform.Campaigns.Decide(c.UserContext(), tid, id, act, keyOf(c).Actor(c.IP()), in.Seq, "")
		if err != nil {
			return a.fail(c, err)
		}
		return c.JSON(campaignOut(m))
	}
}
