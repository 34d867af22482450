package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/minifleet/minifleet/app/model"
)

// Activity actions of the release pipeline's settings.
const (
	ActTenantContact = "tenant_contact_saved"
	ActSetting       = "platform_setting_saved"
)

// TenantContact is who answers for a tenant's Mini Programs in their
// privacy guideline.
type TenantContact struct {
	TenantID     int64
	Name         string
	Email        string
	Phone        string
	NoticeMethod string // how users are told of guideline changes, e.g. "弹窗"
	UpdatedAt    time.Time
	UpdatedBy    string
}

// SaveTenantContact creates or replaces the tenant's contact.
func (s *Store) SaveTenantContact(ctx context.Context, a model.Actor, tenantID int64, c TenantContact) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO tenant_contacts (tenant_id, name, email, phone, notice_method, updated_at, updated_by)
			VALUES (?,?,?,?,?,?,?) ON CONFLICT (tenant_id) DO UPDATE SET name = excluded.name, email = excluded.email,
			phone = excluded.phone, notice_method = excluded.notice_method, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
			tenantID, c.Name, c.Email, c.Phone, c.NoticeMethod, s.now(), a.Label)
		if err != nil {
			return err
		}
		return s.logTx(ctx, tx, a, tenantID, ActTenantContact, "", "")
	})
}

// TenantContact loads the tenant's contact; not found when none was saved.
func (s *Store) TenantContact(ctx context.Context, tenantID int64) (TenantContact, error) {
	c := TenantContact{TenantID: tenantID}
	var at int64
	err := s.readRow(ctx, `SELECT name, email, phone, notice_method, updated_at, updated_by FROM tenant_contacts WHERE tenant_id = ?`,
		tenantID).Scan(&c.Name, &c.Email, &c.Phone, &c.NoticeMethod, &at, &c.UpdatedBy)
	c.UpdatedAt = unix(at)
	return c, notFound(err, "contact")
}

// SetSetting stores a platform setting (value is marshalled to JSON).
func (s *Store) SetSetting(ctx context.Context, a model.Actor, key string, value any) error {
	b, err := json.Marshal(value)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO platform_settings (key, value, updated_at, updated_by) VALUES (?,?,?,?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
			key, string(b), s.now(), a.Label)
		if err != nil {
			return err
		}
		return s.logTx(ctx, tx, a, 0, ActSetting, key, "")
	})
}

// Setting decodes a platform setting into v; not found when never set.
func (s *Store) Setting(ctx context.Context, key string, v any) error {
	var raw string
	err := s.readRow(ctx, `SELECT value FROM platform_settings WHERE key = ?`, key).Scan(&raw)
	if err != nil {
		return notFound(err, "setting")
	}
	return json.Unmarshal([]byte(raw), v)
}

// ReleaseCall is the marker of one non-repeatable WeChat call.
type ReleaseCall struct {
	ReleaseID  int64
	Call       string
	Seq        int64
	Detail     string
	StartedAt  time.Time
	FinishedAt time.Time // zero: the call may or may not have reached WeChat
	Outcome    string
}

// Finished reports whether the call's answer was recorded.
func (c ReleaseCall) Finished() bool { return !c.FinishedAt.IsZero() }

// StartReleaseCall records that call is about to be sent for the release at
// seq. fresh is false when a marker already existed (a previous attempt
// or process got this far); that marker is returned unchanged.
func (s *Store) StartReleaseCall(ctx context.Context, releaseID int64, call string, seq int64, detail string) (c ReleaseCall, fresh bool, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO release_calls (release_id, call, seq, detail, started_at) VALUES (?,?,?,?,?)
			ON CONFLICT DO NOTHING`, releaseID, call, seq, detail, s.now())
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		fresh = n == 1
		c, err = scanReleaseCall(tx.QueryRowContext(ctx, `SELECT release_id, call, seq, detail, started_at, COALESCE(finished_at, 0), outcome
			FROM release_calls WHERE release_id = ? AND call = ? AND seq = ?`, releaseID, call, seq))
		return err
	})
	return c, fresh, err
}

// StartCallOp writes a call's marker in the transaction of the move that
// leads to the call (committing, submitting): seq is the move's new seq.
// It fails if a marker for that seq exists, which the move's
// compare-and-set already rules out.
func (s *Store) StartCallOp(releaseID int64, call string, seq int64) TxOp {
	return func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO release_calls (release_id, call, seq, detail, started_at) VALUES (?,?,?,'',?)`,
			releaseID, call, seq, s.now())
		return err
	}
}

func scanReleaseCall(row interface{ Scan(...any) error }) (ReleaseCall, error) {
	var c ReleaseCall
	var started, finished int64
	err := row.Scan(&c.ReleaseID, &c.Call, &c.Seq, &c.Detail, &started, &finished, &c.Outcome)
	c.StartedAt, c.FinishedAt = unix(started), unix(finished)
	return c, err
}

