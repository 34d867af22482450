package store

import (
	"context"
	"time"

	"github.com/minifleet/minifleet/app/model"
)

// TemplateRun is one app running one template version: its newest release
// that went live (released or in a phased release).
type TemplateRun struct {
	TemplateID  int64
	UserVersion string
	TenantID    int64
	AppID       string
	ReleaseID   int64
	State       model.ReleaseState
	ReleasedAt  time.Time
}

// TemplateRuns lists, per app, the newest release that is live (released
// or gray), for "which apps run which template version". templateID 0
// means every template.
func (s *Store) TemplateRuns(ctx context.Context, templateID int64) ([]TemplateRun, error) {
	rows, err := s.read(ctx, `SELECT r.template_id, r.user_version, r.tenant_id, r.appid, r.id, r.state, COALESCE(r.released_at, r.updated_at)
		FROM releases r
		WHERE r.id = (SELECT MAX(x.id) FROM releases x WHERE x.appid = r.appid AND x.state IN ('released', 'gray'))
		AND (? = 0 OR r.template_id = ?)
		ORDER BY r.template_id DESC, r.user_version, r.appid`, templateID, templateID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []TemplateRun
	for rows.Next() {
		var t TemplateRun
		var state string
		var at int64
		if err := rows.Scan(&t.TemplateID, &t.UserVersion, &t.TenantID, &t.AppID, &t.ReleaseID, &state, &at); err != nil {
			return nil, err
		}
		t.State, t.ReleasedAt = model.ReleaseState(state), unix(at)
		out = append(out, t)
	}
	return out, rows.Err()
}

// MonthCount is a number for one calendar month ("2026-11", UTC).
type MonthCount struct {
	Month string
	Count int
}

// SubmissionsPerMonth counts audits submitted (submit_ok events) per month
// since the given time, oldest month first.
func (s *Store) SubmissionsPerMonth(ctx context.Context, since time.Time) ([]MonthCount, error) {
	rows, err := s.read(ctx, `SELECT strftime('%Y-%m', at, 'unixepoch') AS m, COUNT(*) FROM release_events
		WHERE event = 'submit_ok' AND at >= ? GROUP BY m ORDER BY m`, since.Unix())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []MonthCount
	for rows.Next() {
		var m MonthCount
		if err := rows.Scan(&m.Month, &m.Count); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
