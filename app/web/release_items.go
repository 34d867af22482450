package web

import (
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/app/wechat"
	"github.com/minifleet/minifleet/views"
)

// WeChat's limits on an audit item (§7.1).
const (
	maxItemTitle = 32
	maxItemTags  = 10
	maxTagLen    = 20
)

func categoryValue(firstID, secondID, thirdID int) string {
	return fmt.Sprintf("%d:%d:%d", firstID, secondID, thirdID)
}

func categoryLabel(c wechat.Category) string {
	l := c.FirstClass + " / " + c.SecondClass
	if c.ThirdClass != "" {
		l += " / " + c.ThirdClass
	}
	return l
}

// itemsView reads a release's audit items page: the app's categories from
// WeChat and the template's pages.
func (s *Server) itemsView(c *fiber.Ctx) (views.ReleaseItemsView, []wechat.Category, error) {
	a, rel, err := s.loadRelease(c)
	if err != nil {
		return views.ReleaseItemsView{}, nil, err
	}
	feedback, ferr := s.Releases.ResubmittingAfterRejection(c.UserContext(), rel.TenantID, rel.AppID)
	if ferr != nil {
		return views.ReleaseItemsView{}, nil, ferr
	}
	rel, cats, pages, err := s.Releases.AuditChoices(c.UserContext(), rel.TenantID, rel.ID)
	v := views.ReleaseItemsView{App: a, Release: rel, Pages: pages, Form: views.NewForm(), Amendable: views.ItemsAmendable(rel.State),
		Feedback: feedback}
	if err != nil {
		if model.ErrorCode(err) == model.CodeNotFound {
			return v, nil, err
		}
		code := 0
		if we := (*wechat.Error)(nil); errors.As(err, &we) {
			code = we.Code
		}
		v.WeChatKey, v.WeChatErrcode = model.ErrActionFor(code).Key, code
		// WeChat did not list the categories: the release's current ones stay
		// choosable (preflight checks them against WeChat again).
		for _, it := range rel.Submit.Items {
			ct := wechat.Category{FirstClass: it.FirstClass, SecondClass: it.SecondClass, ThirdClass: it.ThirdClass, FirstID: it.FirstID, SecondID: it.SecondID, ThirdID: it.ThirdID}
			if !slices.ContainsFunc(cats, func(x wechat.Category) bool {
				return categoryValue(x.FirstID, x.SecondID, x.ThirdID) == categoryValue(ct.FirstID, ct.SecondID, ct.ThirdID)
			}) {
				cats = append(cats, ct)
			}
		}
	}
	for _, ct := range cats {
		v.Categories = append(v.Categories, views.Option{Value: categoryValue(ct.FirstID, ct.SecondID, ct.ThirdID), Label: categoryLabel(ct)})
	}
	return v, cats, nil
}

func (s *Server) appReleaseItems(c *fiber.Ctx) error {
	v, _, err := s.itemsView(c)
	if err != nil {
		return err
	}
	v.Form = submitFormOf(v.Release)
	v.Rows = min(len(v.Release.Submit.Items)+1, model.MaxAuditItems)
	return s.render(c, views.ReleaseItemsPage(s.page(c, "release.items_title", "release.items_help"), v))
}

// submitFormOf fills the submit form with a release's saved choices.
func submitFormOf(rel model.Release) views.Form {
	f := views.NewForm()
	f.Values["seq"] = strconv.FormatInt(rel.Seq, 10)
	for i, it := range rel.Submit.Items {
		k := "items." + strconv.Itoa(i) + "."
		f.Values[k+"category"] = categoryValue(it.FirstID, it.SecondID, it.ThirdID)
		f.Values[k+"address"], f.Values[k+"title"], f.Values[k+"tag"] = it.Address, it.Title, it.Tag
	}
	f.Values["version_desc"], f.Values["feedback_info"] = rel.Submit.VersionDesc, rel.Submit.FeedbackInfo
	if u := rel.Submit.UGC; u != nil {
		for _, n := range u.Scene {
			f.Values["ugc_scene."+strconv.Itoa(n)] = "1"
		}
		for _, n := range u.Method {
			f.Values["ugc_method."+strconv.Itoa(n)] = "1"
		}
		if u.HasAuditTeam {
			f.Values["ugc_team"] = "1"
		}
		f.Values["ugc_other_desc"], f.Values["ugc_audit_desc"] = u.OtherSceneDesc, u.AuditDesc
	}
	return f
}

