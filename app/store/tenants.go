package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/minifleet/minifleet/app/model"
)

func (s *Store) insertTenant(ctx context.Context, tx *sql.Tx, name string) (model.Tenant, error) {
	now := s.now()
	name = strings.TrimSpace(name)
	res, err := tx.ExecContext(ctx, `INSERT INTO tenants (name, status, created_at, updated_at) VALUES (?, 'active', ?, ?)`, name, now, now)
	if err != nil {
		return model.Tenant{}, err
	}
	id, err := res.LastInsertId()
	return model.Tenant{ID: id, Name: name, Status: model.TenantActive, CreatedAt: unix(now), UpdatedAt: unix(now)}, err
}

// Tenant loads one tenant.
func (s *Store) Tenant(ctx context.Context, id int64) (model.Tenant, error) {
	var t model.Tenant
	var status string
	var created, updated int64
	err := s.readRow(ctx, `SELECT id, name, status, created_at, updated_at, (SELECT COUNT(*) FROM memberships m WHERE m.tenant_id = tenants.id) FROM tenants WHERE id = ?`, id).
		Scan(&t.ID, &t.Name, &status, &created, &updated, &t.Members)
	t.Status, t.CreatedAt, t.UpdatedAt = model.TenantStatus(status), unix(created), unix(updated)
	return t, notFound(err, "tenant")
}

// TenantFilter selects tenants for the staff list.
type TenantFilter struct {
	Query  string // name, id, or a member's e-mail
	Status model.TenantStatus
	Offset int
	Limit  int
}

// ListTenants returns one page of tenants, newest first, and the total that match.
func (s *Store) ListTenants(ctx context.Context, f TenantFilter) ([]model.Tenant, int, error) {
	var where []string
	var args []any
	if f.Status != "" {
		where, args = append(where, "t.status = ?"), append(args, string(f.Status))
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		if !searchable(q) {
			return nil, 0, nil
		}
		// Three characters or more: the trigram index of names and member
		// e-mails (migration 00004). Shorter: a scan of the names only.
		var cond string
		if utf8.RuneCountInString(q) >= 3 {
			cond = `(t.id IN (SELECT rowid FROM tenant_search WHERE tenant_search MATCH ?)`
			args = append(args, `"`+strings.ReplaceAll(q, `"`, `""`)+`"`)
		} else if strings.IndexFunc(q, isASCIILetter) < 0 {
			// Without ASCII letters, LIKE's case folding does nothing and
			// instr finds the same rows in half the time.
			cond = `(instr(t.name, ?) > 0`
			args = append(args, q)
		} else {
			cond = `(t.name LIKE ? ESCAPE '\'`
			args = append(args, "%"+likeEscape(q)+"%")
		}
		if id, err := strconv.ParseInt(q, 10, 64); err == nil {
			cond += ` OR t.id = ?`
			args = append(args, id)
		}
		where = append(where, cond+")")
	}
	w := ""
	if len(where) > 0 {
		w = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := s.readRow(ctx, `SELECT COUNT(*) FROM tenants t`+w, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	if f.Offset >= total { // nothing to list: spare a second scan of a search that missed
		return nil, total, nil
	}
	rows, err := s.read(ctx, `SELECT t.id, t.name, t.status, t.created_at, t.updated_at,
		(SELECT COUNT(*) FROM memberships m WHERE m.tenant_id = t.id)
		FROM tenants t`+w+` ORDER BY t.id DESC LIMIT ? OFFSET ?`, append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []model.Tenant
	for rows.Next() {
		var t model.Tenant
		var status string
		var created, updated int64
		if err := rows.Scan(&t.ID, &t.Name, &status, &created, &updated, &t.Members); err != nil {
			return nil, 0, err
		}
		t.Status, t.CreatedAt, t.UpdatedAt = model.TenantStatus(status), unix(created), unix(updated)
		out = append(out, t)
	}
	return out, total, rows.Err()
}

func isASCIILetter(r rune) bool { return r < 0x80 && ('a' <= r|0x20 && r|0x20 <= 'z') }

// SetTenantStatus suspends or reactivates a tenant; nothing is deleted.
func (s *Store) SetTenantStatus(ctx context.Context, a model.Actor, tenantID int64, status model.TenantStatus, reason string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var cur, name string
		if err := tx.QueryRowContext(ctx, `SELECT status, name FROM tenants WHERE id = ?`, tenantID).Scan(&cur, &name); err != nil {
			return notFound(err, "tenant")
		}
		if cur == string(status) {
			return model.Errorf(model.CodeConflict, "tenant.status_unchanged")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tenants SET status = ?, updated_at = ? WHERE id = ?`, string(status), s.now(), tenantID); err != nil {
			return err
		}
		act := ActTenantSuspend
		if status == model.TenantActive {
			act = ActTenantResume
		}
		return s.logTx(ctx, tx, a, tenantID, act, name, reason)
	})
}

// RenameTenant changes a tenant's display name.
func (s *Store) RenameTenant(ctx context.Context, a model.Actor, tenantID int64, name string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE tenants SET name = ?, updated_at = ? WHERE id = ?`, strings.TrimSpace(name), s.now(), tenantID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return model.NotFound("tenant")
		}
		return s.logTx(ctx, tx, a, tenantID, ActTenantRename, name, "")
	})
}
