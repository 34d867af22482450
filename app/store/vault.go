package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/minifleet/minifleet/app/model"
)

// ComponentCreds is the component's ticket and access token, opened.
// It never leaves the platform package: pages get ComponentHealth.
type ComponentCreds struct {
	AppID             string
	Ticket            string
	TicketCreateTime  int64
	TicketReceivedAt  time.Time
	TicketRequestedAt time.Time
	Token             string
	TokenExpiresAt    time.Time
	NextRefreshAt     time.Time
	Failures          int
	LastError         string
	TicketFailures    int       // consecutive failed api_start_push_ticket calls
	TicketRetryAt     time.Time // the watchdog asks again no sooner
	TicketLastError   string
}

// ComponentHealth is ComponentCreds without secrets.
type ComponentHealth struct {
	AppID             string
	HasTicket         bool
	TicketReceivedAt  time.Time
	TicketRequestedAt time.Time
	HasToken          bool
	TokenExpiresAt    time.Time
	NextRefreshAt     time.Time
	Failures          int
	LastError         string
	TicketFailures    int
	TicketRetryAt     time.Time
	TicketLastError   string
}

func ticketAD(appID string) string { return "component:" + appID + ":ticket" }
func ctokenAD(appID string) string { return "component:" + appID + ":token" }

// ComponentCreds reads and opens the component's credentials; not found
// before the first ticket arrives.
func (s *Store) ComponentCreds(ctx context.Context, appID string) (ComponentCreds, error) {
	return s.componentCreds(ctx, reader{s}, appID)
}

func (s *Store) componentCreds(ctx context.Context, q queryRower, appID string) (ComponentCreds, error) {
	c := ComponentCreds{AppID: appID}
	var ticket, token string
	var recv, req, exp, next, tretry int64
	err := q.QueryRowContext(ctx, `SELECT ticket, ticket_create_time, ticket_received_at, ticket_requested_at,
		access_token, access_expires_at, next_refresh_at, failures, last_error, ticket_failures, ticket_retry_at, ticket_last_error
		FROM wechat_component WHERE appid = ?`, appID).
		Scan(&ticket, &c.TicketCreateTime, &recv, &req, &token, &exp, &next, &c.Failures, &c.LastError, &c.TicketFailures, &tretry, &c.TicketLastError)
	if err != nil {
		return c, notFound(err, "component credentials")
	}
	c.TicketReceivedAt, c.TicketRequestedAt, c.TokenExpiresAt, c.NextRefreshAt = unix(recv), unix(req), unix(exp), unix(next)
	c.TicketRetryAt = unix(tretry)
	if c.Ticket, err = s.Box.Open(ticket, ticketAD(appID)); err != nil {
		return c, err
	}
	c.Token, err = s.Box.Open(token, ctokenAD(appID))
	return c, err
}

// ComponentHealth reads the component's state without opening secrets.
func (s *Store) ComponentHealth(ctx context.Context, appID string) (ComponentHealth, error) {
	h := ComponentHealth{AppID: appID}
	var recv, req, exp, next, tretry int64
	err := s.readRow(ctx, `SELECT ticket != '', ticket_received_at, ticket_requested_at, access_token != '',
		access_expires_at, next_refresh_at, failures, last_error, ticket_failures, ticket_retry_at, ticket_last_error
		FROM wechat_component WHERE appid = ?`, appID).
		Scan(&h.HasTicket, &recv, &req, &h.HasToken, &exp, &next, &h.Failures, &h.LastError, &h.TicketFailures, &tretry, &h.TicketLastError)
	h.TicketReceivedAt, h.TicketRequestedAt, h.TokenExpiresAt, h.NextRefreshAt = unix(recv), unix(req), unix(exp), unix(next)
	h.TicketRetryAt = unix(tretry)
	return h, notFound(err, "component credentials")
}

func (s *Store) ensureComponentRow(ctx context.Context, tx *sql.Tx, appID string) error {
	_, err := tx.StmtContext(ctx, s.hot.ensureComponent).ExecContext(ctx, appID, s.now())
	return err
}

const saveTicketSQL = `UPDATE wechat_component SET ticket = ?, ticket_create_time = ?, ticket_received_at = ?, updated_at = ?
	WHERE appid = ? AND ticket_create_time <= ?`

// saveTicketTx keeps ticket if it is newer (by WeChat's CreateTime) than the
// stored one; pushes can arrive out of order. It reports whether it saved.
func (s *Store) saveTicketTx(ctx context.Context, tx *sql.Tx, appID, ticket string, createTime int64, receivedAt time.Time) (bool, error) {
	if err := s.ensureComponentRow(ctx, tx, appID); err != nil {
		return false, err
	}
	return s.updateTicketTx(ctx, tx, appID, ticket, createTime, receivedAt)
}

