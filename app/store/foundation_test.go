package store_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
)

// fndClock is the fixed clock the foundation tests give the store.
type fndClock struct{ t time.Time }

func (c *fndClock) Now() time.Time          { return c.t }
func (c *fndClock) Advance(d time.Duration) { c.t = c.t.Add(d) }

func openFoundationStore(t *testing.T) (*store.Store, *fndClock) {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "f.db"), bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	clk := &fndClock{t: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
	st.Now = clk.Now
	return st, clk
}

func fndSignup(t *testing.T, st *store.Store, email, tenant string) (model.User, model.Tenant) {
	t.Helper()
	u, tn, err := st.Signup(context.Background(), model.User{Email: email, Name: email, PasswordHash: "h"}, tenant, "10.0.0.1")
	if err != nil {
		t.Fatalf("Signup(%s): %v", email, err)
	}
	return u, tn
}

func fndUser(t *testing.T, st *store.Store, email string) model.User {
	t.Helper()
	u, err := st.CreateUser(context.Background(), model.SystemActor, model.User{Email: email, Name: email, PasswordHash: "h"})
	if err != nil {
		t.Fatalf("CreateUser(%s): %v", email, err)
	}
	return u
}

// fndJoin adds u to tenant with role through an invite created by owner.
func fndJoin(t *testing.T, st *store.Store, owner model.User, tenantID, userID int64, role model.TenantRole) {
	t.Helper()
	ctx := context.Background()
	_, tok, err := st.CreateInvite(ctx, model.Actor{UserID: owner.ID, Label: owner.Email}, tenantID, role, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.AcceptInvite(ctx, tok, userID, nil, ""); err != nil {
		t.Fatal(err)
	}
}

func wantCode(t *testing.T, what string, err error, code model.Code, key string) {
	t.Helper()
	var e *model.Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: error %v is not a coded error", what, err)
	}
	if e.Code != code || (key != "" && e.Key != key) {
		t.Fatalf("%s: got %s/%s, want %s/%s", what, e.Code, e.Key, code, key)
	}
}

func TestNotFoundIsACodedError(t *testing.T) {
	st, _ := openFoundationStore(t)
	ctx := context.Background()
	_, err := st.UserByID(ctx, 42)
	wantCode(t, "UserByID", err, model.CodeNotFound, "error.not_found")
	_, err = st.UserByEmail(ctx, "none@x.test")
	wantCode(t, "UserByEmail", err, model.CodeNotFound, "")
	_, err = st.Tenant(ctx, 42)
	wantCode(t, "Tenant", err, model.CodeNotFound, "")
	_, err = st.Membership(ctx, 1, 1)
	wantCode(t, "Membership", err, model.CodeNotFound, "")
	_, err = st.InviteByToken(ctx, "nope")
	wantCode(t, "InviteByToken", err, model.CodeNotFound, "")
	wantCode(t, "RevokeInvite", st.RevokeInvite(ctx, model.SystemActor, 1, 1), model.CodeNotFound, "")
	wantCode(t, "SetTenantStatus", st.SetTenantStatus(ctx, model.SystemActor, 9, model.TenantSuspended, "x"), model.CodeNotFound, "")
	wantCode(t, "RenameTenant", st.RenameTenant(ctx, model.SystemActor, 9, "x"), model.CodeNotFound, "")
	wantCode(t, "SetMemberRole", st.SetMemberRole(ctx, model.SystemActor, 9, 9, model.RoleViewer), model.CodeNotFound, "")
	wantCode(t, "RemoveMember", st.RemoveMember(ctx, model.SystemActor, 9, 9), model.CodeNotFound, "")
	wantCode(t, "SetStaffRole", st.SetStaffRole(ctx, model.SystemActor, 9, model.StaffAdmin), model.CodeNotFound, "")
	if !model.IsNotFound(model.NotFound("x")) || model.IsNotFound(nil) {
		t.Error("IsNotFound")
	}
}

