package authz_test

import (
	"bytes"
	"context"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/minifleet/minifleet/app/authz"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
)

func p(obj, act string) authz.Perm { return authz.Perm{Obj: obj, Act: act} }

// tenantGrants is the expected tenant policy, role by role (written out here
// on purpose: a change to policy.csv must be a deliberate change to this table).
var tenantGrants = map[model.TenantRole][]authz.Perm{
	model.RoleOwner: {p("tenant", "read"), p("tenant", "write"), p("members", "read"), p("members", "write"), p("activity", "read"),
		p("apps", "read"), p("apps", "authorize"), p("config", "write"), p("release", "prepare"), p("release", "approve"),
		p("campaigns", "read"), p("campaigns", "write"), p("campaigns", "approve"), p("links", "write"), p("domains", "write"),
		p("api_keys", "write"), p("webhooks", "manage")},
	model.RoleDeveloper: {p("tenant", "read"), p("members", "read"), p("apps", "read"), p("apps", "authorize"), p("config", "write"), p("release", "prepare"),
		p("campaigns", "read"), p("campaigns", "write"), p("links", "write"), p("domains", "write")},
	model.RoleApprover: {p("tenant", "read"), p("members", "read"), p("apps", "read"), p("release", "approve"), p("campaigns", "read"), p("campaigns", "approve")},
	model.RoleViewer:   {p("tenant", "read"), p("members", "read"), p("apps", "read"), p("campaigns", "read")},
}

var staffGrants = map[model.StaffRole][]authz.Perm{
	model.StaffAdmin: {p("tenants", "read"), p("tenants", "write"), p("activity", "read"), p("staff", "read"), p("staff", "write"),
		p("wechat", "read"), p("wechat", "write"), p("apps", "read"), p("apps", "assign"), p("templates", "read"), p("templates", "write"), p("release", "approve"),
		p("campaigns", "read"), p("campaigns", "write"), p("campaigns", "approve"), p("site_files", "write"),
		p("api_keys", "write"), p("webhooks", "manage")},
	model.StaffOperator: {p("tenants", "read"), p("tenants", "write"), p("activity", "read"), p("wechat", "read"), p("wechat", "write"),
		p("apps", "read"), p("templates", "read"), p("templates", "write"), p("campaigns", "read"), p("campaigns", "write")},
	model.StaffApprover: {p("tenants", "read"), p("activity", "read"), p("wechat", "read"), p("apps", "read"), p("templates", "read"), p("release", "approve"),
		p("campaigns", "read"), p("campaigns", "approve")},
	model.StaffSupport: {p("tenants", "read"), p("activity", "read"), p("wechat", "read"), p("apps", "read"), p("templates", "read"), p("campaigns", "read")},
}

type world struct {
	st      *store.Store
	tenants [2]model.Tenant
	tenant  map[model.TenantRole]model.User // members of tenant 0
	staff   map[model.StaffRole]model.User
	outside model.User
}

