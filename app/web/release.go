package web

import (
	"context"
	"net/url"
	"time"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/authz"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/views"
)

// appReleases lists an app's releases and offers to prepare a new one.
func (s *Server) appReleases(c *fiber.Ctx) error {
	v, err := s.releasesView(c, views.NewForm())
	if err != nil {
		return err
	}
	return s.render(c, views.ReleasesPage(s.page(c, "release.list_title", "release.list_help"), v))
}

func (s *Server) releasesView(c *fiber.Ctx, f views.Form) (views.ReleasesView, error) {
	ctx := c.UserContext()
	t := currentTenant(c)
	a, err := s.Store.App(ctx, t.ID, c.Params("appid"))
	if err != nil {
		return views.ReleasesView{}, err
	}
	v := views.ReleasesView{App: a, Form: f, CanPrepare: s.can(c, authz.PermReleasePrepare)}
	if v.Releases, err = s.Store.ListReleases(ctx, t.ID, a.AppID, 50); err != nil {
		return v, err
	}
	for i := range v.Releases {
		if v.Releases[i].State.Open() {
			v.Open = &v.Releases[i]
			break
		}
	}
	if v.Templates, err = s.schemaTemplates(ctx); err != nil {
		return v, err
	}
	latest, err := s.Store.LatestConfig(ctx, t.ID, a.AppID)
	switch {
	case err == nil:
		v.HasConfig = true
		if f.V("template_id") == "" {
			v.Form.Values["template_id"] = itoa(latest.TemplateID)
		}
	case !model.IsNotFound(err):
		return v, err
	}
	return v, nil
}

// appReleasePrepare starts a draft release from the app's newest config.
func (s *Server) appReleasePrepare(c *fiber.Ctx) error {
	ctx := c.UserContext()
	t := currentTenant(c)
	pf := NewPrepareForm(c)
	f := pf.View()
	a, err := s.Store.App(ctx, t.ID, c.Params("appid"))
	if err != nil {
		return err
	}
	if err = pf.Validate(); err != nil {
		formError(&f, err) // the form's own fields (control or bidi characters)
	} else {
		var rel model.Release
		rel, err = s.Releases.PrepareRelease(ctx, t.ID, a.AppID, pf.TemplateID(), pf.UserVersion, pf.UserDesc, actor(c))
		if err == nil {
			return s.redirectFlash(c, paths.Release(t.ID, a.AppID, rel.ID), "release.prepared")
		}
		if fe, ok := asFieldErrors(err); ok {
			f.Summary = "release.err.config_invalid"
			f.Data = map[string]any{"N": len(fe)}
		} else if !formError(&f, err) {
			return err
		}
	}
	v, verr := s.releasesView(c, f)
	if verr != nil {
		return verr
	}
	if f.Summary == "release.err.config_invalid" {
		c.Status(fiber.StatusUnprocessableEntity)
	} else {
		c.Status(statusOf(err))
	}
	return s.render(c, views.ReleasesPage(s.page(c, "release.list_title", "release.list_help"), v))
}

// loadRelease loads :rid of the current tenant, which must be of :appid.
func (s *Server) loadRelease(c *fiber.Ctx) (model.App, model.Release, error) {
	ctx := c.UserContext()
	t := currentTenant(c)
	a, err := s.Store.App(ctx, t.ID, c.Params("appid"))
	if err != nil {
		return a, model.Release{}, err
	}
	id, err := parseID(c, "rid")
	if err != nil {
		return a, model.Release{}, err
	}
	rel, err := s.Store.Release(ctx, t.ID, id)
	if err != nil {
		return a, rel, err
	}
	if rel.AppID != a.AppID {
		return a, rel, model.NotFound("release")
	}
	return a, rel, nil
}

