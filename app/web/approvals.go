package web

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/authz"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/views"
)

// tenantApprovals shows who approves the tenant's releases (owners choose).
func (s *Server) tenantApprovals(c *fiber.Ctx) error {
	t := currentTenant(c)
	cur, err := s.Store.TenantApprovals(c.UserContext(), t.ID)
	if err != nil {
		return err
	}
	f := views.NewForm()
	f.Values["approvals"] = string(cur)
	return s.render(c, views.ApprovalsPage(s.page(c, "approvals.title", "approvals.help"), views.ApprovalsView{Current: cur, Form: f}))
}

// tenantApprovalsSave changes who approves; logged in activity.
func (s *Server) tenantApprovalsSave(c *fiber.Ctx) error {
	t := currentTenant(c)
	af := NewApprovalsForm(c)
	f := af.View()
	err := af.Validate()
	if err == nil {
		err = s.Store.SetTenantApprovals(c.UserContext(), actor(c), t.ID, af.Approvals)
		if err == nil {
			return s.redirectFlash(c, paths.Approvals(t.ID), "approvals.saved")
		}
	}
	if !formError(&f, err) {
		return err
	}
	cur, cerr := s.Store.TenantApprovals(c.UserContext(), t.ID)
	if cerr != nil {
		return cerr
	}
	c.Status(statusOf(err))
	return s.render(c, views.ApprovalsPage(s.page(c, "approvals.title", "approvals.help"), views.ApprovalsView{Current: cur, Form: f}))
}

// staffRelease loads a release a staff approver may review: only of a
// tenant that chose staff approval; anything else is not found.
func (s *Server) staffRelease(c *fiber.Ctx) (model.Tenant, model.App, model.Release, error) {
	ctx := c.UserContext()
	tid, err := parseID(c, "tid")
	if err != nil {
		return model.Tenant{}, model.App{}, model.Release{}, err
	}
	rid, err := parseID(c, "rid")
	if err != nil {
		return model.Tenant{}, model.App{}, model.Release{}, err
	}
	if err := s.Releases.ApprovalsAre(ctx, tid, model.ApprovalsStaff); err != nil {
		return model.Tenant{}, model.App{}, model.Release{}, err
	}
	t, err := s.Store.Tenant(ctx, tid)
	if err != nil {
		return t, model.App{}, model.Release{}, err
	}
	if t.Status != model.TenantActive {
		return t, model.App{}, model.Release{}, model.NotFound("release")
	}
	rel, err := s.Store.Release(ctx, tid, rid)
	if err != nil {
		return t, model.App{}, rel, err
	}
	a, err := s.Store.App(ctx, tid, rel.AppID)
	return t, a, rel, err
}

// staffReviewView is the review page for a staff approver.
func (s *Server) staffReviewView(ctx context.Context, c *fiber.Ctx, t model.Tenant, a model.App, rel model.Release, shown string) (views.ReviewView, error) {
	base := views.ReleaseView{App: a, CanApprove: true, Form: views.NewForm()}
	if u := currentUser(c); u != nil {
		base.ViewerID = u.ID
	}
	base, err := s.fillRelease(ctx, t.ID, base, rel.ID)
	if err != nil {
		return views.ReviewView{}, err
	}
	v, err := s.fillReview(ctx, base, shown)
	v.Staff, v.TenantName = true, t.Name
	return v, err
}

// staffApproval is a staff approver's review of a tenant's release.
func (s *Server) staffApproval(c *fiber.Ctx) error {
	t, a, rel, err := s.staffRelease(c)
	if err != nil {
		return err
	}
	v, err := s.staffReviewView(c.UserContext(), c, t, a, rel, rel.PayloadHash)
	if err != nil {
		return err
	}
	return s.render(c, views.ReviewPage(s.page(c, "release.review_title", "release.review_help"), v))
}

// staffApprovalQR is the trial QR code on the staff approver's review.
func (s *Server) staffApprovalQR(c *fiber.Ctx) error {
	_, _, rel, err := s.staffRelease(c)
	if err != nil {
		return err
	}
	return s.sendQR(c, rel)
}

// staffApprovalMedia serves a file for the reviewers on the staff
// approver's review.
func (s *Server) staffApprovalMedia(c *fiber.Ctx) error {
	_, _, rel, err := s.staffRelease(c)
	if err != nil {
		return err
	}
	return s.sendAuditMedia(c, rel)
}

