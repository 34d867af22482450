package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/minifleet/minifleet/app/model"
)

// What a release collects on its way (the experience QR, the privacy scan,
// the privacy keys, the preflight report) is written by TxOps riding in the
// step's transition; a write outside a transition runs its op alone
// (ApplyOps).

// PreflightCheck is one preflight check's result.
type PreflightCheck struct {
	Name    string `json:"name"`              // category, pages, privacy, domains
	OK      bool   `json:"ok"`                //
	Skipped bool   `json:"skipped,omitempty"` // nothing to do (no domains configured …)
	Key     string `json:"key,omitempty"`     // translation key of the problem or the next action
	Errcode int    `json:"errcode,omitempty"` // WeChat's, when it said no
	Detail  string `json:"detail,omitempty"`  // e.g. the missing page, the errmsg
}

// ReleaseArtifacts is what a release collected on its way.
type ReleaseArtifacts struct {
	ReleaseID   int64
	HasQR       bool
	QRAt        time.Time
	WithoutAuth []string // privacy APIs used without authorization (requiredPrivateInfos)
	WithoutConf []string // privacy APIs the guideline does not cover
	PrivacyKeys []string // privacy keys the code uses (getprivacysetting)
	ScannedAt   time.Time
	Preflight   []PreflightCheck
	PreflightAt time.Time
}

const ensureArtifactsSQL = `INSERT INTO release_artifacts (release_id, tenant_id)
		SELECT id, tenant_id FROM releases WHERE id = ? AND tenant_id = ? ON CONFLICT DO NOTHING`

func (s *Store) ensureArtifacts(ctx context.Context, tx *sql.Tx, tenantID, releaseID int64) error {
	_, err := tx.StmtContext(ctx, s.hot.ensureArtifacts).ExecContext(ctx, releaseID, tenantID)
	return err
}

func (s *Store) artifactsOp(tenantID, releaseID int64, set string, args ...any) TxOp {
	return func(ctx context.Context, tx *sql.Tx) error {
		if err := s.ensureArtifacts(ctx, tx, tenantID, releaseID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE release_artifacts SET `+set+` WHERE release_id = ? AND tenant_id = ?`,
			append(args, releaseID, tenantID)...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return model.NotFound("release")
		}
		return nil
	}
}

// QROp keeps the experience QR image fetched after commit.
func (s *Store) QROp(tenantID, releaseID int64, img []byte, contentType string) TxOp {
	return s.artifactsOp(tenantID, releaseID, `qr_image = ?, qr_type = ?, qr_at = ?`, img, contentType, s.now())
}

// ScanOp keeps the privacy scan's findings.
func (s *Store) ScanOp(tenantID, releaseID int64, withoutAuth, withoutConf []string) TxOp {
	return s.artifactsOp(tenantID, releaseID, `without_auth = ?, without_conf = ?, scanned_at = ?`,
		jsonList(withoutAuth), jsonList(withoutConf), s.now())
}

// PrivacyKeysOp keeps the privacy keys the committed code uses.
func (s *Store) PrivacyKeysOp(tenantID, releaseID int64, keys []string) TxOp {
	return s.artifactsOp(tenantID, releaseID, `privacy_keys = ?`, jsonList(keys))
}

// PreflightOp keeps the last preflight report.
func (s *Store) PreflightOp(tenantID, releaseID int64, checks []PreflightCheck) TxOp {
	if checks == nil {
		checks = []PreflightCheck{}
	}
	b, err := json.Marshal(checks)
	if err != nil {
		return func(context.Context, *sql.Tx) error { return err }
	}
	return s.artifactsOp(tenantID, releaseID, `preflight = ?, preflight_at = ?`, string(b), s.now())
}

// ReleaseQR returns the stored experience QR; not found when none is stored.
func (s *Store) ReleaseQR(ctx context.Context, tenantID, releaseID int64) (img []byte, contentType string, err error) {
	err = s.readRow(ctx, `SELECT qr_image, qr_type FROM release_artifacts WHERE release_id = ? AND tenant_id = ? AND qr_image IS NOT NULL`,
		releaseID, tenantID).Scan(&img, &contentType)
	return img, contentType, notFound(err, "qrcode")
}

// ReleaseArtifacts loads what a release collected; empty (not an error)
// when it collected nothing yet.
func (s *Store) ReleaseArtifacts(ctx context.Context, tenantID, releaseID int64) (ReleaseArtifacts, error) {
	a := ReleaseArtifacts{ReleaseID: releaseID}
	var hasQR bool
	var qrAt, scanned, pre sql.NullInt64
	var wa, wc, keys, checks string
	err := s.readRow(ctx, `SELECT qr_image IS NOT NULL, qr_at, without_auth, without_conf, privacy_keys, scanned_at, preflight, preflight_at
		FROM release_artifacts WHERE release_id = ? AND tenant_id = ?`, releaseID, tenantID).
		Scan(&hasQR, &qrAt, &wa, &wc, &keys, &scanned, &checks, &pre)
	if errors.Is(err, sql.ErrNoRows) {
		return a, nil
	}
	if err != nil {
		return a, err
	}
	a.HasQR, a.QRAt, a.ScannedAt, a.PreflightAt = hasQR, nullUnix(qrAt), nullUnix(scanned), nullUnix(pre)
	for _, p := range []struct {
		raw string
		v   any
	}{{wa, &a.WithoutAuth}, {wc, &a.WithoutConf}, {keys, &a.PrivacyKeys}, {checks, &a.Preflight}} {
		if err := json.Unmarshal([]byte(p.raw), p.v); err != nil {
			return a, err
		}
	}
	return a, nil
}