func TestSignupIsAtomicAndEmailsAreUnique(t *testing.T) {
	st, _ := openFoundationStore(t)
	ctx := context.Background()
	u, tn := fndSignup(t, st, " Ann@Example.TEST ", "  Ann's Shop ")
	if u.Email != "ann@example.test" || tn.Name != "Ann's Shop" || tn.Status != model.TenantActive {
		t.Fatalf("signup = %+v %+v", u, tn)
	}
	m, err := st.Membership(ctx, tn.ID, u.ID)
	if err != nil || m.Role != model.RoleOwner || m.TenantName != "Ann's Shop" {
		t.Fatalf("membership = %+v, %v", m, err)
	}
	if got, err := st.UserByEmail(ctx, "ANN@example.test"); err != nil || got.ID != u.ID {
		t.Fatalf("UserByEmail is not case-insensitive: %v %v", got, err)
	}
	_, _, err = st.Signup(ctx, model.User{Email: "ann@EXAMPLE.test", Name: "x", PasswordHash: "h"}, "Second", "")
	wantCode(t, "duplicate", err, model.CodeInvalid, "form.email_taken")
	if e := (*model.Error)(nil); errors.As(err, &e) && e.Field != "email" {
		t.Errorf("field = %q, want email", e.Field)
	}
	if _, total, _ := st.ListTenants(ctx, store.TenantFilter{}); total != 1 {
		t.Errorf("tenants = %d after a failed signup, want 1 (rolled back)", total)
	}
	_, err = st.CreateUser(ctx, model.SystemActor, model.User{Email: "ANN@example.test", Name: "x", PasswordHash: "h"})
	wantCode(t, "duplicate CreateUser", err, model.CodeInvalid, "form.email_taken")
}

func TestListTenants(t *testing.T) {
	st, _ := openFoundationStore(t)
	ctx := context.Background()
	var ids []int64
	for i := 0; i < 7; i++ {
		_, tn := fndSignup(t, st, fmt.Sprintf("o%d@shop%d.test", i, i), fmt.Sprintf("Shop %d", i))
		ids = append(ids, tn.ID)
	}
	_, pct := fndSignup(t, st, "pct@x.test", "100% Tea_House")
	extra := fndUser(t, st, "extra@member.test")
	owner, _ := st.UserByEmail(ctx, "o2@shop2.test")
	fndJoin(t, st, owner, ids[2], extra.ID, model.RoleViewer)
	if err := st.SetTenantStatus(ctx, model.SystemActor, ids[3], model.TenantSuspended, "r"); err != nil {
		t.Fatal(err)
	}

	names := func(ts []model.Tenant) string {
		var s []string
		for _, t := range ts {
			s = append(s, t.Name)
		}
		return strings.Join(s, ",")
	}
	for _, tc := range []struct {
		name  string
		f     store.TenantFilter
		want  string
		total int
	}{
		{"first page, newest first", store.TenantFilter{Limit: 3}, "100% Tea_House,Shop 6,Shop 5", 8},
		{"second page", store.TenantFilter{Limit: 3, Offset: 3}, "Shop 4,Shop 3,Shop 2", 8},
		{"last page", store.TenantFilter{Limit: 3, Offset: 6}, "Shop 1,Shop 0", 8},
		{"past the end", store.TenantFilter{Limit: 3, Offset: 30}, "", 8},
		{"by name, any case", store.TenantFilter{Query: "shop 5"}, "Shop 5", 1},
		{"by id", store.TenantFilter{Query: fmt.Sprint(pct.ID)}, "100% Tea_House", 1},
		{"by id, also matching names", store.TenantFilter{Query: fmt.Sprint(ids[4])}, "Shop 5,Shop 4", 2},
		{"by member e-mail", store.TenantFilter{Query: "extra@member"}, "Shop 2", 1},
		{"by owner e-mail", store.TenantFilter{Query: "o6@shop6.test"}, "Shop 6", 1},
		{"LIKE wildcards are literal", store.TenantFilter{Query: "%"}, "100% Tea_House", 1},
		{"underscore is literal", store.TenantFilter{Query: "a_h"}, "100% Tea_House", 1},
		{"suspended", store.TenantFilter{Status: model.TenantSuspended}, "Shop 3", 1},
		{"active and query", store.TenantFilter{Status: model.TenantActive, Query: "Shop"}, "Shop 6,Shop 5,Shop 4,Shop 2,Shop 1,Shop 0", 6},
		{"suspended and query that misses", store.TenantFilter{Status: model.TenantSuspended, Query: "Shop 4"}, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts, total, err := st.ListTenants(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if got := names(ts); got != tc.want || total != tc.total {
				t.Errorf("got %q (total %d), want %q (total %d)", got, total, tc.want, tc.total)
			}
		})
	}
	ts, _, _ := st.ListTenants(ctx, store.TenantFilter{Query: "Shop 2"})
	if len(ts) != 1 || ts[0].Members != 2 {
		t.Errorf("member count of Shop 2 = %+v, want 2", ts)
	}
}

