package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/minifleet/minifleet/app/model"
)

// Authorizer statuses.
const (
	AuthorizerPending      = "pending"
	AuthorizerAuthorized   = "authorized"
	AuthorizerUnauthorized = "unauthorized"
)

// Token states of an authorizer.
const (
	TokenFresh       = "fresh"
	TokenRefreshing  = "refreshing"
	TokenFailing     = "failing"
	TokenNeedsReauth = "needs_reauth"
)

// Authorizer is an account authorized to the platform, without its secrets
// (AuthorizerSecrets opens those), so it is safe to pass to pages.
type Authorizer struct {
	AppID           string
	TenantID        int64 // 0 while unbound
	Status          string
	Nickname        string
	UserName        string
	PermissionSets  []int
	HasAccessToken  bool
	AccessExpiresAt time.Time
	HasRefreshToken bool
	TokenState      string
	NextRefreshAt   time.Time
	Failures        int
	LastError       string
	AuthEventAt     int64
	AuthorizedAt    time.Time
	UnauthorizedAt  time.Time
	UpdatedAt       time.Time
}

func accessAD(appID string) string  { return "authorizer:" + appID + ":access" }
func refreshAD(appID string) string { return "authorizer:" + appID + ":refresh" }

const authorizerCols = `appid, COALESCE(tenant_id, 0), status, nickname, user_name, func_info, access_token != '', access_expires_at,
	refresh_token != '', token_state, next_refresh_at, failures, last_error, auth_event_at, authorized_at, unauthorized_at, updated_at`

func scanAuthorizer(row interface{ Scan(...any) error }) (Authorizer, error) {
	var a Authorizer
	var funcInfo string
	var exp, next, updated int64
	var authAt, unauthAt sql.NullInt64
	err := row.Scan(&a.AppID, &a.TenantID, &a.Status, &a.Nickname, &a.UserName, &funcInfo, &a.HasAccessToken, &exp,
		&a.HasRefreshToken, &a.TokenState, &next, &a.Failures, &a.LastError, &a.AuthEventAt, &authAt, &unauthAt, &updated)
	if err != nil {
		return a, err
	}
	_ = json.Unmarshal([]byte(funcInfo), &a.PermissionSets)
	a.AccessExpiresAt, a.NextRefreshAt, a.UpdatedAt = unix(exp), unix(next), unix(updated)
	a.AuthorizedAt, a.UnauthorizedAt = nullUnix(authAt), nullUnix(unauthAt)
	return a, nil
}

// Authorizer loads one authorizer.
func (s *Store) Authorizer(ctx context.Context, appID string) (Authorizer, error) {
	a, err := scanAuthorizer(s.readRow(ctx, `SELECT `+authorizerCols+` FROM authorizers WHERE appid = ?`, appID))
	return a, notFound(err, "authorizer")
}

// AuthorizerSecrets opens an authorizer's access and refresh tokens. Only
// the token vault calls it; neither value may reach a log or a page.
func (s *Store) AuthorizerSecrets(ctx context.Context, appID string) (access, refresh string, err error) {
	return s.authorizerSecrets(ctx, reader{s}, appID)
}

func (s *Store) authorizerSecrets(ctx context.Context, q queryRower, appID string) (access, refresh string, err error) {
	var sa, sr string
	if err := q.QueryRowContext(ctx, `SELECT access_token, refresh_token FROM authorizers WHERE appid = ?`, appID).Scan(&sa, &sr); err != nil {
		return "", "", notFound(err, "authorizer")
	}
	if access, err = s.Box.Open(sa, accessAD(appID)); err != nil {
		return "", "", err
	}
	refresh, err = s.Box.Open(sr, refreshAD(appID))
	return access, refresh, err
}

