package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"time"

	"github.com/minifleet/minifleet/app/model"
)

// Activity actions of onboarding.
const (
	ActAppAuthorizeStart = "app_authorize_started"
	ActAppBound          = "app_bound"
	ActAppRefused        = "app_refused"
	ActAppPermissions    = "app_permissions_changed"
	ActAppUnauthorized   = "app_unauthorized"
	ActAppReauthorized   = "app_reauthorized"
	ActAppAssigned       = "app_assigned"
	ActAppConflict       = "app_conflict_resolved"
	ActReconcile         = "apps_reconciled"
)

// CodeHash is the SHA-256 (hex) under which pre_auth_codes and auth codes
// are looked up; the codes themselves are never stored in the clear.
func CodeHash(code string) string {
	h := sha256.Sum256([]byte(code))
	return hex.EncodeToString(h[:])
}

func attemptCodeAD(hash string) string { return "attempt:" + hash }
func attemptAuthAD(id int64) string    { return "attempt:" + strconv.FormatInt(id, 10) + ":auth_code" }
func attemptObject(id int64) string    { return "attempt #" + strconv.FormatInt(id, 10) }

const attemptCols = `id, tenant_id, user_id, code_hash, code_sealed, biz_appid, created_at, expires_at, state, appid, error, tries, next_try_at, updated_at`

func (s *Store) scanAttempt(row interface{ Scan(...any) error }, open bool) (model.AuthAttempt, error) {
	var a model.AuthAttempt
	var hash, sealed string
	var created, expires, next, updated int64
	err := row.Scan(&a.ID, &a.TenantID, &a.UserID, &hash, &sealed, &a.BizAppID, &created, &expires, &a.State, &a.AppID, &a.Error, &a.Tries, &next, &updated)
	if err != nil {
		return a, err
	}
	a.CreatedAt, a.ExpiresAt, a.NextTryAt, a.UpdatedAt = unix(created), unix(expires), unix(next), unix(updated)
	if open {
		if a.PreAuthCode, err = s.Box.Open(sealed, attemptCodeAD(hash)); err != nil {
			return a, err
		}
	}
	return a, nil
}

// CreateAttempt records a fresh pre_auth_code for tenantID and its user,
// with a new callback state: the returned attempt carries it in the clear
// (CallbackState), the row only its SHA-256.
func (s *Store) CreateAttempt(ctx context.Context, actor model.Actor, tenantID int64, preAuthCode, bizAppID string, expiresAt time.Time) (model.AuthAttempt, error) {
	hash := CodeHash(preAuthCode)
	state := newAttemptState()
	var id int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		res, err := tx.ExecContext(ctx, `INSERT INTO auth_attempts (tenant_id, user_id, code_hash, code_sealed, biz_appid, created_at, expires_at, updated_at, state_hash)
			VALUES (?,?,?,?,?,?,?,?,?)`, tenantID, actor.UserID, hash, s.Box.Seal(preAuthCode, attemptCodeAD(hash)), bizAppID, now, expiresAt.Unix(), now, CodeHash(state))
		if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		return s.logTx(ctx, tx, actor, tenantID, ActAppAuthorizeStart, attemptObject(id), bizAppID)
	})
	if err != nil {
		return model.AuthAttempt{}, err
	}
	a, err := s.Attempt(ctx, tenantID, id)
	a.CallbackState = state
	return a, err
}

