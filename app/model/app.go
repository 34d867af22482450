package model

import (
	"slices"
	"time"
)

// AppStatus is what the apps views show for an authorizer.
type AppStatus string

const (
	AppPending      AppStatus = "pending"      // announced by a push, code not exchanged yet
	AppAuthorized   AppStatus = "authorized"   // managed
	AppNeedsReauth  AppStatus = "needs_reauth" // authorized, but cannot be managed until re-authorized
	AppUnauthorized AppStatus = "unauthorized" // revoked by the merchant; history kept
)

// AppStatuses in filter order.
var AppStatuses = []AppStatus{AppAuthorized, AppNeedsReauth, AppUnauthorized, AppPending}

// Reasons an app needs re-authorization.
const (
	ReauthMissingCodePerm = "missing_code_perm" // permission set 18 not granted
	ReauthNotMiniProgram  = "not_miniprogram"   // an Official Account authorized by mistake
	ReauthTokenLost       = "token_lost"        // the refresh token no longer works
)

// PermissionSetCodeManagement is the permission set for commit, audit and release.
const PermissionSetCodeManagement = 18

// AppCategory is one of a Mini Program's service categories.
type AppCategory struct {
	First  string `json:"first"`
	Second string `json:"second"`
}

// App is an authorizer as the portal shows it: never its tokens.
type App struct {
	AppID          string
	TenantID       int64 // 0: bound to no tenant
	TenantName     string
	Status         string // authorizers.status: pending, authorized, unauthorized
	Nickname       string
	HeadImg        string
	UserName       string // gh_…
	PrincipalName  string
	AccountKind    string // miniprogram, official_account, "" unknown
	ServiceType    int
	VerifyType     int
	AccountStatus  int
	PermissionSets []int
	Categories     []AppCategory
	Domains        map[string][]string
	ReauthReason   string
	TokenState     string // fresh, refreshing, failing, needs_reauth
	HasRefresh     bool
	AccessExpires  time.Time
	LastTokenError string
	AuthorizedAt   time.Time
	UnauthorizedAt time.Time
	BoundAt        time.Time
	InfoAt         time.Time
	ReconciledAt   time.Time
	UpdatedAt      time.Time
	// ReleasedVersion and AuditState are filled by the release work later.
	ReleasedVersion string
	AuditState      string
}

// DisplayStatus folds the authorization state and the problems into one badge.
func (a App) DisplayStatus() AppStatus {
	switch a.Status {
	case "unauthorized":
		return AppUnauthorized
	case "pending":
		return AppPending
	}
	if a.ReauthReason != "" || a.TokenState == "needs_reauth" {
		return AppNeedsReauth
	}
	return AppAuthorized
}

// Reason is the re-authorization reason, including a lost token.
func (a App) Reason() string {
	if a.ReauthReason != "" {
		return a.ReauthReason
	}
	if a.Status == "authorized" && a.TokenState == "needs_reauth" {
		return ReauthTokenLost
	}
	return ""
}

// HasPermissionSet reports whether set id was granted.
func (a App) HasPermissionSet(id int) bool { return slices.Contains(a.PermissionSets, id) }

// IsMiniProgram reports whether the account is known to be a Mini Program.
func (a App) IsMiniProgram() bool { return a.AccountKind == "miniprogram" }

// AttemptState is the state of one authorization attempt.
type AttemptState string

const (
	AttemptPending    AttemptState = "pending"
	AttemptExchanging AttemptState = "exchanging"
	AttemptRetrying   AttemptState = "retrying"
	AttemptBound      AttemptState = "bound"
	AttemptRefused    AttemptState = "refused"
	AttemptFailed     AttemptState = "failed"
	AttemptCancelled  AttemptState = "cancelled"
	AttemptExpired    AttemptState = "expired" // computed: pending past its expiry
)

// AuthAttempt is one "Authorize a Mini Program" click. The pre_auth_code is
// only filled by store methods that open it for its creator.
type AuthAttempt struct {
	ID          int64
	TenantID    int64
	UserID      int64
	PreAuthCode string
	BizAppID    string
	CreatedAt   time.Time
	ExpiresAt   time.Time
	State       AttemptState
	AppID       string
	Error       string // translation key
	Tries       int
	NextTryAt   time.Time
	UpdatedAt   time.Time
	// CallbackState is the attempt's redirect state in the clear: set only
	// on the value CreateAttempt returns (the store keeps its SHA-256) and
	// by the web layer from the session that started the attempt.
	CallbackState string
}

// Effective is the state with expiry applied.
func (a AuthAttempt) Effective(now time.Time) AttemptState {
	if a.State == AttemptPending && !now.Before(a.ExpiresAt) {
		return AttemptExpired
	}
	return a.State
}

// Open reports whether the attempt may still complete.
func (a AuthAttempt) Open(now time.Time) bool {
	s := a.Effective(now)
	return s == AttemptPending || s == AttemptExchanging || s == AttemptRetrying
}

// AppConflict is an app one tenant authorized while another holds it.
type AppConflict struct {
	ID               int64
	AppID            string
	Nickname         string
	OwnerTenantID    int64
	OwnerTenant      string
	ClaimantTenantID int64
	ClaimantTenant   string
	AttemptID        int64
	CreatedAt        time.Time
	ResolvedAt       time.Time
	Resolution       string
}

// ReconcileRun is one pass over api_get_authorizer_list.
type ReconcileRun struct {
	ID           int64
	StartedAt    time.Time
	FinishedAt   time.Time
	Trigger      string
	Listed       int
	Backfilled   int
	Unauthorized int
	Unbound      int
	Error        string
}
