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
	rel, cats, pages, err := s.Releases.AuditChoices(c.UserContext(), rel.TenantID, rel.ID)
	v := views.ReleaseItemsView{App: a, Release: rel, Pages: pages, Form: views.NewForm(), Amendable: views.ItemsAmendable(rel.State)}
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
	v.Form.Values["seq"] = strconv.FormatInt(v.Release.Seq, 10)
	for i, it := range v.Release.Submit.Items {
		k := "items." + strconv.Itoa(i) + "."
		v.Form.Values[k+"category"] = categoryValue(it.FirstID, it.SecondID, it.ThirdID)
		v.Form.Values[k+"address"], v.Form.Values[k+"title"], v.Form.Values[k+"tag"] = it.Address, it.Title, it.Tag
	}
	v.Rows = min(len(v.Release.Submit.Items)+1, model.MaxAuditItems)
	return s.render(c, views.ReleaseItemsPage(s.page(c, "release.items_title", "release.items_help"), v))
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
	items, ierr := itf.Items(cats, v.Pages)
	formError(&f, ierr)
	if !f.HasErrors() {
		ch := v.Release.Submit
		ch.Items = items
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
