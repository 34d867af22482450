package store

import (
	"context"
	"database/sql"

	"github.com/minifleet/minifleet/app/model"
)

// ActTenantApprovals is the activity row of a change of who approves.
const ActTenantApprovals = "tenant_approvals_set"

// TenantApprovals says who approves the tenant's releases.
func (s *Store) TenantApprovals(ctx context.Context, tenantID int64) (model.Approvals, error) {
	var a string
	err := s.readRow(ctx, `SELECT approvals FROM tenants WHERE id = ?`, tenantID).Scan(&a)
	return model.Approvals(a), notFound(err, "tenant")
}

// SetTenantApprovals changes who approves the tenant's releases and logs it
// (the detail is the new choice). Choosing what is already set is a
// conflict and writes nothing.
func (s *Store) SetTenantApprovals(ctx context.Context, a model.Actor, tenantID int64, to model.Approvals) error {
	if !to.Valid() {
		return model.FieldError("approvals", "form.invalid_choice")
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		var cur, name string
		if err := tx.QueryRowContext(ctx, `SELECT approvals, name FROM tenants WHERE id = ?`, tenantID).Scan(&cur, &name); err != nil {
			return notFound(err, "tenant")
		}
		if cur == string(to) {
			return model.Errorf(model.CodeConflict, "approvals.unchanged")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tenants SET approvals = ?, updated_at = ? WHERE id = ?`, string(to), s.now(), tenantID); err != nil {
			return err
		}
		return s.logTx(ctx, tx, a, tenantID, ActTenantApprovals, name, string(to))
	})
}

// PendingRelease is a release waiting for an approver, with its tenant's name.
type PendingRelease struct {
	model.Release
	TenantName string
}

// PendingReleases lists releases awaiting approval (or whose submit failed,
// which an approver retries), oldest first: of one tenant (tenantID), or of
// every tenant whose approvals are by staff (tenantID 0). Only releases of
// tenants whose approvals go to `by` are listed, and of a campaign's apps
// only those that dropped out of its approval (the engine submits the rest).
func (s *Store) PendingReleases(ctx context.Context, tenantID int64, by model.Approvals, limit int) ([]PendingRelease, error) {
	if limit <= 0 {
		limit = 50
	}
	inner := `SELECT r.*, t.name AS tenant_name FROM releases r JOIN tenants t ON t.id = r.tenant_id
		WHERE r.state IN ('awaiting_approval', 'submit_failed') AND r.open = 1 AND t.approvals = ? AND t.status = 'active'
		AND (r.campaign_id IS NULL OR EXISTS (SELECT 1 FROM campaign_apps ca WHERE ca.campaign_id = r.campaign_id AND ca.appid = r.appid AND ca.state = 'dropped'))`
	args := []any{string(by)}
	if tenantID != 0 {
		inner, args = inner+` AND r.tenant_id = ?`, append(args, tenantID)
	}
	q := `SELECT ` + releaseCols + `, tenant_name FROM (` + inner + `)`
	rows, err := s.read(ctx, q+` ORDER BY updated_at, id LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PendingRelease
	for rows.Next() {
		var p PendingRelease
		var name string
		r, err := scanRelease(rowWithTail{rows, &name})
		if err != nil {
			return nil, err
		}
		p.Release, p.TenantName = r, name
		out = append(out, p)
	}
	return out, rows.Err()
}

// PendingCampaigns lists campaigns awaiting approval, oldest first: a
// tenant's own when it approves its own (tenantID), or for staff (0) staff
// campaigns and those of tenants that chose staff approval.
func (s *Store) PendingCampaigns(ctx context.Context, tenantID int64, limit int) ([]model.Campaign, error) {
	if limit <= 0 {
		limit = 50
	}
	q := `SELECT ` + campaignCols + ` FROM campaigns WHERE state = 'awaiting_approval'
		AND (tenant_id IS NULL OR tenant_id IN (SELECT id FROM tenants WHERE approvals = 'staff' AND status = 'active'))`
	args := []any{}
	if tenantID != 0 {
		q = `SELECT ` + campaignCols + ` FROM campaigns WHERE state = 'awaiting_approval' AND tenant_id = ?
			AND tenant_id IN (SELECT id FROM tenants WHERE approvals = 'tenant')`
		args = append(args, tenantID)
	}
	return s.queryCampaigns(ctx, q+` ORDER BY id LIMIT ?`, append(args, limit)...)
}

// rowWithTail scans a row's leading columns into the caller's targets and
// its last column into tail.
type rowWithTail struct {
	sc   interface{ Scan(...any) error }
	tail any
}

func (r rowWithTail) Scan(dest ...any) error { return r.sc.Scan(append(dest, r.tail)...) }
