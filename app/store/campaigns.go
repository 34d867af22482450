package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/minifleet/minifleet/app/model"
)

// Campaign actions in the activity log (translation keys "activity.<action>").
const (
	ActCampaignCreate   = "campaign_created"
	ActCampaignApprove  = "campaign_approved"
	ActCampaignPause    = "campaign_paused"
	ActCampaignResume   = "campaign_resumed"
	ActCampaignCancel   = "campaign_cancelled"
	ActCampaignWave     = "campaign_wave"
	ActCampaignHalt     = "campaign_halted"
	ActCampaignQuota    = "campaign_waiting_quota"
	ActCampaignDone     = "campaign_done"
	ActCampaignDecision = "campaign_decision" // one app: skipped, dropped, deferred, retried, left failed
)

const campaignCols = `id, COALESCE(tenant_id, 0), name, template_id, user_version, user_desc, filter, canary_size, wave_max,
	concurrency, halt_permille, release_mode, COALESCE(release_at, 0), gray_percent, state, seq, set_hash, creator_id, creator,
	COALESCE(approver_id, 0), approver, approved_hash, COALESCE(approved_at, 0), wave, notice, notice_data, COALESCE(resume_at, 0),
	created_at, updated_at, COALESCE(finished_at, 0)`

func scanCampaign(sc interface{ Scan(...any) error }) (model.Campaign, error) {
	var c model.Campaign
	var state string
	var permille int
	var relAt, approved, resume, created, updated, finished int64
	err := sc.Scan(&c.ID, &c.TenantID, &c.Name, &c.TemplateID, &c.UserVersion, &c.UserDesc, &c.Filter, &c.CanarySize, &c.WaveMax,
		&c.Concurrency, &permille, &c.ReleaseMode, &relAt, &c.GrayPercent, &state, &c.Seq, &c.SetHash, &c.CreatorID, &c.Creator,
		&c.ApproverID, &c.Approver, &c.ApprovedHash, &approved, &c.Wave, &c.Notice, &c.NoticeData, &resume,
		&created, &updated, &finished)
	c.State, c.HaltRate = model.CampaignState(state), float64(permille)/1000
	c.ReleaseAt, c.ApprovedAt, c.ResumeAt = unix(relAt), unix(approved), unix(resume)
	c.CreatedAt, c.UpdatedAt, c.FinishedAt = unix(created), unix(updated), unix(finished)
	return c, err
}

// SkippedApp is an app left out of a campaign at creation, and why.
type SkippedApp struct {
	AppID    string
	TenantID int64
	Reason   string // model.Skip*
}

