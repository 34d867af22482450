package model

import (
	"slices"
	"strings"
	"time"
)

// APIScope is what an API key may do (issue #15). Each scope stands for one
// named permission (app/api maps them); a key never does more than its
// creator's role allows.
type APIScope string

// The API scopes.
const (
	ScopeTokensRead     APIScope = "tokens:read"
	ScopeAppsRead       APIScope = "apps:read"
	ScopeConfigWrite    APIScope = "config:write"
	ScopeReleasesWrite  APIScope = "releases:write"
	ScopeCampaignsWrite APIScope = "campaigns:write"
	ScopeEventsManage   APIScope = "events:manage"
)

// APIScopes lists every scope in the order forms show them.
var APIScopes = []APIScope{ScopeTokensRead, ScopeAppsRead, ScopeConfigWrite, ScopeReleasesWrite, ScopeCampaignsWrite, ScopeEventsManage}

// ValidScope reports whether s is one of APIScopes.
func ValidScope(s string) bool { return slices.Contains(APIScopes, APIScope(s)) }

// APIKey is an API key as stored (never its secret).
type APIKey struct {
	ID       int64
	TenantID int64   // 0: a platform key
	Tenants  []int64 // a platform key's chosen tenants; empty: every tenant
	Name     string
	Prefix   string // the start of the secret, shown to recognize the key
	Scopes   []APIScope
	// ExpiresAt is zero for a key that does not expire.
	ExpiresAt  time.Time
	CreatedBy  int64
	Creator    string
	CreatedAt  time.Time
	RevokedAt  time.Time
	RevokedBy  string
	LastUsedAt time.Time
}

// Platform reports whether the key acts in the platform domain.
func (k APIKey) Platform() bool { return k.TenantID == 0 }

// Has reports whether the key holds scope s.
func (k APIKey) Has(s APIScope) bool { return slices.Contains(k.Scopes, s) }

// Usable reports whether the key may be used at now: not revoked, not expired.
func (k APIKey) Usable(now time.Time) bool {
	return k.RevokedAt.IsZero() && (k.ExpiresAt.IsZero() || now.Before(k.ExpiresAt))
}

// Reaches reports whether the key may act on tenant tid's objects.
func (k APIKey) Reaches(tid int64) bool {
	if tid == 0 {
		return false
	}
	if !k.Platform() {
		return k.TenantID == tid
	}
	return len(k.Tenants) == 0 || slices.Contains(k.Tenants, tid)
}

// Actor is how the key appears in the activity log: its creator's id (so a
// key never approves what its creator may not) and the key's name.
func (k APIKey) Actor(ip string) Actor {
	return Actor{UserID: k.CreatedBy, Label: "API key " + k.Prefix + "… (" + k.Name + ")", IP: ip}
}

// ScopeList is the scopes as stored: space-separated.
func ScopeList(s []APIScope) string {
	parts := make([]string, len(s))
	for i, x := range s {
		parts[i] = string(x)
	}
	return strings.Join(parts, " ")
}
