package main

import (
	"context"
	"fmt"
	"io"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/web"
)

// Demo accounts exist only in sandbox mode, so a newcomer can click through.
// Everything the sandbox seeds is listed in seed_data (store.MarkSeed):
// live mode refuses to start on a database holding any of it, and
// `minifleet demo purge` removes it.
const (
	demoPassword   = "minifleet-demo"
	demoOwnerEmail = "owner@demo.minifleet.test"
	demoAdminEmail = "admin@demo.minifleet.test"
	demoTenantName = "示例商户 Demo Shop"
)

// printDemo creates the demo accounts once and prints how to sign in.
func printDemo(ctx context.Context, a *app, out io.Writer) error {
	if err := seedDemo(ctx, a); err != nil {
		return err
	}
	demoBanner(a, out)
	return nil
}

// seedDemo creates the demo accounts, template and campaign once.
func seedDemo(ctx context.Context, a *app) error {
	if _, err := a.store.UserByEmail(ctx, demoAdminEmail); model.IsNotFound(err) {
		u, err := createStaff(ctx, a.store, demoAdminEmail, "平台管理员", demoPassword, model.StaffAdmin)
		if err != nil {
			return err
		}
		if err := a.store.MarkSeedID(ctx, store.SeedUser, u.ID); err != nil {
			return err
		}
		a.authz.SetStaffRole(u.ID, model.StaffAdmin)
	} else if err != nil {
		return err
	}
	if _, err := a.store.UserByEmail(ctx, demoOwnerEmail); model.IsNotFound(err) {
		hash, err := web.DefaultHasher.Hash(demoPassword)
		if err != nil {
			return err
		}
		u, t, err := a.store.Signup(ctx, model.User{Email: demoOwnerEmail, Name: "店主 Owner", PasswordHash: hash}, demoTenantName, "")
		if err != nil {
			return err
		}
		if err := a.store.MarkSeedID(ctx, store.SeedUser, u.ID); err != nil {
			return err
		}
		if err := a.store.MarkSeedID(ctx, store.SeedTenant, t.ID); err != nil {
			return err
		}
		a.authz.SetTenantRole(u.ID, t.ID, model.RoleOwner)
	} else if err != nil {
		return err
	}
	if err := seedDemoTemplate(ctx, a); err != nil {
		return err
	}
	return seedDemoCampaign(ctx, a)
}

// demoBanner prints how to sign in with the demo accounts.
func demoBanner(a *app, out io.Writer) {
	fmt.Fprintf(out, `
  Minifleet is running in SANDBOX mode (a local WeChat emulator, no real WeChat).
  Open %s and sign in with a demo account (password %q):
    merchant owner:  %s
    platform admin:  %s
    approver:        %s (approves the owner's or the admin's campaigns: two-person rule)
  The demo merchant has %d sandbox Mini Programs tagged %q for a campaign (批量发布);
  a version description containing "reject" makes the sandbox reject its audits.
  WeChat emulator console: %s/sandbox/console

`, a.cfg.BaseURL, demoPassword, demoOwnerEmail, demoAdminEmail, demoApproverEmail, demoFleetSize, demoFleetTag, a.cfg.BaseURL)
}
