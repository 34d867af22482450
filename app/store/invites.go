package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"time"

	"github.com/minifleet/minifleet/app/model"
)

// InviteLifetime is how long an invite link works.
const InviteLifetime = 7 * 24 * time.Hour

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// CreateInvite makes a one-time invite and returns it with its token; only the
// token's hash is stored, so the link can be shown once and never again.
func (s *Store) CreateInvite(ctx context.Context, a model.Actor, tenantID int64, role model.TenantRole, note string) (model.Invite, string, error) {
	if !role.Valid() {
		return model.Invite{}, "", model.FieldError("role", "form.role_invalid")
	}
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return model.Invite{}, "", err
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	now := s.Now()
	inv := model.Invite{TenantID: tenantID, Role: role, Note: note, CreatedBy: a.UserID, CreatedAt: now.Truncate(time.Second), ExpiresAt: now.Add(InviteLifetime).Truncate(time.Second)}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO invites (tenant_id, token_hash, role, note, created_by, created_at, expires_at) VALUES (?,?,?,?,?,?,?)`,
			tenantID, hashToken(token), string(role), note, a.UserID, inv.CreatedAt.Unix(), inv.ExpiresAt.Unix())
		if err != nil {
			return err
		}
		if inv.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		return s.logTx(ctx, tx, a, tenantID, ActInviteCreate, string(role), note)
	})
	return inv, token, err
}

const inviteCols = `id, tenant_id, role, note, created_by, created_at, expires_at, accepted_by, accepted_at, revoked_at`

func scanInvite(row interface{ Scan(...any) error }) (model.Invite, error) {
	var i model.Invite
	var role string
	var created, expires int64
	var acceptedBy, acceptedAt, revokedAt sql.NullInt64
	err := row.Scan(&i.ID, &i.TenantID, &role, &i.Note, &i.CreatedBy, &created, &expires, &acceptedBy, &acceptedAt, &revokedAt)
	i.Role, i.CreatedAt, i.ExpiresAt = model.TenantRole(role), unix(created), unix(expires)
	i.AcceptedBy, i.AcceptedAt, i.RevokedAt = acceptedBy.Int64, nullUnix(acceptedAt), nullUnix(revokedAt)
	return i, err
}

// InviteByToken finds an invite from the link's token (in any state).
func (s *Store) InviteByToken(ctx context.Context, token string) (model.Invite, error) {
	i, err := scanInvite(s.readRow(ctx, `SELECT `+inviteCols+` FROM invites WHERE token_hash = ?`, hashToken(token)))
	return i, notFound(err, "invite")
}

// Invites lists a tenant's invites, newest first.
func (s *Store) Invites(ctx context.Context, tenantID int64) ([]model.Invite, error) {
	rows, err := s.read(ctx, `SELECT `+inviteCols+` FROM invites WHERE tenant_id = ? ORDER BY id DESC LIMIT 50`, tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []model.Invite
	for rows.Next() {
		i, err := scanInvite(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// RevokeInvite cancels a pending invite of tenantID.
func (s *Store) RevokeInvite(ctx context.Context, a model.Actor, tenantID, inviteID int64) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE invites SET revoked_at = ? WHERE id = ? AND tenant_id = ? AND accepted_at IS NULL AND revoked_at IS NULL`, s.now(), inviteID, tenantID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return model.NotFound("invite")
		}
		return s.logTx(ctx, tx, a, tenantID, ActInviteRevoke, "", "")
	})
}

// AcceptInvite spends the invite for userID, or for newUser when userID is 0
// (the invitee signs up on the invite page). Both happen in one transaction.
func (s *Store) AcceptInvite(ctx context.Context, token string, userID int64, newUser *model.User, ip string) (model.Invite, int64, error) {
	var inv model.Invite
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		inv, err = scanInvite(tx.QueryRowContext(ctx, `SELECT `+inviteCols+` FROM invites WHERE token_hash = ?`, hashToken(token)))
		if err != nil {
			return notFound(err, "invite")
		}
		if st := inv.State(s.Now()); st != "pending" {
			return model.Errorf(model.CodeConflict, "invite."+st)
		}
		var status string
		if err := tx.QueryRowContext(ctx, `SELECT status FROM tenants WHERE id = ?`, inv.TenantID).Scan(&status); err != nil {
			return err
		}
		if status != string(model.TenantActive) {
			return model.Errorf(model.CodeForbidden, "tenant.suspended")
		}
		if newUser != nil {
			if userID, err = s.insertUser(ctx, tx, *newUser); err != nil {
				return err
			}
		}
		var email string
		if err := tx.QueryRowContext(ctx, `SELECT email FROM users WHERE id = ?`, userID).Scan(&email); err != nil {
			return notFound(err, "user")
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO memberships (tenant_id, user_id, role, created_at) VALUES (?,?,?,?)`, inv.TenantID, userID, string(inv.Role), s.now())
		if err != nil {
			if isUnique(err) {
				return model.Errorf(model.CodeConflict, "invite.already_member")
			}
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE invites SET accepted_by = ?, accepted_at = ? WHERE id = ?`, userID, s.now(), inv.ID); err != nil {
			return err
		}
		return s.logTx(ctx, tx, model.Actor{UserID: userID, Label: email, IP: ip}, inv.TenantID, ActInviteAccept, email, string(inv.Role))
	})
	return inv, userID, err
}
