package web

import (
	"errors"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/minifleet/minifleet/app/authz"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/views"
)

// The 链接 tab: an app's URL Schemes, URL Links, Short Links and 小程序码,
// made once a version is live (docs/links.md).

func (s *Server) linkRow(l store.AppLink) views.LinkRow { return s.linkRowAt(l, s.Releases.Now()) }

func (s *Server) linkRowAt(l store.AppLink, now time.Time) views.LinkRow {
	r := views.LinkRow{ID: l.ID, Kind: l.Kind, Link: l.Link, Path: l.Path, Query: l.Query, EnvVersion: l.EnvVersion,
		Title: l.Title, ExpiresAt: l.ExpiresAt, CreatedBy: l.CreatedBy, CreatedAt: l.CreatedAt}
	r.Expired = !l.ExpiresAt.IsZero() && !l.ExpiresAt.After(now)
	if l.Kind == store.LinkScheme || l.Kind == store.LinkURLLink {
		r.QRSVG = linkQR(l.Link)
	}
	return r
}

// linkQRs keeps the SVG of links shown lately: a link's QR code never
// changes, and drawing a full list's (200) took ~40 ms a page
// (BenchmarkLinksTabRows, docs/benchmarks.md).
var linkQRs, _ = lru.New[string, string](2048)

func linkQR(link string) string {
	if svg, ok := linkQRs.Get(link); ok {
		return svg
	}
	svg, err := qrSVG(link, link)
	if err != nil {
		return ""
	}
	linkQRs.Add(link, svg)
	return svg
}

func (s *Server) appLinksView(c *fiber.Ctx, f, cf views.Form) (views.AppLinksView, error) {
	ctx := c.UserContext()
	t := currentTenant(c)
	a, err := s.Store.App(ctx, t.ID, c.Params("appid"))
	if err != nil {
		return views.AppLinksView{}, err
	}
	v := views.AppLinksView{App: a, CanEdit: s.can(c, authz.PermLinksWrite), Form: f, CodeForm: cf}
	h, _, err := s.appBlocks(ctx, t.ID, a, false)
	if err != nil {
		return v, err
	}
	if h.Live.Release != nil {
		v.Released, v.LiveVersion = true, h.Live.Release.UserVersion
	}
	links, err := s.Store.AppLinks(ctx, t.ID, a.AppID)
	if err != nil {
		return v, err
	}
	for _, l := range links {
		v.Links = append(v.Links, s.linkRow(l))
	}
	return v, nil
}

func (s *Server) renderLinks(c *fiber.Ctx, f, cf views.Form, status int) error {
	v, err := s.appLinksView(c, f, cf)
	if err != nil {
		return err
	}
	c.Status(status)
	return s.render(c, views.AppLinksPage(s.page(c, "link.title", "link.help"), v))
}

// appLinks shows the 链接 tab.
func (s *Server) appLinks(c *fiber.Ctx) error {
	return s.renderLinks(c, views.NewForm(), views.NewForm(), fiber.StatusOK)
}

// appLinkCreate makes a link; WeChat's refusal is explained in words, with
// what was typed.
func (s *Server) appLinkCreate(c *fiber.Ctx) error {
	t := currentTenant(c)
	lf := NewLinkForm(c)
	f := lf.View()
	in, err := lf.Input(c)
	if err == nil {
		_, err = s.Releases.CreateLink(c.UserContext(), actor(c), t.ID, c.Params("appid"), in)
		if err == nil {
			return s.redirectFlash(c, paths.AppLinks(t.ID, c.Params("appid")), "link.created")
		}
	}
	if !formError(&f, err) {
		return err
	}
	return s.renderLinks(c, f, views.NewForm(), fiber.StatusUnprocessableEntity)
}

// appWxaCodeCreate makes a 小程序码.
func (s *Server) appWxaCodeCreate(c *fiber.Ctx) error {
	t := currentTenant(c)
	wf := NewWxaCodeForm(c)
	f := wf.View()
	_, err := s.Releases.CreateWxaCode(c.UserContext(), actor(c), t.ID, c.Params("appid"), platformWxaCode(wf))
	if err == nil {
		return s.redirectFlash(c, paths.AppLinks(t.ID, c.Params("appid")), "wxacode.created")
	}
	var me *model.Error
	if errors.As(err, &me) && me.Field == "path" {
		me.Field = "page" // the code form calls the page "page"
	}
	if !formError(&f, err) {
		return err
	}
	return s.renderLinks(c, views.NewForm(), f, fiber.StatusUnprocessableEntity)
}

func linkID(c *fiber.Ctx) (int64, error) {
	id, err := strconv.ParseInt(c.Params("lid"), 10, 64)
	if err != nil || id <= 0 {
		return 0, model.NotFound("link")
	}
	return id, nil
}

// appLink shows one link with what WeChat says of it now.
func (s *Server) appLink(c *fiber.Ctx) error {
	ctx := c.UserContext()
	t := currentTenant(c)
	id, err := linkID(c)
	if err != nil {
		return err
	}
	a, err := s.Store.App(ctx, t.ID, c.Params("appid"))
	if err != nil {
		return err
	}
	l, st, err := s.Releases.QueryLink(ctx, t.ID, a.AppID, id)
	v := views.AppLinkView{App: a, Link: s.linkRow(l), RemainVisits: -1}
	var me *model.Error
	switch {
	case err == nil && st != nil:
		v.Queried = true
		v.Path, v.Query, v.EnvVersion, v.VisitOpenID = st.Info.Path, st.Info.Query, st.Info.EnvVersion, st.Info.VisitOpenID
		v.CreateTime, v.RemainVisits = unixTime(st.Info.CreateTime), st.RemainVisits
		v.ExpireTime = unixTime(st.Info.ExpireTime)
	case err == nil:
	case errors.As(err, &me) && me.Code == model.CodeInvalid:
		v.StateErr, v.StateData = me.Key, me.Data
	case errors.As(err, &me):
		return err
	default:
		s.Log.Warn("link query", "appid", a.AppID, "err", err)
		v.StateErr = "link.err.state"
	}
	return s.render(c, views.AppLinkPage(s.page(c, "link.title", "link.help"), v))
}

// appWxaCodePNG serves a 小程序码 (?download=1 as an attachment).
func (s *Server) appWxaCodePNG(c *fiber.Ctx) error {
	t := currentTenant(c)
	id, err := linkID(c)
	if err != nil {
		return err
	}
	img, err := s.Store.WxaCodeImage(c.UserContext(), t.ID, c.Params("appid"), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "image/png")
	c.Set(fiber.HeaderCacheControl, "private, max-age=86400")
	if c.Query("download") == "1" {
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="wxacode-`+c.Params("appid")+"-"+strconv.FormatInt(id, 10)+`.png"`)
	}
	return c.Send(img)
}