// CreateCampaign stores a campaign awaiting approval with its targets
// (queued) and the apps it skipped, and logs it.
func (s *Store) CreateCampaign(ctx context.Context, c model.Campaign, targets []model.CampaignTarget, skipped []SkippedApp) (model.Campaign, error) {
	now := s.now()
	c.State, c.Seq, c.CreatedAt, c.UpdatedAt = model.CampAwaitingApproval, 0, unix(now), unix(now)
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO campaigns (tenant_id, name, template_id, user_version, user_desc, filter,
			canary_size, wave_max, concurrency, halt_permille, release_mode, release_at, gray_percent, state, seq, set_hash,
			creator_id, creator, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,0,?,?,?,?,?)`,
			nullID(c.TenantID), c.Name, c.TemplateID, c.UserVersion, c.UserDesc, c.Filter, c.CanarySize, c.WaveMax, c.Concurrency,
			int(math.Round(c.HaltRate*1000)), c.ReleaseMode, nullTime(c.ReleaseAt), c.GrayPercent, string(c.State), c.SetHash,
			c.CreatorID, c.Creator, now, now)
		if err != nil {
			return err
		}
		c.ID, _ = res.LastInsertId()
		ins, err := tx.PrepareContext(ctx, `INSERT INTO campaign_apps (campaign_id, appid, tenant_id, ext_hash, state, reason) VALUES (?,?,?,?,?,?)`)
		if err != nil {
			return err
		}
		defer ins.Close()
		for _, t := range targets {
			if _, err := ins.ExecContext(ctx, c.ID, t.AppID, t.TenantID, t.ExtHash, string(model.CAQueued), ""); err != nil {
				return err
			}
		}
		for _, k := range skipped {
			if _, err := ins.ExecContext(ctx, c.ID, k.AppID, k.TenantID, "", string(model.CASkipped), k.Reason); err != nil {
				return err
			}
		}
		return s.logTx(ctx, tx, model.Actor{UserID: c.CreatorID, Label: c.Creator}, c.TenantID, ActCampaignCreate, campaignObject(c.ID),
			fmt.Sprintf("%s %s: %d apps, %d skipped", c.Name, c.UserVersion, len(targets), len(skipped)))
	})
	return c, err
}

func campaignObject(id int64) string { return fmt.Sprintf("campaign #%d", id) }

// Campaign loads a campaign. tenantID scopes it: a tenant sees only its
// own; staff pass 0 and see every campaign.
func (s *Store) Campaign(ctx context.Context, tenantID, id int64) (model.Campaign, error) {
	q, args := `SELECT `+campaignCols+` FROM campaigns WHERE id = ?`, []any{id}
	if tenantID != 0 {
		q, args = q+` AND tenant_id = ?`, append(args, tenantID)
	}
	c, err := scanCampaign(s.readRow(ctx, q, args...))
	return c, notFound(err, "campaign")
}

// Campaigns lists campaigns newest first: a tenant's own (tenantID), or
// every one for staff (0).
func (s *Store) Campaigns(ctx context.Context, tenantID int64, limit int) ([]model.Campaign, error) {
	q, args := `SELECT `+campaignCols+` FROM campaigns`, []any{}
	if tenantID != 0 {
		q, args = q+` WHERE tenant_id = ?`, append(args, tenantID)
	}
	return s.queryCampaigns(ctx, q+` ORDER BY id DESC LIMIT ?`, append(args, limit)...)
}

// ActiveCampaigns lists the campaigns the engine drives, and cancelled
// ones with releases still to cancel.
func (s *Store) ActiveCampaigns(ctx context.Context) ([]model.Campaign, error) {
	return s.queryCampaigns(ctx, `SELECT `+campaignCols+` FROM campaigns WHERE state IN ('running', 'paused', 'halted', 'waiting_quota')
		OR (state = 'cancelled' AND EXISTS (SELECT 1 FROM releases r WHERE r.campaign_id = campaigns.id AND r.open = 1
			AND r.state IN ('draft', 'committing', 'committed', 'privacy_scan', 'preflight', 'preflight_failed', 'awaiting_approval', 'commit_failed', 'submit_failed')))
		ORDER BY id`)
}

func (s *Store) queryCampaigns(ctx context.Context, q string, args ...any) ([]model.Campaign, error) {
	rows, err := s.read(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []model.Campaign
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// DecideCampaign applies a person's action (approve, pause, resume, cancel)
// under compare-and-set on seq (seenSeq < 0 skips the check). Approve
// checks the two-person rule and that shownHash is the payload set's
// hash. Cancel also marks the apps not started yet as cancelled.
func (s *Store) DecideCampaign(ctx context.Context, tenantID, id int64, a model.CampaignAction, actor model.Actor, seenSeq int64, shownHash string) (model.Campaign, error) {
	var out model.Campaign
	err := s.tx(ctx, func(tx *sql.Tx) error {
		q, args := `SELECT `+campaignCols+` FROM campaigns WHERE id = ?`, []any{id}
		if tenantID != 0 {
			q, args = q+` AND tenant_id = ?`, append(args, tenantID)
		}
		c, err := scanCampaign(tx.QueryRowContext(ctx, q, args...))
		if err != nil {
			return notFound(err, "campaign")
		}
		if seenSeq >= 0 && seenSeq != c.Seq {
			return model.Errorf(model.CodeConflict, "campaign.err.stale")
		}
		to, err := model.NextCampaignState(c.State, a)
		if err != nil {
			return err
		}
		now := s.now()
		set := `state = ?, seq = seq + 1, updated_at = ?, notice = '', notice_data = ''`
		setArgs := []any{string(to), now}
		action := map[model.CampaignAction]string{model.CampActApprove: ActCampaignApprove, model.CampActPause: ActCampaignPause,
			model.CampActResume: ActCampaignResume, model.CampActCancel: ActCampaignCancel}[a]
		switch a {
		case model.CampActApprove:
			if err := c.CheckApproval(actor.UserID, shownHash); err != nil {
				return err
			}
			set += `, approver_id = ?, approver = ?, approved_hash = ?, approved_at = ?`
			setArgs = append(setArgs, actor.UserID, actor.Label, c.SetHash, now)
		case model.CampActCancel:
			set += `, finished_at = ?`
			setArgs = append(setArgs, now)
			if _, err := tx.ExecContext(ctx, `UPDATE campaign_apps SET state = 'cancelled' WHERE campaign_id = ? AND state IN ('queued', 'deferred')
				AND NOT `+hasCampaignRelease, id); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET `+set+` WHERE id = ?`, append(setArgs, id)...); err != nil {
			return err
		}
		if err := s.logTx(ctx, tx, actor, c.TenantID, action, campaignObject(id), string(c.State)+" → "+string(to)); err != nil {
			return err
		}
		out, err = scanCampaign(tx.QueryRowContext(ctx, `SELECT `+campaignCols+` FROM campaigns WHERE id = ?`, id))
		if err != nil {
			return err
		}
		return s.campaignMovedTx(ctx, tx, out, c.State)
	})
	return out, err
}

