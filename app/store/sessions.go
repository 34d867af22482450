package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/minifleet/minifleet/app/model"
)

// Sessions keeps the portal's scs sessions (the sessions table of migration
// 00001; scs stores hashes of the tokens). It satisfies scs.CtxStore.
// Lookups, one per request, read on the reader pool with a cached
// statement, so a page load never queues behind the single writer.
type Sessions struct{ S *Store }

// expiry is kept as a Julian day, as the table has always held it.
const sessionFind = `SELECT data FROM sessions WHERE token = ? AND julianday('now') < expiry`

// FindCtx returns a live session's data; an unknown or expired token is
// not found.
func (ss Sessions) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var b []byte
	err := ss.S.readRow(ctx, sessionFind, token).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	return b, err == nil, err
}

// CommitCtx saves a session's data and expiry.
func (ss Sessions) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	_, err := ss.S.W.ExecContext(ctx, `REPLACE INTO sessions (token, data, expiry) VALUES (?, ?, julianday(?))`,
		token, b, expiry.UTC().Format("2006-01-02T15:04:05.999"))
	return err
}

// DeleteCtx removes a session; an unknown token is no error.
func (ss Sessions) DeleteCtx(ctx context.Context, token string) error {
	_, err := ss.S.W.ExecContext(ctx, `DELETE FROM sessions WHERE token = ?`, token)
	return err
}

// Find, Commit and Delete are scs.Store's context-free forms.
func (ss Sessions) Find(token string) ([]byte, bool, error) {
	return ss.FindCtx(context.Background(), token)
}
func (ss Sessions) Commit(token string, b []byte, expiry time.Time) error {
	return ss.CommitCtx(context.Background(), token, b, expiry)
}
func (ss Sessions) Delete(token string) error { return ss.DeleteCtx(context.Background(), token) }

// DeleteExpired removes the sessions past their expiry.
func (ss Sessions) DeleteExpired(ctx context.Context) (int64, error) {
	res, err := ss.S.W.ExecContext(ctx, `DELETE FROM sessions WHERE expiry < julianday('now')`)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// StreamAccess is what a live stream checks again before each event: the
// user's session epoch, and for a tenant stream the membership and the
// tenant's status.
type StreamAccess struct {
	Epoch        int64
	Member       bool               // a membership of the tenant asked about exists
	TenantStatus model.TenantStatus // "" when no tenant was asked about (or it is gone)
}

// streamAccess is one indexed read: the session row (live), the user, the
// membership and the tenant.
const streamAccess = `SELECT u.session_epoch,
	EXISTS (SELECT 1 FROM memberships m WHERE m.tenant_id = ? AND m.user_id = u.id),
	COALESCE((SELECT t.status FROM tenants t WHERE t.id = ?), '')
	FROM users u
	WHERE u.id = ? AND EXISTS (SELECT 1 FROM sessions s WHERE s.token = ? AND julianday('now') < s.expiry)`

// StreamAccess reads, in one statement on the reader pool, what a live
// stream of userID's session (storedToken: the token as the sessions table
// holds it) needs to keep sending; tenantID 0 asks about no tenant. ok is
// false when the session ended (logout, expiry, pruning) or the user is
// gone.
func (s *Store) StreamAccess(ctx context.Context, storedToken string, userID, tenantID int64) (a StreamAccess, ok bool, err error) {
	var status string
	err = s.readRow(ctx, streamAccess, tenantID, tenantID, userID, storedToken).Scan(&a.Epoch, &a.Member, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return a, false, nil
	}
	a.TenantStatus = model.TenantStatus(status)
	return a, err == nil, err
}