// releaseView reads everything a release page shows.
func (s *Server) releaseView(ctx context.Context, c *fiber.Ctx, a model.App, releaseID int64) (views.ReleaseView, error) {
	t := currentTenant(c)
	v := views.ReleaseView{App: a, CanPrepare: s.can(c, authz.PermReleasePrepare), CanApprove: s.can(c, authz.PermReleaseApprove),
		CanContact: s.can(c, authz.PermTenantWrite), Form: views.NewForm()}
	if u := currentUser(c); u != nil {
		v.ViewerID = u.ID
	}
	if ap, err := s.Store.TenantApprovals(ctx, t.ID); err == nil {
		v.StaffApproves = ap == model.ApprovalsStaff
	}
	v, err := s.fillRelease(ctx, t.ID, v, releaseID)
	// The stream learns which state the page shows: if the release moved
	// before the stream connected, it sends the new one at once.
	v.StreamURL = paths.ReleaseEvents(t.ID, a.AppID, releaseID, v.Release.Seq)
	return v, err
}

// pageSeq is the seq the page was rendered at (its stream URL's ?seq=).
// A stream compares it on connect with the object as read after the
// stream subscribed to the hub, so a change between the render and the
// subscription is sent at once instead of lost.
func pageSeq(c *fiber.Ctx) (seen int64, ok bool) { return parseInt64(c.Query("seq")) }

func (s *Server) fillRelease(ctx context.Context, tenantID int64, v views.ReleaseView, releaseID int64) (views.ReleaseView, error) {
	d, err := s.Releases.Detail(ctx, tenantID, releaseID)
	if err != nil {
		return v, err
	}
	v.Release, v.Events = d.Release, d.Events
	if items, err := s.Releases.ReleaseContents(ctx, d.Release); err == nil {
		v.Content = views.ContentBlock{TenantID: tenantID, AppID: d.Release.AppID, ReadOnly: true, Now: s.Releases.Now()}
		for _, it := range items {
			row := views.ContentRow{Path: it.Content.Path, Image: it.Content.Image, Subject: it.Subject, Check: checkState(it.Check)}
			if it.Content.Image {
				row.Src = paths.MediaImage(tenantID, it.Content.Value)
			}
			v.Content.Rows = append(v.Content.Rows, row)
		}
	} else {
		s.Log.Warn("release contents", "err", err)
	}
	v.Art = views.ReleaseArt{HasQR: d.Artifacts.HasQR, WithoutAuth: d.Artifacts.WithoutAuth, WithoutConf: d.Artifacts.WithoutConf,
		PrivacyKeys: d.Artifacts.PrivacyKeys, Scanned: !d.Artifacts.ScannedAt.IsZero(), PreflightAt: d.Artifacts.PreflightAt}
	for _, pc := range d.Artifacts.Preflight {
		v.Art.Preflight = append(v.Art.Preflight, views.PreflightRow{Name: pc.Name, OK: pc.OK, Skipped: pc.Skipped, Key: pc.Key, Errcode: pc.Errcode, Detail: pc.Detail})
	}
	n := d.Next
	v.Next = views.ReleaseNext{Key: n.Key, Errcode: n.Errcode, Retry: n.Retry, Wait: n.Wait, Stop: n.Stop, Events: n.Events}
	if tpl, err := s.Store.Template(ctx, d.Release.TemplateID); err == nil {
		v.Template = tpl
	}
	return v, nil
}

func (s *Server) appRelease(c *fiber.Ctx) error {
	a, rel, err := s.loadRelease(c)
	if err != nil {
		return err
	}
	v, err := s.releaseView(c.UserContext(), c, a, rel.ID)
	if err != nil {
		return err
	}
	return s.render(c, views.ReleasePage(s.page(c, "release.title", ""), v))
}

// appReleaseQR serves the experience version's QR image.
func (s *Server) appReleaseQR(c *fiber.Ctx) error {
	_, rel, err := s.loadRelease(c)
	if err != nil {
		return err
	}
	return s.sendQR(c, rel)
}

