package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/minifleet/minifleet/app/model"
)

// Activity of trial-version testers (体验成员).
const (
	ActTesterBind   = "tester_bound"
	ActTesterUnbind = "tester_unbound"
	ActPrivacySaved = "privacy_saved" // an app's privacy guideline edited (platform.SavePrivacyGuide)
)

// AppTester is a tester Minifleet bound: the WeChat ID typed then, the
// userstr WeChat answered, who bound it and when.
type AppTester struct {
	UserStr  string
	WeChatID string
	BoundBy  string
	BoundAt  time.Time
}

// AppTesters returns the testers tenantID bound through Minifleet for one
// of its apps, by userstr (another tenant's, before the app moved, are left out).
func (s *Store) AppTesters(ctx context.Context, tenantID int64, appID string) (map[string]AppTester, error) {
	rows, err := s.read(ctx, `SELECT userstr, wechatid, bound_by, bound_at FROM app_testers WHERE tenant_id = ? AND appid = ?`, tenantID, appID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]AppTester{}
	for rows.Next() {
		var t AppTester
		var at int64
		if err := rows.Scan(&t.UserStr, &t.WeChatID, &t.BoundBy, &at); err != nil {
			return nil, err
		}
		t.BoundAt = unix(at)
		out[t.UserStr] = t
	}
	return out, rows.Err()
}

// TesterBound records a tester WeChat accepted, with its activity row.
func (s *Store) TesterBound(ctx context.Context, a model.Actor, tenantID int64, appID, wechatID, userStr string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := appOfTenantTx(ctx, tx, tenantID, appID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO app_testers (tenant_id, appid, userstr, wechatid, bound_by, bound_at) VALUES (?,?,?,?,?,?)
			ON CONFLICT (appid, userstr) DO UPDATE SET tenant_id = excluded.tenant_id, wechatid = excluded.wechatid,
				bound_by = excluded.bound_by, bound_at = excluded.bound_at`,
			tenantID, appID, userStr, wechatID, a.Label, s.now()); err != nil {
			return err
		}
		return s.logTx(ctx, tx, a, tenantID, ActTesterBind, appID, wechatID)
	})
}

// TesterUnbound forgets a tester WeChat removed, with its activity row;
// label names the tester in the log (the WeChat ID when known).
func (s *Store) TesterUnbound(ctx context.Context, a model.Actor, tenantID int64, appID, userStr, label string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := appOfTenantTx(ctx, tx, tenantID, appID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM app_testers WHERE appid = ? AND userstr = ?`, appID, userStr); err != nil {
			return err
		}
		return s.logTx(ctx, tx, a, tenantID, ActTesterUnbind, appID, label)
	})
}

func appOfTenantTx(ctx context.Context, tx *sql.Tx, tenantID int64, appID string) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM authorizers WHERE appid = ? AND tenant_id = ?`, appID, tenantID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return model.NotFound("app")
	}
	return nil
}
