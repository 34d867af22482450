package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
)

// The staff apps search index (migration 00008) follows new apps, renamed
// apps, rebinding to another tenant, tenant renames and unbinding.
func TestAppSearchIndexFollowsChanges(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
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
		res, err := st.StaffApps(ctx, store.AppFilter{Query: q})
		if err != nil {
			t.Fatalf("StaffApps(%q): %v", q, err)
		}
		if res.Total != len(res.Apps) || res.More {
			t.Fatalf("StaffApps(%q): total %d (more %v) for %d rows", q, res.Total, res.More, len(res.Apps))
		}
		var ids []string
		for _, a := range res.Apps {
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
	st := openStore(t)
	for _, id := range []string{"wxpage000000001", "wxpage000000002", "wxpage000000003", "wxother00000001"} {
		if err := st.EnsureAuthorizer(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ off, rows, total int }{{0, 2, 3}, {2, 1, 3}, {3, 0, 3}, {9, 0, 3}} {
		res, err := st.StaffApps(ctx, store.AppFilter{Query: "wxpage", Limit: 2, Offset: c.off})
		if err != nil || len(res.Apps) != c.rows || res.Total != c.total || res.More {
			t.Errorf("offset %d: %d rows, total %d (more %v), %v; want %d rows, total %d", c.off, len(res.Apps), res.Total, res.More, err, c.rows, c.total)
		}
	}
}

// seedApps writes n apps straight into SQLite (as the benchmark does): every
// 7th needs re-authorization, every 11th has failing tokens, every 13th is
// unauthorized, every 17th is unbound; every 3rd is a "花艺" app.
func seedApps(t *testing.T, st *store.Store, tenants, n int) {
	t.Helper()
	ctx := context.Background()
	tx, err := st.W.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= tenants; i++ {
		if _, err := tx.ExecContext(ctx, `INSERT INTO tenants (name, status, created_at, updated_at) VALUES (?, 'active', 1, 1)`, fmt.Sprintf("商户%03d", i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < n; i++ {
		var tenant any = int64(i%tenants + 1)
		if i%17 == 5 {
			tenant = nil
		}
		status, reason, tokens := "authorized", "", "fresh"
		switch {
		case i%13 == 4:
			status = "unauthorized"
		case i%7 == 1:
			reason = model.ReauthMissingCodePerm
		case i%11 == 2:
			tokens = "failing"
		}
		shop := "咖啡"
		if i%3 == 0 {
			shop = "花艺"
		}
		// Some apps share an updated_at: the order falls back to appid.
		if _, err := tx.ExecContext(ctx, `INSERT INTO authorizers (appid, tenant_id, status, nickname, principal_name, reauth_reason, token_state, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)`, fmt.Sprintf("wx%016x", i), tenant, status, fmt.Sprintf("%s小程序 %05d", shop, i), fmt.Sprintf("主体%05d", i),
			reason, tokens, 1000+i/2); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// Every filter and search, on every page, lists what a plain reading of
// every app says, in the list's order; the counts agree, capped at
// AppCountCap (or the page's end) with More set for searches that count one
// by one, exact for a trigram search alone.
func TestStaffAppsAgreesWithAPlainReading(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	const n = 3300 // 1,100 花艺 apps: past the cap
	seedApps(t, st, 40, n)
	every, err := st.StaffApps(ctx, store.AppFilter{Limit: n})
	if err != nil || every.Total != n || len(every.Apps) != n {
		t.Fatalf("every app: %d of %d, %v", len(every.Apps), every.Total, err)
	}
	for i := 1; i < len(every.Apps); i++ {
		a, b := every.Apps[i-1], every.Apps[i]
		if a.UpdatedAt.Before(b.UpdatedAt) || a.UpdatedAt.Equal(b.UpdatedAt) && a.AppID < b.AppID {
			t.Fatalf("order: %s before %s", a.AppID, b.AppID)
		}
	}
	matches := func(a model.App, f store.AppFilter) bool {
		switch f.Status {
		case "unbound":
			if a.TenantID != 0 || a.Status == string(model.AppUnauthorized) {
				return false
			}
		case "":
		default:
			if string(a.DisplayStatus()) != f.Status {
				return false
			}
		}
		if f.Problems && (a.Status != string(model.AppAuthorized) || a.ReauthReason == "" && a.TokenState != "needs_reauth" && a.TokenState != "failing") {
			return false
		}
		if f.TenantID != 0 && a.TenantID != f.TenantID {
			return false
		}
		if f.Query != "" && !strings.Contains(a.Nickname+"\n"+a.PrincipalName+"\n"+a.TenantName+"\n"+a.AppID, f.Query) {
			return false
		}
		return true
	}
	for _, f := range []store.AppFilter{
		{Status: "needs_reauth"}, {Problems: true}, {Status: "needs_reauth", Problems: true}, {Status: "authorized"},
		{Status: "unauthorized"}, {Status: "unbound"}, {TenantID: 7, Problems: true}, {TenantID: 7, Status: "needs_reauth"},
		{Query: "花艺"}, {Query: "花艺小程序"}, {Query: "花艺", Status: "needs_reauth"}, {Query: "花艺小程序", Problems: true},
		{Query: "花艺小程序", TenantID: 3}, {Query: "咖啡小程序 0000"}, {Query: "wx0000000000000001"}, {Query: "商户007"},
		{Query: "商户007", Status: "authorized"}, {Query: "没有"},
	} {
		var want []string
		for _, a := range every.Apps {
			if matches(a, f) {
				want = append(want, a.AppID)
			}
		}
		for _, off := range []int{0, 50, 150, 200, 250, 950, 1000, len(want) - 10, len(want) + 5} {
			if off < 0 {
				continue
			}
			f := f
			f.Offset, f.Limit = off, 50
			res, err := st.StaffApps(ctx, f)
			if err != nil {
				t.Fatalf("%+v: %v", f, err)
			}
			var got []string
			for _, a := range res.Apps {
				got = append(got, a.AppID)
			}
			wantPage := want[min(off, len(want)):min(off+50, len(want))]
			if strings.Join(got, ",") != strings.Join(wantPage, ",") {
				t.Errorf("%+v: page of %d, want %d (%.60v… vs %.60v…)", f, len(got), len(wantPage), got, wantPage)
			}
			wantTotal, wantMore := len(want), false
			exact := len([]rune(f.Query)) >= 3 && f.Status == "" && !f.Problems && f.TenantID == 0 // the index's own count
			if counted := max(store.AppCountCap, off+50); f.Query != "" && !exact && len(want) > counted {
				wantTotal, wantMore = counted, true
			}
			if res.Total != wantTotal || res.More != wantMore {
				t.Errorf("%+v: total %d more %v, want %d %v", f, res.Total, res.More, wantTotal, wantMore)
			}
		}
	}
}
