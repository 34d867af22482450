package web

import (
	"testing"

	"github.com/minifleet/minifleet/app/authz"
)

// TestEveryRouteHasAPermission walks the routes Fiber actually serves: each
// must come from the route table with a permission, or be an explicitly
// public route. A handler registered beside the table fails here.
func TestEveryRouteHasAPermission(t *testing.T) {
	h := newHarness(t)
	table := map[string]Route{}
	for _, r := range h.srv.Routes() {
		key := r.Method + " " + r.Path
		if _, dup := table[key]; dup {
			t.Errorf("%s is in the route table twice", key)
		}
		table[key] = r
	}
	served := 0
	for _, fr := range h.app.GetRoutes(true) {
		method := fr.Method
		if method == "HEAD" {
			method = "GET" // Fiber mirrors GET routes as HEAD
		}
		key := method + " " + fr.Path
		r, ok := table[key]
		switch {
		case !ok:
			t.Errorf("%s %s is served but not in Server.Routes()", fr.Method, fr.Path)
		case publicRoutes[key]:
			if r.Scope != Public {
				t.Errorf("%s is in publicRoutes but its scope is %d", key, r.Scope)
			}
		case r.Perm.Obj == "" || r.Perm.Act == "":
			t.Errorf("%s has no permission", key)
		case r.Scope == Public:
			t.Errorf("%s is Public but not in the explicit publicRoutes list", key)
		}
		served++
	}
	if served < len(table) {
		t.Errorf("Fiber serves %d routes, fewer than the table's %d", served, len(table))
	}
	for key := range publicRoutes {
		if r, ok := table[key]; !ok || r.Scope != Public {
			t.Errorf("publicRoutes lists %s, which is not a Public route of the table", key)
		}
	}
}

// TestRoutePermissionsExistInPolicy catches a typo in a route's permission,
// which would otherwise silently deny everyone.
func TestRoutePermissionsExistInPolicy(t *testing.T) {
	h := newHarness(t)
	tenant, platform := authz.Permissions("t:*"), authz.Permissions(authz.Platform)
	if len(tenant) == 0 || len(platform) == 0 {
		t.Fatalf("policy has %d tenant and %d platform permissions", len(tenant), len(platform))
	}
	for _, r := range h.srv.Routes() {
		key := r.Method + " " + r.Path
		switch r.Scope {
		case Tenant:
			if !tenant[r.Perm] {
				t.Errorf("%s: permission %s is granted to no tenant role", key, r.Perm)
			}
		case Platform:
			if !platform[r.Perm] {
				t.Errorf("%s: permission %s is granted to no staff role", key, r.Perm)
			}
		case Key:
			if !tenant[r.Perm] && !platform[r.Perm] {
				t.Errorf("%s: permission %s is granted to no role", key, r.Perm)
			}
		case User:
			if r.Perm != PermSelf {
				t.Errorf("%s: user routes carry PermSelf, got %s", key, r.Perm)
			}
		case Public:
			if r.Perm != (authz.Perm{}) {
				t.Errorf("%s: public route with permission %s (is its scope wrong?)", key, r.Perm)
			}
		}
	}
}

// TestRoutePermissionsAreNamed: every tenant and platform route carries one
// of authz's named permissions (which TestNamedPermissionsMatchThePolicy
// keeps equal to policy.csv), never a Perm written out on its own.
func TestRoutePermissionsAreNamed(t *testing.T) {
	h := newHarness(t)
	named := map[authz.Perm]bool{}
	for _, p := range authz.Named {
		named[p] = true
	}
	for _, r := range h.srv.Routes() {
		if (r.Scope == Tenant || r.Scope == Platform || r.Scope == Key) && !named[r.Perm] {
			t.Errorf("%s %s: permission %s is not one of authz.Named", r.Method, r.Path, r.Perm)
		}
	}
}