// sendQR answers a release's trial QR image (the tenant's and the staff
// approver's review pages).
func (s *Server) sendQR(c *fiber.Ctx, rel model.Release) error {
	img, ct, err := s.Releases.QRCode(c.UserContext(), rel.TenantID, rel.ID)
	if err != nil {
		return err
	}
	if ct == "" {
		ct = "image/jpeg"
	}
	c.Set(fiber.HeaderContentType, ct)
	c.Set(fiber.HeaderCacheControl, "private, max-age=300")
	return c.Send(img)
}

// Audit screenshots are fetched from WeChat through the app's token and
// kept here: a media id's image never changes.
const (
	shotEntries  = 128
	shotTTL      = 24 * time.Hour
	shotCacheHdr = "private, max-age=86400"
)

// appReleaseScreenshot proxies one of a rejected release's audit
// screenshots (a media id its audit result names) from our own origin.
func (s *Server) appReleaseScreenshot(c *fiber.Ctx) error {
	_, rel, err := s.loadRelease(c)
	if err != nil {
		return err
	}
	media, err := url.PathUnescape(c.Params("media"))
	if err != nil {
		return model.NotFound("screenshot")
	}
	key := itoa(rel.TenantID) + "\x00" + itoa(rel.ID) + "\x00" + media
	now := s.Now()
	e, ok := s.shots.get(key, now)
	if !ok {
		m, err := s.Releases.Screenshot(c.UserContext(), rel.TenantID, rel.ID, media)
		if err != nil {
			return err
		}
		if !avatarTypes[m.ContentType] {
			return model.NotFound("screenshot")
		}
		e = avatarEntry{key: key, body: m.Body, ctype: m.ContentType, expires: now.Add(shotTTL)}
		s.shots.put(e)
	}
	c.Set(fiber.HeaderContentType, e.ctype)
	c.Set(fiber.HeaderCacheControl, shotCacheHdr)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	return c.Send(e.body)
}

// appReleaseEvents streams the release page's live part.
func (s *Server) appReleaseEvents(c *fiber.Ctx) error {
	a, rel, err := s.loadRelease(c)
	if err != nil {
		return err
	}
	base, err := s.releaseView(c.UserContext(), c, a, rel.ID)
	if err != nil {
		return err
	}
	if c.Query("view") == "review" {
		if !s.can(c, authz.PermReleaseApprove) {
			return model.Errorf(model.CodeForbidden, "error.forbidden")
		}
		return s.reviewStream(c, base, c.Query("hash"))
	}
	p := s.page(c, "release.title", "")
	tid, appID, id := rel.TenantID, a.AppID, rel.ID
	// On connect (e == nil) only if the release moved since the page was
	// rendered (read after subscribing: a push between the render and the
	// connect is not lost), so an unchanged page is not swapped for nothing.
	seen, hasSeen := pageSeq(c)
	return s.stream(c, platform.TenantTopic(tid), func(ctx context.Context, e *platform.Event) (string, templ.Component, bool) {
		if e != nil && (e.AppID != appID || e.Name != platform.EventRelease) {
			return "", nil, false
		}
		v, err := s.fillRelease(ctx, tid, base, id)
		if err != nil || e == nil && (!hasSeen || v.Release.Seq == seen) {
			return "", nil, false
		}
		p.Now = s.Now()
		return "release", views.ReleaseBody(p, v), true
	})
}

func parseInt64(s string) (int64, bool) {
	var n int64
	if s == "" || len(s) > 18 {
		return 0, false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, false
		}
		n = n*10 + int64(r-'0')
	}
	return n, true
}

// appReleaseRows is the release line of each app in the apps list.
func (s *Server) appReleaseRows(ctx context.Context, tenantID int64) map[string]views.AppReleaseRow {
	rs, err := s.Store.TenantAppReleases(ctx, tenantID)
	if err != nil {
		return nil
	}
	out := make(map[string]views.AppReleaseRow, len(rs))
	for k, r := range rs {
		out[k] = appReleaseRow(r)
	}
	return out
}

func appReleaseRow(r store.AppRelease) views.AppReleaseRow {
	return views.AppReleaseRow{ReleaseID: r.ReleaseID, State: r.State, UserVersion: r.UserVersion, LiveVersion: r.LiveVersion}
}