// updateTicketTx is saveTicketTx once the component row exists.
func (s *Store) updateTicketTx(ctx context.Context, tx *sql.Tx, appID, ticket string, createTime int64, receivedAt time.Time) (bool, error) {
	res, err := tx.StmtContext(ctx, s.hot.saveTicket).ExecContext(ctx,
		s.sealNonEmpty(ticket, ticketAD(appID)), createTime, receivedAt.Unix(), s.now(), appID, createTime)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SaveTicket stores a ticket outside push intake (tests, tools).
func (s *Store) SaveTicket(ctx context.Context, appID, ticket string, createTime int64, receivedAt time.Time) (saved bool, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		saved, err = s.saveTicketTx(ctx, tx, appID, ticket, createTime, receivedAt)
		return err
	})
	return saved, err
}

// SaveComponentToken stores a fresh component access token.
func (s *Store) SaveComponentToken(ctx context.Context, appID, token string, expiresAt, nextRefreshAt time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.ensureComponentRow(ctx, tx, appID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE wechat_component SET access_token = ?, access_expires_at = ?, next_refresh_at = ?,
			failures = 0, last_error = '', updated_at = ? WHERE appid = ?`,
			s.sealNonEmpty(token, ctokenAD(appID)), expiresAt.Unix(), nextRefreshAt.Unix(), s.now(), appID)
		return err
	})
}

// ComponentTokenFailed records a failed refresh; the next try is at retryAt.
func (s *Store) ComponentTokenFailed(ctx context.Context, appID, errMsg string, retryAt time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.ensureComponentRow(ctx, tx, appID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE wechat_component SET failures = failures + 1, last_error = ?, next_refresh_at = ?, updated_at = ?
			WHERE appid = ?`, truncate(errMsg, 500), retryAt.Unix(), s.now(), appID)
		return err
	})
}

// ExpireComponentTokenIf expires the stored token only if it still equals
// failed: another caller may already have replaced it (compare-then-expire).
func (s *Store) ExpireComponentTokenIf(ctx context.Context, appID, failed string) (expired bool, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		c, err := s.componentCreds(ctx, tx, appID)
		if err != nil || c.Token != failed {
			return ignoreNotFound(err)
		}
		_, err = tx.ExecContext(ctx, `UPDATE wechat_component SET access_expires_at = 0, next_refresh_at = 0, updated_at = ? WHERE appid = ?`, s.now(), appID)
		expired = err == nil
		return err
	})
	return expired, err
}

// ClaimTicketRequest records an api_start_push_ticket call at now unless one
// was made less than gap ago (by any process); it reports whether to call.
func (s *Store) ClaimTicketRequest(ctx context.Context, appID string, now time.Time, gap time.Duration) (ok bool, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.ensureComponentRow(ctx, tx, appID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE wechat_component SET ticket_requested_at = ?, updated_at = ?
			WHERE appid = ? AND ticket_requested_at <= ?`, now.Unix(), s.now(), appID, now.Add(-gap).Unix())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		ok = n == 1
		return err
	})
	return ok, err
}

// TicketRequestFailed records a failed api_start_push_ticket call; the
// watchdog asks again no sooner than retryAt.
func (s *Store) TicketRequestFailed(ctx context.Context, appID, errMsg string, retryAt time.Time) error {
	_, err := s.W.ExecContext(ctx, `UPDATE wechat_component SET ticket_failures = ticket_failures + 1, ticket_last_error = ?, ticket_retry_at = ?, updated_at = ?
		WHERE appid = ?`, truncate(errMsg, 500), retryAt.Unix(), s.now(), appID)
	return err
}

// TicketRequestOK clears the ticket request's backoff after a call WeChat accepted.
func (s *Store) TicketRequestOK(ctx context.Context, appID string) error {
	_, err := s.W.ExecContext(ctx, `UPDATE wechat_component SET ticket_failures = 0, ticket_last_error = '', ticket_retry_at = 0, updated_at = ?
		WHERE appid = ? AND ticket_failures != 0`, s.now(), appID)
	return err
}

// Warning is a note for platform staff.
type Warning struct {
	ID     int64
	At     time.Time
	Kind   string
	AppID  string
	Detail string
}

// AddWarning records a warning for staff. Detail must not contain secrets.
func (s *Store) AddWarning(ctx context.Context, kind, appID, detail string, at time.Time) error {
	_, err := s.W.ExecContext(ctx, `INSERT INTO wechat_warnings (at, kind, appid, detail) VALUES (?, ?, ?, ?)`, at.Unix(), kind, appID, truncate(detail, 500))
	return err
}

// Warnings returns the newest warnings.
func (s *Store) Warnings(ctx context.Context, limit int) ([]Warning, error) {
	rows, err := s.read(ctx, `SELECT id, at, kind, appid, detail FROM wechat_warnings ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Warning
	for rows.Next() {
		var w Warning
		var at int64
		if err := rows.Scan(&w.ID, &at, &w.Kind, &w.AppID, &w.Detail); err != nil {
			return nil, err
		}
		w.At = unix(at)
		out = append(out, w)
	}
	return out, rows.Err()
}

func ignoreNotFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) || model.IsNotFound(err) {
		return nil
	}
	return err
}

// sealNonEmpty seals v, keeping "" empty so that SQL can tell a missing
// secret (= ”) from a present one.
func (s *Store) sealNonEmpty(v, ad string) string {
	if v == "" {
		return ""
	}
	return s.Box.Seal(v, ad)
}
