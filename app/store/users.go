package store

import (
	"context"
	"database/sql"

	"github.com/minifleet/minifleet/app/model"
)

const userCols = `id, email, name, password_hash, locale, time_zone, staff_role, created_at, session_epoch`

func scanUser(row interface{ Scan(...any) error }) (model.User, error) {
	var u model.User
	var created int64
	var role string
	err := row.Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &u.Locale, &u.TimeZone, &role, &created, &u.SessionEpoch)
	u.StaffRole, u.CreatedAt = model.StaffRole(role), unix(created)
	return u, err
}

// UserByID loads a user.
func (s *Store) UserByID(ctx context.Context, id int64) (model.User, error) {
	u, err := scanUser(s.readRow(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id)) // every page load
	return u, notFound(err, "user")
}

// UserByEmail loads a user by address (case-insensitive).
func (s *Store) UserByEmail(ctx context.Context, email string) (model.User, error) {
	u, err := scanUser(s.readRow(ctx, `SELECT `+userCols+` FROM users WHERE email = ?`, model.NormalizeEmail(email)))
	return u, notFound(err, "user")
}

func (s *Store) insertUser(ctx context.Context, tx *sql.Tx, u model.User) (int64, error) {
	now := s.now()
	res, err := tx.ExecContext(ctx, `INSERT INTO users (email, name, password_hash, locale, time_zone, staff_role, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)`,
		model.NormalizeEmail(u.Email), u.Name, u.PasswordHash, u.Locale, u.TimeZone, string(u.StaffRole), now, now)
	if isUnique(err) {
		return 0, model.FieldError("email", "form.email_taken")
	}
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// Signup creates a tenant and its owner in one transaction.
func (s *Store) Signup(ctx context.Context, u model.User, tenantName, ip string) (model.User, model.Tenant, error) {
	var t model.Tenant
	err := s.tx(ctx, func(tx *sql.Tx) error {
		id, err := s.insertUser(ctx, tx, u)
		if err != nil {
			return err
		}
		u.ID = id
		t, err = s.insertTenant(ctx, tx, tenantName)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO memberships (tenant_id, user_id, role, created_at) VALUES (?,?,?,?)`, t.ID, u.ID, model.RoleOwner, s.now()); err != nil {
			return err
		}
		return s.logTx(ctx, tx, model.Actor{UserID: u.ID, Label: model.NormalizeEmail(u.Email), IP: ip}, t.ID, ActSignup, t.Name, "")
	})
	if err != nil {
		return model.User{}, model.Tenant{}, err
	}
	u.Email = model.NormalizeEmail(u.Email)
	return u, t, nil
}

// CreateUser creates a user without a tenant (staff, or an invitee).
func (s *Store) CreateUser(ctx context.Context, a model.Actor, u model.User) (model.User, error) {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		id, err := s.insertUser(ctx, tx, u)
		if err != nil {
			return err
		}
		u.ID = id
		if u.StaffRole != model.StaffNone {
			return s.logTx(ctx, tx, a, 0, ActStaffCreate, model.NormalizeEmail(u.Email), string(u.StaffRole))
		}
		return nil
	})
	u.Email = model.NormalizeEmail(u.Email)
	return u, err
}

// SetStaffRole gives or takes a platform role.
func (s *Store) SetStaffRole(ctx context.Context, a model.Actor, userID int64, role model.StaffRole) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET staff_role = ?, updated_at = ? WHERE id = ?`, string(role), s.now(), userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return model.NotFound("user")
		}
		return s.logTx(ctx, tx, a, 0, ActRoleChange, "staff", string(role))
	})
}

// SetPassword stores a new hash and bumps the session epoch, which ends every
// session signed in before; it returns the new epoch for the caller's session.
func (s *Store) SetPassword(ctx context.Context, a model.Actor, userID int64, hash string) (int64, error) {
	var epoch int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `UPDATE users SET password_hash = ?, session_epoch = session_epoch + 1, updated_at = ? WHERE id = ? RETURNING session_epoch`, hash, s.now(), userID).Scan(&epoch)
		if err != nil {
			return notFound(err, "user")
		}
		return s.logTx(ctx, tx, a, 0, ActPasswordChange, a.Label, "")
	})
	return epoch, err
}

// SetPreferences stores the user's language and time zone.
func (s *Store) SetPreferences(ctx context.Context, userID int64, locale, tz string) error {
	_, err := s.W.ExecContext(ctx, `UPDATE users SET locale = ?, time_zone = ?, updated_at = ? WHERE id = ?`, locale, tz, s.now(), userID)
	return err
}

// StaffUsers lists users with a platform role, for the authz loader and staff pages.
func (s *Store) StaffUsers(ctx context.Context) ([]model.User, error) {
	rows, err := s.read(ctx, `SELECT `+userCols+` FROM users WHERE staff_role != '' ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []model.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}
