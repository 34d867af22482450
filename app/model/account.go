package model

import (
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// TenantRole is a member's role inside one tenant.
type TenantRole string

const (
	RoleOwner     TenantRole = "owner"     // everything in the tenant, members included
	RoleDeveloper TenantRole = "developer" // edits app config, prepares releases
	RoleApprover  TenantRole = "approver"  // submits audits, releases
	RoleViewer    TenantRole = "viewer"    // reads
)

// TenantRoles in display order.
var TenantRoles = []TenantRole{RoleOwner, RoleDeveloper, RoleApprover, RoleViewer}

// Valid reports whether r is a known tenant role.
func (r TenantRole) Valid() bool { return slices.Contains(TenantRoles, r) }

// StaffRole is a platform staff member's role.
type StaffRole string

const (
	StaffNone     StaffRole = ""
	StaffAdmin    StaffRole = "admin"    // everything, staff included
	StaffOperator StaffRole = "operator" // manages tenants and apps
	StaffApprover StaffRole = "approver" // approves submissions
	StaffSupport  StaffRole = "support"  // reads everything, changes nothing
)

// StaffRoles in display order.
var StaffRoles = []StaffRole{StaffAdmin, StaffOperator, StaffApprover, StaffSupport}

// Valid reports whether r is a known staff role (not none).
func (r StaffRole) Valid() bool { return slices.Contains(StaffRoles, r) }

// TenantStatus is active or suspended; a suspended tenant's members cannot act in it.
type TenantStatus string

const (
	TenantActive    TenantStatus = "active"
	TenantSuspended TenantStatus = "suspended"
)

// Tenant is one merchant organisation.
type Tenant struct {
	ID        int64
	Name      string
	Status    TenantStatus
	CreatedAt time.Time
	UpdatedAt time.Time
	Members   int // filled by list queries
}

// User is a person who logs in: a merchant member, platform staff, or both.
type User struct {
	ID           int64
	Email        string
	Name         string
	PasswordHash string
	Locale       string
	TimeZone     string
	StaffRole    StaffRole
	CreatedAt    time.Time
	SessionEpoch int64 // sessions from an older epoch are signed out
}

// IsStaff reports whether u has a platform role.
func (u User) IsStaff() bool { return u.StaffRole != StaffNone }

// Membership is a user's role in a tenant.
type Membership struct {
	TenantID     int64
	TenantName   string
	TenantStatus TenantStatus
	UserID       int64
	UserEmail    string
	UserName     string
	Role         TenantRole
	CreatedAt    time.Time
}

// Invite is a one-time link to join a tenant with a role.
type Invite struct {
	ID         int64
	TenantID   int64
	Role       TenantRole
	Note       string
	CreatedBy  int64
	CreatedAt  time.Time
	ExpiresAt  time.Time
	AcceptedBy int64
	AcceptedAt time.Time
	RevokedAt  time.Time
}

// InviteState says whether an invite can still be used.
func (i Invite) State(now time.Time) string {
	switch {
	case !i.AcceptedAt.IsZero():
		return "accepted"
	case !i.RevokedAt.IsZero():
		return "revoked"
	case now.After(i.ExpiresAt):
		return "expired"
	}
	return "pending"
}

// Activity is one immutable audit-log row.
type Activity struct {
	ID         int64
	At         time.Time
	TenantID   int64
	TenantName string // filled by ListActivity
	ActorID    int64
	Actor      string
	Action     string
	Object     string
	Detail     string
	IP         string
}

// Limits on user input.
const (
	MinPasswordLen = 10
	MaxPasswordLen = 128
	MaxNameLen     = 64
)

// NormalizeEmail trims and lower-cases an address.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ValidateEmail checks an address and returns a field error key or "".
func ValidateEmail(s string) string {
	if s == "" {
		return "form.required"
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > 254 {
		return "form.email_invalid"
	}
	return ""
}

// ValidatePassword returns a field error key or "".
func ValidatePassword(s string) string {
	switch n := utf8.RuneCountInString(s); {
	case n == 0:
		return "form.required"
	case n < MinPasswordLen:
		return "form.password_short"
	case n > MaxPasswordLen:
		return "form.password_long"
	}
	return ""
}

// ValidateName checks a person's or tenant's display name.
func ValidateName(s string) string {
	switch n := utf8.RuneCountInString(strings.TrimSpace(s)); {
	case n == 0:
		return "form.required"
	case n > MaxNameLen:
		return "form.too_long"
	}
	return ""
}

// Actor says who caused a change, for the activity log.
type Actor struct {
	UserID int64
	Label  string // e-mail, or "wechat", "system"
	IP     string
}

// SystemActor is used for changes made by Minifleet itself.
var SystemActor = Actor{Label: "system"}

// Approvals says who approves a tenant's releases: its own approvers, or
// the provider's staff approvers (a tenant setting the owner chooses).
type Approvals string

const (
	ApprovalsTenant Approvals = "tenant"
	ApprovalsStaff  Approvals = "staff"
)

// Valid reports whether a is one of the two choices.
func (a Approvals) Valid() bool { return a == ApprovalsTenant || a == ApprovalsStaff }
