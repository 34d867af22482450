package platform

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/minifleet/minifleet/app/extconfig"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
)

// Campaigns ships one template version to many apps: targets chosen by a
// filter, one approval for the whole payload set (two-person rule), a
// canary wave, later waves sized by the audit quota left, automatic halt on
// a wave's rejection rate, a retry policy per errcode, and release as each
// app passes or all at a chosen time. Each target runs the per-app release
// pipeline (Releases); the campaign keeps only its own decisions, so a
// restart resumes from the database. Platform.New builds it; Platform.Run runs
// the engine.
type Campaigns struct {
	Store  *store.Store
	Rel    *Releases
	Hub    *Hub
	Now    func() time.Time
	Log    *slog.Logger
	Holder string

	Policy model.RetryPolicy
	// Tick is the engine's period when nothing wakes it sooner.
	Tick time.Duration
	// MinGap spaces the engine's passes when task completions and release
	// events wake it often (a 1,000-app wave), so it never spins.
	MinGap time.Duration
	// QuotaRecheck is how often a campaign waiting for quota asks
	// queryquota whether the window has reopened.
	QuotaRecheck time.Duration

	kick chan struct{}

	mu      sync.Mutex
	driving map[int64]map[string]bool // campaign → appids with a task running in this process
	quotaAt map[int64]time.Time       // campaign → last queryquota while waiting
	sigs    map[int64]uint64          // campaign → what the last published progress was made of
}

// newCampaigns builds the campaign engine over p's release pipeline.
func newCampaigns(p *Platform) *Campaigns {
	return &Campaigns{
		Store: p.Store, Rel: p.Releases, Hub: p.Hub, Now: p.now, Log: p.log, Holder: p.holder,
		Policy: model.DefaultRetryPolicy, Tick: time.Second, MinGap: 100 * time.Millisecond, QuotaRecheck: 10 * time.Minute,
		kick: make(chan struct{}, 1), driving: map[int64]map[string]bool{}, quotaAt: map[int64]time.Time{}, sigs: map[int64]uint64{},
	}
}

// Kick wakes the engine now.
func (e *Campaigns) Kick() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// CampaignInput is what a creator chooses.
type CampaignInput struct {
	TenantID    int64 // 0: a staff campaign; else targets only this tenant's apps
	Name        string
	TemplateID  int64
	UserVersion string
	UserDesc    string
	Filter      store.CandidateFilter
	model.CampaignSettings
}

func (in CampaignInput) check(now time.Time) error {
	switch {
	case strings.TrimSpace(in.Name) == "":
		return model.FieldError("name", "form.required")
	case utf8.RuneCountInString(in.Name) > 80:
		return model.FieldError("name", "form.too_long")
	case in.TemplateID <= 0:
		return model.FieldError("template_id", "release.err.template_required")
	case strings.TrimSpace(in.UserVersion) == "":
		return model.FieldError("user_version", "form.required")
	case utf8.RuneCountInString(in.UserVersion) > model.MaxUserVersionLen:
		return model.FieldError("user_version", "form.too_long")
	case utf8.RuneCountInString(in.UserDesc) > 200:
		return model.FieldError("user_desc", "form.too_long")
	}
	return in.CampaignSettings.Check(now)
}

// TargetRow is one app of a preview.
type TargetRow struct {
	AppID      string
	Nickname   string
	TenantID   int64
	TenantName string
	Reason     string // skip reason, "" for a target
	extHash    string
}

// CampaignPreview is what a campaign would do: its targets and the apps it
// would skip, each with the reason.
type CampaignPreview struct {
	Targets []TargetRow
	Skipped []TargetRow
	SkipBy  map[string]int // reason → count
	SetHash string
}

