package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/minifleet/minifleet/app/model"
)

const releaseCols = `id, tenant_id, appid, template_id, config_version, user_version, user_desc, ext_json, submit_json,
	payload_hash, state, seq, preparer_id, preparer, COALESCE(approver_id, 0), approver, approval_hash, COALESCE(approved_at, 0),
	auditid, reason, screenshots, errcode, gray_percent, created_at, updated_at,
	COALESCE(submitted_at, 0), COALESCE(decided_at, 0), COALESCE(released_at, 0), COALESCE(campaign_id, 0), amenders`

func scanRelease(sc interface{ Scan(...any) error }) (model.Release, error) {
	var r model.Release
	var submit, state, amenders string
	var approved, created, updated, submitted, decided, released int64
	err := sc.Scan(&r.ID, &r.TenantID, &r.AppID, &r.TemplateID, &r.ConfigVersion, &r.UserVersion, &r.UserDesc, &r.ExtJSON, &submit,
		&r.PayloadHash, &state, &r.Seq, &r.PreparerID, &r.Preparer, &r.ApproverID, &r.Approver, &r.ApprovalHash, &approved,
		&r.AuditID, &r.Reason, &r.ScreenShots, &r.Errcode, &r.GrayPercent, &created, &updated, &submitted, &decided, &released, &r.CampaignID, &amenders)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal([]byte(amenders), &r.Amenders); err != nil {
		return r, fmt.Errorf("release %d amenders: %w", r.ID, err)
	}
	r.State = model.ReleaseState(state)
	r.ApprovedAt, r.CreatedAt, r.UpdatedAt = unix(approved), unix(created), unix(updated)
	r.SubmittedAt, r.DecidedAt, r.ReleasedAt = unix(submitted), unix(decided), unix(released)
	if err := json.Unmarshal([]byte(submit), &r.Submit); err != nil {
		return r, fmt.Errorf("release %d submit_json: %w", r.ID, err)
	}
	if r.Submit.Items == nil {
		r.Submit.Items = []model.AuditItemChoice{}
	}
	return r, nil
}

func submitJSON(c model.SubmitChoices) string {
	if c.Items == nil {
		c.Items = []model.AuditItemChoice{}
	}
	b, _ := json.Marshal(c)
	return string(b)
}

// amendersJSON is releases.amenders: the ids as a JSON array, [] for none.
func amendersJSON(ids []int64) string {
	if len(ids) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(ids)
	return string(b)
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Unix()
}

