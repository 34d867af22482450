package store_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
)

// The staff apps search index (migration 00008) follows new apps, renamed
// apps, rebinding to another tenant, tenant renames and unbinding.
func TestAppSearchIndexFollowsChanges(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "s.db"), bytes.Repeat([]byte{4}, 32))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	_, spruce, err := st.Signup(ctx, model.User{Email: "lin@spruce.test", Name: "林", PasswordHash: "h"}, "云杉咖啡馆 Spruce", "")
	if err != nil {
		t.Fatal(err)
	}
	_, lime, err := st.Signup(ctx, model.User{Email: "o@lime.test", Name: "O", PasswordHash: "h"}, "青柠烘焙 Lime", "")
	if err != nil {
		t.Fatal(err)
	}
	search := func(q string) string {
		t.Helper()
		apps, total, err := st.StaffApps(ctx, store.AppFilter{Query: q})
		if err != nil {
			t.Fatalf("StaffApps(%q): %v", q, err)
		}
		if total != len(apps) {
			t.Fatalf("StaffApps(%q): total %d for %d rows", q, total, len(apps))
		}
		var ids []string
		for _, a := range apps {
			ids = append(ids, a.AppID)
		}
		return strings.Join(ids, ",")
	}
	want := func(q, ids string) {
		t.Helper()
		if got := search(q); got != ids {
			t.Errorf("search %q = %q, want %q", q, got, ids)
		}
	}
	details := func(appID, nick, gh, principal string) {
		t.Helper()
		if err := st.SaveAppDetails(ctx, appID, store.AppDetails{Nickname: nick, UserName: gh, PrincipalName: principal, AccountKind: "miniprogram", PermissionSets: []int{18}}); err != nil {
			t.Fatal(err)
		}
	}

	// Insert: found by appid alone, then by what its details say.
	if err := st.EnsureAuthorizer(ctx, "wx5eed00000000a1"); err != nil {
		t.Fatal(err)
	}
	want("wx5eed00000000a1", "wx5eed00000000a1")
	want("5EED", "wx5eed00000000a1") // any case, any part
	want("咖啡", "")
	details("wx5eed00000000a1", "云杉点单", "gh_5eedcafe01", "云杉餐饮有限公司")
	want("云杉点单", "wx5eed00000000a1")
	want("gh_5eedcafe", "wx5eed00000000a1")
	want("餐饮有限", "wx5eed00000000a1")

	// Nickname changes: the old one no longer finds it.
	details("wx5eed00000000a1", "杉木外卖", "gh_5eedcafe01", "云杉餐饮有限公司")
	want("云杉点单", "")
	want("杉木外卖", "wx5eed00000000a1")

	// Bound: found by the tenant's name.
	if _, err := st.BindApp(ctx, model.SystemActor, "wx5eed00000000a1", spruce.ID, 0); err != nil {
		t.Fatal(err)
	}
	want("Spruce", "wx5eed00000000a1")
	want("青柠烘焙", "")

	// Rebound to another tenant (a conflict moved by staff).
	r, err := st.BindApp(ctx, model.SystemActor, "wx5eed00000000a1", lime.ID, 0)
	if err != nil || r.ConflictID == 0 {
		t.Fatalf("claim: %+v %v", r, err)
	}
	if _, err := st.ResolveConflict(ctx, model.SystemActor, r.ConflictID, true); err != nil {
		t.Fatal(err)
	}
	want("Spruce", "")
	want("青柠烘焙", "wx5eed00000000a1")

	// The tenant renamed: its apps follow.
	if err := st.RenameTenant(ctx, model.SystemActor, lime.ID, "北岸书店 Shore"); err != nil {
		t.Fatal(err)
	}
	want("青柠烘焙", "")
	want("北岸书店", "wx5eed00000000a1")
	want("shore", "wx5eed00000000a1")

	// Unbound: the tenant's name no longer finds it; its own fields do.
	if _, err := st.W.ExecContext(ctx, `UPDATE authorizers SET tenant_id = NULL WHERE appid = ?`, "wx5eed00000000a1"); err != nil {
		t.Fatal(err)
	}
	want("北岸书店", "")
	want("杉木外卖", "wx5eed00000000a1")

	// Short queries scan names; quotes are literal; a removed app is gone.
	want("杉木", "wx5eed00000000a1")
	want("外", "wx5eed00000000a1")
	want(`"; DROP`, "")
	if err := st.OptimizeAppSearch(ctx); err != nil {
		t.Fatal(err)
	}
	want("杉木外卖", "wx5eed00000000a1")
	if _, err := st.W.ExecContext(ctx, `DELETE FROM authorizers WHERE appid = ?`, "wx5eed00000000a1"); err != nil {
		t.Fatal(err)
	}
	want("wx5eed", "")
	var n int
	if err := st.W.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM app_search) + (SELECT COUNT(*) FROM app_search_keys)`).Scan(&n); err != nil || n != 0 {
		t.Errorf("index rows left after delete: %d %v", n, err)
	}
}

// Pages of a search report the total of every match, also past the end.
func TestAppSearchPagesAndTotals(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "s.db"), bytes.Repeat([]byte{5}, 32))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, id := range []string{"wxpage000000001", "wxpage000000002", "wxpage000000003", "wxother00000001"} {
		if err := st.EnsureAuthorizer(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ off, rows, total int }{{0, 2, 3}, {2, 1, 3}, {3, 0, 3}, {9, 0, 3}} {
		apps, total, err := st.StaffApps(ctx, store.AppFilter{Query: "wxpage", Limit: 2, Offset: c.off})
		if err != nil || len(apps) != c.rows || total != c.total {
			t.Errorf("offset %d: %d rows, total %d, %v; want %d rows, total %d", c.off, len(apps), total, err, c.rows, c.total)
		}
	}
}