// FinishReleaseCall records the call's answer: "ok" or "errcode:N".
func (s *Store) FinishReleaseCall(ctx context.Context, releaseID int64, call string, seq int64, outcome string) error {
	return s.ApplyOps(ctx, s.FinishCallOp(releaseID, call, seq, outcome))
}

// ClearReleaseCall forgets a marker whose call certainly did not take
// effect (WeChat answered with an errcode worth retrying), so the next
// attempt sends it afresh.
func (s *Store) ClearReleaseCall(ctx context.Context, releaseID int64, call string, seq int64) error {
	_, err := s.W.ExecContext(ctx, `DELETE FROM release_calls WHERE release_id = ? AND call = ? AND seq = ?`, releaseID, call, seq)
	return err
}

// ReleaseCalls lists a release's call markers, oldest first.
func (s *Store) ReleaseCalls(ctx context.Context, releaseID int64) ([]ReleaseCall, error) {
	rows, err := s.R.QueryContext(ctx, `SELECT release_id, call, seq, detail, started_at, COALESCE(finished_at, 0), outcome
		FROM release_calls WHERE release_id = ? ORDER BY started_at, seq`, releaseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ReleaseCall
	for rows.Next() {
		c, err := scanReleaseCall(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// PreflightCheck is one preflight check's result.
type PreflightCheck struct {
	Name    string `json:"name"`              // category, pages, privacy, domains
	OK      bool   `json:"ok"`                //
	Skipped bool   `json:"skipped,omitempty"` // nothing to do (no domains configured …)
	Key     string `json:"key,omitempty"`     // translation key of the problem or the next action
	Errcode int    `json:"errcode,omitempty"` // WeChat's, when it said no
	Detail  string `json:"detail,omitempty"`  // e.g. the missing page, the errmsg
}

// ReleaseArtifacts is what a release collected on its way.
type ReleaseArtifacts struct {
	ReleaseID   int64
	HasQR       bool
	QRAt        time.Time
	WithoutAuth []string // privacy APIs used without authorization (requiredPrivateInfos)
	WithoutConf []string // privacy APIs the guideline does not cover
	PrivacyKeys []string // privacy keys the code uses (getprivacysetting)
	ScannedAt   time.Time
	Preflight   []PreflightCheck
	PreflightAt time.Time
}

const ensureArtifactsSQL = `INSERT INTO release_artifacts (release_id, tenant_id)
		SELECT id, tenant_id FROM releases WHERE id = ? AND tenant_id = ? ON CONFLICT DO NOTHING`

func (s *Store) ensureArtifacts(ctx context.Context, tx *sql.Tx, tenantID, releaseID int64) error {
	_, err := s.execTx(ctx, tx, ensureArtifactsSQL, releaseID, tenantID)
	return err
}

// TxOp is a write that rides in the transaction of a release transition
// (TransitionRelease's ops), so a step and what it collected cost one
// commit, not two: a campaign makes tens of thousands of them.
type TxOp func(ctx context.Context, tx *sql.Tx) error

// ApplyOps runs ops in one transaction of their own (a transition that
// carried them lost its compare-and-set).
func (s *Store) ApplyOps(ctx context.Context, ops ...TxOp) error {
	if len(ops) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx *sql.Tx) error { return runOps(ctx, tx, ops) })
}

func runOps(ctx context.Context, tx *sql.Tx, ops []TxOp) error {
	for _, op := range ops {
		if err := op(ctx, tx); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) artifactsOp(tenantID, releaseID int64, set string, args ...any) TxOp {
	return func(ctx context.Context, tx *sql.Tx) error {
		if err := s.ensureArtifacts(ctx, tx, tenantID, releaseID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE release_artifacts SET `+set+` WHERE release_id = ? AND tenant_id = ?`,
			append(args, releaseID, tenantID)...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return model.NotFound("release")
		}
		return nil
	}
}

func (s *Store) updateArtifacts(ctx context.Context, tenantID, releaseID int64, set string, args ...any) error {
	return s.ApplyOps(ctx, s.artifactsOp(tenantID, releaseID, set, args...))
}

// FinishCallOp is FinishReleaseCall as a TxOp.
func (s *Store) FinishCallOp(releaseID int64, call string, seq int64, outcome string) TxOp {
	return func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE release_calls SET finished_at = ?, outcome = ? WHERE release_id = ? AND call = ? AND seq = ?`,
			s.now(), outcome, releaseID, call, seq)
		return err
	}
}

// QROp keeps the experience QR image fetched after commit.
func (s *Store) QROp(tenantID, releaseID int64, img []byte, contentType string) TxOp {
	return s.artifactsOp(tenantID, releaseID, `qr_image = ?, qr_type = ?, qr_at = ?`, img, contentType, s.now())
}

// ScanOp keeps the privacy scan's findings.
func (s *Store) ScanOp(tenantID, releaseID int64, withoutAuth, withoutConf []string) TxOp {
	return s.artifactsOp(tenantID, releaseID, `without_auth = ?, without_conf = ?, scanned_at = ?`,
		jsonList(withoutAuth), jsonList(withoutConf), s.now())
}

// PrivacyKeysOp keeps the privacy keys the committed code uses.
func (s *Store) PrivacyKeysOp(tenantID, releaseID int64, keys []string) TxOp {
	return s.artifactsOp(tenantID, releaseID, `privacy_keys = ?`, jsonList(keys))
}

// PreflightOp keeps the last preflight report.
func (s *Store) PreflightOp(tenantID, releaseID int64, checks []PreflightCheck) TxOp {
	if checks == nil {
		checks = []PreflightCheck{}
	}
	b, err := json.Marshal(checks)
	if err != nil {
		return func(context.Context, *sql.Tx) error { return err }
	}
	return s.artifactsOp(tenantID, releaseID, `preflight = ?, preflight_at = ?`, string(b), s.now())
}

// SaveReleaseQR keeps the experience QR image fetched after commit.
func (s *Store) SaveReleaseQR(ctx context.Context, tenantID, releaseID int64, img []byte, contentType string) error {
	return s.ApplyOps(ctx, s.QROp(tenantID, releaseID, img, contentType))
}

// ReleaseQR returns the stored experience QR; not found when none is stored.
func (s *Store) ReleaseQR(ctx context.Context, tenantID, releaseID int64) (img []byte, contentType string, err error) {
	err = s.R.QueryRowContext(ctx, `SELECT qr_image, qr_type FROM release_artifacts WHERE release_id = ? AND tenant_id = ? AND qr_image IS NOT NULL`,
		releaseID, tenantID).Scan(&img, &contentType)
	return img, contentType, notFound(err, "qrcode")
}

// SaveReleaseScan keeps the privacy scan's findings.
func (s *Store) SaveReleaseScan(ctx context.Context, tenantID, releaseID int64, withoutAuth, withoutConf []string) error {
	return s.ApplyOps(ctx, s.ScanOp(tenantID, releaseID, withoutAuth, withoutConf))
}

// SaveReleasePrivacyKeys keeps the privacy keys the committed code uses.
func (s *Store) SaveReleasePrivacyKeys(ctx context.Context, tenantID, releaseID int64, keys []string) error {
	return s.ApplyOps(ctx, s.PrivacyKeysOp(tenantID, releaseID, keys))
}

// SaveReleasePreflight keeps the last preflight report.
func (s *Store) SaveReleasePreflight(ctx context.Context, tenantID, releaseID int64, checks []PreflightCheck) error {
	return s.ApplyOps(ctx, s.PreflightOp(tenantID, releaseID, checks))
}

// ReleaseArtifacts loads what a release collected; empty (not an error)
// when it collected nothing yet.
func (s *Store) ReleaseArtifacts(ctx context.Context, tenantID, releaseID int64) (ReleaseArtifacts, error) {
	a := ReleaseArtifacts{ReleaseID: releaseID}
	var hasQR bool
	var qrAt, scanned, pre sql.NullInt64
	var wa, wc, keys, checks string
	err := s.R.QueryRowContext(ctx, `SELECT qr_image IS NOT NULL, qr_at, without_auth, without_conf, privacy_keys, scanned_at, preflight, preflight_at
		FROM release_artifacts WHERE release_id = ? AND tenant_id = ?`, releaseID, tenantID).
		Scan(&hasQR, &qrAt, &wa, &wc, &keys, &scanned, &checks, &pre)
	if errors.Is(err, sql.ErrNoRows) {
		return a, nil
	}
	if err != nil {
		return a, err
	}
	a.HasQR, a.QRAt, a.ScannedAt, a.PreflightAt = hasQR, nullUnix(qrAt), nullUnix(scanned), nullUnix(pre)
	for _, p := range []struct {
		raw string
		v   any
	}{{wa, &a.WithoutAuth}, {wc, &a.WithoutConf}, {keys, &a.PrivacyKeys}, {checks, &a.Preflight}} {
		if err := json.Unmarshal([]byte(p.raw), p.v); err != nil {
			return a, err
		}
	}
	return a, nil
}

// ReleaseHasPendingJob reports whether a queued or running job carries a
// dedupe key starting with "release:<id>:" (the release pipeline's jobs).
func (s *Store) ReleaseHasPendingJob(ctx context.Context, releaseID int64) (bool, error) {
	prefix := "release:" + strconv.FormatInt(releaseID, 10) + ":"
	var n int
	err := s.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM jobs WHERE dedupe_key >= ? AND dedupe_key < ? AND state IN ('queued', 'running')`,
		prefix, prefix+"\xff").Scan(&n)
	return n > 0, err
}

// CampaignPendingJobs returns the releases of a campaign that have a
// queued or running pipeline job (a privacy-scan wait, a retry).
func (s *Store) CampaignPendingJobs(ctx context.Context, campaignID int64) (map[int64]bool, error) {
	rows, err := s.R.QueryContext(ctx, `SELECT DISTINCT json_extract(j.payload, '$.release_id') FROM jobs j
		WHERE j.state IN ('queued', 'running') AND j.dedupe_key >= 'release:' AND j.dedupe_key < 'release;'
		AND json_extract(j.payload, '$.release_id') IN (SELECT id FROM releases WHERE campaign_id = ?)`, campaignID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var id sql.NullInt64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id.Int64] = true
	}
	return out, rows.Err()
}

// ActiveCampaignIDs returns the campaigns whose releases the campaign
// engine drives (running, paused, halted, waiting for quota).
func (s *Store) ActiveCampaignIDs(ctx context.Context) (map[int64]bool, error) {
	rows, err := s.R.QueryContext(ctx, `SELECT id FROM campaigns WHERE state IN ('running', 'paused', 'halted', 'waiting_quota')`)
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

// TemplateRun is one app running one template version: its newest release
// that went live (released or in a phased release).
type TemplateRun struct {
	TemplateID  int64
	UserVersion string
	TenantID    int64
	AppID       string
	ReleaseID   int64
	State       model.ReleaseState
	ReleasedAt  time.Time
}

// TemplateRuns lists, per app, the newest release that is live (released
// or gray), for "which apps run which template version". templateID 0
// means every template.
func (s *Store) TemplateRuns(ctx context.Context, templateID int64) ([]TemplateRun, error) {
	rows, err := s.R.QueryContext(ctx, `SELECT r.template_id, r.user_version, r.tenant_id, r.appid, r.id, r.state, COALESCE(r.released_at, r.updated_at)
		FROM releases r
		WHERE r.id = (SELECT MAX(x.id) FROM releases x WHERE x.appid = r.appid AND x.state IN ('released', 'gray'))
		AND (? = 0 OR r.template_id = ?)
		ORDER BY r.template_id DESC, r.user_version, r.appid`, templateID, templateID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []TemplateRun
	for rows.Next() {
		var t TemplateRun
		var state string
		var at int64
		if err := rows.Scan(&t.TemplateID, &t.UserVersion, &t.TenantID, &t.AppID, &t.ReleaseID, &state, &at); err != nil {
			return nil, err
		}
		t.State, t.ReleasedAt = model.ReleaseState(state), unix(at)
		out = append(out, t)
	}
	return out, rows.Err()
}

// MonthCount is a number for one calendar month ("2026-11", UTC).
type MonthCount struct {
	Month string
	Count int
}

// SubmissionsPerMonth counts audits submitted (submit_ok events) per month
// since the given time, oldest month first.
func (s *Store) SubmissionsPerMonth(ctx context.Context, since time.Time) ([]MonthCount, error) {
	rows, err := s.R.QueryContext(ctx, `SELECT strftime('%Y-%m', at, 'unixepoch') AS m, COUNT(*) FROM release_events
		WHERE event = 'submit_ok' AND at >= ? GROUP BY m ORDER BY m`, since.Unix())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []MonthCount
	for rows.Next() {
		var m MonthCount
		if err := rows.Scan(&m.Month, &m.Count); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// TransitionOpenRelease applies ev to the app's open release inside the
// push's transaction (audit results). It returns not-found when the app
// has no open release, and the model's conflict when the release is not in
// a state the event applies to (already applied, or not yet auditing),
// together with the release as it stands.
func (p *PushTx) TransitionOpenRelease(appID string, ev model.ReleaseEvent, c model.Cause) (model.Release, error) {
	var id, tenantID int64
	err := p.tx.QueryRowContext(p.ctx, `SELECT id, tenant_id FROM releases WHERE appid = ? AND open = 1`, appID).Scan(&id, &tenantID)
	if err != nil {
		return model.Release{}, notFound(err, "release")
	}
	if c.At.IsZero() {
		c.At = unix(p.s.now())
	}
	n, err := p.s.transitionReleaseTx(p.ctx, p.tx, tenantID, id, ev, c)
	if err != nil && model.ErrorCode(err) == model.CodeConflict {
		// Return the release as it stands, so the caller can tell "already
		// applied" from "not yet in review".
		cur, rerr := scanRelease(p.tx.QueryRowContext(p.ctx, `SELECT `+releaseCols+` FROM releases WHERE id = ?`, id))
		if rerr != nil {
			return model.Release{}, rerr
		}
		return cur, err
	}
	return n, err
}