// CreateRelease stores a draft made by model.NewRelease and records its
// creation. An app holds one open release at a time: a second is a conflict.
func (s *Store) CreateRelease(ctx context.Context, tenantID int64, r model.Release) (model.Release, error) {
	if r.State != model.RelDraft || r.TenantID != tenantID || r.PayloadHash != model.PayloadHash(r.ReleasePayload) {
		return r, model.Errorf(model.CodeInvalid, "release.err.invalid_draft")
	}
	now := unix(s.now())
	r.CreatedAt, r.UpdatedAt, r.Seq = now, now, 0
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO releases (tenant_id, appid, template_id, config_version, user_version, user_desc,
			ext_json, submit_json, payload_hash, state, open, seq, preparer_id, preparer, created_at, updated_at, campaign_id)
			VALUES (?,?,?,?,?,?,?,?,?,?,1,0,?,?,?,?,?)`,
			tenantID, r.AppID, r.TemplateID, r.ConfigVersion, r.UserVersion, r.UserDesc, r.ExtJSON, submitJSON(r.Submit),
			r.PayloadHash, string(r.State), r.PreparerID, r.Preparer, now.Unix(), now.Unix(), nullID(r.CampaignID))
		if isUnique(err) && r.CampaignID != 0 && strings.Contains(err.Error(), "campaign_id") {
			return model.Errorf(model.CodeConflict, "release.err.campaign_exists")
		}
		if isUnique(err) {
			return model.Errorf(model.CodeConflict, "release.err.open_exists")
		}
		if err != nil {
			return err
		}
		r.ID, _ = res.LastInsertId()
		if err := s.insertReleaseEvent(ctx, tx, model.ReleaseTransition{ReleaseID: r.ID, TenantID: tenantID, Seq: 0,
			Event: model.EvCreate, To: model.RelDraft, Cause: model.CauseUser, ActorID: r.PreparerID, Actor: r.Preparer, At: now}); err != nil {
			return err
		}
		return s.logTx(ctx, tx, model.Actor{UserID: r.PreparerID, Label: r.Preparer}, tenantID, ActReleaseCreate, r.AppID,
			fmt.Sprintf("#%d %s", r.ID, r.UserVersion))
	})
	return r, err
}

// Statements of every transition, prepared at Open (hotStmts).
const (
	selectReleaseSQL = `SELECT ` + releaseCols + ` FROM releases WHERE id = ? AND tenant_id = ?`
	updateReleaseSQL = `UPDATE releases SET template_id = ?, user_version = ?, user_desc = ?, ext_json = ?, submit_json = ?,
			payload_hash = ?, state = ?, open = ?, seq = ?, approver_id = ?, approver = ?, approval_hash = ?, approved_at = ?,
			auditid = ?, reason = ?, screenshots = ?, errcode = ?, gray_percent = ?, updated_at = ?,
			submitted_at = ?, decided_at = ?, released_at = ?, amenders = ?
			WHERE id = ? AND tenant_id = ? AND seq = ?`
	insertReleaseEventSQL = `INSERT INTO release_events (release_id, tenant_id, seq, from_state, event, to_state, cause,
		actor_id, actor, detail, errcode, at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`
)

func (s *Store) insertReleaseEvent(ctx context.Context, tx *sql.Tx, t model.ReleaseTransition) error {
	_, err := tx.StmtContext(ctx, s.hot.insertReleaseEvent).ExecContext(ctx,
		t.ReleaseID, t.TenantID, t.Seq, string(t.From), string(t.Event), string(t.To), string(t.Cause),
		nullID(t.ActorID), t.Actor, t.Detail, t.Errcode, t.At.Unix())
	return err
}

// TransitionRelease applies ev to a release in one write transaction: it
// reads the current row, runs model's Apply (table, causes, two-person rule,
// approval hash, the caller's Seq), writes the new row only if seq is still
// what was read, and appends the event row. Two approvers, a double click,
// or a push racing a poll: the second finds the release moved and gets a
// conflict, so nothing is applied twice.
// ops are writes that ride in the same transaction, after the move (what
// the step collected, its call marker); they are rolled back with it.
func (s *Store) TransitionRelease(ctx context.Context, tenantID, releaseID int64, ev model.ReleaseEvent, c model.Cause, ops ...TxOp) (model.Release, error) {
	if c.At.IsZero() {
		c.At = unix(s.now())
	}
	var out model.Release
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		if out, err = s.transitionReleaseTx(ctx, tx, tenantID, releaseID, ev, c); err != nil {
			return err
		}
		return runOps(ctx, tx, ops)
	})
	return out, err
}

// TxOp is a write that rides in the transaction of a release transition
// (TransitionRelease's ops), so a step and what it collected cost one
// commit, not two: a campaign makes tens of thousands of them.
type TxOp func(ctx context.Context, tx *sql.Tx) error

// ApplyOps runs ops in one transaction of their own: a write of a step
// that moves no release (a call's answer before the move it leads to), or
// ops whose transition lost its compare-and-set. There is no second,
// standalone form of an op's write.
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

// transitionReleaseTx is TransitionRelease inside the caller's transaction
// (c.At must be set).
func (s *Store) transitionReleaseTx(ctx context.Context, tx *sql.Tx, tenantID, releaseID int64, ev model.ReleaseEvent, c model.Cause) (model.Release, error) {
	var out model.Release
	err := func() error {
		cur, err := scanRelease(tx.StmtContext(ctx, s.hot.selectRelease).QueryRowContext(ctx, releaseID, tenantID))
		if err != nil {
			return notFound(err, "release")
		}
		n, t, err := cur.Apply(ev, c)
		if err != nil {
			return err
		}
		res, err := tx.StmtContext(ctx, s.hot.updateRelease).ExecContext(ctx,
			n.TemplateID, n.UserVersion, n.UserDesc, n.ExtJSON, submitJSON(n.Submit),
			n.PayloadHash, string(n.State), n.State.Open(), n.Seq, nullID(n.ApproverID), n.Approver, n.ApprovalHash, nullTime(n.ApprovedAt),
			n.AuditID, n.Reason, n.ScreenShots, n.Errcode, n.GrayPercent, n.UpdatedAt.Unix(),
			nullTime(n.SubmittedAt), nullTime(n.DecidedAt), nullTime(n.ReleasedAt), amendersJSON(n.Amenders),
			releaseID, tenantID, cur.Seq)
		if isUnique(err) {
			return model.Errorf(model.CodeConflict, "release.err.open_exists")
		}
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k != 1 {
			return model.Errorf(model.CodeConflict, "release.err.stale")
		}
		if err := s.insertReleaseEvent(ctx, tx, t); err != nil {
			if isUnique(err) {
				return model.Errorf(model.CodeConflict, "release.err.stale")
			}
			return err
		}
		if err := s.releaseEventsTx(ctx, tx, tenantID, n, t); err != nil {
			return err
		}
		if c.Kind == model.CauseUser {
			detail := fmt.Sprintf("#%d %s: %s → %s", releaseID, ev, t.From, t.To)
			if err := s.logTx(ctx, tx, model.Actor{UserID: c.ActorID, Label: c.Actor}, tenantID, ActReleaseStep, n.AppID, detail); err != nil {
				return err
			}
		}
		out = n
		return nil
	}()
	return out, err
}

// Release loads one release of the tenant.
func (s *Store) Release(ctx context.Context, tenantID, id int64) (model.Release, error) {
	r, err := scanRelease(s.readRow(ctx, `SELECT `+releaseCols+` FROM releases WHERE id = ? AND tenant_id = ?`, id, tenantID))
	return r, notFound(err, "release")
}

// OpenRelease loads the app's open release: the one an audit push or a
// poll result belongs to (one audit per app is in flight).
func (s *Store) OpenRelease(ctx context.Context, tenantID int64, appID string) (model.Release, error) {
	r, err := scanRelease(s.readRow(ctx, `SELECT `+releaseCols+` FROM releases WHERE tenant_id = ? AND appid = ? AND open = 1`, tenantID, appID))
	return r, notFound(err, "release")
}

// ListReleases returns the app's releases, newest first.
func (s *Store) ListReleases(ctx context.Context, tenantID int64, appID string, limit int) ([]model.Release, error) {
	if limit <= 0 {
		limit = 50
	}
	return s.queryReleases(ctx, `SELECT `+releaseCols+` FROM releases WHERE tenant_id = ? AND appid = ? ORDER BY id DESC LIMIT ?`,
		tenantID, appID, limit)
}

// ReleasesInStates returns releases of every tenant in the given states,
// least recently updated first: for the resume-after-restart and polling
// loops (which run under a lease) and the staff fleet board.
func (s *Store) ReleasesInStates(ctx context.Context, states []model.ReleaseState, limit int) ([]model.Release, error) {
	if len(states) == 0 {
		return nil, nil
	}
	if limit <= 0 {
		limit = 500
	}
	args := make([]any, 0, len(states)+1)
	for _, st := range states {
		args = append(args, string(st))
	}
	q := `SELECT ` + releaseCols + ` FROM releases WHERE state IN (?` + strings.Repeat(",?", len(states)-1) + `) ORDER BY updated_at, id LIMIT ?`
	return s.queryReleases(ctx, q, append(args, limit)...)
}

func (s *Store) queryReleases(ctx context.Context, q string, args ...any) ([]model.Release, error) {
	rows, err := s.read(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []model.Release
	for rows.Next() {
		r, err := scanRelease(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ReleaseEvents returns a release's transitions, oldest first.
func (s *Store) ReleaseEvents(ctx context.Context, tenantID, releaseID int64) ([]model.ReleaseTransition, error) {
	rows, err := s.read(ctx, `SELECT id, release_id, tenant_id, seq, from_state, event, to_state, cause,
		COALESCE(actor_id, 0), actor, detail, errcode, at FROM release_events WHERE tenant_id = ? AND release_id = ? ORDER BY seq`,
		tenantID, releaseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []model.ReleaseTransition
	for rows.Next() {
		var t model.ReleaseTransition
		var from, ev, to, cause string
		var at int64
		if err := rows.Scan(&t.ID, &t.ReleaseID, &t.TenantID, &t.Seq, &from, &ev, &to, &cause,
			&t.ActorID, &t.Actor, &t.Detail, &t.Errcode, &at); err != nil {
			return nil, err
		}
		t.From, t.Event, t.To, t.Cause, t.At = model.ReleaseState(from), model.ReleaseEvent(ev), model.ReleaseState(to), model.CauseKind(cause), unix(at)
		out = append(out, t)
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
