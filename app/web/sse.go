package web

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/authz"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/views"
)

// sseHeartbeat keeps proxies from closing idle streams and bounds how long
// a vanished client holds a subscription (a failed write is the only
// disconnect signal fasthttp gives).
var sseHeartbeat = 15 * time.Second

// fragment renders what a live page shows for an event; ok=false skips it.
type fragment func(ctx context.Context, e *platform.Event) (name string, comp templ.Component, ok bool)

// sseParts is a fragment that updates several parts of a page for one
// event: each part goes out as its own named event (the name a fragment
// returns with it is unused).
type sseParts []ssePart

type ssePart struct {
	name string
	comp templ.Component
}

func (sseParts) Render(context.Context, io.Writer) error { return nil }

// stream serves Server-Sent Events for topic: render(nil) on connect (the
// attempt page uses it so a grant that lands between page load and connect
// is not lost; lists skip it to avoid a needless swap), then one fragment
// per relevant event, heartbeats, and an end at shutdown or after SSEMaxLife.
func (s *Server) stream(c *fiber.Ctx, topic string, render fragment) error {
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set("X-Accel-Buffering", "no")
	ctx := c.UserContext() // a plain context; safe to keep after the handler returns
	hub, stop := s.Hub, s.stop
	allowed := s.streamAccess(c)
	sub := hub.Subscribe(topic)
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer sub.Close()
		hb := time.NewTicker(sseHeartbeat)
		defer hb.Stop()
		maxLife := s.SSEMaxLife
		if maxLife <= 0 {
			maxLife = 30 * time.Minute
		}
		life := time.NewTimer(maxLife)
		defer life.Stop()
		send := func(e *platform.Event) error {
			name, comp, ok := render(ctx, e)
			if !ok {
				return nil
			}
			parts, ok := comp.(sseParts)
			if !ok {
				parts = sseParts{{name, comp}}
			}
			for _, part := range parts {
				var buf bytes.Buffer
				if err := part.comp.Render(ctx, &buf); err != nil {
					return err
				}
				writeEvent(w, part.name, buf.String())
			}
			return w.Flush()
		}
		w.WriteString("retry: 2000\n\n")
		if send(nil) != nil || w.Flush() != nil { // flush now: lists skip the first fragment, and the client waits for the open
			return
		}
		for {
			select {
			case e := <-sub.C:
				if !allowed(ctx) || send(&e) != nil {
					return
				}
				continue
			case <-hb.C:
				if !allowed(ctx) {
					return
				}
				w.WriteString(": ping\n\n")
			case <-stop:
				return
			case <-life.C:
				return
			}
			if w.Flush() != nil {
				return
			}
		}
	})
	return nil
}

// streamAccess returns the check a stream runs before each event and each
// heartbeat: the session that opened it still exists (not logged out,
// expired or pruned), the user's session epoch is unchanged (no password
// change since), and for the route's scope the user still holds its
// permission: a tenant stream needs the membership, an active tenant and
// the permission in the tenant's domain; a staff stream the permission in
// the platform domain. One read on the reader pool per check (sessions,
// users, memberships and tenants by key), plus the enforcer's remembered
// decision, which role changes forget. A failed check ends the stream.
func (s *Server) streamAccess(c *fiber.Ctx) func(context.Context) bool {
	u := currentUser(c)
	if u == nil {
		return func(context.Context) bool { return true } // public: nothing to lose
	}
	token := storedSessionToken(s.sessions.Token(c.UserContext()))
	uid, epoch := u.ID, u.SessionEpoch
	perm, scoped := c.UserContext().Value(keyRoutePerm).(authz.Perm)
	var tid int64
	if t := currentTenant(c); t != nil {
		tid = t.ID
	}
	return func(ctx context.Context) bool {
		a, ok, err := s.Store.StreamAccess(ctx, token, uid, tid)
		if err != nil || !ok || a.Epoch != epoch {
			return false
		}
		switch {
		case !scoped:
			return true
		case tid != 0:
			return a.Member && a.TenantStatus == model.TenantActive && s.Authz.Can(uid, authz.TenantDomain(tid), perm)
		default:
			return s.Authz.Can(uid, authz.Platform, perm)
		}
	}
}

// storedSessionToken is a session token as the sessions table holds it
// (scs's HashTokenInStore: SHA-256, base64url without padding).
func storedSessionToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// writeEvent writes one Server-Sent Event. The event stream format ends a
// line at CRLF, at LF and at a lone CR alike, so data is cut at each of
// them and every piece goes out as its own "data:" line: the client joins
// them with LF, and nothing in data can end the event, rename it or start
// a field of its own. (Splitting on LF alone let a CR in a description
// turn the rest of its line into a field.) Trailing line ends are dropped.
func writeEvent(w *bufio.Writer, name, data string) {
	w.WriteString("event: " + name + "\n")
	data = strings.TrimRight(data, "\r\n")
	for {
		i := strings.IndexAny(data, "\r\n")
		if i < 0 {
			w.WriteString("data: " + data + "\n\n")
			return
		}
		w.WriteString("data: " + data[:i] + "\n")
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		data = data[i+1:]
	}
}

