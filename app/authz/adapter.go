package authz

import (
	"context"
	"strings"

	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"

	mm "github.com/minifleet/minifleet/app/model"
)

// Source is the part of the store the adapter reads (declared here, by its consumer).
type Source interface {
	AllRoleAssignments(ctx context.Context, fn func(userID, tenantID int64, role mm.TenantRole) error) error
	StaffUsers(ctx context.Context) ([]mm.User, error)
}

// adapter is a persist.Adapter over database/sql (through Source): the role
// policy comes from the embedded CSV, grouping rules from SQLite.
type adapter struct {
	ctx context.Context
	src Source
}

func (a *adapter) LoadPolicy(m model.Model) error {
	for _, line := range splitCSV(policyCSV) {
		if err := persist.LoadPolicyArray(line, m); err != nil {
			return err
		}
	}
	err := a.src.AllRoleAssignments(a.ctx, func(userID, tenantID int64, role mm.TenantRole) error {
		return persist.LoadPolicyArray([]string{"g", subject(userID), string(role), TenantDomain(tenantID)}, m)
	})
	if err != nil {
		return err
	}
	staff, err := a.src.StaffUsers(a.ctx)
	if err != nil {
		return err
	}
	for _, u := range staff {
		if err := persist.LoadPolicyArray([]string{"g", subject(u.ID), string(u.StaffRole), Platform}, m); err != nil {
			return err
		}
	}
	return nil
}

func splitCSV(s string) [][]string {
	var out [][]string
	for _, line := range strings.Split(s, "\n") {
		if f := splitLine(line); f != nil {
			out = append(out, f)
		}
	}
	return out
}

func (a *adapter) SavePolicy(model.Model) error { return errReadOnly("SavePolicy") }
func (a *adapter) AddPolicy(string, string, []string) error {
	return errReadOnly("AddPolicy")
}
func (a *adapter) RemovePolicy(string, string, []string) error {
	return errReadOnly("RemovePolicy")
}
func (a *adapter) RemoveFilteredPolicy(string, string, int, ...string) error {
	return errReadOnly("RemoveFilteredPolicy")
}