// hasCampaignRelease is true for a campaign_apps row whose release exists:
// a "queued" row with a release has started (the release records it).
const hasCampaignRelease = `EXISTS (SELECT 1 FROM releases r WHERE r.campaign_id = campaign_apps.campaign_id AND r.appid = campaign_apps.appid)`

// CampaignMove is a move the engine makes on its own.
type CampaignMove struct {
	From       model.CampaignState // must still be the state (else a conflict: a person acted first)
	To         model.CampaignState
	Notice     string // translation key
	NoticeData map[string]any
	ResumeAt   time.Time // waiting_quota: when the next window opens
	Action     string    // activity action
	Detail     string
}

// MoveCampaign applies an engine move and logs it (actor "system").
func (s *Store) MoveCampaign(ctx context.Context, id int64, m CampaignMove) (model.Campaign, error) {
	var out model.Campaign
	err := s.tx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		var finished any
		if m.To.Ended() {
			finished = now
		}
		res, err := tx.ExecContext(ctx, `UPDATE campaigns SET state = ?, seq = seq + 1, notice = ?, notice_data = ?, resume_at = ?,
			finished_at = COALESCE(?, finished_at), updated_at = ? WHERE id = ? AND state = ?`,
			string(m.To), m.Notice, model.NoticeData(m.NoticeData), nullTime(m.ResumeAt), finished, now, id, string(m.From))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return model.Errorf(model.CodeConflict, "campaign.err.stale")
		}
		out, err = scanCampaign(tx.QueryRowContext(ctx, `SELECT `+campaignCols+` FROM campaigns WHERE id = ?`, id))
		if err != nil {
			return err
		}
		if err := s.campaignMovedTx(ctx, tx, out, m.From); err != nil {
			return err
		}
		return s.logTx(ctx, tx, model.Actor{Label: "system"}, out.TenantID, m.Action, campaignObject(id), m.Detail)
	})
	return out, err
}

// CampaignApp is one target of a campaign with its release, if started.
type CampaignApp struct {
	AppID       string
	TenantID    int64
	TenantName  string
	Nickname    string
	ExtHash     string
	State       model.CampaignAppState
	Reason      string
	Wave        int
	Attempts    int
	RetryAt     time.Time
	RetrySeq    int64
	StartedAt   time.Time
	ReleaseID   int64
	RelState    model.ReleaseState // "" before the release exists
	RelSeq      int64
	Errcode     int
	AuditReason string
	CreatedAt   time.Time // the release's
	UpdatedAt   time.Time
	SubmittedAt time.Time
	DecidedAt   time.Time
	ReleasedAt  time.Time
}

// Phase is where the app stands.
func (a CampaignApp) Phase() model.Phase { return model.PhaseOf(a.State, a.RelState) }

// Stuck reports whether the app's release failed (a call, or its release)
// in a way the campaign will not retry: a person must act.
func (a CampaignApp) Stuck() bool {
	failed := a.Phase() == model.PhFailed || a.RelState == model.RelReleaseFailed || a.RelState == model.RelApproved
	return failed && a.RetrySeq == a.RelSeq && a.RetryAt.IsZero()
}

// Failing reports whether the app's release is in a failed state the
// campaign has not decided about yet, or is retrying.
func (a CampaignApp) Failing() bool {
	return a.Phase() == model.PhFailed || a.RelState == model.RelReleaseFailed
}

// CampaignApps lists a campaign's targets (skipped ones included) with
// their releases, in appid order: what the engine and the report read.
func (s *Store) CampaignApps(ctx context.Context, id int64) ([]CampaignApp, error) {
	return s.campaignApps(ctx, `COALESCE(t.name, ''), COALESCE(a.nickname, '')`, `
		LEFT JOIN authorizers a ON a.appid = ca.appid
		LEFT JOIN tenants t ON t.id = ca.tenant_id`, id)
}

