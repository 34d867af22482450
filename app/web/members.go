package web

import (
	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/authz"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/views"
)

func (s *Server) membersView(c *fiber.Ctx) (views.MembersView, error) {
	t := currentTenant(c)
	v := views.MembersView{CanEdit: s.can(c, authz.PermMembersWrite), SelfID: currentUser(c).ID, Invite: views.NewForm(), RowError: map[int64]string{}}
	var err error
	if v.Members, err = s.Store.Members(c.UserContext(), t.ID); err != nil {
		return v, err
	}
	if v.CanEdit {
		v.Invites, err = s.Store.Invites(c.UserContext(), t.ID)
	}
	return v, err
}

func (s *Server) membersPage(c *fiber.Ctx) error {
	v, err := s.membersView(c)
	if err != nil {
		return err
	}
	return s.render(c, views.MembersPage(s.page(c, "members.title", "members.help"), v))
}

// memberRole changes a member's role. HTMX gets the refreshed table; the
// last owner's demotion is refused with the reason beside that row.
func (s *Server) memberRole(c *fiber.Ctx) error {
	t := currentTenant(c)
	uid, err := parseID(c, "uid")
	if err != nil {
		return err
	}
	f := NewMemberRoleForm(c)
	if err = f.Validate(); err == nil {
		err = s.Store.SetMemberRole(c.UserContext(), actor(c), t.ID, uid, f.Role)
	}
	if err == nil {
		s.Authz.SetTenantRole(uid, t.ID, f.Role)
	}
	return s.afterMemberChange(c, uid, err, "members.role_saved")
}

func (s *Server) memberRemove(c *fiber.Ctx) error {
	t := currentTenant(c)
	uid, err := parseID(c, "uid")
	if err != nil {
		return err
	}
	err = s.Store.RemoveMember(c.UserContext(), actor(c), t.ID, uid)
	if err == nil {
		s.Authz.SetTenantRole(uid, t.ID, "")
		if uid == currentUser(c).ID {
			return c.Redirect(paths.Home, fiber.StatusSeeOther)
		}
	}
	return s.afterMemberChange(c, uid, err, "members.removed")
}

func (s *Server) afterMemberChange(c *fiber.Ctx, uid int64, err error, okKey string) error {
	var rowErr string
	if err != nil {
		var e *model.Error
		if code := model.ErrorCode(err); code != model.CodeConflict && code != model.CodeInvalid {
			return err
		}
		if ok := asModelError(err, &e); ok {
			rowErr = e.Key
		}
	}
	if !isHTMX(c) {
		if rowErr != "" {
			return err
		}
		return s.redirectFlash(c, paths.Members(currentTenant(c).ID), okKey)
	}
	v, verr := s.membersView(c)
	if verr != nil {
		return verr
	}
	p := s.page(c, "members.title", "")
	if rowErr != "" {
		v.RowError[uid] = rowErr
		c.Status(fiber.StatusConflict)
		if err := s.render(c, views.MembersTable(p, v)); err != nil {
			return err
		}
		return s.render(c, views.Toast("error", msgT(c, rowErr)))
	}
	if err := s.render(c, views.MembersTable(p, v)); err != nil {
		return err
	}
	return s.render(c, views.Toast("success", msgT(c, okKey)))
}