// noteAuthEventTx records that an authorization push about appID was made at
// createTime. It reports whether it is the newest seen: pushes can arrive
// out of order, and an older one must not undo a newer one.
func (s *Store) noteAuthEventTx(ctx context.Context, tx *sql.Tx, appID string, createTime int64) (bool, error) {
	now := s.now()
	if _, err := tx.ExecContext(ctx, `INSERT INTO authorizers (appid, created_at, updated_at) VALUES (?, ?, ?) ON CONFLICT (appid) DO NOTHING`, appID, now, now); err != nil {
		return false, err
	}
	res, err := tx.ExecContext(ctx, `UPDATE authorizers SET auth_event_at = ?, updated_at = ? WHERE appid = ? AND auth_event_at <= ?`, createTime, now, appID, createTime)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// AuthorizerGrant is what an exchanged authorization code gives.
type AuthorizerGrant struct {
	AccessToken     string
	AccessExpiresAt time.Time
	RefreshToken    string
	PermissionSets  []int
	NextRefreshAt   time.Time
	// EventAt is the CreateTime of the push that led here; the grant is not
	// applied if a newer authorization event is recorded. 0 (the redirect
	// path, which acts on the merchant's latest grant) always applies.
	EventAt int64
}

// SaveAuthorizerGrant stores an exchanged authorization: the app is
// authorized, with fresh tokens. It reports false (and changes nothing) when
// a newer authorization event than g.EventAt has been recorded.
func (s *Store) SaveAuthorizerGrant(ctx context.Context, appID string, g AuthorizerGrant) (applied bool, err error) {
	sets, _ := json.Marshal(nonNil(g.PermissionSets))
	err = s.tx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO authorizers (appid, created_at, updated_at) VALUES (?, ?, ?) ON CONFLICT (appid) DO NOTHING`, appID, now, now); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE authorizers SET status = 'authorized', func_info = ?, access_token = ?, access_expires_at = ?,
			refresh_token = ?, token_state = 'fresh', next_refresh_at = ?, failures = 0, last_error = '',
			auth_event_at = MAX(auth_event_at, ?), authorized_at = ?, updated_at = ?
			WHERE appid = ? AND (? = 0 OR auth_event_at <= ?)`,
			string(sets), s.sealNonEmpty(g.AccessToken, accessAD(appID)), g.AccessExpiresAt.Unix(),
			s.sealNonEmpty(g.RefreshToken, refreshAD(appID)), g.NextRefreshAt.Unix(), g.EventAt, now, now, appID, g.EventAt, g.EventAt)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		applied = n == 1
		return err
	})
	return applied, err
}

func nonNil(v []int) []int {
	if v == nil {
		return []int{}
	}
	return v
}

// SaveAuthorizerInfo stores account details fetched with api_get_authorizer_info.
func (s *Store) SaveAuthorizerInfo(ctx context.Context, appID, nickname, userName string, sets []int) error {
	js, _ := json.Marshal(nonNil(sets))
	_, err := s.W.ExecContext(ctx, `UPDATE authorizers SET nickname = ?, user_name = ?, func_info = ?, updated_at = ? WHERE appid = ?`,
		nickname, userName, string(js), s.now(), appID)
	return err
}

// SaveAuthorizerToken stores a refreshed access token; refresh replaces the
// refresh token when WeChat returned a different one ("" keeps it).
func (s *Store) SaveAuthorizerToken(ctx context.Context, appID, access string, expiresAt time.Time, refresh string, nextRefreshAt time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE authorizers SET access_token = ?, access_expires_at = ?, token_state = 'fresh', next_refresh_at = ?,
			failures = 0, last_error = '', updated_at = ? WHERE appid = ? AND status = 'authorized'`,
			s.sealNonEmpty(access, accessAD(appID)), expiresAt.Unix(), nextRefreshAt.Unix(), s.now(), appID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound(sql.ErrNoRows, "authorized app")
		}
		if refresh == "" {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE authorizers SET refresh_token = ? WHERE appid = ?`, s.sealNonEmpty(refresh, refreshAD(appID)), appID)
		return err
	})
}

// SetAuthorizerRefreshToken replaces the refresh token (recovered from
// api_get_authorizer_list, or from a re-authorization).
func (s *Store) SetAuthorizerRefreshToken(ctx context.Context, appID, refresh string) error {
	_, err := s.W.ExecContext(ctx, `UPDATE authorizers SET refresh_token = ?, updated_at = ? WHERE appid = ?`,
		s.sealNonEmpty(refresh, refreshAD(appID)), s.now(), appID)
	return err
}

// MarkAuthorizerRefreshing shows that a refresh is under way.
func (s *Store) MarkAuthorizerRefreshing(ctx context.Context, appID string) error {
	_, err := s.W.ExecContext(ctx, `UPDATE authorizers SET token_state = 'refreshing', updated_at = ? WHERE appid = ? AND token_state != 'needs_reauth'`, s.now(), appID)
	return err
}

