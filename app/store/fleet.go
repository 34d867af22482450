package store

import (
	"context"
	"strings"
	"time"

	"github.com/minifleet/minifleet/app/model"
)

// AppRelease is what the apps lists and the fleet board show about one
// app's releases: its newest release (any state) and the version live now.
type AppRelease struct {
	AppID       string
	TenantID    int64
	TenantName  string
	Nickname    string
	ReleaseID   int64              // newest release; 0 when none
	State       model.ReleaseState // of the newest release
	TemplateID  int64
	UserVersion string
	GrayPercent int
	UpdatedAt   time.Time
	LiveID      int64 // the release live now; 0 when nothing was released
	LiveVersion string
	LiveConfig  int64 // its config version
}

// liveStates are the states in which a release's code is what users get.
const liveStates = `('released', 'rolling_back', 'rollback_failed')`

const appReleaseCols = `a.appid, COALESCE(a.tenant_id, 0), COALESCE(t.name, ''), a.nickname,
	COALESCE(r.id, 0), COALESCE(r.state, ''), COALESCE(r.template_id, 0), COALESCE(r.user_version, ''), COALESCE(r.gray_percent, 0), COALESCE(r.updated_at, 0),
	COALESCE(l.id, 0), COALESCE(l.user_version, ''), COALESCE(l.config_version, 0)`

const appReleaseFrom = ` FROM authorizers a
	LEFT JOIN tenants t ON t.id = a.tenant_id
	LEFT JOIN releases r ON r.id = (SELECT MAX(x.id) FROM releases x WHERE x.appid = a.appid AND x.tenant_id = a.tenant_id)
	LEFT JOIN releases l ON l.id = (SELECT MAX(y.id) FROM releases y WHERE y.appid = a.appid AND y.tenant_id = a.tenant_id AND y.state IN ` + liveStates + `)`

func scanAppRelease(sc interface{ Scan(...any) error }) (AppRelease, error) {
	var r AppRelease
	var state string
	var updated int64
	err := sc.Scan(&r.AppID, &r.TenantID, &r.TenantName, &r.Nickname, &r.ReleaseID, &state, &r.TemplateID, &r.UserVersion,
		&r.GrayPercent, &updated, &r.LiveID, &r.LiveVersion, &r.LiveConfig)
	r.State, r.UpdatedAt = model.ReleaseState(state), unix(updated)
	return r, err
}

// TenantAppReleases returns the release summary of each of the tenant's apps, by appid.
func (s *Store) TenantAppReleases(ctx context.Context, tenantID int64) (map[string]AppRelease, error) {
	rows, err := s.read(ctx, `SELECT `+appReleaseCols+appReleaseFrom+` WHERE a.tenant_id = ?`, tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]AppRelease{}
	for rows.Next() {
		r, err := scanAppRelease(rows)
		if err != nil {
			return nil, err
		}
		out[r.AppID] = r
	}
	return out, rows.Err()
}

// AppReleaseOf returns one app's release summary within its tenant.
func (s *Store) AppReleaseOf(ctx context.Context, tenantID int64, appID string) (AppRelease, error) {
	r, err := scanAppRelease(s.readRow(ctx, `SELECT `+appReleaseCols+appReleaseFrom+` WHERE a.tenant_id = ? AND a.appid = ?`, tenantID, appID))
	if err != nil {
		return r, notFound(err, "app")
	}
	return r, nil
}

// FleetFilter selects the staff fleet board's rows.
type FleetFilter struct {
	State      string // a model.ReleaseState, "none" (never released), or "" for all
	TemplateID int64
	TenantID   int64
	Offset     int
	Limit      int
}

// Fleet lists every app bound to a tenant with its release summary, most
// recently moved first, and the number of rows matching the filter.
func (s *Store) Fleet(ctx context.Context, f FleetFilter) ([]AppRelease, int, error) {
	where := []string{"a.tenant_id IS NOT NULL"}
	var args []any
	switch {
	case f.State == "none":
		where = append(where, "r.id IS NULL")
	case f.State != "":
		where, args = append(where, "r.state = ?"), append(args, f.State)
	}
	if f.TemplateID != 0 {
		where, args = append(where, "r.template_id = ?"), append(args, f.TemplateID)
	}
	if f.TenantID != 0 {
		where, args = append(where, "a.tenant_id = ?"), append(args, f.TenantID)
	}
	w := " WHERE " + strings.Join(where, " AND ")
	var total int
	if err := s.readRow(ctx, `SELECT COUNT(*)`+appReleaseFrom+w, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	rows, err := s.read(ctx, `SELECT `+appReleaseCols+appReleaseFrom+w+` ORDER BY COALESCE(r.updated_at, 0) DESC, a.appid LIMIT ? OFFSET ?`,
		append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []AppRelease
	for rows.Next() {
		r, err := scanAppRelease(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, r)
	}
	return out, total, rows.Err()
}

// FleetTenant is a tenant that has apps, for the fleet board's filter.
type FleetTenant struct {
	ID   int64
	Name string
}

// FleetTenants lists tenants with at least one app, by name.
func (s *Store) FleetTenants(ctx context.Context) ([]FleetTenant, error) {
	rows, err := s.read(ctx, `SELECT t.id, t.name FROM tenants t WHERE EXISTS (SELECT 1 FROM authorizers a WHERE a.tenant_id = t.id) ORDER BY t.name LIMIT 500`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []FleetTenant
	for rows.Next() {
		var t FleetTenant
		if err := rows.Scan(&t.ID, &t.Name); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
