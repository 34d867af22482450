package web

import (
	"context"
	"errors"
	"net/url"
	"strconv"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/views"
)

const fleetPage = 50

func fleetFilter(c *fiber.Ctx) store.FleetFilter {
	off, _ := strconv.Atoi(c.Query("offset"))
	f := store.FleetFilter{Offset: max(off, 0), Limit: fleetPage}
	if st := c.Query("state"); st == "none" || model.ReleaseState(st).Valid() {
		f.State = st
	}
	f.TemplateID, _ = strconv.ParseInt(c.Query("template"), 10, 64)
	f.TenantID, _ = strconv.ParseInt(c.Query("tenant"), 10, 64)
	return f
}

func fleetURL(f store.FleetFilter, off int) string {
	u := url.Values{}
	if f.State != "" {
		u.Set("state", f.State)
	}
	if f.TemplateID > 0 {
		u.Set("template", itoa(f.TemplateID))
	}
	if f.TenantID > 0 {
		u.Set("tenant", itoa(f.TenantID))
	}
	if off > 0 {
		u.Set("offset", strconv.Itoa(off))
	}
	return paths.WithQueryOmitEmpty(paths.StaffFleet, u)
}

// staffFleet is every app with its release state, the audit quota and
// the submissions per month.
func (s *Server) staffFleet(c *fiber.Ctx) error {
	ctx := c.UserContext()
	f := fleetFilter(c)
	rows, total, err := s.Store.Fleet(ctx, f)
	if err != nil {
		return err
	}
	v := views.FleetView{State: f.State, URL: fleetURL(f, f.Offset), Pager: views.Pager{Total: total, Offset: f.Offset, Limit: fleetPage}}
	if f.TemplateID > 0 {
		v.Template = itoa(f.TemplateID)
	}
	if f.TenantID > 0 {
		v.Tenant = itoa(f.TenantID)
	}
	if f.Offset > 0 {
		v.Pager.Prev = fleetURL(f, max(f.Offset-fleetPage, 0))
	}
	if f.Offset+fleetPage < total {
		v.Pager.Next = fleetURL(f, f.Offset+fleetPage)
	}
	for _, r := range rows {
		v.Rows = append(v.Rows, views.FleetRow{AppID: r.AppID, AppName: r.Nickname, TenantID: r.TenantID, TenantName: r.TenantName,
			State: r.State, TemplateID: r.TemplateID, UserVersion: r.UserVersion, LiveVersion: r.LiveVersion, GrayPercent: r.GrayPercent, UpdatedAt: r.UpdatedAt})
	}
	p := s.page(c, "fleet.title", "fleet.help")
	if isHTMX(c) && c.Get("HX-Target") == "fleet" {
		c.Vary("HX-Request")
		return s.render(c, views.FleetTable(p, v))
	}
	ts, err := s.Store.ListTemplates(ctx, false)
	if err != nil {
		return err
	}
	for _, t := range ts {
		v.Templates = append(v.Templates, views.FleetOption{Value: itoa(t.TemplateID), Label: itoa(t.TemplateID) + " · " + t.UserVersion})
	}
	tenants, err := s.Store.FleetTenants(ctx)
	if err != nil {
		return err
	}
	for _, t := range tenants {
		v.Tenants = append(v.Tenants, views.FleetOption{Value: itoa(t.ID), Label: t.Name})
	}
	s.fleetQuota(ctx, &v, rows)
	if ms, err := s.Releases.SubmissionsPerMonth(ctx, 12); err == nil {
		for _, m := range ms {
			v.Months = append(v.Months, views.MonthBar{Month: m.Month, Count: m.Count})
		}
	}
	return s.render(c, views.FleetPage(p, v))
}

// fleetQuota asks queryquota (cached by the pipeline) through any
// authorized app; a refusal is shown, never fatal.
func (s *Server) fleetQuota(ctx context.Context, v *views.FleetView, rows []store.AppRelease) {
	appID := ""
	for _, r := range rows {
		appID = r.AppID
		break
	}
	if appID == "" {
		all, _, err := s.Store.Fleet(ctx, store.FleetFilter{Limit: 1})
		if err != nil || len(all) == 0 {
			return
		}
		appID = all[0].AppID
	}
	q, err := s.Releases.Quota(ctx, appID)
	if err != nil {
		var me *model.Error
		if errors.As(err, &me) {
			v.QuotaErr, v.QuotaData = me.Key, me.Data
		} else {
			v.QuotaErr = "wechat.err.transport"
		}
		return
	}
	v.Quota = &views.FleetQuota{Rest: q.Rest, Limit: q.Limit, SpeedupRest: q.SpeedupRest, SpeedupLimit: q.SpeedupLimit, FetchedAt: q.FetchedAt}
}

// staffFleetEvents tells the board to refetch itself (it is filtered and
// paged, so the client asks again with its own URL).
func (s *Server) staffFleetEvents(c *fiber.Ctx) error {
	return s.stream(c, platform.TopicStaff, func(ctx context.Context, e *platform.Event) (string, templ.Component, bool) {
		if e == nil || (e.Name != platform.EventRelease && e.Name != platform.EventApp) {
			return "", nil, false
		}
		return "fleet", templ.Raw(""), true
	})
}