// tenantAppsEvents streams the apps list (view=list) or one app's summary
// (view=app&appid=…) of the current tenant.
func (s *Server) tenantAppsEvents(c *fiber.Ctx) error {
	t := currentTenant(c)
	p := s.page(c, "apps.title", "")
	canAuth := s.can(c, authz.PermAppsAuthorize)
	tid := t.ID
	if c.Query("view") == "app" {
		who := s.viewerOf(c)
		appID := c.Query("appid")
		if _, err := s.Store.App(c.UserContext(), tid, appID); err != nil {
			return err
		}
		return s.stream(c, platform.TenantTopic(tid), func(ctx context.Context, e *platform.Event) (string, templ.Component, bool) {
			if e == nil || e.AppID != appID {
				return "", nil, false
			}
			a, err := s.Store.App(ctx, tid, appID)
			if err != nil {
				return "", nil, false // moved to another tenant: show nothing more
			}
			acts, err := s.Store.ListActivity(ctx, store.ActivityFilter{TenantID: tid, Query: appID, Limit: 20})
			if err != nil {
				return "", nil, false
			}
			hub, err := s.appHub(ctx, tid, a, who)
			if err != nil {
				return "", nil, false
			}
			p.Now = s.Now()
			return "app", appLiveParts(p, views.AppDetailView{App: a, Activity: acts, CanAuthorize: canAuth, Hub: hub}), true
		})
	}
	return s.stream(c, platform.TenantTopic(tid), func(ctx context.Context, e *platform.Event) (string, templ.Component, bool) {
		if e == nil || e.Name != platform.EventApp && e.Name != platform.EventRelease {
			return "", nil, false
		}
		apps, err := s.Store.TenantApps(ctx, tid)
		if err != nil {
			return "", nil, false
		}
		return "apps", views.AppsList(p, views.AppsView{Apps: apps, CanAuthorize: canAuth, Releases: s.appReleaseRows(ctx, tid)}), true
	})
}

// attemptEvents streams one attempt's status to its creator.
func (s *Server) attemptEvents(c *fiber.Ctx) error {
	v, err := s.attemptView(c)
	if err != nil {
		return err
	}
	p := s.page(c, "authorize.attempt_title", "")
	tid, id := v.Attempt.TenantID, v.Attempt.ID
	state := s.attemptState(c.UserContext(), id)
	return s.stream(c, platform.TenantTopic(tid), func(ctx context.Context, e *platform.Event) (string, templ.Component, bool) {
		if e != nil && e.AttemptID != id {
			return "", nil, false
		}
		a, err := s.Store.Attempt(ctx, tid, id)
		if err != nil {
			return "", nil, false
		}
		a.CallbackState = state
		p.Now = s.Now()
		av, err := s.attemptViewOf(a, false)
		if err != nil {
			return "", nil, false
		}
		return "attempt", views.AttemptStatus(p, av), true
	})
}

// staffAppsEvents tells the staff list to refetch itself (it is filtered
// and paged, so the client asks again with its own URL), or streams one
// app's summary (appid=…).
func (s *Server) staffAppsEvents(c *fiber.Ctx) error {
	p := s.page(c, "staff_apps.title", "")
	appID := c.Query("appid")
	return s.stream(c, platform.TopicStaff, func(ctx context.Context, e *platform.Event) (string, templ.Component, bool) {
		if appID == "" {
			if e == nil {
				return "", nil, false
			}
			return "apps", templ.Raw(""), true
		}
		if e == nil || e.AppID != appID {
			return "", nil, false
		}
		a, err := s.Store.AppForStaff(ctx, appID)
		if err != nil {
			return "", nil, false
		}
		var acts []model.Activity
		if a.TenantID != 0 {
			if acts, err = s.Store.ListActivity(ctx, store.ActivityFilter{TenantID: a.TenantID, Query: appID, Limit: 20}); err != nil {
				return "", nil, false
			}
		}
		p.Now = s.Now()
		return "app", appLiveParts(p, views.AppDetailView{App: a, Activity: acts}), true
	})
}

// appLiveParts is what an app page updates live: its summary, its
// permission sets, its activity and (the tenant's page) the hub's version
// blocks and next step.
func appLiveParts(p views.Page, v views.AppDetailView) sseParts {
	parts := sseParts{{"app", views.AppSummary(p, v)}, {"perms", views.AppPermissions(v)}, {"activity", views.AppActivity(p, v)}}
	if v.Hub != nil {
		parts = append(parts, ssePart{"hub", views.AppHubSection(p, v.App, *v.Hub)})
	}
	return parts
}
