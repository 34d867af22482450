package store

import (
	"context"
	"database/sql"

	"github.com/minifleet/minifleet/app/model"
)

const membershipSelect = `SELECT m.tenant_id, t.name, t.status, m.user_id, u.email, u.name, m.role, m.created_at
	FROM memberships m JOIN tenants t ON t.id = m.tenant_id JOIN users u ON u.id = m.user_id`

func scanMemberships(rows *sql.Rows, err error) ([]model.Membership, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []model.Membership
	for rows.Next() {
		var m model.Membership
		var status, role string
		var created int64
		if err := rows.Scan(&m.TenantID, &m.TenantName, &status, &m.UserID, &m.UserEmail, &m.UserName, &role, &created); err != nil {
			return nil, err
		}
		m.TenantStatus, m.Role, m.CreatedAt = model.TenantStatus(status), model.TenantRole(role), unix(created)
		out = append(out, m)
	}
	return out, rows.Err()
}

// MembershipsOfUser lists the tenants a user belongs to.
func (s *Store) MembershipsOfUser(ctx context.Context, userID int64) ([]model.Membership, error) {
	return scanMemberships(s.read(ctx, membershipSelect+` WHERE m.user_id = ? ORDER BY t.name, t.id`, userID)) // every page load
}

// Members lists a tenant's members.
func (s *Store) Members(ctx context.Context, tenantID int64) ([]model.Membership, error) {
	return scanMemberships(s.read(ctx, membershipSelect+` WHERE m.tenant_id = ? ORDER BY m.created_at, u.id`, tenantID))
}

// Membership loads one user's membership of one tenant.
func (s *Store) Membership(ctx context.Context, tenantID, userID int64) (model.Membership, error) {
	ms, err := scanMemberships(s.read(ctx, membershipSelect+` WHERE m.tenant_id = ? AND m.user_id = ?`, tenantID, userID))
	if err != nil {
		return model.Membership{}, err
	}
	if len(ms) == 0 {
		return model.Membership{}, model.NotFound("membership")
	}
	return ms[0], nil
}

// AllRoleAssignments streams every tenant membership, for the authz loader.
func (s *Store) AllRoleAssignments(ctx context.Context, fn func(userID, tenantID int64, role model.TenantRole) error) error {
	rows, err := s.read(ctx, `SELECT user_id, tenant_id, role FROM memberships`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var u, t int64
		var r string
		if err := rows.Scan(&u, &t, &r); err != nil {
			return err
		}
		if err := fn(u, t, model.TenantRole(r)); err != nil {
			return err
		}
	}
	return rows.Err()
}

// memberTx reads a member's role and e-mail inside tx.
func memberTx(ctx context.Context, tx *sql.Tx, tenantID, userID int64) (role, email string, err error) {
	err = tx.QueryRowContext(ctx, `SELECT m.role, u.email FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.tenant_id = ? AND m.user_id = ?`, tenantID, userID).Scan(&role, &email)
	return role, email, notFound(err, "member")
}

// keepAnOwner refuses to take the owner role from userID when no other owner
// would remain. It runs inside the write transaction, so two owners demoting
// each other at once cannot both succeed.
func keepAnOwner(ctx context.Context, tx *sql.Tx, tenantID, userID int64, cur string) error {
	if cur != string(model.RoleOwner) {
		return nil
	}
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM memberships WHERE tenant_id = ? AND role = 'owner' AND user_id != ?`, tenantID, userID).Scan(&n)
	if err != nil {
		return err
	}
	if n == 0 {
		return model.Errorf(model.CodeConflict, "members.last_owner")
	}
	return nil
}

// SetMemberRole changes a member's role; the last owner cannot be demoted.
func (s *Store) SetMemberRole(ctx context.Context, a model.Actor, tenantID, userID int64, role model.TenantRole) error {
	if !role.Valid() {
		return model.FieldError("role", "form.role_invalid")
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		cur, email, err := memberTx(ctx, tx, tenantID, userID)
		if err != nil {
			return err
		}
		if cur == string(role) {
			return nil
		}
		if err := keepAnOwner(ctx, tx, tenantID, userID, cur); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE memberships SET role = ? WHERE tenant_id = ? AND user_id = ?`, string(role), tenantID, userID); err != nil {
			return err
		}
		return s.logTx(ctx, tx, a, tenantID, ActRoleChange, email, cur+" → "+string(role))
	})
}

// RemoveMember removes a member; the last owner cannot be removed.
func (s *Store) RemoveMember(ctx context.Context, a model.Actor, tenantID, userID int64) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		cur, email, err := memberTx(ctx, tx, tenantID, userID)
		if err != nil {
			return err
		}
		if err := keepAnOwner(ctx, tx, tenantID, userID, cur); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM memberships WHERE tenant_id = ? AND user_id = ?`, tenantID, userID); err != nil {
			return err
		}
		return s.logTx(ctx, tx, a, tenantID, ActMemberRemove, email, cur)
	})
}