func TestMembershipsAndLastOwner(t *testing.T) {
	st, _ := openFoundationStore(t)
	ctx := context.Background()
	a := model.SystemActor
	owner, tA := fndSignup(t, st, "owner@a.test", "Zeta")
	_, tB := fndSignup(t, st, "owner@b.test", "Alpha")
	dev := fndUser(t, st, "dev@a.test")
	fndJoin(t, st, owner, tA.ID, dev.ID, model.RoleDeveloper)
	ownerB, _ := st.UserByEmail(ctx, "owner@b.test")
	fndJoin(t, st, ownerB, tB.ID, dev.ID, model.RoleViewer)

	ms, err := st.MembershipsOfUser(ctx, dev.ID)
	if err != nil || len(ms) != 2 || ms[0].TenantName != "Alpha" || ms[0].Role != model.RoleViewer || ms[1].Role != model.RoleDeveloper {
		t.Fatalf("MembershipsOfUser = %+v, %v (want Alpha first, by name)", ms, err)
	}
	members, err := st.Members(ctx, tA.ID)
	if err != nil || len(members) != 2 || members[0].UserEmail != "owner@a.test" || members[1].UserEmail != "dev@a.test" {
		t.Fatalf("Members = %+v, %v", members, err)
	}

	wantCode(t, "demote last owner", st.SetMemberRole(ctx, a, tA.ID, owner.ID, model.RoleViewer), model.CodeConflict, "members.last_owner")
	wantCode(t, "remove last owner", st.RemoveMember(ctx, a, tA.ID, owner.ID), model.CodeConflict, "members.last_owner")
	wantCode(t, "invalid role", st.SetMemberRole(ctx, a, tA.ID, dev.ID, "emperor"), model.CodeInvalid, "form.role_invalid")
	// A member of B is not a member of A, whatever ids are passed.
	wantCode(t, "cross tenant", st.SetMemberRole(ctx, a, tA.ID, ownerB.ID, model.RoleViewer), model.CodeNotFound, "")
	wantCode(t, "cross tenant remove", st.RemoveMember(ctx, a, tA.ID, ownerB.ID), model.CodeNotFound, "")

	if err := st.SetMemberRole(ctx, a, tA.ID, dev.ID, model.RoleOwner); err != nil {
		t.Fatal(err)
	}
	if err := st.SetMemberRole(ctx, a, tA.ID, owner.ID, model.RoleViewer); err != nil {
		t.Fatalf("demote with a second owner: %v", err)
	}
	if err := st.RemoveMember(ctx, a, tA.ID, owner.ID); err != nil {
		t.Fatalf("remove a non-owner: %v", err)
	}
	wantCode(t, "remove the remaining owner", st.RemoveMember(ctx, a, tA.ID, dev.ID), model.CodeConflict, "members.last_owner")

	var assignments []string
	err = st.AllRoleAssignments(ctx, func(u, tn int64, r model.TenantRole) error {
		assignments = append(assignments, fmt.Sprintf("%d@%d=%s", u, tn, r))
		return nil
	})
	if err != nil || len(assignments) != 3 {
		t.Errorf("AllRoleAssignments = %v, %v", assignments, err)
	}
	if n := countRows(t, st, `SELECT COUNT(*) FROM activity WHERE action = ?`, store.ActRoleChange); n != 2 {
		t.Errorf("role_changed rows = %d, want 2", n)
	}
}