// CampaignAppStates is CampaignApps without the names: what the engine
// reads on every pass.
func (s *Store) CampaignAppStates(ctx context.Context, id int64) ([]CampaignApp, error) {
	return s.campaignApps(ctx, `'', ''`, ``, id)
}

func (s *Store) campaignApps(ctx context.Context, names, joins string, id int64) ([]CampaignApp, error) {
	rows, err := s.read(ctx, `SELECT ca.appid, ca.tenant_id, `+names+`, ca.ext_hash, ca.state,
		ca.reason, ca.wave, ca.attempts, COALESCE(ca.retry_at, 0), ca.retry_seq, COALESCE(ca.started_at, 0),
		COALESCE(r.id, 0), COALESCE(r.state, ''), COALESCE(r.seq, 0), COALESCE(r.errcode, 0), COALESCE(r.reason, ''),
		COALESCE(r.created_at, 0), COALESCE(r.updated_at, 0), COALESCE(r.submitted_at, 0), COALESCE(r.decided_at, 0), COALESCE(r.released_at, 0)
		FROM campaign_apps ca
		LEFT JOIN releases r ON r.campaign_id = ca.campaign_id AND r.appid = ca.appid`+joins+`
		WHERE ca.campaign_id = ? ORDER BY ca.appid`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []CampaignApp
	for rows.Next() {
		var x CampaignApp
		var st, rst string
		var retry, started, created, updated, submitted, decided, released int64
		if err := rows.Scan(&x.AppID, &x.TenantID, &x.TenantName, &x.Nickname, &x.ExtHash, &st, &x.Reason, &x.Wave, &x.Attempts,
			&retry, &x.RetrySeq, &started, &x.ReleaseID, &rst, &x.RelSeq, &x.Errcode, &x.AuditReason,
			&created, &updated, &submitted, &decided, &released); err != nil {
			return nil, err
		}
		x.State, x.RelState = model.CampaignAppState(st), model.ReleaseState(rst)
		if x.State == model.CAQueued && x.ReleaseID != 0 {
			x.State = model.CAStarted // its release is the record that it started (no second write)
		}
		x.RetryAt, x.StartedAt = unix(retry), unix(started)
		x.CreatedAt, x.UpdatedAt, x.SubmittedAt, x.DecidedAt, x.ReleasedAt = unix(created), unix(updated), unix(submitted), unix(decided), unix(released)
		out = append(out, x)
	}
	return out, rows.Err()
}

// PlanCampaignWave puts up to n queued apps (appid order) into wave and
// records the wave on the campaign, in one transaction, only if the
// campaign is still at wave-1 (a second planner finds a conflict).
func (s *Store) PlanCampaignWave(ctx context.Context, id int64, wave, n int, detail string) (int, error) {
	var got int
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE campaigns SET wave = ?, seq = seq + 1, updated_at = ? WHERE id = ? AND wave = ?`, wave, s.now(), id, wave-1)
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return model.Errorf(model.CodeConflict, "campaign.err.stale")
		}
		res, err = tx.ExecContext(ctx, `UPDATE campaign_apps SET wave = ? WHERE campaign_id = ? AND appid IN
			(SELECT appid FROM campaign_apps WHERE campaign_id = ? AND state = 'queued' AND wave = 0 ORDER BY appid LIMIT ?)`, wave, id, id, n)
		if err != nil {
			return err
		}
		k, _ := res.RowsAffected()
		got = int(k)
		var tenantID int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(tenant_id, 0) FROM campaigns WHERE id = ?`, id).Scan(&tenantID); err != nil {
			return err
		}
		return s.logTx(ctx, tx, model.Actor{Label: "system"}, tenantID, ActCampaignWave, campaignObject(id),
			fmt.Sprintf("wave %d: %d apps; %s", wave, got, detail))
	})
	return got, err
}

