package web

import (
	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/views"
)

// inviteCreate makes a one-time link and shows it once; nothing is mailed.
func (s *Server) inviteCreate(c *fiber.Ctx) error {
	t := currentTenant(c)
	v, err := s.membersView(c)
	if err != nil {
		return err
	}
	f := NewInviteForm(c)
	v.Invite = f.View()
	formError(&v.Invite, f.Validate())
	if !v.Invite.HasErrors() {
		_, token, err := s.Store.CreateInvite(c.UserContext(), actor(c), t.ID, f.Role, f.Note)
		if err != nil {
			return err
		}
		v.NewLink, v.NewRole = s.Config.BaseURL+paths.Invite(token), string(f.Role)
		v.Invite = views.NewForm()
		if v.Invites, err = s.Store.Invites(c.UserContext(), t.ID); err != nil {
			return err
		}
	} else {
		c.Status(fiber.StatusUnprocessableEntity)
	}
	p := s.page(c, "members.title", "members.help")
	if isHTMX(c) {
		if err := s.render(c, views.InviteResult(p, v)); err != nil {
			return err
		}
		return s.render(c, views.InvitesTable(p, v, true))
	}
	return s.render(c, views.MembersPage(p, v))
}

func (s *Server) inviteRevoke(c *fiber.Ctx) error {
	iid, err := parseID(c, "iid")
	if err != nil {
		return err
	}
	if err := s.Store.RevokeInvite(c.UserContext(), actor(c), currentTenant(c).ID, iid); err != nil {
		return err
	}
	return s.redirectFlash(c, paths.Members(currentTenant(c).ID), "invite.revoked_ok")
}

func (s *Server) inviteView(c *fiber.Ctx) (views.InviteView, error) {
	token := c.Params("token")
	inv, err := s.Store.InviteByToken(c.UserContext(), token)
	if err != nil {
		if model.IsNotFound(err) {
			return views.InviteView{}, model.Errorf(model.CodeNotFound, "invite.invalid")
		}
		return views.InviteView{}, err
	}
	t, err := s.Store.Tenant(c.UserContext(), inv.TenantID)
	if err != nil {
		return views.InviteView{}, err
	}
	return views.InviteView{Token: token, TenantName: t.Name, Role: string(inv.Role), State: inv.State(s.Now())}, nil
}

func (s *Server) inviteForm(c *fiber.Ctx) error {
	v, err := s.inviteView(c)
	if err != nil {
		return err
	}
	if v.State != "pending" {
		c.Status(fiber.StatusGone)
	}
	return s.render(c, views.InvitePage(s.page(c, "invite.title", ""), v, views.NewForm()))
}

// inviteAccept joins the signed-in user, or signs the invitee up, in one transaction.
func (s *Server) inviteAccept(c *fiber.Ctx) error {
	v, err := s.inviteView(c)
	if err != nil {
		return err
	}
	f := views.NewForm()
	u := currentUser(c)
	var newUser *model.User
	var uid int64
	if u != nil {
		uid = u.ID
	} else {
		af := NewAccountForm(c)
		f = af.View()
		formError(&f, af.Validate())
		if !f.HasErrors() {
			nu := af.User()
			if nu.PasswordHash, err = s.Hasher.Hash(af.Password); err != nil {
				return err
			}
			newUser = &nu
		}
	}
	if !f.HasErrors() {
		inv, joined, err := s.Store.AcceptInvite(c.UserContext(), v.Token, uid, newUser, c.IP())
		if err == nil {
			s.Authz.SetTenantRole(joined, inv.TenantID, inv.Role)
			if u == nil {
				if err := s.signIn(c, joined, 0); err != nil {
					return err
				}
			}
			return s.redirectFlash(c, paths.Tenant(inv.TenantID), "invite.welcome")
		}
		if !formError(&f, err) {
			return err
		}
	}
	c.Status(fiber.StatusUnprocessableEntity)
	return s.render(c, views.InvitePage(s.page(c, "invite.title", ""), v, f))
}
