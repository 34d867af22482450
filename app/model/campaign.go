package model

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CampaignState is where a campaign — one template shipped to many apps in
// waves — stands.
type CampaignState string

const (
	CampAwaitingApproval CampaignState = "awaiting_approval" // created; an approver (not the creator) must approve the payload set
	CampRunning          CampaignState = "running"           // waves are being planned and driven
	CampPaused           CampaignState = "paused"            // a person paused it: nothing new starts or is submitted
	CampHalted           CampaignState = "halted"            // a wave's rejection rate passed the threshold
	CampWaitingQuota     CampaignState = "waiting_quota"     // the monthly audit quota is spent (85085): the rest waits for the next window
	CampCancelled        CampaignState = "cancelled"         // abandoned; apps not yet submitted were cancelled
	CampDone             CampaignState = "done"              // every app reached an end state
)

// CampaignStates in display order.
var CampaignStates = []CampaignState{CampAwaitingApproval, CampRunning, CampPaused, CampHalted, CampWaitingQuota, CampCancelled, CampDone}

// Active reports whether the engine still owns the campaign's releases.
func (s CampaignState) Active() bool {
	return s == CampRunning || s == CampPaused || s == CampHalted || s == CampWaitingQuota
}

// Ended reports whether nothing can happen to the campaign any more.
func (s CampaignState) Ended() bool { return s == CampCancelled || s == CampDone }

// Release modes: release each app as soon as its audit passes, or all of
// them together at a chosen time.
const (
	ReleaseEach = "each"
	ReleaseAt   = "at"
)

// Reasons an app is left out of a campaign at creation (translation keys
// "campaign.skip.<reason>").
const (
	SkipUnauthorized   = "unauthorized"    // the merchant revoked the platform
	SkipNeedsReauth    = "needs_reauth"    // e.g. an Official Account, or the refresh token was lost
	SkipNoCodePerm     = "no_code_perm"    // permission set 18 not granted
	SkipConfigInvalid  = "config_invalid"  // its config does not validate against the template's schema
	SkipContentRisky   = "content_risky"   // WeChat's content check found an image or text of its config risky
	SkipAuditInFlight  = "audit_in_flight" // a release of the app is in review
	SkipOpenRelease    = "open_release"    // a release of the app is being prepared
	SkipAlreadyCurrent = "already_current" // the app already runs this template and version
)

// CampaignTarget is one app a campaign ships to, with the hash of the
// ext_json rendered for it when the campaign was created.
type CampaignTarget struct {
	AppID    string
	TenantID int64
	ExtHash  string
}