// SetCampaignApp records a decision about one target: its state, reason
// and retry timer; logs it when detail is not empty.
func (s *Store) SetCampaignApp(ctx context.Context, id int64, appID string, st model.CampaignAppState, reason string, attempts int, retryAt time.Time, retrySeq int64, detail string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		started := any(nil)
		if st == model.CAStarted {
			started = s.now()
		}
		res, err := tx.ExecContext(ctx, `UPDATE campaign_apps SET state = ?, reason = ?, attempts = ?, retry_at = ?, retry_seq = ?,
			started_at = COALESCE(started_at, ?) WHERE campaign_id = ? AND appid = ?`,
			string(st), reason, attempts, nullTime(retryAt), retrySeq, started, id, appID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return model.NotFound("campaign app")
		}
		if detail == "" {
			return nil
		}
		var tenantID int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(tenant_id, 0) FROM campaigns WHERE id = ?`, id).Scan(&tenantID); err != nil {
			return err
		}
		return s.logTx(ctx, tx, model.Actor{Label: "system"}, tenantID, ActCampaignDecision, campaignObject(id), appID+": "+detail)
	})
}

// RequeueDeferred puts deferred apps back in the queue for a new wave
// (a new quota window opened); one whose submission was refused for quota
// gets its retry due now.
func (s *Store) RequeueDeferred(ctx context.Context, id int64) (int, error) {
	res, err := s.W.ExecContext(ctx, `UPDATE campaign_apps SET state = CASE WHEN EXISTS (SELECT 1 FROM releases r
		WHERE r.campaign_id = campaign_apps.campaign_id AND r.appid = campaign_apps.appid) THEN 'started' ELSE 'queued' END,
		wave = CASE WHEN EXISTS (SELECT 1 FROM releases r WHERE r.campaign_id = campaign_apps.campaign_id AND r.appid = campaign_apps.appid)
		THEN wave ELSE 0 END, attempts = 0,
		retry_at = CASE WHEN EXISTS (SELECT 1 FROM releases r WHERE r.campaign_id = campaign_apps.campaign_id AND r.appid = campaign_apps.appid)
		THEN ? ELSE NULL END WHERE campaign_id = ? AND state = 'deferred'`, s.now(), id)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// DeferQueued moves a campaign's apps not started yet to deferred.
func (s *Store) DeferQueued(ctx context.Context, id int64) (int, error) {
	res, err := s.W.ExecContext(ctx, `UPDATE campaign_apps SET state = 'deferred', wave = 0 WHERE campaign_id = ? AND state = 'queued'
		AND NOT `+hasCampaignRelease, id)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// CampaignCandidate is an app a new campaign could target.
type CampaignCandidate struct {
	App         model.App
	OpenState   model.ReleaseState // its open release's state, "" when none
	LiveTplID   int64              // the template live now, 0 when nothing was released
	LiveVersion string
}

// CandidateFilter selects a campaign's targets.
type CandidateFilter struct {
	TenantID    int64  // 0: every tenant (staff)
	Tag         string // "" any
	TemplateID  int64  // current (live) template, 0 any
	Version     string // current (live) user_version, "" any
	Status      string // model.AppStatus, "" any
	MaxResults  int
	BoundOnly   bool // always true in practice: apps of no tenant are never targets
	ExcludeApps []string
}

// CampaignCandidates lists bound apps matching f, with what the campaign
// needs to decide whether to skip them.
func (s *Store) CampaignCandidates(ctx context.Context, f CandidateFilter) ([]CampaignCandidate, error) {
	where := []string{"a.tenant_id IS NOT NULL", "a.status != 'pending'"}
	var args []any
	if f.TenantID != 0 {
		where, args = append(where, "a.tenant_id = ?"), append(args, f.TenantID)
	}
	if f.Tag != "" {
		where, args = append(where, "EXISTS (SELECT 1 FROM app_tags g WHERE g.tenant_id = a.tenant_id AND g.appid = a.appid AND g.tag = ?)"), append(args, f.Tag)
	}
	switch f.Status {
	case string(model.AppAuthorized):
		where = append(where, condAuthorizedOK)
	case string(model.AppNeedsReauth):
		where = append(where, condNeedsReauth)
	case string(model.AppUnauthorized):
		where = append(where, "a.status = 'unauthorized'")
	}
	live := `(SELECT MAX(y.id) FROM releases y WHERE y.appid = a.appid AND y.tenant_id = a.tenant_id AND y.state IN ` + liveStates + `)`
	if f.TemplateID != 0 {
		where, args = append(where, "l.template_id = ?"), append(args, f.TemplateID)
	}
	if f.Version != "" {
		where, args = append(where, "l.user_version = ?"), append(args, f.Version)
	}
	limit := f.MaxResults
	if limit <= 0 {
		limit = 100000
	}
	q := `SELECT ` + appCols + `, COALESCE(o.state, ''), COALESCE(l.template_id, 0), COALESCE(l.user_version, '')` + appFrom + `
		LEFT JOIN releases o ON o.appid = a.appid AND o.open = 1
		LEFT JOIN releases l ON l.id = ` + live + `
		WHERE ` + strings.Join(where, " AND ") + ` ORDER BY a.appid LIMIT ?`
	rows, err := s.read(ctx, q, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []CampaignCandidate
	for rows.Next() {
		var c CampaignCandidate
		var open string
		app, err := scanApp(candidateRow{rows, &open, &c.LiveTplID, &c.LiveVersion})
		if err != nil {
			return nil, err
		}
		c.App, c.OpenState = app, model.ReleaseState(open)
		out = append(out, c)
	}
	return out, rows.Err()
}

type candidateRow struct {
	rows    *sql.Rows
	open    *string
	tpl     *int64
	version *string
}

func (r candidateRow) Scan(dest ...any) error {
	return r.rows.Scan(append(dest, r.open, r.tpl, r.version)...)
}

// SetAppTags replaces the tags of one of tenantID's apps.
func (s *Store) SetAppTags(ctx context.Context, a model.Actor, tenantID int64, appID string, tags []string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM authorizers WHERE appid = ? AND tenant_id = ?`, appID, tenantID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return model.NotFound("app")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM app_tags WHERE tenant_id = ? AND appid = ?`, tenantID, appID); err != nil {
			return err
		}
		for _, t := range tags {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO app_tags (tenant_id, appid, tag) VALUES (?,?,?)`, tenantID, appID, t); err != nil {
				return err
			}
		}
		return s.logTx(ctx, tx, a, tenantID, ActAppTags, appID, strings.Join(tags, ", "))
	})
}

