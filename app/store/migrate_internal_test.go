package store

import (
	"context"
	"testing"

	"github.com/minifleet/minifleet/app/model"
)

// Apps that existed before migration 00011 get their search keys from it:
// searches find them afterwards, by the walk and by the lookup alike.
func TestSearchKeysBackfilled(t *testing.T) {
	ctx := context.Background()
	st := OpenTest(t)
	p, err := st.provider()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 10); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"wxbefore00000001", "wxbefore00000002"} {
		if _, err := st.W.ExecContext(ctx, `INSERT INTO authorizers (appid, nickname, created_at, updated_at) VALUES (?, '迁移前', 1, 1)`, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var missing int
	if err := st.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM authorizers WHERE search_id IS NULL`).Scan(&missing); err != nil || missing != 0 {
		t.Fatalf("apps without a search key: %d (%v)", missing, err)
	}
	for _, q := range []string{"wxbefore00000002", "迁移前"} {
		res, err := st.StaffApps(ctx, AppFilter{Query: q})
		if err != nil || res.Total == 0 || len(res.Apps) != res.Total {
			t.Errorf("search %q after the migration: %d of %d (%v)", q, len(res.Apps), res.Total, err)
		}
	}
}

// A database the sandbox seeded before migration 00016 gets its seed rows
// listed by it (so live mode refuses it too): the demo accounts, the demo
// owner's tenant and the fleet tagged "demo" there; nothing else.
func TestSeedDataBackfilled(t *testing.T) {
	ctx := context.Background()
	st := OpenTest(t)
	p, err := st.provider()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 13); err != nil {
		t.Fatal(err)
	}
	owner, tn, err := st.Signup(ctx, model.User{Email: "owner@demo.minifleet.test", Name: "店主", PasswordHash: "x"}, "示例商户 Demo Shop", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateUser(ctx, model.SystemActor, model.User{Email: "admin@demo.minifleet.test", Name: "管理员", PasswordHash: "x", StaffRole: model.StaffAdmin}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Signup(ctx, model.User{Email: "real@shop.example", Name: "Real", PasswordHash: "x"}, "Real Shop", ""); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"wxdemo0000000001", "wxmine0000000001"} {
		if err := st.EnsureAuthorizer(ctx, id); err != nil {
			t.Fatal(err)
		}
		// AssignApp's SQL as of migration 13 (today's also writes the webhook
		// outbox of migration 21, which this schema does not have yet).
		if _, err := st.W.ExecContext(ctx, `UPDATE authorizers SET tenant_id = ?, bound_at = 1, updated_at = 1 WHERE appid = ?`, tn.ID, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.SetAppTags(ctx, model.SystemActor, tn.ID, "wxdemo0000000001", []string{"demo"}); err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := st.SeedCount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got[SeedUser] != 2 || got[SeedTenant] != 1 || got[SeedApp] != 1 {
		t.Fatalf("seed rows after the migration: %v, want 2 users, 1 tenant, 1 app", got)
	}
	var n int
	if err := st.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM seed_data WHERE kind = 'user' AND ref = ?`, owner.ID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("the demo owner is not listed (%d, %v)", n, err)
	}
	// The purge keeps the app it did not seed, unbound, and the real tenant.
	pg, err := st.PurgeSeed(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pg.Users != 2 || pg.Tenants != 1 || pg.Apps != 1 || pg.AppsUnbound != 1 {
		t.Fatalf("purged %s", pg)
	}
	if err := st.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM authorizers WHERE appid = 'wxmine0000000001' AND tenant_id IS NULL`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("the app the sandbox did not seed was not kept unbound (%d, %v)", n, err)
	}
	if err := st.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM tenants WHERE name = 'Real Shop'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("the real tenant is gone (%d, %v)", n, err)
	}
}