// ExtHash is the hash an approval binds for one app's ext_json string.
func ExtHash(extJSON string) string {
	sum := sha256.Sum256([]byte(extJSON))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// CampaignSetHash is the hash of a campaign's payload set: the template,
// version and description, and each target's appid with its ext_json hash,
// in appid order. The approval is bound to it.
func CampaignSetHash(templateID int64, userVersion, userDesc string, targets []CampaignTarget) string {
	ts := slices.Clone(targets)
	slices.SortFunc(ts, func(a, b CampaignTarget) int { return strings.Compare(a.AppID, b.AppID) })
	h := sha256.New()
	fmt.Fprintf(h, "minifleet/campaign-set/v1\n%d\n%q\n%q\n", templateID, userVersion, userDesc)
	for _, t := range ts {
		fmt.Fprintf(h, "%s %s\n", t.AppID, t.ExtHash)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// CampaignSettings are the knobs chosen at creation.
type CampaignSettings struct {
	CanarySize  int     // apps in the first wave, which must be decided before the next starts
	WaveMax     int     // most apps per later wave (the quota left may make it smaller)
	Concurrency int     // apps driven through commit → submit at once
	HaltRate    float64 // halt when a wave's rejected / decided passes this (0..1)
	ReleaseMode string  // ReleaseEach or ReleaseAt
	ReleaseAt   time.Time
	GrayPercent int // 0: full release; 1..100: a phased release to this share
}

// Limits of the settings.
const (
	MaxCanarySize  = 50
	MaxWaveSize    = 1000
	MaxConcurrency = 200
)

// Check validates the settings; errors name the field.
func (s CampaignSettings) Check(now time.Time) error {
	switch {
	case s.CanarySize < 1 || s.CanarySize > MaxCanarySize:
		return FieldError("canary_size", "campaign.err.canary_size")
	case s.WaveMax < 1 || s.WaveMax > MaxWaveSize:
		return FieldError("wave_max", "campaign.err.wave_max")
	case s.Concurrency < 1 || s.Concurrency > MaxConcurrency:
		return FieldError("concurrency", "campaign.err.concurrency")
	case s.HaltRate <= 0 || s.HaltRate > 1:
		return FieldError("halt_rate", "campaign.err.halt_rate")
	case s.ReleaseMode != ReleaseEach && s.ReleaseMode != ReleaseAt:
		return FieldError("release_mode", "campaign.err.release_mode")
	case s.ReleaseMode == ReleaseAt && !s.ReleaseAt.After(now):
		return FieldError("release_at", "campaign.err.release_at")
	case s.GrayPercent < 0 || s.GrayPercent > 100:
		return FieldError("gray_percent", "campaign.err.gray_percent")
	}
	return nil
}

// Campaign ships one template version to many apps.
type Campaign struct {
	ID          int64
	TenantID    int64 // 0: a staff campaign across tenants
	Name        string
	TemplateID  int64
	UserVersion string
	UserDesc    string
	Filter      string // the target filter as the creator chose it, for the record
	CampaignSettings
	State        CampaignState
	Seq          int64
	SetHash      string
	CreatorID    int64
	Creator      string
	ApproverID   int64
	Approver     string
	ApprovedHash string
	ApprovedAt   time.Time
	Wave         int    // the newest wave planned; 0 before the canary
	Notice       string // translation key of the latest notice ("" none)
	NoticeData   string // its data: "key=value;…"
	ResumeAt     time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
	FinishedAt   time.Time
}

// Approved reports whether the campaign carries an approval for exactly
// its payload set by someone other than its creator.
func (c Campaign) Approved() bool {
	return c.ApproverID != 0 && c.ApproverID != c.CreatorID && c.ApprovedHash != "" && c.ApprovedHash == c.SetHash
}

// CampaignAction is a person's decision about a campaign.
type CampaignAction string

const (
	CampActApprove CampaignAction = "approve"
	CampActPause   CampaignAction = "pause"
	CampActResume  CampaignAction = "resume"
	CampActCancel  CampaignAction = "cancel"
)

// campaignMoves is the state machine for people's actions; the engine's
// own moves (halt, waiting_quota, done) are checked by the store.
var campaignMoves = map[CampaignAction]map[CampaignState]CampaignState{
	CampActApprove: {CampAwaitingApproval: CampRunning},
	CampActPause:   {CampRunning: CampPaused, CampWaitingQuota: CampPaused},
	CampActResume:  {CampPaused: CampRunning, CampHalted: CampRunning},
	CampActCancel: {CampAwaitingApproval: CampCancelled, CampRunning: CampCancelled, CampPaused: CampCancelled,
		CampHalted: CampCancelled, CampWaitingQuota: CampCancelled},
}

// NextCampaignState returns where action leads from s, or a conflict.
func NextCampaignState(s CampaignState, a CampaignAction) (CampaignState, error) {
	if to, ok := campaignMoves[a][s]; ok {
		return to, nil
	}
	return "", &Error{Code: CodeConflict, Key: "campaign.err.illegal", Data: map[string]any{"State": string(s), "Action": string(a)}}
}

// Actions returns the actions legal from s, in a fixed order.
func (s CampaignState) Actions() []CampaignAction {
	var out []CampaignAction
	for _, a := range []CampaignAction{CampActApprove, CampActPause, CampActResume, CampActCancel} {
		if _, ok := campaignMoves[a][s]; ok {
			out = append(out, a)
		}
	}
	return out
}

// CheckApproval applies the two-person rule and binds the approval to the
// set hash the approver was shown.
func (c Campaign) CheckApproval(approverID int64, shownHash string) error {
	if approverID == 0 || approverID == c.CreatorID {
		return Errorf(CodeForbidden, "campaign.err.creator_cannot_approve")
	}
	if shownHash == "" || shownHash != c.SetHash {
		return Errorf(CodeConflict, "campaign.err.set_changed")
	}
	return nil
}

// CampaignAppState is what the campaign itself records about one target;
// where a started app stands comes from its release.
type CampaignAppState string

const (
	CAQueued    CampaignAppState = "queued"    // waiting for its wave
	CAStarted   CampaignAppState = "started"   // its release exists (campaign_id on the release)
	CASkipped   CampaignAppState = "skipped"   // left out at creation or at start, with a reason
	CADropped   CampaignAppState = "dropped"   // its payload changed after the approval: it needs its own approval
	CADeferred  CampaignAppState = "deferred"  // moved to the next quota window (85085)
	CACancelled CampaignAppState = "cancelled" // the campaign was cancelled before it started
)

// Phase is where one app of a campaign stands, for counts and the report.
type Phase string

const (
	PhQueued    Phase = "queued"
	PhPreparing Phase = "preparing" // draft … preflight: commit, privacy scan, checks
	PhAwaiting  Phase = "awaiting"  // preflight passed, not yet submitted
	PhInReview  Phase = "in_review" // submitting, auditing, delayed
	PhApproved  Phase = "approved"  // audit passed, not released
	PhReleased  Phase = "released"  // live (or in a phased release)
	PhRejected  Phase = "rejected"
	PhFailed    Phase = "failed" // a WeChat call failed; the errcode says what to do
	PhSkipped   Phase = "skipped"
	PhDropped   Phase = "dropped"
	PhDeferred  Phase = "deferred"
	PhCancelled Phase = "cancelled"
)

// Phases in display order.
var Phases = []Phase{PhQueued, PhPreparing, PhAwaiting, PhInReview, PhApproved, PhReleased,
	PhRejected, PhFailed, PhDeferred, PhDropped, PhSkipped, PhCancelled}

// PhaseOf derives an app's phase from the campaign's record of it and its
// release's state (relState "" when it has none).
func PhaseOf(s CampaignAppState, relState ReleaseState) Phase {
	switch s {
	case CAQueued:
		return PhQueued
	case CASkipped:
		return PhSkipped
	case CADropped:
		return PhDropped
	case CADeferred:
		return PhDeferred
	case CACancelled:
		return PhCancelled
	}
	switch relState {
	case RelDraft, RelCommitting, RelCommitted, RelPrivacyScan, RelPreflight:
		return PhPreparing
	case RelAwaitingApproval:
		return PhAwaiting
	case RelSubmitting, RelAuditing, RelDelayed:
		return PhInReview
	case RelApproved, RelReleasing, RelReleaseFailed:
		return PhApproved
	case RelReleased, RelGray, RelRollingBack, RelRolledBack, RelRollbackFailed:
		return PhReleased
	case RelRejected, RelWithdrawn:
		return PhRejected
	case RelCancelled:
		return PhCancelled
	case RelCommitFailed, RelPreflightFailed, RelSubmitFailed:
		return PhFailed
	}
	return PhQueued
}

// Settled reports whether an app in phase p needs nothing more from the
// campaign: a campaign whose apps are all settled is done.
func (p Phase) Settled() bool {
	switch p {
	case PhReleased, PhRejected, PhSkipped, PhDropped, PhCancelled:
		return true
	}
	return false
}

// Decided reports whether the audit of an app in phase p has an outcome.
func (p Phase) Decided() bool { return p == PhApproved || p == PhReleased || p == PhRejected }

// RetryVerb is what a campaign does about an app whose release failed.
type RetryVerb string

const (
	RetryLater    RetryVerb = "retry"      // -1, 45009, no answer: send the same call again after a backoff
	RetryWaitScan RetryVerb = "wait_scan"  // 61039: the privacy scan runs; check again later, never re-commit
	RetryWaitAud  RetryVerb = "wait_audit" // 85009: an audit is in flight; submit again once it ends
	RetryDefer    RetryVerb = "defer"      // 85085: the monthly quota is spent; the rest moves to the next window
	RetryStop     RetryVerb = "stop"       // a person must act (the errcode's action says how)
)

// RetryPolicy maps a campaign app's failure to what the engine does next,
// with the backoff before the attempt-th retry (1-based). Base is the
// first delay for transient errors; waits use their own.
type RetryPolicy struct {
	Base        time.Duration // -1 / no answer: first backoff, doubled per attempt
	QuotaBase   time.Duration // 45009 (daily API quota): first backoff
	ScanWait    time.Duration // 61039
	AuditWait   time.Duration // 85009
	Max         time.Duration // backoff cap
	MaxAttempts int           // retries before an app is left failed
}

// DefaultRetryPolicy is the production policy.
var DefaultRetryPolicy = RetryPolicy{Base: 30 * time.Second, QuotaBase: 30 * time.Minute, ScanWait: time.Minute,
	AuditWait: 10 * time.Minute, Max: 6 * time.Hour, MaxAttempts: 8}

// Decide returns the verb for errcode and, for the retrying verbs, the
// delay before the attempt-th retry; past MaxAttempts a retry becomes Stop.
func (p RetryPolicy) Decide(errcode, attempt int) (RetryVerb, time.Duration) {
	var v RetryVerb
	var base time.Duration
	switch errcode {
	case 0, -1:
		v, base = RetryLater, p.Base
	case 45009:
		v, base = RetryLater, p.QuotaBase
	case 61039:
		v, base = RetryWaitScan, p.ScanWait
	case 85009:
		v, base = RetryWaitAud, p.AuditWait
	case 85085:
		return RetryDefer, 0
	default:
		if ErrActionFor(errcode).Retry {
			v, base = RetryLater, p.Base
		} else {
			return RetryStop, 0
		}
	}
	if attempt > p.MaxAttempts {
		return RetryStop, 0
	}
	d := base
	for i := 1; i < attempt && d < p.Max; i++ {
		d *= 2
	}
	return v, min(d, p.Max)
}

// NextQuotaWindow is when WeChat's monthly audit quota resets after now:
// the first day of the next month, China time.
func NextQuotaWindow(now time.Time) time.Time {
	cst := time.FixedZone("CST", 8*3600)
	t := now.In(cst)
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, cst).AddDate(0, 1, 0)
}

// WavePlan is the input to planning the next wave.
type WavePlan struct {
	Wave        int // the wave being planned, 1 = canary
	Queued      int // apps not started yet
	QuotaRest   int // queryquota rest this month
	Unsubmitted int // apps already started that will still spend quota
	Settings    CampaignSettings
}

// PlanWave returns how many apps the next wave starts: the canary size for
// wave 1, else WaveMax; never more than the quota left after the apps
// already started have spent theirs, so the campaign never exceeds it.
func PlanWave(p WavePlan) int {
	n := p.Settings.WaveMax
	if p.Wave <= 1 {
		n = p.Settings.CanarySize
	}
	n = min(n, p.Queued, p.QuotaRest-p.Unsubmitted)
	return max(n, 0)
}

// WaveVerdict says whether a wave's rejection rate halts the campaign.
// decided counts approved + released + rejected apps of the wave; a verdict
// needs the whole wave decided, or at least 5 decided apps in a larger one.
func WaveVerdict(size, decided, rejected int, haltRate float64) (halt bool, rate float64) {
	if decided == 0 || (decided < size && decided < 5) {
		return false, 0
	}
	rate = float64(rejected) / float64(decided)
	return rate > haltRate, rate
}

// NoticeData encodes a notice's data for storage: "k=v;k=v" in key order.
func NoticeData(m map[string]any) string {
	var b strings.Builder
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(k + "=" + fmt.Sprint(m[k]))
	}
	return b.String()
}

// ParseNoticeData decodes NoticeData's output.
func ParseNoticeData(s string) map[string]any {
	out := map[string]any{}
	for _, kv := range strings.Split(s, ";") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		if n, err := strconv.Atoi(v); err == nil {
			out[k] = n
		} else {
			out[k] = v
		}
	}
	return out
}
