package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/minifleet/minifleet/app/model"
)

// Activity of content security (issue #16).
const (
	ActImageUploaded   = "image_uploaded"
	ActCheckOpenIDSet  = "check_openid_set"
	ActContentRechecks = "content_recheck"
)

// Content check states (content_checks.state).
const (
	CheckPending   = "pending"
	CheckPass      = "pass"
	CheckReview    = "review"
	CheckRisky     = "risky"
	CheckFailed    = "failed"
	CheckUnchecked = "unchecked"
)

// ConfigImage is an uploaded image, re-encoded, by its content hash.
type ConfigImage struct {
	TenantID      int64
	Hash          string
	MIME          string
	Width, Height int
	Size          int
	Data          []byte
	CreatedBy     string
	CreatedAt     time.Time
}

// SaveImage stores an image once per tenant (the same bytes again are a
// no-op) with its activity row; created tells whether it is new.
func (s *Store) SaveImage(ctx context.Context, a model.Actor, img ConfigImage) (created bool, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO config_images (tenant_id, hash, mime, width, height, size, data, created_by, created_at)
			VALUES (?,?,?,?,?,?,?,?,?)`, img.TenantID, img.Hash, img.MIME, img.Width, img.Height, len(img.Data), img.Data, a.Label, s.now())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		created = true
		return s.logTx(ctx, tx, a, img.TenantID, ActImageUploaded, img.Hash[:12], img.MIME)
	})
	return created, err
}

// Image returns one of tenantID's images (not found for another tenant's).
func (s *Store) Image(ctx context.Context, tenantID int64, hash string) (ConfigImage, error) {
	img := ConfigImage{TenantID: tenantID, Hash: hash}
	var at int64
	err := s.readRow(ctx, `SELECT mime, width, height, size, data, created_by, created_at FROM config_images WHERE tenant_id = ? AND hash = ?`,
		tenantID, hash).Scan(&img.MIME, &img.Width, &img.Height, &img.Size, &img.Data, &img.CreatedBy, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return img, model.NotFound("image")
	}
	img.CreatedAt = unix(at)
	return img, err
}

// ImageCount counts tenantID's images (0 for none).
func (s *Store) ImageCount(ctx context.Context, tenantID int64) (int, error) {
	var n int
	err := s.readRow(ctx, `SELECT COUNT(*) FROM config_images WHERE tenant_id = ?`, tenantID).Scan(&n)
	return n, err
}

// ContentCheck is WeChat's check of one content for one app.
type ContentCheck struct {
	ID          int64
	TenantID    int64
	AppID       string
	Kind        string // image or text
	Subject     string // the image's hash, or the text's SHA-256
	State       string
	TraceID     string
	Label       int
	Errcode     int
	Attempts    int
	RequestedAt time.Time
	DecidedAt   time.Time
	NextRetryAt time.Time
}

const checkCols = `id, tenant_id, appid, kind, subject, state, trace_id, label, errcode, attempts, requested_at, decided_at, next_retry_at`

func scanCheck(sc interface{ Scan(...any) error }) (ContentCheck, error) {
	var c ContentCheck
	var req, dec, next int64
	err := sc.Scan(&c.ID, &c.TenantID, &c.AppID, &c.Kind, &c.Subject, &c.State, &c.TraceID, &c.Label, &c.Errcode, &c.Attempts, &req, &dec, &next)
	c.RequestedAt, c.DecidedAt, c.NextRetryAt = unix(req), unix(dec), unix(next)
	return c, err
}

// ContentChecks returns the app's checks of the given subjects (all of the
// app's when subjects is empty), by subject.
func (s *Store) ContentChecks(ctx context.Context, tenantID int64, appID string, subjects []string) (map[string]ContentCheck, error) {
	q := `SELECT ` + checkCols + ` FROM content_checks WHERE tenant_id = ? AND appid = ?`
	args := []any{tenantID, appID}
	if len(subjects) > 0 {
		q += ` AND subject IN (?` + strings.Repeat(",?", len(subjects)-1) + `)`
		for _, sj := range subjects {
			args = append(args, sj)
		}
	}
	rows, err := s.read(ctx, q+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]ContentCheck{}
	for rows.Next() {
		c, err := scanCheck(rows)
		if err != nil {
			return nil, err
		}
		out[c.Subject] = c
	}
	return out, rows.Err()
}

// RiskyAppIDs returns, of tenantID's apps (every tenant's for 0), those
// with a risky check, with the label of one.
func (s *Store) RiskyAppIDs(ctx context.Context, tenantID int64) (map[string]int, error) {
	q := `SELECT appid, MAX(label) FROM content_checks WHERE state = 'risky'`
	var args []any
	if tenantID != 0 {
		q += ` AND tenant_id = ?`
		args = append(args, tenantID)
	}
	rows, err := s.read(ctx, q+` GROUP BY appid`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var app string
		var label int
		if err := rows.Scan(&app, &label); err != nil {
			return nil, err
		}
		out[app] = label
	}
	return out, rows.Err()
}

// PutCheck writes the outcome of asking WeChat about one content (a new
// request, a synchronous answer, a refusal): insert or replace the app's
// check of that subject. attempts counts the requests made.
func (s *Store) PutCheck(ctx context.Context, c ContentCheck) (ContentCheck, error) {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := appOfTenantTx(ctx, tx, c.TenantID, c.AppID); err != nil {
			return err
		}
		row := tx.QueryRowContext(ctx, `INSERT INTO content_checks (tenant_id, appid, kind, subject, state, trace_id, label, errcode, attempts, requested_at, decided_at, next_retry_at)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?)
			ON CONFLICT (appid, kind, subject) DO UPDATE SET tenant_id = excluded.tenant_id, state = excluded.state, trace_id = excluded.trace_id,
				label = excluded.label, errcode = excluded.errcode, attempts = excluded.attempts, requested_at = excluded.requested_at,
				decided_at = excluded.decided_at, next_retry_at = excluded.next_retry_at
			RETURNING `+checkCols,
			c.TenantID, c.AppID, c.Kind, c.Subject, c.State, c.TraceID, c.Label, c.Errcode, c.Attempts,
			secs(c.RequestedAt), secs(c.DecidedAt), secs(c.NextRetryAt))
		var err error
		c, err = scanCheck(row)
		return err
	})
	return c, err
}

func secs(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// DecideMediaCheck applies a wxa_media_check push in its transaction: the
// pending check with that trace_id gets its verdict. found is false when no
// pending check has the trace_id (an old or a duplicate answer).
func (p *PushTx) DecideMediaCheck(appID, traceID, state string, label, errcode int) (ContentCheck, bool, error) {
	row := p.tx.QueryRowContext(p.ctx, `UPDATE content_checks SET state = ?, label = ?, errcode = ?, decided_at = ?
		WHERE trace_id = ? AND appid = ? AND state = 'pending' RETURNING `+checkCols,
		state, label, errcode, p.Push.ReceivedAt.Unix(), traceID, appID)
	c, err := scanCheck(row)
	if errors.Is(err, sql.ErrNoRows) {
		return c, false, nil
	}
	return c, err == nil, err
}

// CheckOpenID is the openid an app's content checks are sent with.
type CheckOpenID struct {
	OpenID string
	SetBy  string
	SetAt  time.Time
}

// CheckOpenID returns the app's check openid (not found when none is set).
func (s *Store) CheckOpenID(ctx context.Context, tenantID int64, appID string) (CheckOpenID, error) {
	var o CheckOpenID
	var at int64
	err := s.readRow(ctx, `SELECT openid, set_by, set_at FROM app_check_openids WHERE tenant_id = ? AND appid = ?`, tenantID, appID).Scan(&o.OpenID, &o.SetBy, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return o, model.NotFound("check openid")
	}
	o.SetAt = unix(at)
	return o, err
}

// SetCheckOpenID sets the app's check openid, with its activity row (the
// openid itself is not logged).
func (s *Store) SetCheckOpenID(ctx context.Context, a model.Actor, tenantID int64, appID, openID string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := appOfTenantTx(ctx, tx, tenantID, appID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO app_check_openids (appid, tenant_id, openid, set_by, set_at) VALUES (?,?,?,?,?)
			ON CONFLICT (appid) DO UPDATE SET tenant_id = excluded.tenant_id, openid = excluded.openid, set_by = excluded.set_by, set_at = excluded.set_at`,
			appID, tenantID, openID, a.Label, s.now()); err != nil {
			return err
		}
		return s.logTx(ctx, tx, a, tenantID, ActCheckOpenIDSet, appID, "")
	})
}
