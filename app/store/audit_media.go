package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/minifleet/minifleet/app/model"
)

// Files for WeChat's reviewers (model.AuditMedia), kept per tenant by
// content hash, and the media ids WeChat gave for them.

// SaveAuditMedia keeps a checked file; saving the same content twice is a
// no-op.
func (s *Store) SaveAuditMedia(ctx context.Context, tenantID int64, m model.AuditMedia, contentType string, data []byte) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO audit_media (tenant_id, sha256, kind, content_type, data, created_at)
			VALUES (?,?,?,?,?,?) ON CONFLICT (tenant_id, sha256) DO NOTHING`, tenantID, m.SHA256, m.Kind, contentType, data, s.now())
		return err
	})
}

// AuditMediaData loads a file's bytes and content type.
func (s *Store) AuditMediaData(ctx context.Context, tenantID int64, sha string) (data []byte, contentType string, err error) {
	err = s.readRow(ctx, `SELECT data, content_type FROM audit_media WHERE tenant_id = ? AND sha256 = ?`, tenantID, sha).Scan(&data, &contentType)
	return data, contentType, notFound(err, "audit_media")
}

// AuditMediaID is the media id WeChat gave for a file uploaded through api
// ("preview" or "feedback") for an app, and when; ok is false when none.
func (s *Store) AuditMediaID(ctx context.Context, appID, sha, api string) (mediaID string, at time.Time, ok bool, err error) {
	var t int64
	err = s.readRow(ctx, `SELECT media_id, uploaded_at FROM audit_media_ids WHERE appid = ? AND sha256 = ? AND api = ?`, appID, sha, api).Scan(&mediaID, &t)
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, false, nil
	}
	return mediaID, unix(t), err == nil, err
}

// SaveAuditMediaID remembers a fresh media id.
func (s *Store) SaveAuditMediaID(ctx context.Context, appID, sha, api, mediaID string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO audit_media_ids (appid, sha256, api, media_id, uploaded_at) VALUES (?,?,?,?,?)
			ON CONFLICT (appid, sha256, api) DO UPDATE SET media_id = excluded.media_id, uploaded_at = excluded.uploaded_at`,
			appID, sha, api, mediaID, s.now())
		return err
	})
}

// LastAuditRejected reports whether the app's latest audit decision was a
// rejection: only then does WeChat read feedback_info and feedback_stuff.
func (s *Store) LastAuditRejected(ctx context.Context, tenantID int64, appID string) (bool, error) {
	var ev string
	err := s.readRow(ctx, `SELECT e.event FROM release_events e JOIN releases r ON r.id = e.release_id
		WHERE r.tenant_id = ? AND r.appid = ? AND e.event IN (?, ?) ORDER BY e.id DESC LIMIT 1`,
		tenantID, appID, model.EvAuditPass, model.EvAuditFail).Scan(&ev)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return ev == string(model.EvAuditFail), err
}
