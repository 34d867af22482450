package web

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/authz"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/wechat"
	"github.com/minifleet/minifleet/views"
)

// An app's user privacy guideline: every key WeChat knows with its own
// description, the purposes the app states, the owner's contacts. Read
// from WeChat each time (it is WeChat's); saved as a merge.

func (s *Server) privacyView(c *fiber.Ctx) (views.AppPrivacyView, platform.PrivacyGuide, error) {
	t := currentTenant(c)
	a, err := s.Store.App(c.UserContext(), t.ID, c.Params("appid"))
	if err != nil {
		return views.AppPrivacyView{}, platform.PrivacyGuide{}, err
	}
	v := views.AppPrivacyView{App: a, CanEdit: s.can(c, authz.PermConfigWrite), Form: views.NewForm()}
	g, err := s.Releases.PrivacyGuide(c.UserContext(), t.ID, a.AppID)
	var we *wechat.Error
	var me *model.Error
	switch {
	case err == nil:
		v.Loaded = true
		for _, r := range g.Rows {
			v.Rows = append(v.Rows, views.PrivacyRow{Key: r.Key, Desc: r.Desc, UsedBy: r.UsedBy})
		}
	case errors.As(err, &we):
		v.WeChatKey, v.WeChatData = model.ErrActionFor(we.Code).Key, map[string]any{"Errcode": we.Code}
	case errors.As(err, &me) && me.Code != model.CodeNotFound:
		v.WeChatKey, v.WeChatData = me.Key, me.Data // e.g. the app needs authorizing again
	case errors.As(err, &me):
		return v, g, err
	default:
		s.Log.Warn("privacy guideline", "appid", a.AppID, "err", err)
		v.WeChatKey = model.ErrActionFor(0).Key
	}
	return v, g, nil
}

// appPrivacy shows the guideline; members who may change config edit it.
func (s *Server) appPrivacy(c *fiber.Ctx) error {
	v, g, err := s.privacyView(c)
	if err != nil {
		return err
	}
	v.Form = privacyFormOf(g).View()
	return s.render(c, views.AppPrivacyPage(s.page(c, "privacy.title", "privacy.help"), v))
}

// appPrivacySave merges the edit into the guideline WeChat holds; a
// refusal (ours or WeChat's) shows the form again as typed.
func (s *Server) appPrivacySave(c *fiber.Ctx) error {
	pf := NewPrivacyForm(c)
	f := pf.View()
	formError(&f, pf.Validate())
	if !f.HasErrors() {
		t := currentTenant(c)
		err := s.Releases.SavePrivacyGuide(c.UserContext(), actor(c), t.ID, c.Params("appid"), pf.Edit())
		if err == nil {
			return s.redirectFlash(c, paths.AppPrivacy(t.ID, c.Params("appid")), "privacy.saved")
		}
		var we *wechat.Error
		switch {
		case errors.As(err, &we):
			f.Summary, f.Data = model.ErrActionFor(we.Code).Key, map[string]any{"Errcode": we.Code}
		case !formError(&f, err):
			return err
		}
	}
	v, _, err := s.privacyView(c)
	if err != nil {
		return err
	}
	v.Form = f
	c.Status(fiber.StatusUnprocessableEntity)
	return s.render(c, views.AppPrivacyPage(s.page(c, "privacy.title", "privacy.help"), v))
}

// privacyFormOf fills the form with the guideline as WeChat holds it.
func privacyFormOf(g platform.PrivacyGuide) PrivacyForm {
	o := g.Owner
	f := PrivacyForm{ContactEmail: o.ContactEmail, ContactPhone: o.ContactPhone, ContactQQ: o.ContactQQ, ContactWeixin: o.ContactWeixin,
		NoticeMethod: o.NoticeMethod, StoreExpire: o.StoreExpireTimestamp, Purposes: map[string]string{}}
	for _, r := range g.Rows {
		f.Purposes[r.Key] = r.Purpose
	}
	return f
}
