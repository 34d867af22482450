package web

import (
	"context"
	"errors"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/extconfig"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/views"
)

func asFieldErrors(err error) (extconfig.FieldErrors, bool) {
	var fe extconfig.FieldErrors
	ok := errors.As(err, &fe)
	return fe, ok
}

// reviewView is the approver's page: shown is the payload hash the page
// was first rendered with ("" for now).
func (s *Server) reviewView(ctx context.Context, c *fiber.Ctx, a model.App, releaseID int64, shown string) (views.ReviewView, error) {
	base, err := s.releaseView(ctx, c, a, releaseID)
	if err != nil {
		return views.ReviewView{}, err
	}
	base.StreamURL = paths.ReviewEvents(currentTenant(c).ID, a.AppID, releaseID, base.Release.Seq, shown)
	return s.fillReview(ctx, base, shown)
}

func (s *Server) fillReview(ctx context.Context, base views.ReleaseView, shown string) (views.ReviewView, error) {
	rel := base.Release
	v := views.ReviewView{ReleaseView: base, ShownHash: shown}
	if v.ShownHash == "" {
		v.ShownHash = rel.PayloadHash
	}
	live := map[string]any{}
	if ar, err := s.Store.AppReleaseOf(ctx, rel.TenantID, rel.AppID); err == nil && ar.LiveID != 0 && ar.LiveID != rel.ID {
		if lr, err := s.Store.Release(ctx, rel.TenantID, ar.LiveID); err == nil {
			live, v.LiveVersion, v.LiveConfig = extconfig.ExtDoc(lr.ExtJSON), lr.UserVersion, lr.ConfigVersion
		}
	}
	v.Changes = extconfig.Diff(live, extconfig.ExtDoc(rel.ExtJSON))
	s.labelChanges(ctx, rel.TemplateID, v.Changes)
	switch {
	case base.ViewerID == rel.PreparerID:
		v.Reason = "release.review.preparer"
	case rel.MayApprove(base.ViewerID) != "":
		v.Reason = "release.review.amender"
	case v.ShownHash != rel.PayloadHash:
		v.Reason = "release.review.changed"
	case rel.State != model.RelAwaitingApproval && rel.State != model.RelSubmitFailed:
		v.Reason = "release.review.not_ready"
	}
	return v, nil
}

func (s *Server) appReleaseReview(c *fiber.Ctx) error {
	a, rel, err := s.loadRelease(c)
	if err != nil {
		return err
	}
	if err := s.Releases.ApprovalsAre(c.UserContext(), rel.TenantID, model.ApprovalsTenant); err != nil {
		return err
	}
	v, err := s.reviewView(c.UserContext(), c, a, rel.ID, rel.PayloadHash)
	if err != nil {
		return err
	}
	return s.render(c, views.ReviewPage(s.page(c, "release.review_title", "release.review_help"), v))
}

// appReleaseSubmit is the approver's 提交审核: bound to the hash they saw.
func (s *Server) appReleaseSubmit(c *fiber.Ctx) error {
	a, rel, err := s.loadRelease(c)
	if err != nil {
		return err
	}
	af := NewApproveForm(c)
	if err := af.Validate(); err != nil {
		return err
	}
	shown := af.Hash
	_, err = s.Releases.Approve(c.UserContext(), rel.TenantID, rel.ID, actor(c), shown)
	if err == nil {
		return s.redirectFlash(c, paths.Release(rel.TenantID, a.AppID, rel.ID), "release.submitted")
	}
	f := views.NewForm()
	if !formError(&f, err) {
		return err
	}
	v, verr := s.reviewView(c.UserContext(), c, a, rel.ID, shown)
	if verr != nil {
		return verr
	}
	v.Form = f
	c.Status(statusOf(err))
	return s.render(c, views.ReviewPage(s.page(c, "release.review_title", "release.review_help"), v))
}