// appReleaseItemsSave replaces the audit items through AmendSubmit, bound to
// the Seq the editor saw; the release is checked again and any approval is
// void (its payload hash changes).
func (s *Server) appReleaseItemsSave(c *fiber.Ctx) error {
	v, cats, err := s.itemsView(c)
	if err != nil {
		return err
	}
	itf := NewItemsForm(c)
	f := itf.View()
	ch, ierr := itf.Choices(v.Release.Submit, cats, v.Pages, v.Feedback)
	formError(&f, ierr)
	if !f.HasErrors() {
		_, err = s.Releases.AmendSubmit(c.UserContext(), v.Release.TenantID, v.Release.ID, actor(c), itf.SeqSeen(), ch)
		if err == nil {
			return s.redirectFlash(c, paths.Release(v.Release.TenantID, v.App.AppID, v.Release.ID), "release.items_saved")
		}
		if !formError(&f, err) {
			return err
		}
		c.Status(statusOf(err))
	} else {
		c.Status(fiber.StatusUnprocessableEntity)
	}
	v.Form, v.Rows = f, min(max(itf.Used(), len(v.Release.Submit.Items))+1, model.MaxAuditItems)
	return s.render(c, views.ReleaseItemsPage(s.page(c, "release.items_title", "release.items_help"), v))
}

// appReleaseMediaAdd keeps an uploaded screenshot, recording or feedback
// image and adds it to the release's submit form (voiding any approval). A
// refused file shows the form again with why; nothing is kept.
func (s *Server) appReleaseMediaAdd(c *fiber.Ctx) error {
	_, rel, err := s.loadRelease(c)
	if err != nil {
		return err
	}
	mf, err := NewMediaForm(c)
	if err == nil {
		err = mf.Validate()
	}
	if err == nil {
		_, err = s.Releases.AddAuditMedia(c.UserContext(), rel.TenantID, rel.ID, actor(c), mf.SeqSeen(), mf.Purpose, mf.Name, mf.Data)
	}
	return s.afterMediaChange(c, err, "release.media.added")
}

// appReleaseMediaDrop takes a file off the release's submit form.
func (s *Server) appReleaseMediaDrop(c *fiber.Ctx) error {
	_, rel, err := s.loadRelease(c)
	if err != nil {
		return err
	}
	seq, _ := strconv.ParseInt(c.FormValue("seq"), 10, 64)
	_, err = s.Releases.RemoveAuditMedia(c.UserContext(), rel.TenantID, rel.ID, actor(c), seq, c.Params("sha"))
	if model.IsNotFound(err) {
		return err
	}
	return s.afterMediaChange(c, err, "release.media.removed")
}

// afterMediaChange goes back to the submit form: with flash on success,
// with the error on the form (the release as it is now) otherwise.
func (s *Server) afterMediaChange(c *fiber.Ctx, err error, flash string) error {
	v, _, verr := s.itemsView(c)
	if verr != nil {
		return verr
	}
	if err == nil {
		return s.redirectFlash(c, paths.ReleaseItems(v.Release.TenantID, v.App.AppID, v.Release.ID), flash)
	}
	f := submitFormOf(v.Release)
	if !formError(&f, err) {
		return err
	}
	c.Status(statusOf(err))
	v.Form, v.Rows = f, min(len(v.Release.Submit.Items)+1, model.MaxAuditItems)
	return s.render(c, views.ReleaseItemsPage(s.page(c, "release.items_title", "release.items_help"), v))
}

// appReleaseMediaFile serves a file the release names, to anyone who may
// see the release (the approver reviews them).
func (s *Server) appReleaseMediaFile(c *fiber.Ctx) error {
	_, rel, err := s.loadRelease(c)
	if err != nil {
		return err
	}
	return s.sendAuditMedia(c, rel)
}

// sendAuditMedia answers with one of rel's files for the reviewers (:sha).
func (s *Server) sendAuditMedia(c *fiber.Ctx, rel model.Release) error {
	data, ct, err := s.Releases.AuditMedia(c.UserContext(), rel.TenantID, rel.ID, c.Params("sha"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, ct)
	c.Set(fiber.HeaderCacheControl, "private, max-age=86400, immutable") // named by content hash
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	return c.Send(data)
}
