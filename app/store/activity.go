package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/minifleet/minifleet/app/model"
)

// Action names in the activity log (also translation keys "activity.<action>").
const (
	ActSignup         = "signup"
	ActLogin          = "login"
	ActLoginFailed    = "login_failed"
	ActLogout         = "logout"
	ActPasswordChange = "password_changed"
	ActInviteCreate   = "invite_created"
	ActInviteRevoke   = "invite_revoked"
	ActInviteAccept   = "invite_accepted"
	ActRoleChange     = "role_changed"
	ActMemberRemove   = "member_removed"
	ActTenantSuspend  = "tenant_suspended"
	ActTenantResume   = "tenant_reactivated"
	ActTenantRename   = "tenant_renamed"
	ActStaffCreate    = "staff_created"
)

// Activity appends one row outside any other change (e.g. a failed login).
func (s *Store) Activity(ctx context.Context, a model.Actor, tenantID int64, action, object, detail string) error {
	return s.tx(ctx, func(tx *sql.Tx) error { return s.logTx(ctx, tx, a, tenantID, action, object, detail) })
}

const insertActivitySQL = `INSERT INTO activity (at, tenant_id, actor_id, actor, action, object, detail, ip) VALUES (?,?,?,?,?,?,?,?)`

// logTx appends one row inside the transaction that makes the change.
func (s *Store) logTx(ctx context.Context, tx *sql.Tx, a model.Actor, tenantID int64, action, object, detail string) error {
	_, err := tx.StmtContext(ctx, s.hot.insertActivity).ExecContext(ctx, s.now(), nullID(tenantID), nullID(a.UserID), a.Label, action, object, detail, a.IP)
	return err
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// ActivityFilter selects activity rows. TenantID 0 means every tenant (staff only).
type ActivityFilter struct {
	TenantID int64
	Action   string
	Actions  []string // any of these actions (a family); with Action, both apply
	Query    string   // matches actor, object or detail
	// QueryActions are actions whose label (in the viewer's language)
	// matches Query: their rows match too.
	QueryActions []string
	Since        time.Time
	Until        time.Time
	BeforeID     int64 // keyset pagination
	Limit        int
}

// inList is "?,?,…" for n values.
func inList(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

// ListActivity returns rows newest first, each with its tenant's name.
func (s *Store) ListActivity(ctx context.Context, f ActivityFilter) ([]model.Activity, error) {
	var where []string
	var args []any
	if f.TenantID != 0 {
		where, args = append(where, "a.tenant_id = ?"), append(args, f.TenantID)
	}
	if f.Action != "" {
		where, args = append(where, "a.action = ?"), append(args, f.Action)
	}
	if len(f.Actions) > 0 {
		where = append(where, "a.action IN ("+inList(len(f.Actions))+")")
		for _, x := range f.Actions {
			args = append(args, x)
		}
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		if !searchable(q) {
			return nil, nil
		}
		p := "%" + likeEscape(q) + "%"
		cond := `a.actor LIKE ? ESCAPE '\' OR a.object LIKE ? ESCAPE '\' OR a.detail LIKE ? ESCAPE '\'`
		args = append(args, p, p, p)
		if len(f.QueryActions) > 0 {
			cond += " OR a.action IN (" + inList(len(f.QueryActions)) + ")"
			for _, x := range f.QueryActions {
				args = append(args, x)
			}
		}
		where = append(where, "("+cond+")")
	}
	if !f.Since.IsZero() {
		where, args = append(where, "a.at >= ?"), append(args, f.Since.Unix())
	}
	if !f.Until.IsZero() {
		where, args = append(where, "a.at < ?"), append(args, f.Until.Unix())
	}
	if f.BeforeID > 0 {
		where, args = append(where, "a.id < ?"), append(args, f.BeforeID)
	}
	q := `SELECT a.id, a.at, COALESCE(a.tenant_id,0), COALESCE(t.name,''), COALESCE(a.actor_id,0), a.actor, a.action, a.object, a.detail, a.ip
		FROM activity a LEFT JOIN tenants t ON t.id = a.tenant_id`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY a.id DESC"
	if f.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, f.Limit)
	}
	rows, err := s.read(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []model.Activity
	for rows.Next() {
		var a model.Activity
		var at int64
		if err := rows.Scan(&a.ID, &at, &a.TenantID, &a.TenantName, &a.ActorID, &a.Actor, &a.Action, &a.Object, &a.Detail, &a.IP); err != nil {
			return nil, err
		}
		a.At = unix(at)
		out = append(out, a)
	}
	return out, rows.Err()
}
