package platform

import (
	"context"
	"encoding/csv"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
)

// FailureGroup is the apps failing with one errcode, with the action.
type FailureGroup struct {
	Errcode int
	Action  model.ErrAction
	Count   int
	Apps    []string // the first few appids
}

// WaveProgress is one wave's outcome so far.
type WaveProgress struct {
	Wave     int
	Size     int
	Decided  int
	Rejected int
}

// CampaignProgress is what the campaign page shows and refreshes live.
type CampaignProgress struct {
	Campaign model.Campaign
	Total    int
	Counts   map[model.Phase]int
	Settled  int // apps needing nothing more
	Percent  int // settled share of the targets, 0..100
	Failures []FailureGroup
	Waves    []WaveProgress
	// ETA is when the campaign should be done, from the audit and
	// preparation times measured (zero when nothing is measured yet or
	// the campaign does not move).
	ETA        time.Time
	AuditMean  time.Duration
	AuditN     int
	DroppedN   int
	Actions    []model.CampaignAction
	Apps       []store.CampaignApp // every target, for the table
	Notice     string
	NoticeData map[string]any
}

// Progress loads a campaign with its apps and computes its counts,
// failures by errcode, waves and ETA. tenantID scopes it (0 for staff).
func (e *Campaigns) Progress(ctx context.Context, tenantID, id int64) (CampaignProgress, error) {
	c, err := e.Store.Campaign(ctx, tenantID, id)
	if err != nil {
		return CampaignProgress{}, err
	}
	apps, err := e.Store.CampaignApps(ctx, id)
	if err != nil {
		return CampaignProgress{}, err
	}
	p := CampaignProgress{Campaign: c, Counts: map[model.Phase]int{}, Apps: apps, Actions: c.State.Actions(),
		Notice: c.Notice, NoticeData: model.ParseNoticeData(c.NoticeData)}
	byCode := map[int]*FailureGroup{}
	waves := map[int]*WaveProgress{}
	unsubmitted := 0
	for _, a := range apps {
		ph := a.Phase()
		p.Counts[ph]++
		if ph != model.PhSkipped {
			p.Total++
		}
		if ph.Settled() && ph != model.PhSkipped || a.Stuck() || ph == model.PhFailed && a.RetryAt.IsZero() {
			p.Settled++
		}
		if ph == model.PhFailed {
			g := byCode[a.Errcode]
			if g == nil {
				g = &FailureGroup{Errcode: a.Errcode, Action: model.ErrActionFor(a.Errcode)}
				byCode[a.Errcode] = g
			}
			g.Count++
			if len(g.Apps) < 5 {
				g.Apps = append(g.Apps, a.AppID)
			}
		}
		switch ph {
		case model.PhQueued, model.PhPreparing, model.PhAwaiting, model.PhDeferred:
			unsubmitted++
		}
		if a.Wave > 0 {
			w := waves[a.Wave]
			if w == nil {
				w = &WaveProgress{Wave: a.Wave}
				waves[a.Wave] = w
			}
			w.Size++
			if ph.Decided() {
				w.Decided++
			}
			if ph == model.PhRejected {
				w.Rejected++
			}
		}
	}
	if p.Total > 0 {
		p.Percent = p.Settled * 100 / p.Total
	}
	for _, g := range byCode {
		p.Failures = append(p.Failures, *g)
	}
	slices.SortFunc(p.Failures, func(a, b FailureGroup) int { return b.Count - a.Count })
	for _, w := range waves {
		p.Waves = append(p.Waves, *w)
	}
	slices.SortFunc(p.Waves, func(a, b WaveProgress) int { return a.Wave - b.Wave })
	p.DroppedN = p.Counts[model.PhDropped]

	audit, prep, n, err := e.Store.AuditDurations(ctx, id, 200)
	if err == nil && n == 0 {
		audit, prep, n, err = e.Store.AuditDurations(ctx, 0, 200) // nothing decided yet: the platform's recent audits
	}
	if err != nil {
		return p, err
	}
	p.AuditMean, p.AuditN = audit, n
	p.ETA = eta(c, p, unsubmitted, audit, prep, n, e.Now())
	return p, nil
}

// eta estimates when the campaign is done: the apps not yet submitted go
// through in rounds of the concurrency, each round taking the measured
// preparation time; the last round's audits take the measured audit time.
// A release at a chosen time can end it no sooner than that time.
func eta(c model.Campaign, p CampaignProgress, unsubmitted int, audit, prep time.Duration, samples int, now time.Time) time.Time {
	if samples == 0 || c.State != model.CampRunning || p.Settled == p.Total {
		return time.Time{}
	}
	rounds := (unsubmitted + c.Concurrency - 1) / c.Concurrency
	inReview := p.Counts[model.PhInReview] + unsubmitted
	d := time.Duration(rounds) * prep
	if inReview > 0 {
		d += audit
	}
	t := now.Add(d)
	if c.ReleaseMode == model.ReleaseAt && t.Before(c.ReleaseAt) {
		t = c.ReleaseAt
	}
	return t
}

// WriteReport writes the campaign's CSV report: one row per app with its
// wave, phase, release state, errcode and the times of its submission,
// decision and release. label turns a translation key into text.
func (e *Campaigns) WriteReport(ctx context.Context, w io.Writer, tenantID, id int64, label func(key string) string) error {
	p, err := e.Progress(ctx, tenantID, id)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"appid", "nickname", "tenant", "wave", "phase", "release_id", "release_state", "errcode", "next_action",
		"reason", "submitted_at", "decided_at", "released_at"})
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, a := range p.Apps {
		ph := a.Phase()
		action, reason := "", a.Reason
		if ph == model.PhFailed {
			action = label(model.ErrActionFor(a.Errcode).Key)
		}
		if reason != "" {
			reason = label(reasonKey(ph, reason))
		} else if ph == model.PhRejected {
			reason = strings.Join(model.ReasonLines(a.AuditReason), "\n")
		}
		_ = cw.Write([]string{a.AppID, csvSafe(a.Nickname), csvSafe(a.TenantName), strconv.Itoa(a.Wave), label("campaign.phase." + string(ph)),
			strconv.FormatInt(a.ReleaseID, 10), string(a.RelState), strconv.Itoa(a.Errcode), action, csvSafe(reason),
			ts(a.SubmittedAt), ts(a.DecidedAt), ts(a.ReleasedAt)})
	}
	cw.Flush()
	return cw.Error()
}

// reasonKey is the translation key of a skip or drop reason.
func reasonKey(ph model.Phase, reason string) string {
	if ph == model.PhSkipped {
		return "campaign.skip." + reason
	}
	return reason // drop reasons are keys already
}

// csvSafe keeps a spreadsheet from reading a cell as a formula.
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') {
		return "'" + s
	}
	return s
}