// ActAppTags is logged when an app's tags change.
const ActAppTags = "app_tags_changed"

// AppTags lists the tags of one of tenantID's apps, sorted.
func (s *Store) AppTags(ctx context.Context, tenantID int64, appID string) ([]string, error) {
	return s.strings(ctx, `SELECT tag FROM app_tags WHERE tenant_id = ? AND appid = ? ORDER BY tag`, tenantID, appID)
}

// Tags lists the distinct tags in use: a tenant's (tenantID), or every
// tenant's for staff (0).
func (s *Store) Tags(ctx context.Context, tenantID int64) ([]string, error) {
	if tenantID != 0 {
		return s.strings(ctx, `SELECT DISTINCT tag FROM app_tags WHERE tenant_id = ? ORDER BY tag`, tenantID)
	}
	return s.strings(ctx, `SELECT DISTINCT tag FROM app_tags ORDER BY tag`)
}

func (s *Store) strings(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := s.read(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// CampaignReleaseExists reports whether the campaign already made a
// release for the app (a restart must not prepare a second one).
func (s *Store) CampaignRelease(ctx context.Context, campaignID int64, appID string) (model.Release, error) {
	r, err := scanRelease(s.readRow(ctx, `SELECT `+releaseCols+` FROM releases WHERE campaign_id = ? AND appid = ?`, campaignID, appID))
	return r, notFound(err, "release")
}

// AuditDurations returns the mean time from submission to decision and
// from a release's creation to its submission over up to the newest n
// decided releases of the campaign (0: of the whole platform).
func (s *Store) AuditDurations(ctx context.Context, campaignID int64, n int) (audit, prepare time.Duration, samples int, err error) {
	q := `SELECT COALESCE(AVG(decided_at - submitted_at), 0), COALESCE(AVG(submitted_at - created_at), 0), COUNT(*) FROM
		(SELECT decided_at, submitted_at, created_at FROM releases WHERE decided_at IS NOT NULL AND submitted_at IS NOT NULL`
	args := []any{}
	if campaignID != 0 {
		q, args = q+` AND campaign_id = ?`, append(args, campaignID)
	}
	q += ` ORDER BY id DESC LIMIT ?)`
	var a, p float64
	err = s.readRow(ctx, q, append(args, n)...).Scan(&a, &p, &samples)
	return time.Duration(a * float64(time.Second)), time.Duration(p * float64(time.Second)), samples, err
}

// ActiveCampaignIDs returns the campaigns whose releases the campaign
// engine drives (running, paused, halted, waiting for quota).
func (s *Store) ActiveCampaignIDs(ctx context.Context) (map[int64]bool, error) {
	rows, err := s.read(ctx, `SELECT id FROM campaigns WHERE state IN ('running', 'paused', 'halted', 'waiting_quota')`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}
