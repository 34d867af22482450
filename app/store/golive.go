package store

import (
	"context"
	"strings"
	"time"
)

// GoLiveFacts are what the go-live checklist reads from the database.
type GoLiveFacts struct {
	LastComponentPush time.Time // newest push on the component URL
	LastAppPush       time.Time // newest push on any app's message URL
	TestPushes        int       // pushes of WeChat's publish-test accounts
	TestAnswers       map[string]int
	Templates         int // in the library, not deleted
	SiteFiles         int
	TenantsNoContact  int // tenants with an app but no privacy contact
}

// GoLiveFacts reads the checklist's facts; testAppIDs are WeChat's test
// accounts, answerKind the job kind that answers their API case.
func (s *Store) GoLiveFacts(ctx context.Context, testAppIDs []string, answerKind string) (GoLiveFacts, error) {
	var f GoLiveFacts
	var comp, app int64
	if err := s.readRow(ctx, `SELECT COALESCE((SELECT MAX(received_at) FROM wechat_pushes WHERE route = ?), 0),
		COALESCE((SELECT MAX(received_at) FROM wechat_pushes WHERE route = ?), 0)`, RouteComponent, RouteApp).Scan(&comp, &app); err != nil {
		return f, err
	}
	if comp > 0 {
		f.LastComponentPush = unix(comp)
	}
	if app > 0 {
		f.LastAppPush = unix(app)
	}
	if len(testAppIDs) > 0 {
		args := []any{RouteApp}
		for _, id := range testAppIDs {
			args = append(args, id)
		}
		q := `SELECT COUNT(*) FROM wechat_pushes WHERE route = ? AND appid IN (?` + strings.Repeat(",?", len(testAppIDs)-1) + `)`
		if err := s.readRow(ctx, q, args...).Scan(&f.TestPushes); err != nil {
			return f, err
		}
	}
	var err error
	if f.TestAnswers, err = s.countBy(ctx, `SELECT state, COUNT(*) FROM jobs WHERE kind = ? GROUP BY state`, answerKind); err != nil {
		return f, err
	}
	err = s.readRow(ctx, `SELECT (SELECT COUNT(*) FROM templates WHERE deleted_at IS NULL OR deleted_at = 0),
		(SELECT COUNT(*) FROM site_files),
		(SELECT COUNT(DISTINCT a.tenant_id) FROM authorizers a WHERE a.tenant_id IS NOT NULL AND a.tenant_id != 0
			AND NOT EXISTS (SELECT 1 FROM tenant_contacts c WHERE c.tenant_id = a.tenant_id))`).Scan(&f.Templates, &f.SiteFiles, &f.TenantsNoContact)
	return f, err
}