// AuthorizerRefreshFailed records a failed refresh. needsReauth means the
// refresh token is dead and only the merchant can fix it; otherwise the
// next try is at retryAt.
func (s *Store) AuthorizerRefreshFailed(ctx context.Context, appID, errMsg string, retryAt time.Time, needsReauth bool) error {
	state := TokenFailing
	if needsReauth {
		state = TokenNeedsReauth
	}
	_, err := s.W.ExecContext(ctx, `UPDATE authorizers SET token_state = ?, failures = failures + 1, last_error = ?, next_refresh_at = ?, updated_at = ?
		WHERE appid = ?`, state, truncate(errMsg, 500), retryAt.Unix(), s.now(), appID)
	return err
}

// ExpireAuthorizerTokenIf expires the stored access token only if it still
// equals failed (compare-then-expire).
func (s *Store) ExpireAuthorizerTokenIf(ctx context.Context, appID, failed string) (expired bool, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		access, _, err := s.authorizerSecrets(ctx, tx, appID)
		if err != nil || access != failed {
			return ignoreNotFound(err)
		}
		_, err = tx.ExecContext(ctx, `UPDATE authorizers SET access_expires_at = 0, next_refresh_at = 0, updated_at = ? WHERE appid = ?`, s.now(), appID)
		expired = err == nil
		return err
	})
	return expired, err
}

// UnauthorizeAuthorizer marks the app unauthorized and destroys its tokens;
// the row and its history stay. It does nothing (false) when a newer
// authorization event than eventAt has been recorded.
// The app.unauthorized event is written in the same transaction.
func (s *Store) UnauthorizeAuthorizer(ctx context.Context, appID string, eventAt int64) (bool, error) {
	var done bool
	err := s.tx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		res, err := tx.ExecContext(ctx, `UPDATE authorizers SET status = 'unauthorized', access_token = '', access_expires_at = 0,
			refresh_token = '', token_state = 'fresh', next_refresh_at = 0, failures = 0, last_error = '', unauthorized_at = ?, updated_at = ?
			WHERE appid = ? AND auth_event_at <= ?`, now, now, appID, eventAt)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n != 1 {
			return err
		}
		done = true
		return s.emitTx(ctx, tx, Event{Type: model.EvtAppUnauthorized, AppID: appID,
			Data: map[string]any{"appid": appID, "event_time": eventAt}})
	})
	return done, err
}

// appAuthorizedEvent is the app.authorized event of an app bound to a tenant.
func appAuthorizedEvent(tenantID int64, appID string, again bool) Event {
	return Event{Type: model.EvtAppAuthorized, TenantID: tenantID, AppID: appID,
		Data: map[string]any{"appid": appID, "tenant_id": tenantID, "reauthorized": again}}
}

// DueAuthorizers lists authorized apps whose token refresh is due at now,
// most urgent first.
func (s *Store) DueAuthorizers(ctx context.Context, now time.Time, limit int) ([]string, error) {
	rows, err := s.read(ctx, `SELECT appid FROM authorizers
		WHERE status = 'authorized' AND next_refresh_at <= ? AND token_state != 'needs_reauth' AND refresh_token != ''
		ORDER BY next_refresh_at LIMIT ?`, now.Unix(), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// AuthorizerTokenStates counts authorized apps by token state.
func (s *Store) AuthorizerTokenStates(ctx context.Context) (map[string]int, error) {
	return s.countBy(ctx, `SELECT token_state, COUNT(*) FROM authorizers WHERE status = 'authorized' GROUP BY token_state`)
}

// AuthorizersInTrouble lists authorized apps whose tokens fail or need
// re-authorization, newest trouble first.
func (s *Store) AuthorizersInTrouble(ctx context.Context, limit int) ([]Authorizer, error) {
	rows, err := s.read(ctx, `SELECT `+authorizerCols+` FROM authorizers
		WHERE status = 'authorized' AND token_state IN ('failing', 'needs_reauth') ORDER BY updated_at DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Authorizer
	for rows.Next() {
		a, err := scanAuthorizer(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// RefreshMinutes counts authorizers by the minute their refresh is due
// (benchmarks and the health page's spread check).
func (s *Store) RefreshMinutes(ctx context.Context) (map[int64]int, error) {
	rows, err := s.read(ctx, `SELECT next_refresh_at / 60, COUNT(*) FROM authorizers WHERE status = 'authorized' GROUP BY 1`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var m int64
		var n int
		if err := rows.Scan(&m, &n); err != nil {
			return nil, err
		}
		out[m] = n
	}
	return out, rows.Err()
}
