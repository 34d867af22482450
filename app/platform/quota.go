package platform

import (
	"context"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat"
)

// AuditQuota is the platform's monthly audit budget (queryquota), shared
// by every app, as of FetchedAt.
type AuditQuota struct {
	wechat.AuditQuota
	FetchedAt time.Time
}

type cachedQuota struct {
	q  AuditQuota
	ok bool
}

// Quota returns queryquota's rest/limit and speed-up rest/limit, reusing an
// answer younger than QuotaTTL. Any authorized app's token works; appID
// names one (the fleet board passes any of its apps).
func (r *Releases) Quota(ctx context.Context, appID string) (AuditQuota, error) {
	r.quotaMu.Lock()
	defer r.quotaMu.Unlock()
	now := r.now()
	if r.quota.ok && now.Sub(r.quota.q.FetchedAt) < r.QuotaTTL {
		return r.quota.q, nil
	}
	q, err := r.WeChat.AuditQuota(ctx, appID)
	if err != nil {
		return AuditQuota{}, actionError(err)
	}
	r.quota = cachedQuota{q: AuditQuota{AuditQuota: *q, FetchedAt: now}, ok: true}
	return r.quota.q, nil
}

func (r *Releases) quotaInvalidate() {
	r.quotaMu.Lock()
	r.quota.ok = false
	r.quotaMu.Unlock()
}

// SubmissionsPerMonth counts audits submitted per calendar month (UTC) over
// the last months months including the current one, oldest first, with
// zeros for months without any: the fleet board's chart.
func (r *Releases) SubmissionsPerMonth(ctx context.Context, months int) ([]store.MonthCount, error) {
	if months <= 0 {
		return nil, model.Errorf(model.CodeInvalid, "release.err.months")
	}
	now := r.now().UTC()
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -(months - 1), 0)
	got, err := r.Store.SubmissionsPerMonth(ctx, first)
	if err != nil {
		return nil, err
	}
	byMonth := map[string]int{}
	for _, m := range got {
		byMonth[m.Month] = m.Count
	}
	out := make([]store.MonthCount, 0, months)
	for i := range months {
		m := first.AddDate(0, i, 0).Format("2006-01")
		out = append(out, store.MonthCount{Month: m, Count: byMonth[m]})
	}
	return out, nil
}