func countRows(t *testing.T, st *store.Store, q string, args ...any) int {
	t.Helper()
	var n int
	if err := st.R.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestInvites(t *testing.T) {
	st, clk := openFoundationStore(t)
	ctx := context.Background()
	owner, tA := fndSignup(t, st, "owner@a.test", "A")
	ownerB, tB := fndSignup(t, st, "owner@b.test", "B")
	act := model.Actor{UserID: owner.ID, Label: owner.Email}

	_, _, err := st.CreateInvite(ctx, act, tA.ID, "emperor", "")
	wantCode(t, "bad role", err, model.CodeInvalid, "form.role_invalid")

	inv, tok, err := st.CreateInvite(ctx, act, tA.ID, model.RoleDeveloper, "for dan")
	if err != nil || tok == "" || len(tok) < 30 {
		t.Fatalf("CreateInvite = %+v %q %v", inv, tok, err)
	}
	if !inv.ExpiresAt.Equal(clk.Now().Add(store.InviteLifetime)) {
		t.Errorf("ExpiresAt = %v", inv.ExpiresAt)
	}
	if n := countRows(t, st, `SELECT COUNT(*) FROM invites WHERE token_hash = ? OR note = ?`, tok, tok); n != 0 {
		t.Error("the token itself is stored")
	}
	got, err := st.InviteByToken(ctx, tok)
	if err != nil || got.ID != inv.ID || got.State(clk.Now()) != "pending" || got.Note != "for dan" {
		t.Fatalf("InviteByToken = %+v, %v", got, err)
	}

	// B's owner cannot revoke A's invite by id.
	wantCode(t, "revoke across tenants", st.RevokeInvite(ctx, model.Actor{UserID: ownerB.ID}, tB.ID, inv.ID), model.CodeNotFound, "")

	// Accepting with a new user whose e-mail is taken rolls everything back.
	_, _, err = st.AcceptInvite(ctx, tok, 0, &model.User{Email: "OWNER@b.test", Name: "x", PasswordHash: "h"}, "")
	wantCode(t, "taken e-mail", err, model.CodeInvalid, "form.email_taken")
	if got, _ := st.InviteByToken(ctx, tok); got.State(clk.Now()) != "pending" {
		t.Fatal("a failed acceptance spent the invite")
	}
	// A new user signs up on the invite.
	acc, uid, err := st.AcceptInvite(ctx, tok, 0, &model.User{Email: "Dan@x.test", Name: "Dan", PasswordHash: "h"}, "1.2.3.4")
	if err != nil || uid == 0 || acc.TenantID != tA.ID {
		t.Fatalf("AcceptInvite = %+v %d %v", acc, uid, err)
	}
	if m, err := st.Membership(ctx, tA.ID, uid); err != nil || m.Role != model.RoleDeveloper || m.UserEmail != "dan@x.test" {
		t.Fatalf("membership = %+v, %v", m, err)
	}
	_, _, err = st.AcceptInvite(ctx, tok, ownerB.ID, nil, "")
	wantCode(t, "used", err, model.CodeConflict, "invite.accepted")
	wantCode(t, "revoke used", st.RevokeInvite(ctx, act, tA.ID, inv.ID), model.CodeNotFound, "")

	// Already a member.
	_, tok2, _ := st.CreateInvite(ctx, act, tA.ID, model.RoleViewer, "")
	_, _, err = st.AcceptInvite(ctx, tok2, uid, nil, "")
	wantCode(t, "already member", err, model.CodeConflict, "invite.already_member")

	// Revoked.
	inv3, tok3, _ := st.CreateInvite(ctx, act, tA.ID, model.RoleViewer, "")
	if err := st.RevokeInvite(ctx, act, tA.ID, inv3.ID); err != nil {
		t.Fatal(err)
	}
	_, _, err = st.AcceptInvite(ctx, tok3, ownerB.ID, nil, "")
	wantCode(t, "revoked", err, model.CodeConflict, "invite.revoked")
	wantCode(t, "revoke twice", st.RevokeInvite(ctx, act, tA.ID, inv3.ID), model.CodeNotFound, "")

	// Expired, exactly at the boundary and after it.
	_, tok4, _ := st.CreateInvite(ctx, act, tA.ID, model.RoleViewer, "")
	clk.Advance(store.InviteLifetime)
	if got, _ := st.InviteByToken(ctx, tok4); got.State(clk.Now()) != "pending" {
		t.Errorf("state at the expiry instant = %q, want pending", got.State(clk.Now()))
	}
	clk.Advance(time.Second)
	_, _, err = st.AcceptInvite(ctx, tok4, ownerB.ID, nil, "")
	wantCode(t, "expired", err, model.CodeConflict, "invite.expired")

	// Suspended tenant.
	_, tok5, _ := st.CreateInvite(ctx, act, tA.ID, model.RoleViewer, "")
	if err := st.SetTenantStatus(ctx, model.SystemActor, tA.ID, model.TenantSuspended, "r"); err != nil {
		t.Fatal(err)
	}
	_, _, err = st.AcceptInvite(ctx, tok5, ownerB.ID, nil, "")
	wantCode(t, "suspended", err, model.CodeForbidden, "tenant.suspended")

	_, _, err = st.AcceptInvite(ctx, "bogus", ownerB.ID, nil, "")
	wantCode(t, "bogus", err, model.CodeNotFound, "")

	list, err := st.Invites(ctx, tA.ID)
	if err != nil || len(list) != 5 || list[0].ID < list[4].ID {
		t.Errorf("Invites = %d rows (newest first?), %v", len(list), err)
	}
	if l, _ := st.Invites(ctx, tB.ID); len(l) != 0 {
		t.Errorf("B sees %d of A's invites", len(l))
	}
}

func TestTenantStatusAndRename(t *testing.T) {
	st, _ := openFoundationStore(t)
	ctx := context.Background()
	_, tn := fndSignup(t, st, "o@x.test", "Old")
	wantCode(t, "unchanged", st.SetTenantStatus(ctx, model.SystemActor, tn.ID, model.TenantActive, ""), model.CodeConflict, "tenant.status_unchanged")
	if err := st.SetTenantStatus(ctx, model.SystemActor, tn.ID, model.TenantSuspended, "why"); err != nil {
		t.Fatal(err)
	}
	if err := st.RenameTenant(ctx, model.SystemActor, tn.ID, " New "); err != nil {
		t.Fatal(err)
	}
	got, _ := st.Tenant(ctx, tn.ID)
	if got.Status != model.TenantSuspended || got.Name != "New" || got.Members != 1 {
		t.Errorf("tenant = %+v", got)
	}
	rows, _ := st.ListActivity(ctx, store.ActivityFilter{TenantID: tn.ID, Action: store.ActTenantSuspend})
	if len(rows) != 1 || rows[0].Detail != "why" || rows[0].Object != "Old" {
		t.Errorf("suspend activity = %+v", rows)
	}
}

func TestActivity(t *testing.T) {
	st, clk := openFoundationStore(t)
	ctx := context.Background()
	u, tA := fndSignup(t, st, "a@x.test", "A")
	_, tB := fndSignup(t, st, "b@x.test", "B")
	act := model.Actor{UserID: u.ID, Label: u.Email, IP: "10.1.1.1"}
	for i := 0; i < 5; i++ {
		clk.Advance(time.Minute)
		if err := st.Activity(ctx, act, tA.ID, store.ActLogin, fmt.Sprintf("obj%d", i), "100%_done"); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Activity(ctx, model.Actor{Label: "wechat"}, 0, store.ActLoginFailed, "x", ""); err != nil {
		t.Fatal(err)
	}
	all, _ := st.ListActivity(ctx, store.ActivityFilter{})
	if len(all) != 8 { // 2 signups, 5 logins, 1 failure
		t.Fatalf("rows = %d, want 8", len(all))
	}
	if all[0].Action != store.ActLoginFailed || all[0].TenantID != 0 || all[0].ActorID != 0 {
		t.Errorf("newest = %+v", all[0])
	}
	a, _ := st.ListActivity(ctx, store.ActivityFilter{TenantID: tA.ID})
	if len(a) != 6 {
		t.Errorf("tenant A rows = %d, want 6", len(a))
	}
	for _, r := range a {
		if r.TenantID != tA.ID {
			t.Errorf("row of tenant %d in A's list", r.TenantID)
		}
	}
	if b, _ := st.ListActivity(ctx, store.ActivityFilter{TenantID: tB.ID}); len(b) != 1 || b[0].Action != store.ActSignup {
		t.Errorf("tenant B rows = %+v", b)
	}
	page, _ := st.ListActivity(ctx, store.ActivityFilter{TenantID: tA.ID, Action: store.ActLogin, Limit: 2})
	if len(page) != 2 || page[0].Object != "obj4" || page[1].Object != "obj3" {
		t.Fatalf("first page = %+v", page)
	}
	next, _ := st.ListActivity(ctx, store.ActivityFilter{TenantID: tA.ID, Action: store.ActLogin, Limit: 2, BeforeID: page[1].ID})
	if len(next) != 2 || next[0].Object != "obj2" {
		t.Errorf("second page = %+v", next)
	}
	if q, _ := st.ListActivity(ctx, store.ActivityFilter{Query: "obj3"}); len(q) != 1 || q[0].IP != "10.1.1.1" || q[0].Actor != "a@x.test" {
		t.Errorf("query = %+v", q)
	}
	if q, _ := st.ListActivity(ctx, store.ActivityFilter{Query: "0%_"}); len(q) != 5 {
		t.Errorf("escaped query rows = %d, want 5", len(q))
	}
	if q, _ := st.ListActivity(ctx, store.ActivityFilter{Query: "_"}); len(q) != 5 {
		t.Errorf("a literal _ matched %d rows, want 5", len(q))
	}
	since, _ := st.ListActivity(ctx, store.ActivityFilter{Since: clk.Now().Add(-90 * time.Second), Action: store.ActLogin})
	if len(since) != 2 {
		t.Errorf("since rows = %d, want 2", len(since))
	}
}

func TestActivityRowsAreImmutable(t *testing.T) {
	st, _ := openFoundationStore(t)
	fndSignup(t, st, "a@x.test", "A")
	for _, q := range []string{
		`UPDATE activity SET detail = 'forged'`,
		`DELETE FROM activity`,
	} {
		_, err := st.W.Exec(q)
		if err == nil || !strings.Contains(err.Error(), "immutable") {
			t.Errorf("%s: err = %v, want the immutability trigger", q, err)
		}
	}
	if n := countRows(t, st, `SELECT COUNT(*) FROM activity WHERE detail != 'forged'`); n != 1 {
		t.Errorf("rows = %d, want the 1 original", n)
	}
	// Readers cannot write at all.
	if _, err := st.R.Exec(`INSERT INTO activity (at, action) VALUES (1, 'x')`); err == nil {
		t.Error("the reader pool accepted a write")
	}
}

func TestBackup(t *testing.T) {
	st, _ := openFoundationStore(t)
	ctx := context.Background()
	fndSignup(t, st, "a@x.test", "Backed Up")
	path := filepath.Join(t.TempDir(), "copy.db")
	if err := st.Backup(ctx, path); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var name string
	if err := db.QueryRow(`SELECT name FROM tenants`).Scan(&name); err != nil || name != "Backed Up" {
		t.Fatalf("backup tenant = %q, %v", name, err)
	}
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM users`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("backup users = %d, %v", n, err)
	}
	before, _ := os.ReadFile(path)
	if err := st.Backup(ctx, path); err == nil {
		t.Fatal("Backup overwrote an existing file")
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("the refused backup changed the existing file")
	}
}

func TestBox(t *testing.T) {
	b, err := store.NewBox(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	sealed := b.Seal("refresh-token-123", "authorizer:wx1:refresh")
	if strings.Contains(sealed, "refresh-token-123") {
		t.Fatal("sealed value contains the plain text")
	}
	if sealed == b.Seal("refresh-token-123", "authorizer:wx1:refresh") {
		t.Error("two seals of the same value are equal (nonce reuse?)")
	}
	if got, err := b.Open(sealed, "authorizer:wx1:refresh"); err != nil || got != "refresh-token-123" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := b.Open(sealed, "authorizer:wx2:refresh"); err == nil {
		t.Error("Open with another row's ad succeeded")
	}
	other, _ := store.NewBox(bytes.Repeat([]byte{2}, 32))
	if _, err := other.Open(sealed, "authorizer:wx1:refresh"); err == nil {
		t.Error("Open with another key succeeded")
	}
	raw := []byte(sealed)
	raw[len(raw)/2] ^= 1
	if _, err := b.Open(string(raw), "authorizer:wx1:refresh"); err == nil {
		t.Error("Open of a tampered value succeeded")
	}
	if _, err := b.Open("!!not base64", "x"); err == nil {
		t.Error("Open of garbage succeeded")
	}
	if _, err := store.NewBox([]byte("short")); err == nil {
		t.Error("NewBox accepted a short key")
	}
	if _, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "x.db"), nil); err == nil {
		t.Error("Open accepted a missing secret key")
	}
}

func TestLoginFailures(t *testing.T) {
	st, clk := openFoundationStore(t)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if err := st.RecordLoginFailure(ctx, "acct:a", "ip:1"); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Minute)
	}
	n, oldest, err := st.LoginFailures(ctx, "acct:a", clk.Now().Add(-2*time.Minute))
	if err != nil || n != 2 || !oldest.Equal(clk.Now().Add(-2*time.Minute)) {
		t.Errorf("LoginFailures = %d %v %v", n, oldest, err)
	}
	if err := st.ClearLoginFailures(ctx, "acct:a"); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := st.LoginFailures(ctx, "acct:a", time.Time{}); n != 0 {
		t.Errorf("after clear = %d", n)
	}
	if n, _, _ := st.LoginFailures(ctx, "ip:1", time.Time{}); n != 3 {
		t.Errorf("ip failures = %d, want 3 (clearing one key keeps the others)", n)
	}
}

func TestReadyAndReopen(t *testing.T) {
	dir := t.TempDir()
	key := bytes.Repeat([]byte{3}, 32)
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(dir, "sub", "r.db"), key)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Ready(ctx); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	fndSignup(t, st, "a@x.test", "Kept")
	st.Close()
	// Opening again applies no migration twice and keeps the data.
	st, err = store.Open(ctx, filepath.Join(dir, "sub", "r.db"), key)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, total, _ := st.ListTenants(ctx, store.TenantFilter{}); total != 1 {
		t.Errorf("tenants after reopen = %d", total)
	}
	var fk, wal string
	_ = st.W.QueryRow(`PRAGMA foreign_keys`).Scan(&fk)
	_ = st.R.QueryRow(`PRAGMA journal_mode`).Scan(&wal)
	if fk != "1" || wal != "wal" {
		t.Errorf("foreign_keys=%s journal_mode=%s", fk, wal)
	}
}

// TestFileModes: the database, its -wal and -shm files and a backup are the
// owner's only (0600), also when an older version left them 0644.
func TestFileModes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "minifleet.db")
	mode := func(p string) os.FileMode {
		t.Helper()
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Mode().Perm()
	}
	check := func(when string, files ...string) {
		t.Helper()
		for _, p := range files {
			if m := mode(p); m != 0o600 {
				t.Errorf("%s: %s is %v, want -rw-------", when, filepath.Base(p), m)
			}
		}
	}
	st, err := store.Open(ctx, path, bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	fndSignup(t, st, "modes@x.test", "Modes")
	check("after Open", path, path+"-wal", path+"-shm")
	backup := filepath.Join(dir, "backup.db")
	if err := st.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	check("after Backup", backup)
	st.Close()

	// A database an older version created 0644 is narrowed at Open.
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o644); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	st, err = store.Open(ctx, path, bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fndSignup(t, st, "modes2@x.test", "Modes Two")
	check("after reopening a 0644 database", path, path+"-wal", path+"-shm")
}