// Preview evaluates the filter without creating anything.
func (e *Campaigns) Preview(ctx context.Context, in CampaignInput) (CampaignPreview, error) {
	if err := in.check(e.Now()); err != nil {
		return CampaignPreview{}, err
	}
	tpl, err := e.Store.Template(ctx, in.TemplateID)
	if err != nil {
		return CampaignPreview{}, model.FieldError("template_id", "release.err.template_required")
	}
	if !tpl.DeletedAt.IsZero() || tpl.SchemaJSON == "" {
		return CampaignPreview{}, model.FieldError("template_id", "campaign.err.template_unusable")
	}
	f := in.Filter
	f.TenantID = in.TenantID
	if in.TenantID == 0 {
		f.TenantID = in.Filter.TenantID
	}
	cands, err := e.Store.CampaignCandidates(ctx, f)
	if err != nil {
		return CampaignPreview{}, err
	}
	p := CampaignPreview{SkipBy: map[string]int{}}
	var targets []model.CampaignTarget
	risky, err := e.Store.RiskyAppIDs(ctx, f.TenantID) // apps with any risky check: look closer at those
	if err != nil {
		return CampaignPreview{}, err
	}
	for _, c := range cands {
		row := TargetRow{AppID: c.App.AppID, Nickname: c.App.Nickname, TenantID: c.App.TenantID, TenantName: c.App.TenantName}
		row.Reason = skipReason(c, in)
		if _, ok := risky[c.App.AppID]; ok && row.Reason == "" {
			if _, bad, err := e.Rel.RiskyInConfig(ctx, c.App.TenantID, c.App.AppID); err != nil {
				return CampaignPreview{}, err
			} else if bad {
				row.Reason = model.SkipContentRisky
			}
		}
		if row.Reason == "" {
			ext, _, _, err := e.Rel.renderExtJSON(ctx, c.App.TenantID, c.App.AppID, in.TemplateID)
			var fe extconfig.FieldErrors
			var me *model.Error
			switch {
			case errors.As(err, &fe), errors.As(err, &me):
				row.Reason = model.SkipConfigInvalid
			case err != nil:
				return CampaignPreview{}, err
			default:
				row.extHash = model.ExtHash(ext)
			}
		}
		if row.Reason != "" {
			p.Skipped = append(p.Skipped, row)
			p.SkipBy[row.Reason]++
			continue
		}
		p.Targets = append(p.Targets, row)
		targets = append(targets, model.CampaignTarget{AppID: row.AppID, TenantID: row.TenantID, ExtHash: row.extHash})
	}
	p.SetHash = model.CampaignSetHash(in.TemplateID, in.UserVersion, in.UserDesc, targets)
	return p, nil
}

// skipReason says why an app cannot be a target, "" when it can.
func skipReason(c store.CampaignCandidate, in CampaignInput) string {
	a := c.App
	switch {
	case a.Status == string(model.AppUnauthorized):
		return model.SkipUnauthorized
	case a.ReauthReason == model.ReauthMissingCodePerm || !slices.Contains(a.PermissionSets, model.PermissionSetCodeManagement):
		return model.SkipNoCodePerm
	case a.ReauthReason != "" || a.TokenState == "needs_reauth" || a.Status != string(model.AppAuthorized):
		return model.SkipNeedsReauth
	case c.OpenState == model.RelSubmitting || c.OpenState == model.RelAuditing || c.OpenState == model.RelDelayed:
		return model.SkipAuditInFlight
	case c.OpenState != "":
		return model.SkipOpenRelease
	case c.LiveTplID == in.TemplateID && c.LiveVersion == in.UserVersion:
		return model.SkipAlreadyCurrent
	}
	return ""
}

// Create stores a campaign awaiting approval: its targets with the hash of
// the ext_json rendered for each now, and the skipped apps with reasons.
// A campaign with no target is refused (invalid "campaign.err.no_targets").
func (e *Campaigns) Create(ctx context.Context, in CampaignInput, creator model.Actor) (model.Campaign, CampaignPreview, error) {
	p, err := e.Preview(ctx, in)
	if err != nil {
		return model.Campaign{}, p, err
	}
	if len(p.Targets) == 0 {
		return model.Campaign{}, p, model.Errorf(model.CodeInvalid, "campaign.err.no_targets")
	}
	targets := make([]model.CampaignTarget, 0, len(p.Targets))
	for _, t := range p.Targets {
		targets = append(targets, model.CampaignTarget{AppID: t.AppID, TenantID: t.TenantID, ExtHash: t.extHash})
	}
	skipped := make([]store.SkippedApp, 0, len(p.Skipped))
	for _, s := range p.Skipped {
		skipped = append(skipped, store.SkippedApp{AppID: s.AppID, TenantID: s.TenantID, Reason: s.Reason})
	}
	c := model.Campaign{TenantID: in.TenantID, Name: strings.TrimSpace(in.Name), TemplateID: in.TemplateID,
		UserVersion: strings.TrimSpace(in.UserVersion), UserDesc: in.UserDesc, Filter: describeFilter(in.Filter),
		CampaignSettings: in.CampaignSettings, SetHash: p.SetHash, CreatorID: creator.UserID, Creator: creator.Label}
	c, err = e.Store.CreateCampaign(ctx, c, targets, skipped)
	if err == nil {
		e.publish(c)
	}
	return c, p, err
}