// appReleaseStep is a preparer's button: commit, recheck, edit, cancel,
// dismiss, undo, speed-up.
func (s *Server) appReleaseStep(c *fiber.Ctx) error {
	a, rel, err := s.loadRelease(c)
	if err != nil {
		return err
	}
	ctx, who := c.UserContext(), actor(c)
	f := NewStepForm(c)
	if err := f.Validate(); err != nil {
		return err
	}
	tid, id, seq := rel.TenantID, rel.ID, f.Seq
	switch f.Event {
	case model.EvCommit:
		_, err = s.Releases.Commit(ctx, tid, id, who, seq)
	case model.EvRecheck:
		_, err = s.Releases.Recheck(ctx, tid, id, who, seq)
	case model.EvEdit:
		_, err = s.Releases.Edit(ctx, tid, id, who, seq)
	case model.EvCancel:
		_, err = s.Releases.Cancel(ctx, tid, id, who, seq)
	case model.EvDismiss:
		_, err = s.Releases.Dismiss(ctx, tid, id, who, seq)
	case model.EvUndo:
		_, err = s.Releases.Undo(ctx, tid, id, who)
	case model.EvSpeedUp:
		_, err = s.Releases.SpeedUp(ctx, tid, id, who)
	default:
		return model.Errorf(model.CodeInvalid, "form.invalid_choice")
	}
	return s.afterStep(c, a, rel, err)
}

// appReleaseShip is an approver's button: release, gray release, revert
// the gray release, roll back.
func (s *Server) appReleaseShip(c *fiber.Ctx) error {
	a, rel, err := s.loadRelease(c)
	if err != nil {
		return err
	}
	ctx, who := c.UserContext(), actor(c)
	f := NewShipForm(c)
	if err := f.Validate(); err != nil {
		return err
	}
	tid, id := rel.TenantID, rel.ID
	switch f.Event {
	case model.EvRelease:
		_, err = s.Releases.Release(ctx, tid, id, who)
	case model.EvGray:
		_, err = s.Releases.Gray(ctx, tid, id, who, f.Percent)
	case model.EvGrayRevert:
		_, err = s.Releases.RevertGray(ctx, tid, id, who)
	case model.EvRollback:
		_, err = s.Releases.Rollback(ctx, tid, id, who, 0)
	default:
		return model.Errorf(model.CodeInvalid, "form.invalid_choice")
	}
	return s.afterStep(c, a, rel, err)
}

// afterStep goes back to the release page, or shows it with the refusal
// (a localized next action with WeChat's errcode).
func (s *Server) afterStep(c *fiber.Ctx, a model.App, rel model.Release, err error) error {
	if err == nil {
		return s.redirectFlash(c, paths.Release(rel.TenantID, a.AppID, rel.ID), "release.moved")
	}
	var me *model.Error
	if errors.As(err, &me) && me.Key == "content.err.risky" { // WeChat's label in words
		if l, ok := me.Data["Label"].(int); ok {
			me.Data["Label"] = views.LabelWords(c.UserContext(), l)
		}
	}
	f := views.NewForm()
	if !formError(&f, err) {
		return err
	}
	v, verr := s.releaseView(c.UserContext(), c, a, rel.ID)
	if verr != nil {
		return verr
	}
	v.Form = f
	c.Status(statusOf(err))
	return s.render(c, views.ReleasePage(s.page(c, "release.title", ""), v))
}

// reviewStream keeps the review page's button honest: a payload that
// changes while the approver looks disables it with the reason.
func (s *Server) reviewStream(c *fiber.Ctx, base views.ReleaseView, shown string) error {
	p := s.page(c, "release.review_title", "")
	tid, appID, id := base.Release.TenantID, base.App.AppID, base.Release.ID
	seen, hasSeen := pageSeq(c) // see appReleaseEvents
	return s.stream(c, platform.TenantTopic(tid), func(ctx context.Context, e *platform.Event) (string, templ.Component, bool) {
		if e != nil && (e.AppID != appID || e.Name != platform.EventRelease) {
			return "", nil, false
		}
		rv, err := s.fillRelease(ctx, tid, base, id)
		if err != nil || e == nil && (!hasSeen || rv.Release.Seq == seen) {
			return "", nil, false
		}
		v, err := s.fillReview(ctx, rv, shown)
		if err != nil {
			return "", nil, false
		}
		p.Now = s.Now()
		return "review", views.ReviewBody(p, v), true
	})
}