// staffApprovalSubmit is the staff approver's 提交审核, bound to the hash
// they saw; the two-person rule holds as for tenant approvers.
func (s *Server) staffApprovalSubmit(c *fiber.Ctx) error {
	t, a, rel, err := s.staffRelease(c)
	if err != nil {
		return err
	}
	af := NewApproveForm(c)
	if err := af.Validate(); err != nil {
		return err
	}
	_, err = s.Releases.StaffApprove(c.UserContext(), t.ID, rel.ID, actor(c), af.Hash)
	if err == nil {
		return s.redirectFlash(c, paths.StaffApproval(t.ID, rel.ID), "release.submitted")
	}
	f := views.NewForm()
	if !formError(&f, err) {
		return err
	}
	v, verr := s.staffReviewView(c.UserContext(), c, t, a, rel, af.Hash)
	if verr != nil {
		return verr
	}
	v.Form = f
	c.Status(statusOf(err))
	return s.render(c, views.ReviewPage(s.page(c, "release.review_title", "release.review_help"), v))
}

// inbox is 待我审批 for the landing page: releases and campaigns waiting for
// the viewer's approval, as a tenant approver of tenantID (0: none) and as
// a staff approver. nil when the viewer approves nothing. What the viewer
// prepared, amended or created is not theirs to approve and not listed.
func (s *Server) inbox(c *fiber.Ctx, tenantID int64) *views.Inbox {
	u := currentUser(c)
	if u == nil {
		return nil
	}
	ctx := c.UserContext()
	var in *views.Inbox
	addReleases := func(tid int64, by model.Approvals) {
		rs, err := s.Store.PendingReleases(ctx, tid, by, 50)
		if err != nil {
			return
		}
		for _, r := range rs {
			if r.MayApprove(u.ID) != "" {
				continue
			}
			it := views.InboxItem{Kind: "release", Title: r.AppID, Version: r.UserVersion, By: r.Preparer, Since: r.UpdatedAt}
			if a, err := s.Store.App(ctx, r.TenantID, r.AppID); err == nil && a.Nickname != "" {
				it.Title = a.Nickname
			}
			if by == model.ApprovalsStaff {
				it.Where, it.Href = r.TenantName, paths.StaffApproval(r.TenantID, r.ID)
			} else {
				it.Where, it.Href = r.AppID, paths.ReleaseReview(r.TenantID, r.AppID, r.ID)
			}
			in.Items = append(in.Items, it)
		}
	}
	addCampaigns := func(tid int64) {
		cs, err := s.Store.PendingCampaigns(ctx, tid, 50)
		if err != nil {
			return
		}
		for _, cp := range cs {
			if cp.CreatorID == u.ID {
				continue
			}
			it := views.InboxItem{Kind: "campaign", Title: cp.Name, Version: cp.UserVersion, By: cp.Creator,
				Since: cp.CreatedAt, Href: paths.Campaign(tid, cp.ID)}
			if tid == 0 && cp.TenantID != 0 {
				if t, err := s.Store.Tenant(ctx, cp.TenantID); err == nil {
					it.Where = t.Name
				}
			}
			in.Items = append(in.Items, it)
		}
	}
	if tenantID != 0 {
		d := authz.TenantDomain(tenantID)
		if s.Authz.Can(u.ID, d, authz.PermReleaseApprove) || s.Authz.Can(u.ID, d, authz.PermCampaignsApprove) {
			in = &views.Inbox{}
		}
		if s.Authz.Can(u.ID, d, authz.PermReleaseApprove) {
			addReleases(tenantID, model.ApprovalsTenant)
		}
		if s.Authz.Can(u.ID, d, authz.PermCampaignsApprove) {
			addCampaigns(tenantID)
		}
	}
	if s.Authz.Can(u.ID, authz.Platform, authz.PermReleaseApprove) || s.Authz.Can(u.ID, authz.Platform, authz.PermCampaignsApprove) {
		if in == nil {
			in = &views.Inbox{}
		}
		if s.Authz.Can(u.ID, authz.Platform, authz.PermReleaseApprove) {
			addReleases(0, model.ApprovalsStaff)
		}
		if s.Authz.Can(u.ID, authz.Platform, authz.PermCampaignsApprove) {
			addCampaigns(0)
		}
	}
	return in
}