func describeFilter(f store.CandidateFilter) string {
	var parts []string
	if f.TenantID != 0 {
		parts = append(parts, fmt.Sprintf("tenant=%d", f.TenantID))
	}
	if f.Tag != "" {
		parts = append(parts, "tag="+f.Tag)
	}
	if f.TemplateID != 0 {
		parts = append(parts, fmt.Sprintf("template=%d", f.TemplateID))
	}
	if f.Version != "" {
		parts = append(parts, "version="+f.Version)
	}
	if f.Status != "" {
		parts = append(parts, "status="+f.Status)
	}
	return strings.Join(parts, " ")
}

// Decide applies a person's action. tenantID scopes the campaign (0 for
// staff). Approve needs shownHash, the payload-set hash the approver saw,
// and someone other than the creator. Cancel also cancels the campaign's
// releases that were not submitted yet.
func (e *Campaigns) Decide(ctx context.Context, tenantID, id int64, a model.CampaignAction, actor model.Actor, seenSeq int64, shownHash string) (model.Campaign, error) {
	c, err := e.Store.DecideCampaign(ctx, tenantID, id, a, actor, seenSeq, shownHash)
	if err != nil {
		return c, err
	}
	if a == model.CampActCancel {
		e.cancelOpen(ctx, c, actor)
	}
	e.publish(c)
	e.Kick()
	return c, nil
}

// cancelOpen cancels the campaign's releases that can still be cancelled
// and are not being driven here; the engine catches the rest later.
func (e *Campaigns) cancelOpen(ctx context.Context, c model.Campaign, actor model.Actor) {
	apps, err := e.Store.CampaignApps(ctx, c.ID)
	if err != nil {
		e.Log.Warn("campaign cancel", "campaign", c.ID, "err", err)
		return
	}
	e.cancelReleases(ctx, c, apps, actor)
}

// cancelReleases cancels, as actor, each release of the campaign in a
// cancellable state that no task of this process is driving.
func (e *Campaigns) cancelReleases(ctx context.Context, c model.Campaign, apps []store.CampaignApp, actor model.Actor) {
	for _, a := range apps {
		if a.ReleaseID == 0 || e.isDriving(c.ID, a.AppID) || !cancellable[a.RelState] {
			continue
		}
		rel, err := e.Store.Release(ctx, a.TenantID, a.ReleaseID)
		if err != nil {
			continue
		}
		cause := userCause(actor, rel.Seq)
		cause.Detail = fmt.Sprintf("campaign #%d cancelled", c.ID)
		if _, err := e.Rel.move(ctx, rel, model.EvCancel, cause); err != nil && model.ErrorCode(err) != model.CodeConflict {
			e.Log.Warn("campaign cancel release", "release", rel.ID, "err", err)
		}
	}
}

// cancellable are the states of a campaign's releases that a cancel ends:
// nothing submitted yet. Rejected and approved ones keep their outcome.
var cancellable = map[model.ReleaseState]bool{
	model.RelDraft: true, model.RelCommitted: true, model.RelPrivacyScan: true, model.RelPreflight: true,
	model.RelPreflightFailed: true, model.RelAwaitingApproval: true, model.RelCommitFailed: true, model.RelSubmitFailed: true,
}

func (e *Campaigns) publish(c model.Campaign) {
	e.Hub.Publish(Event{Name: EventCampaign, TenantID: c.TenantID, Campaign: c.ID})
}

func (e *Campaigns) isDriving(id int64, appID string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.driving[id][appID]
}