// newAttemptState is 32 random bytes, base64url: unguessable, URL-safe.
func newAttemptState() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// AttemptStateMatches reports whether state is the callback state of
// tenantID's attempt id. An empty state, an attempt from before states
// existed and an unknown attempt all match nothing.
func (s *Store) AttemptStateMatches(ctx context.Context, tenantID, id int64, state string) (bool, error) {
	if state == "" {
		return false, nil
	}
	var stored string
	err := s.readRow(ctx, `SELECT state_hash FROM auth_attempts WHERE tenant_id = ? AND id = ?`, tenantID, id).Scan(&stored)
	if errors.Is(err, sql.ErrNoRows) || stored == "" {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare([]byte(stored), []byte(CodeHash(state))) == 1, nil
}

// Attempt loads one of tenantID's attempts with its pre_auth_code opened.
func (s *Store) Attempt(ctx context.Context, tenantID, id int64) (model.AuthAttempt, error) {
	a, err := s.scanAttempt(s.readRow(ctx, `SELECT `+attemptCols+` FROM auth_attempts WHERE tenant_id = ? AND id = ?`, tenantID, id), true)
	return a, notFound(err, "attempt")
}

// AttemptByPreAuthCode finds the attempt a push's PreAuthCode belongs to
// (any tenant: the push proves nothing about who is asking). It reads on
// the writer, after any write in flight (the redirect completing it).
func (s *Store) AttemptByPreAuthCode(ctx context.Context, preAuthCode string) (model.AuthAttempt, error) {
	if preAuthCode == "" {
		return model.AuthAttempt{}, model.NotFound("attempt")
	}
	a, err := s.scanAttempt(s.W.QueryRowContext(ctx, `SELECT `+attemptCols+` FROM auth_attempts WHERE code_hash = ?`, CodeHash(preAuthCode)), false)
	return a, notFound(err, "attempt")
}

// RecentAttempts lists tenantID's latest attempts (without codes).
func (s *Store) RecentAttempts(ctx context.Context, tenantID int64, limit int) ([]model.AuthAttempt, error) {
	rows, err := s.read(ctx, `SELECT `+attemptCols+` FROM auth_attempts WHERE tenant_id = ? ORDER BY id DESC LIMIT ?`, tenantID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []model.AuthAttempt
	for rows.Next() {
		a, err := s.scanAttempt(rows, false)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// ClaimAttempt moves an open attempt to exchanging for authCode. It reports
// false when the attempt is not open (done, cancelled, expired, or being
// exchanged by the other path): exactly one caller exchanges.
func (s *Store) ClaimAttempt(ctx context.Context, id int64, authCode string, now time.Time) (bool, error) {
	res, err := s.W.ExecContext(ctx, `UPDATE auth_attempts SET state = 'exchanging', auth_code_hash = ?, tries = tries + 1, updated_at = ?
		WHERE id = ? AND (state = 'retrying' OR (state = 'pending' AND expires_at > ?))`, CodeHash(authCode), s.now(), id, now.Unix())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// RetryAttempt keeps the auth code sealed, leaves the attempt retrying and
// queues job (the retry; its dedupe key makes it one per attempt) in the
// same transaction, so a retrying attempt always has its job.
func (s *Store) RetryAttempt(ctx context.Context, id int64, authCode, errKey string, job NewJob) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE auth_attempts SET state = 'retrying', auth_code_sealed = ?, error = ?, next_try_at = ?, updated_at = ? WHERE id = ?`,
			s.Box.Seal(authCode, attemptAuthAD(id)), errKey, job.RunAt.Unix(), s.now(), id); err != nil {
			return err
		}
		_, _, err := s.enqueueTx(ctx, tx, job)
		return err
	})
}

// ClaimAttemptRetry moves tenantID's attempt id, retrying with its auth code
// sealed, to exchanging and returns it with the code. An attempt left
// exchanging with its code sealed (the retry's process died) is claimed
// again. Not found when there is nothing to retry (settled meanwhile).
func (s *Store) ClaimAttemptRetry(ctx context.Context, tenantID, id int64) (model.AuthAttempt, string, error) {
	var a model.AuthAttempt
	var sealed string
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE auth_attempts SET state = 'exchanging', tries = tries + 1, updated_at = ?
			WHERE tenant_id = ? AND id = ? AND state IN ('retrying', 'exchanging') AND auth_code_sealed != ''`, s.now(), tenantID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return model.NotFound("attempt")
		}
		if a, err = s.scanAttempt(tx.QueryRowContext(ctx, `SELECT `+attemptCols+` FROM auth_attempts WHERE id = ?`, id), false); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT auth_code_sealed FROM auth_attempts WHERE id = ?`, id).Scan(&sealed)
	})
	if err != nil {
		return a, "", err
	}
	code, err := s.Box.Open(sealed, attemptAuthAD(id))
	return a, code, err
}

// FinishAttempt records an attempt's outcome; the sealed auth code is
// dropped. A bound attempt stays bound: a late failure of the other path
// (its copy of the single-use code was already spent) changes nothing.
func (s *Store) FinishAttempt(ctx context.Context, id int64, state model.AttemptState, appID, errKey string) error {
	_, err := s.W.ExecContext(ctx, `UPDATE auth_attempts SET state = ?, appid = CASE WHEN ? != '' THEN ? ELSE appid END, error = ?, auth_code_sealed = '', next_try_at = 0, updated_at = ?
		WHERE id = ? AND (state != 'bound' OR ? = 'bound')`,
		string(state), appID, appID, errKey, s.now(), id, string(state))
	return err
}

// CancelAttempt closes tenantID's open attempt id (the merchant gave up).
func (s *Store) CancelAttempt(ctx context.Context, actor model.Actor, tenantID, id int64) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE auth_attempts SET state = 'cancelled', updated_at = ? WHERE tenant_id = ? AND id = ? AND state = 'pending'`, s.now(), tenantID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return model.Errorf(model.CodeConflict, "authorize.not_open")
		}
		return nil
	})
}
