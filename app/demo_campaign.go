package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat/sandbox"
)

// The demo fleet: enough authorized sandbox Mini Programs bound to the demo
// tenant, each with a config valid for the demo template, for a campaign.
const (
	demoApproverEmail = "approver@demo.minifleet.test"
	demoFleetSize     = 12
	demoFleetTag      = "demo"
)

// seedDemoCampaign gives the demo tenant its approver and its fleet.
func seedDemoCampaign(ctx context.Context, a *app) error {
	if a.sandbox == nil {
		return nil
	}
	owner, err := a.store.UserByEmail(ctx, demoOwnerEmail)
	if err != nil {
		return err
	}
	ms, err := a.store.MembershipsOfUser(ctx, owner.ID)
	if err != nil || len(ms) == 0 {
		return err
	}
	tenantID := ms[0].TenantID
	if err := demoApprover(ctx, a, tenantID); err != nil {
		return err
	}
	ts, err := a.store.ListTemplates(ctx, false)
	if err != nil {
		return err
	}
	for _, t := range ts {
		if t.SchemaJSON != "" {
			return seedDemoFleet(ctx, a, tenantID, t.TemplateID)
		}
	}
	return nil
}

// demoApprover is a second person for the two-person rule: an approver of
// the demo tenant and a staff approver, so a campaign created by the owner
// or the admin can be approved by someone else.
func demoApprover(ctx context.Context, a *app, tenantID int64) error {
	u, err := a.store.UserByEmail(ctx, demoApproverEmail)
	if model.IsNotFound(err) {
		if u, err = createStaff(ctx, a.store, demoApproverEmail, "审批人 Approver", demoPassword, model.StaffApprover); err != nil {
			return err
		}
		if err := a.store.MarkSeedID(ctx, store.SeedUser, u.ID); err != nil {
			return err
		}
		a.authz.SetStaffRole(u.ID, model.StaffApprover)
	} else if err != nil {
		return err
	}
	if _, err := a.store.Membership(ctx, tenantID, u.ID); err == nil {
		return nil
	} else if !model.IsNotFound(err) {
		return err
	}
	owner, err := a.store.UserByEmail(ctx, demoOwnerEmail)
	if err != nil {
		return err
	}
	by := model.Actor{UserID: owner.ID, Label: owner.Email}
	_, tok, err := a.store.CreateInvite(ctx, by, tenantID, model.RoleApprover, "demo")
	if err != nil {
		return err
	}
	if _, _, err := a.store.AcceptInvite(ctx, tok, u.ID, nil, ""); err != nil {
		return err
	}
	a.authz.SetTenantRole(u.ID, tenantID, model.RoleApprover)
	return nil
}

// seedDemoFleet binds demoFleetSize authorized sandbox Mini Programs to
// the demo tenant. The emulator forgets its apps on restart, so apps of an
// earlier run that it no longer knows are marked unauthorized (a campaign
// skips them, with the reason) and new ones take their place.
func seedDemoFleet(ctx context.Context, a *app, tenantID, templateID int64) error {
	if a.sandbox == nil || templateID == 0 {
		return nil
	}
	sb := a.sandbox.sb
	apps, err := a.store.TenantApps(ctx, tenantID)
	if err != nil {
		return err
	}
	live := 0
	for _, ap := range apps {
		tags, err := a.store.AppTags(ctx, tenantID, ap.AppID)
		if err != nil {
			return err
		}
		if !slices.Contains(tags, demoFleetTag) {
			continue
		}
		if sb.RefreshToken(ap.AppID) != "" {
			live++
			continue
		}
		if ap.Status == string(model.AppAuthorized) {
			if _, err := a.store.UnauthorizeAuthorizer(ctx, ap.AppID, time.Now().Unix()); err != nil {
				return err
			}
		}
	}
	sets := []int{}
	for _, s := range sandbox.MiniProgramPermissionSets {
		sets = append(sets, s.ID)
	}
	for i, appID := range sb.AddApps(max(demoFleetSize-live, 0)) {
		n := live + i + 1
		if _, err := a.store.SaveAuthorizerGrant(ctx, appID, store.AuthorizerGrant{RefreshToken: sb.RefreshToken(appID), PermissionSets: sets}); err != nil {
			return err
		}
		if err := a.store.MarkSeed(ctx, store.SeedApp, appID); err != nil {
			return err
		}
		name := fmt.Sprintf("示例门店 %02d", n)
		if err := a.store.SaveAppDetails(ctx, appID, store.AppDetails{Nickname: name, UserName: sb.UserName(appID),
			PrincipalName: "示例商户有限公司", AccountKind: "miniprogram", AccountStatus: 1, PermissionSets: sets,
			Categories: []model.AppCategory{{First: "工具", Second: "信息查询"}}}); err != nil {
			return err
		}
		if err := a.store.AssignApp(ctx, model.SystemActor, appID, tenantID); err != nil {
			return err
		}
		region := "华东"
		if n%2 == 0 {
			region = "华南"
		}
		if err := a.store.SetAppTags(ctx, model.SystemActor, tenantID, appID, []string{demoFleetTag, region}); err != nil {
			return err
		}
		cfg := fmt.Sprintf(`{"shopName":"示例门店%02d","theme":"light","tables":%d}`, n, 8+n)
		if _, err := a.store.SaveConfig(ctx, model.SystemActor, tenantID, appID, templateID, cfg, "", "demo"); err != nil {
			return err
		}
	}
	return nil
}
