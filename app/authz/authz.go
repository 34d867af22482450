// Package authz decides who may do what, with Casbin RBAC over domains:
// "platform" for staff and "t:<id>" for each tenant. The role policy is
// embedded; user→role assignments live in SQLite (memberships.role and
// users.staff_role, written by the store in the same transaction as the
// activity log) and reach Casbin through a database/sql adapter.
package authz

import (
	"context"
	_ "embed"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/casbin/casbin/v2"
	cmodel "github.com/casbin/casbin/v2/model"

	"github.com/minifleet/minifleet/app/model"
)

//go:embed model.conf
var modelConf string

//go:embed policy.csv
var policyCSV string

// Platform is the staff domain.
const Platform = "platform"

// TenantDomain names a tenant's domain.
func TenantDomain(id int64) string { return "t:" + strconv.FormatInt(id, 10) }

func subject(userID int64) string { return "u:" + strconv.FormatInt(userID, 10) }

// Perm is an object and an action, e.g. {"members", "write"}.
type Perm struct{ Obj, Act string }

func (p Perm) String() string { return p.Obj + ":" + p.Act }

// Authorizer wraps a synced Casbin enforcer (handlers run concurrently).
type Authorizer struct {
	e *casbin.SyncedEnforcer

	// Decisions are remembered until the next role change: Casbin evaluates
	// its matcher over every policy line (~0.3 ms a call on the dev box, and
	// a staff page asks three or four times). Every role change goes through
	// this type (SetTenantRole, SetStaffRole, Reload), which forgets them all.
	mu    sync.RWMutex
	gen   uint64
	known map[decision]bool
}

type decision struct {
	user     int64
	domain   string
	obj, act string
}

// maxDecisions bounds the remembered decisions; past it they are forgotten
// together (a cheap bound that never serves a stale answer).
const maxDecisions = 100_000

// New loads the model, the embedded policy and every assignment from src.
func New(ctx context.Context, src Source) (*Authorizer, error) {
	m, err := cmodel.NewModelFromString(modelConf)
	if err != nil {
		return nil, err
	}
	e, err := casbin.NewSyncedEnforcer(m, &adapter{ctx: ctx, src: src})
	if err != nil {
		return nil, err
	}
	// Assignments are written by the store inside its transactions; the
	// enforcer only mirrors them in memory.
	e.EnableAutoSave(false)
	return &Authorizer{e: e}, nil
}

// Can reports whether userID may do p in domain.
func (a *Authorizer) Can(userID int64, domain string, p Perm) bool {
	d := decision{userID, domain, p.Obj, p.Act}
	a.mu.RLock()
	ok, hit := a.known[d]
	gen := a.gen
	a.mu.RUnlock()
	if hit {
		return ok
	}
	ok, err := a.e.Enforce(subject(userID), domain, p.Obj, p.Act)
	ok = err == nil && ok
	a.mu.Lock()
	// Remember it only if no role changed while Casbin was asked: a change
	// bumps gen after it is applied, so an answer from before it is dropped.
	if err == nil && a.gen == gen {
		if a.known == nil || len(a.known) >= maxDecisions {
			a.known = map[decision]bool{}
		}
		a.known[d] = ok
	}
	a.mu.Unlock()
	return ok
}

// forget drops every remembered decision; call it after a role change.
func (a *Authorizer) forget() {
	a.mu.Lock()
	a.gen++
	a.known = nil
	a.mu.Unlock()
}

// Roles returns the user's roles in domain.
func (a *Authorizer) Roles(userID int64, domain string) []string {
	return a.e.GetRolesForUserInDomain(subject(userID), domain)
}

// SetTenantRole mirrors a stored membership (role "" removes it).
func (a *Authorizer) SetTenantRole(userID, tenantID int64, role model.TenantRole) {
	defer a.forget()
	d := TenantDomain(tenantID)
	a.e.DeleteRolesForUserInDomain(subject(userID), d)
	if role != "" {
		a.e.AddRoleForUserInDomain(subject(userID), string(role), d)
	}
}

// SetStaffRole mirrors a stored staff role (StaffNone removes it).
func (a *Authorizer) SetStaffRole(userID int64, role model.StaffRole) {
	defer a.forget()
	a.e.DeleteRolesForUserInDomain(subject(userID), Platform)
	if role != model.StaffNone {
		a.e.AddRoleForUserInDomain(subject(userID), string(role), Platform)
	}
}

// Reload re-reads every assignment from the database.
func (a *Authorizer) Reload() error {
	defer a.forget()
	return a.e.LoadPolicy()
}

// Permissions lists every permission the embedded policy grants in domains
// matching pattern ("t:*" or "platform"), for the route-table test.
func Permissions(pattern string) map[Perm]bool {
	out := map[Perm]bool{}
	for _, line := range strings.Split(policyCSV, "\n") {
		f := splitLine(line)
		if len(f) == 5 && f[0] == "p" && f[2] == pattern {
			out[Perm{f[3], f[4]}] = true
		}
	}
	return out
}

func splitLine(line string) []string {
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "#") {
		return nil
	}
	f := strings.Split(line, ",")
	for i := range f {
		f[i] = strings.TrimSpace(f[i])
	}
	return f
}

func errReadOnly(what string) error {
	return fmt.Errorf("authz: %s: assignments are written by the store, not through Casbin", what)
}