// seed writes every assignment through the store only; authz.New must find them.
func seed(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "a.db"), bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w := &world{st: st, tenant: map[model.TenantRole]model.User{}, staff: map[model.StaffRole]model.User{}}
	owner, t0, err := st.Signup(ctx, model.User{Email: "owner@0.test", Name: "o", PasswordHash: "h"}, "T0", "")
	if err != nil {
		t.Fatal(err)
	}
	_, t1, err := st.Signup(ctx, model.User{Email: "owner@1.test", Name: "o", PasswordHash: "h"}, "T1", "")
	if err != nil {
		t.Fatal(err)
	}
	w.tenants = [2]model.Tenant{t0, t1}
	w.tenant[model.RoleOwner] = owner
	for _, r := range []model.TenantRole{model.RoleDeveloper, model.RoleApprover, model.RoleViewer} {
		u, err := st.CreateUser(ctx, model.SystemActor, model.User{Email: string(r) + "@0.test", Name: "x", PasswordHash: "h"})
		if err != nil {
			t.Fatal(err)
		}
		_, tok, err := st.CreateInvite(ctx, model.Actor{UserID: owner.ID}, t0.ID, r, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.AcceptInvite(ctx, tok, u.ID, nil, ""); err != nil {
			t.Fatal(err)
		}
		w.tenant[r] = u
	}
	for _, r := range model.StaffRoles {
		u, err := st.CreateUser(ctx, model.SystemActor, model.User{Email: string(r) + "@staff.test", Name: "x", PasswordHash: "h", StaffRole: r})
		if err != nil {
			t.Fatal(err)
		}
		w.staff[r] = u
	}
	w.outside, err = st.CreateUser(ctx, model.SystemActor, model.User{Email: "out@x.test", Name: "x", PasswordHash: "h"})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func allPerms() []authz.Perm {
	seen := map[authz.Perm]bool{}
	for k := range authz.Permissions("t:*") {
		seen[k] = true
	}
	for k := range authz.Permissions(authz.Platform) {
		seen[k] = true
	}
	var out []authz.Perm
	for k := range seen {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

func has(list []authz.Perm, x authz.Perm) bool {
	for _, y := range list {
		if y == x {
			return true
		}
	}
	return false
}

func TestTenantRolesFromTheDatabase(t *testing.T) {
	w := seed(t)
	az, err := authz.New(context.Background(), w.st)
	if err != nil {
		t.Fatal(err)
	}
	d0, d1 := authz.TenantDomain(w.tenants[0].ID), authz.TenantDomain(w.tenants[1].ID)
	for role, u := range w.tenant {
		for _, perm := range allPerms() {
			want := has(tenantGrants[role], perm)
			if got := az.Can(u.ID, d0, perm); got != want {
				t.Errorf("%s in own tenant, %s: got %v, want %v", role, perm, got, want)
			}
			// Domain isolation: nothing in the other tenant, nothing on the platform.
			if az.Can(u.ID, d1, perm) {
				t.Errorf("%s of %s has %s in %s", role, d0, perm, d1)
			}
			if az.Can(u.ID, authz.Platform, perm) {
				t.Errorf("tenant %s has %s on the platform", role, perm)
			}
		}
		if got := az.Roles(u.ID, d0); len(got) != 1 || got[0] != string(role) {
			t.Errorf("Roles(%s) = %v", role, got)
		}
	}
}

func TestStaffRolesFromTheDatabase(t *testing.T) {
	w := seed(t)
	az, err := authz.New(context.Background(), w.st)
	if err != nil {
		t.Fatal(err)
	}
	for role, u := range w.staff {
		for _, perm := range allPerms() {
			want := has(staffGrants[role], perm)
			if got := az.Can(u.ID, authz.Platform, perm); got != want {
				t.Errorf("staff %s, %s: got %v, want %v", role, perm, got, want)
			}
			// Staff roles give nothing inside a tenant (a staff "approver" is not a tenant approver).
			if az.Can(u.ID, authz.TenantDomain(w.tenants[0].ID), perm) {
				t.Errorf("staff %s has %s in a tenant", role, perm)
			}
		}
	}
	if !az.Can(w.staff[model.StaffSupport].ID, authz.Platform, p("tenants", "read")) ||
		az.Can(w.staff[model.StaffSupport].ID, authz.Platform, p("tenants", "write")) {
		t.Error("support must read tenants and not change them")
	}
	for _, perm := range allPerms() {
		for _, d := range []string{authz.Platform, authz.TenantDomain(w.tenants[0].ID), "t:*", "*"} {
			if az.Can(w.outside.ID, d, perm) {
				t.Errorf("a user with no role has %s in %s", perm, d)
			}
		}
	}
}

func TestPolicyTablesMatchTheEmbeddedPolicy(t *testing.T) {
	union := func(m map[authz.Perm]bool) string {
		var s []string
		for k := range m {
			s = append(s, k.String())
		}
		sort.Strings(s)
		return strings.Join(s, " ")
	}
	want := map[authz.Perm]bool{}
	for _, ps := range tenantGrants {
		for _, x := range ps {
			want[x] = true
		}
	}
	if got := union(authz.Permissions("t:*")); got != union(want) {
		t.Errorf("tenant permissions:\n got %s\nwant %s", got, union(want))
	}
	want = map[authz.Perm]bool{}
	for _, ps := range staffGrants {
		for _, x := range ps {
			want[x] = true
		}
	}
	if got := union(authz.Permissions(authz.Platform)); got != union(want) {
		t.Errorf("platform permissions:\n got %s\nwant %s", got, union(want))
	}
}

func TestMirrorAndReload(t *testing.T) {
	w := seed(t)
	ctx := context.Background()
	az, err := authz.New(ctx, w.st)
	if err != nil {
		t.Fatal(err)
	}
	d0 := authz.TenantDomain(w.tenants[0].ID)
	viewer := w.tenant[model.RoleViewer]
	az.SetTenantRole(viewer.ID, w.tenants[0].ID, model.RoleOwner)
	if !az.Can(viewer.ID, d0, p("members", "write")) {
		t.Error("SetTenantRole(owner) did not grant members:write")
	}
	if len(az.Roles(viewer.ID, d0)) != 1 {
		t.Errorf("roles = %v, want exactly one", az.Roles(viewer.ID, d0))
	}
	az.SetTenantRole(viewer.ID, w.tenants[0].ID, "")
	if az.Can(viewer.ID, d0, p("tenant", "read")) {
		t.Error("SetTenantRole(\"\") left access")
	}
	az.SetStaffRole(w.outside.ID, model.StaffOperator)
	if !az.Can(w.outside.ID, authz.Platform, p("tenants", "write")) {
		t.Error("SetStaffRole did not grant")
	}
	az.SetStaffRole(w.outside.ID, model.StaffNone)
	if az.Can(w.outside.ID, authz.Platform, p("tenants", "read")) {
		t.Error("SetStaffRole(none) left access")
	}
	// Reload forgets the in-memory changes and re-reads the database.
	az.SetTenantRole(w.outside.ID, w.tenants[1].ID, model.RoleOwner)
	if err := w.st.SetMemberRole(ctx, model.SystemActor, w.tenants[0].ID, viewer.ID, model.RoleApprover); err != nil {
		t.Fatal(err)
	}
	if err := az.Reload(); err != nil {
		t.Fatal(err)
	}
	if az.Can(w.outside.ID, authz.TenantDomain(w.tenants[1].ID), p("tenant", "read")) {
		t.Error("Reload kept an assignment that is not in the database")
	}
	if !az.Can(viewer.ID, d0, p("release", "approve")) {
		t.Error("Reload missed a role changed in the database")
	}
	if !az.Can(w.staff[model.StaffAdmin].ID, authz.Platform, p("staff", "write")) {
		t.Error("Reload lost staff roles")
	}
}

// Remembered decisions never outlive a role change: the same question
// asked before and after each kind of change gets the new answer.
func TestDecisionsFollowRoleChanges(t *testing.T) {
	w := seed(t)
	ctx := context.Background()
	az, err := authz.New(ctx, w.st)
	if err != nil {
		t.Fatal(err)
	}
	d0, d1 := authz.TenantDomain(w.tenants[0].ID), authz.TenantDomain(w.tenants[1].ID)
	viewer := w.tenant[model.RoleViewer]
	ask := func(what string, user int64, dom string, perm authz.Perm, want bool) {
		t.Helper()
		for range 2 { // the second answer is the remembered one
			if got := az.Can(user, dom, perm); got != want {
				t.Fatalf("%s: Can = %v, want %v", what, got, want)
			}
		}
	}
	ask("viewer before removal", viewer.ID, d0, p("tenant", "read"), true)
	az.SetTenantRole(viewer.ID, w.tenants[0].ID, "")
	ask("viewer after removal", viewer.ID, d0, p("tenant", "read"), false)

	ask("outsider before grant", w.outside.ID, d1, p("tenant", "read"), false)
	az.SetTenantRole(w.outside.ID, w.tenants[1].ID, model.RoleOwner)
	ask("outsider after grant", w.outside.ID, d1, p("tenant", "read"), true)

	ask("staff before", w.outside.ID, authz.Platform, p("tenants", "write"), false)
	az.SetStaffRole(w.outside.ID, model.StaffOperator)
	ask("staff after grant", w.outside.ID, authz.Platform, p("tenants", "write"), true)
	az.SetStaffRole(w.outside.ID, model.StaffNone)
	ask("staff after removal", w.outside.ID, authz.Platform, p("tenants", "write"), false)

	if err := az.Reload(); err != nil { // the database never had the outsider's grant
		t.Fatal(err)
	}
	ask("outsider after reload", w.outside.ID, d1, p("tenant", "read"), false)
}

// TestNamedPermissionsMatchThePolicy: every named permission is granted by
// policy.csv, and every (object, action) policy.csv grants has a name.
func TestNamedPermissionsMatchThePolicy(t *testing.T) {
	named := map[authz.Perm]bool{}
	for _, p := range authz.Named {
		if named[p] {
			t.Errorf("%s is named twice", p)
		}
		named[p] = true
	}
	policy := allPerms()
	for _, p := range policy {
		if !named[p] {
			t.Errorf("policy.csv grants %s, which has no named permission in authz", p)
		}
	}
	for p := range named {
		if !has(policy, p) {
			t.Errorf("named permission %s is granted by no line of policy.csv", p)
		}
	}
}
