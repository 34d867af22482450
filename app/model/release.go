package model

import (
	"fmt"
	"slices"
	"time"
)

// ReleaseState is where one release of one app stands in the pipeline
// commit → privacy scan → preflight → approval → audit → release.
type ReleaseState string

const (
	RelDraft            ReleaseState = "draft"             // payload being prepared; nothing sent
	RelCommitting       ReleaseState = "committing"        // wxa/commit in flight
	RelCommitted        ReleaseState = "committed"         // trial version exists (experience QR)
	RelPrivacyScan      ReleaseState = "privacy_scan"      // polling get_code_privacy_info (61039 = not yet)
	RelPreflight        ReleaseState = "preflight"         // category, privacy guideline, domains, pages
	RelAwaitingApproval ReleaseState = "awaiting_approval" // an approver (not the preparer) must submit
	RelSubmitting       ReleaseState = "submitting"        // submit_audit in flight
	RelAuditing         ReleaseState = "auditing"          // auditid known, WeChat reviewing
	RelApproved         ReleaseState = "approved"          // audit passed, not released
	RelRejected         ReleaseState = "rejected"          // audit failed: reason and screenshots
	RelDelayed          ReleaseState = "delayed"           // review takes longer; a result still comes
	RelWithdrawn        ReleaseState = "withdrawn"         // undocodeaudit
	RelReleasing        ReleaseState = "releasing"         // wxa/release in flight
	RelReleased         ReleaseState = "released"          // live
	RelGray             ReleaseState = "gray"              // phased release running (grayrelease)
	RelRollingBack      ReleaseState = "rolling_back"      // revertcoderelease in flight
	RelRolledBack       ReleaseState = "rolled_back"       // the previous version is live again
	RelCancelled        ReleaseState = "cancelled"         // abandoned before release

	// Failed states: a WeChat call failed; ErrActionFor(errcode) says what to do next.
	RelCommitFailed    ReleaseState = "commit_failed"
	RelPreflightFailed ReleaseState = "preflight_failed"
	RelSubmitFailed    ReleaseState = "submit_failed"
	RelReleaseFailed   ReleaseState = "release_failed"
	RelRollbackFailed  ReleaseState = "rollback_failed"
)

// ReleaseStates lists every state in pipeline order.
var ReleaseStates = []ReleaseState{
	RelDraft, RelCommitting, RelCommitted, RelPrivacyScan, RelPreflight, RelAwaitingApproval,
	RelSubmitting, RelAuditing, RelApproved, RelRejected, RelDelayed, RelWithdrawn,
	RelReleasing, RelReleased, RelGray, RelRollingBack, RelRolledBack, RelCancelled,
	RelCommitFailed, RelPreflightFailed, RelSubmitFailed, RelReleaseFailed, RelRollbackFailed,
}

// Valid reports whether s is a known state.
func (s ReleaseState) Valid() bool { return slices.Contains(ReleaseStates, s) }

// Terminal reports whether nothing can happen to the release any more.
func (s ReleaseState) Terminal() bool { return s == RelRolledBack || s == RelCancelled }

// Failed reports whether s is one of the failed states.
func (s ReleaseState) Failed() bool {
	switch s {
	case RelCommitFailed, RelPreflightFailed, RelSubmitFailed, RelReleaseFailed, RelRollbackFailed:
		return true
	}
	return false
}

// InFlight reports whether a WeChat call may have been sent without its
// outcome being recorded. After a restart these states must be reconciled
// with WeChat (get_page, get_latest_auditstatus …), never blindly re-sent.
func (s ReleaseState) InFlight() bool {
	switch s {
	case RelCommitting, RelSubmitting, RelReleasing, RelRollingBack:
		return true
	}
	return false
}

// Open reports whether the release still occupies its app: only one open
// release per app, since WeChat keeps one trial version and one audit per app.
func (s ReleaseState) Open() bool {
	switch s {
	case RelReleased, RelRolledBack, RelCancelled, RelRollingBack, RelRollbackFailed:
		return false
	}
	return true
}

// ReleaseEvent is what happens to a release: a user's click, a push, a
// poll result or the outcome of a WeChat call.
type ReleaseEvent string

const (
	EvCreate       ReleaseEvent = "create"       // recorded once; not in the table
	EvAmend        ReleaseEvent = "amend"        // payload edited (voids approval)
	EvCommit       ReleaseEvent = "commit"       // user: send wxa/commit
	EvCommitOK     ReleaseEvent = "commit_ok"    // commit returned 0
	EvCommitFail   ReleaseEvent = "commit_fail"  // commit returned an errcode
	EvScan         ReleaseEvent = "scan"         // start polling the privacy scan
	EvScanDone     ReleaseEvent = "scan_done"    // get_code_privacy_info answered
	EvScanFail     ReleaseEvent = "scan_fail"    // it failed with something other than 61039
	EvPreflightOK  ReleaseEvent = "preflight_ok" // every check passed
	EvPreflightErr ReleaseEvent = "preflight_fail"
	EvRecheck      ReleaseEvent = "recheck"   // user: run preflight again
	EvApprove      ReleaseEvent = "approve"   // approver: submit for audit
	EvSubmitOK     ReleaseEvent = "submit_ok" // auditid received
	EvSubmitFail   ReleaseEvent = "submit_fail"
	EvAuditPass    ReleaseEvent = "audit_pass"  // push weapp_audit_success or poll status 0
	EvAuditFail    ReleaseEvent = "audit_fail"  // push weapp_audit_fail or poll status 1
	EvAuditDelay   ReleaseEvent = "audit_delay" // push weapp_audit_delay or poll status 4
	EvUndo         ReleaseEvent = "undo"        // undocodeaudit, or poll status 3
	EvSpeedUp      ReleaseEvent = "speed_up"    // speedupaudit; state unchanged
	EvRelease      ReleaseEvent = "release"     // user: wxa/release
	EvReleaseOK    ReleaseEvent = "release_ok"
	EvReleaseFail  ReleaseEvent = "release_fail"
	EvGray         ReleaseEvent = "gray"        // user: grayrelease to a higher percentage
	EvGrayRevert   ReleaseEvent = "gray_revert" // user: revertgrayrelease
	EvGrayDone     ReleaseEvent = "gray_done"   // getgrayreleaseplan says done: fully live
	EvRollback     ReleaseEvent = "rollback"    // user: revertcoderelease
	EvRollbackOK   ReleaseEvent = "rollback_ok"
	EvRollbackFail ReleaseEvent = "rollback_fail"
	EvDismiss      ReleaseEvent = "dismiss" // user: give up retrying a failed release/rollback
	EvEdit         ReleaseEvent = "edit"    // user: back to draft for a new commit
	EvCancel       ReleaseEvent = "cancel"  // user: abandon
)

// ReleaseEvents lists every event that the transition table uses.
var ReleaseEvents = []ReleaseEvent{
	EvAmend, EvCommit, EvCommitOK, EvCommitFail, EvScan, EvScanDone, EvScanFail,
	EvPreflightOK, EvPreflightErr, EvRecheck, EvApprove, EvSubmitOK, EvSubmitFail,
	EvAuditPass, EvAuditFail, EvAuditDelay, EvUndo, EvSpeedUp,
	EvRelease, EvReleaseOK, EvReleaseFail, EvGray, EvGrayRevert, EvGrayDone,
	EvRollback, EvRollbackOK, EvRollbackFail, EvDismiss, EvEdit, EvCancel,
}

// CauseKind says what moved a release.
type CauseKind string

const (
	CauseUser   CauseKind = "user"   // someone clicked
	CausePush   CauseKind = "push"   // WeChat pushed an event
	CausePoll   CauseKind = "poll"   // a status poll found it
	CauseSystem CauseKind = "system" // Minifleet itself (a call's outcome, a reconcile)
)

// Valid reports whether k is a known cause kind.
func (k CauseKind) Valid() bool {
	return k == CauseUser || k == CausePush || k == CausePoll || k == CauseSystem
}

// ReleaseRule is one row of the transition table.
type ReleaseRule struct {
	From  ReleaseState
	Event ReleaseEvent
	To    ReleaseState
}

var (
	userOnly  = []CauseKind{CauseUser}
	outcome   = []CauseKind{CauseSystem}
	observed  = []CauseKind{CausePush, CausePoll, CauseSystem}
	userOrObs = []CauseKind{CauseUser, CausePoll, CauseSystem}
)

// eventCauses says who may fire each event: only people decide; only
// WeChat's answers (a call's outcome, a push, a poll) report outcomes.
var eventCauses = map[ReleaseEvent][]CauseKind{
	EvAmend: userOnly, EvCommit: userOnly, EvRecheck: userOnly, EvApprove: userOnly,
	EvSpeedUp: userOnly, EvRelease: userOnly, EvGray: userOnly, EvGrayRevert: userOnly,
	EvRollback: userOnly, EvDismiss: userOnly, EvEdit: userOnly, EvCancel: userOnly,
	EvCommitOK: outcome, EvCommitFail: outcome, EvScan: outcome, EvSubmitOK: outcome,
	EvSubmitFail: outcome, EvPreflightOK: outcome, EvPreflightErr: outcome,
	EvReleaseOK: outcome, EvReleaseFail: outcome, EvRollbackOK: outcome, EvRollbackFail: outcome,
	EvScanDone: {CausePoll, CauseSystem}, EvScanFail: {CausePoll, CauseSystem},
	EvAuditPass: observed, EvAuditFail: observed, EvAuditDelay: observed,
	EvGrayDone: {CausePoll, CauseSystem},
	// A withdrawal is a click here, or found by a poll when done in WeChat's console.
	EvUndo: userOrObs,
}

// EventCauses returns the cause kinds allowed to fire ev.
func EventCauses(ev ReleaseEvent) []CauseKind { return eventCauses[ev] }

// ReleaseTable is the whole state machine. Anything not listed is illegal.
var ReleaseTable = buildTable(
	// Preparing and committing.
	// Amending the audit choices while awaiting approval (or after a failed
	// submission) sends the release back to preflight: the new choices are
	// checked and any approval is void.
	rules(EvAmend, map[ReleaseState]ReleaseState{RelDraft: RelDraft, RelPreflight: RelPreflight, RelPreflightFailed: RelPreflightFailed,
		RelAwaitingApproval: RelPreflight, RelSubmitFailed: RelPreflight}),
	rules(EvCommit, to(RelCommitting, RelDraft, RelCommitFailed)),
	rules(EvCommitOK, to(RelCommitted, RelCommitting)),
	rules(EvCommitFail, to(RelCommitFailed, RelCommitting)),
	rules(EvScan, to(RelPrivacyScan, RelCommitted)),
	rules(EvScanDone, to(RelPreflight, RelPrivacyScan)),
	rules(EvScanFail, to(RelPreflightFailed, RelPrivacyScan)),
	rules(EvPreflightOK, to(RelAwaitingApproval, RelPreflight)),
	rules(EvPreflightErr, to(RelPreflightFailed, RelPreflight)),
	rules(EvRecheck, to(RelPreflight, RelPreflightFailed, RelAwaitingApproval, RelSubmitFailed, RelRejected, RelWithdrawn)),
	// Approval is the submission: the approver's click sends submit_audit.
	rules(EvApprove, to(RelSubmitting, RelAwaitingApproval, RelSubmitFailed)),
	rules(EvSubmitOK, to(RelAuditing, RelSubmitting)),
	rules(EvSubmitFail, to(RelSubmitFailed, RelSubmitting)),
	// Audit.
	rules(EvAuditPass, to(RelApproved, RelAuditing, RelDelayed)),
	rules(EvAuditFail, to(RelRejected, RelAuditing, RelDelayed)),
	rules(EvAuditDelay, to(RelDelayed, RelAuditing)),
	rules(EvUndo, to(RelWithdrawn, RelAuditing, RelDelayed)),
	rules(EvSpeedUp, map[ReleaseState]ReleaseState{RelAuditing: RelAuditing, RelDelayed: RelDelayed}),
	// Release, gray release, rollback.
	rules(EvRelease, to(RelReleasing, RelApproved, RelGray, RelReleaseFailed)),
	rules(EvReleaseOK, to(RelReleased, RelReleasing)),
	rules(EvReleaseFail, to(RelReleaseFailed, RelReleasing)),
	rules(EvGray, to(RelGray, RelApproved, RelGray)),
	rules(EvGrayRevert, to(RelApproved, RelGray)),
	rules(EvGrayDone, to(RelReleased, RelGray)),
	rules(EvRollback, to(RelRollingBack, RelReleased, RelRollbackFailed)),
	rules(EvRollbackOK, to(RelRolledBack, RelRollingBack)),
	rules(EvRollbackFail, to(RelRollbackFailed, RelRollingBack)),
	rules(EvDismiss, map[ReleaseState]ReleaseState{RelReleaseFailed: RelApproved, RelRollbackFailed: RelReleased}),
	// Going back and giving up.
	rules(EvEdit, to(RelDraft, RelCommitted, RelPrivacyScan, RelPreflight, RelPreflightFailed,
		RelAwaitingApproval, RelCommitFailed, RelSubmitFailed, RelRejected, RelWithdrawn)),
	rules(EvCancel, to(RelCancelled, RelDraft, RelCommitted, RelPrivacyScan, RelPreflight,
		RelPreflightFailed, RelAwaitingApproval, RelCommitFailed, RelSubmitFailed, RelRejected,
		RelWithdrawn, RelApproved, RelReleaseFailed)),
)

func to(dst ReleaseState, from ...ReleaseState) map[ReleaseState]ReleaseState {
	m := make(map[ReleaseState]ReleaseState, len(from))
	for _, f := range from {
		m[f] = dst
	}
	return m
}

func rules(ev ReleaseEvent, m map[ReleaseState]ReleaseState) []ReleaseRule {
	var out []ReleaseRule
	for _, s := range ReleaseStates { // table order follows state order, not map order
		if t, ok := m[s]; ok {
			out = append(out, ReleaseRule{From: s, Event: ev, To: t})
		}
	}
	return out
}

func buildTable(groups ...[]ReleaseRule) []ReleaseRule {
	var out []ReleaseRule
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

type ruleKey struct {
	from ReleaseState
	ev   ReleaseEvent
}

var ruleIndex = func() map[ruleKey]ReleaseState {
	m := make(map[ruleKey]ReleaseState, len(ReleaseTable))
	for _, r := range ReleaseTable {
		k := ruleKey{r.From, r.Event}
		if _, dup := m[k]; dup {
			panic(fmt.Sprintf("model: duplicate release rule %s/%s", r.From, r.Event))
		}
		m[k] = r.To
	}
	return m
}()

// Next returns the state that ev leads to from s, or a coded error: invalid
// for an unknown state or event, conflict for a known but illegal move.
func Next(s ReleaseState, ev ReleaseEvent) (ReleaseState, error) {
	if !s.Valid() {
		return "", &Error{Code: CodeInvalid, Key: "release.err.unknown_state", Data: map[string]any{"State": string(s)}}
	}
	if _, ok := eventCauses[ev]; !ok {
		return "", &Error{Code: CodeInvalid, Key: "release.err.unknown_event", Data: map[string]any{"Event": string(ev)}}
	}
	t, ok := ruleIndex[ruleKey{s, ev}]
	if !ok {
		return "", &Error{Code: CodeConflict, Key: "release.err.illegal",
			Data: map[string]any{"State": string(s), "Event": string(ev)},
			Err:  fmt.Errorf("%s cannot %s", s, ev)}
	}
	return t, nil
}

// Events returns the events legal from s, in table order.
func (s ReleaseState) Events() []ReleaseEvent {
	var out []ReleaseEvent
	for _, r := range ReleaseTable {
		if r.From == s {
			out = append(out, r.Event)
		}
	}
	return out
}

// UserEvents returns the events a person may trigger from s: the buttons
// a release page offers.
func (s ReleaseState) UserEvents() []ReleaseEvent {
	var out []ReleaseEvent
	for _, ev := range s.Events() {
		if slices.Contains(eventCauses[ev], CauseUser) {
			out = append(out, ev)
		}
	}
	return out
}

// Cause says who or what moved a release, plus the facts that event carries.
type Cause struct {
	Kind    CauseKind
	ActorID int64  // the user, for CauseUser
	Actor   string // e-mail, or "wechat", "system"
	Detail  string // free text for the timeline (an errmsg, a push id)
	At      time.Time

	// Seq is the release Seq the actor saw; a mismatch is a conflict, so a
	// double click or a second approver never applies twice. 0 skips the
	// check (pushes and polls re-read the release in the same transaction).
	Seq int64

	SeenHash    string // EvApprove: the payload hash the approver was shown
	AuditID     int64  // EvSubmitOK
	Reason      string // EvAuditFail, EvAuditDelay
	ScreenShots string // EvAuditFail: '|'-separated media ids
	Errcode     int    // the *_fail events
	GrayPercent int    // EvGray: 1..100
	Payload     *ReleasePayload
}

// ReleaseTransition is one recorded move, as stored in release_events.
type ReleaseTransition struct {
	ID        int64
	ReleaseID int64
	TenantID  int64
	Seq       int64
	From      ReleaseState
	Event     ReleaseEvent
	To        ReleaseState
	Cause     CauseKind
	ActorID   int64
	Actor     string
	Detail    string
	Errcode   int
	At        time.Time
}

// Release is one attempt to ship a template with an app's config.
type Release struct {
	ID            int64
	TenantID      int64
	AppID         string
	ConfigVersion int64
	ReleasePayload
	PayloadHash  string
	State        ReleaseState
	Seq          int64 // bumped by every transition; the compare-and-set token
	PreparerID   int64
	Preparer     string
	Amenders     []int64 // everyone else who changed the payload, in order; none of them may approve
	ApproverID   int64
	Approver     string
	ApprovalHash string // PayloadHash at the moment of approval
	ApprovedAt   time.Time
	AuditID      int64
	Reason       string
	ScreenShots  string
	Errcode      int // the last failure's errcode while in a failed state
	GrayPercent  int
	CreatedAt    time.Time
	UpdatedAt    time.Time
	SubmittedAt  time.Time
	DecidedAt    time.Time
	ReleasedAt   time.Time
	CampaignID   int64 // the campaign that made it; 0 for one prepared by hand
}

// NewRelease starts a draft prepared by preparer.
func NewRelease(tenantID int64, appID string, configVersion int64, p ReleasePayload, preparer Actor, now time.Time) (Release, error) {
	if preparer.UserID == 0 {
		return Release{}, Errorf(CodeInvalid, "release.err.no_preparer")
	}
	if err := p.Check(); err != nil {
		return Release{}, err
	}
	return Release{
		TenantID: tenantID, AppID: appID, ConfigVersion: configVersion,
		ReleasePayload: p.normalized(), PayloadHash: PayloadHash(p), State: RelDraft,
		PreparerID: preparer.UserID, Preparer: preparer.Label, CreatedAt: now, UpdatedAt: now,
	}, nil
}

// ErrAction is the next action after the last failure, when there was one.
func (r Release) ErrAction() (ErrAction, bool) {
	if !r.State.Failed() {
		return ErrAction{}, false
	}
	return ErrActionFor(r.Errcode), true
}

// Apply moves r by ev, checking the table, who may cause it, the two-person
// rule and the approval hash, and returns the new release and the row to
// record. It is pure: the store runs it inside its transaction.
func (r Release) Apply(ev ReleaseEvent, c Cause) (Release, ReleaseTransition, error) {
	to, err := Next(r.State, ev)
	if err != nil {
		return r, ReleaseTransition{}, err
	}
	if !slices.Contains(eventCauses[ev], c.Kind) {
		return r, ReleaseTransition{}, &Error{Code: CodeForbidden, Key: "release.err.wrong_cause",
			Data: map[string]any{"Event": string(ev), "Cause": string(c.Kind)}}
	}
	if c.Kind == CauseUser && c.ActorID == 0 {
		return r, ReleaseTransition{}, Errorf(CodeForbidden, "release.err.no_actor")
	}
	if c.Seq != 0 && c.Seq != r.Seq {
		return r, ReleaseTransition{}, &Error{Code: CodeConflict, Key: "release.err.stale",
			Err: fmt.Errorf("release changed: seq %d, caller saw %d", r.Seq, c.Seq)}
	}
	n := r
	switch ev {
	case EvAmend:
		if err := n.amend(c.Payload); err != nil {
			return r, ReleaseTransition{}, err
		}
		// Whoever changes what is approved is its author too (two-person rule).
		if n.PayloadHash != r.PayloadHash && c.ActorID != 0 && c.ActorID != r.PreparerID && !slices.Contains(r.Amenders, c.ActorID) {
			n.Amenders = append(slices.Clone(r.Amenders), c.ActorID)
		}
	case EvApprove:
		if err := n.approve(c); err != nil {
			return r, ReleaseTransition{}, err
		}
	case EvSubmitOK:
		if c.AuditID == 0 {
			return r, ReleaseTransition{}, Errorf(CodeInvalid, "release.err.no_auditid")
		}
		n.AuditID, n.SubmittedAt, n.Reason, n.ScreenShots = c.AuditID, c.At, "", ""
	case EvAuditPass:
		n.DecidedAt = c.At
	case EvAuditFail:
		n.Reason, n.ScreenShots, n.DecidedAt = c.Reason, c.ScreenShots, c.At
	case EvAuditDelay:
		n.Reason = c.Reason
	case EvGray:
		// WeChat's own rules (85081, 85082), checked before the call.
		if c.GrayPercent < 1 || c.GrayPercent > 100 || c.GrayPercent <= r.GrayPercent && r.State == RelGray {
			return r, ReleaseTransition{}, &Error{Code: CodeInvalid, Key: "release.err.gray_percent",
				Data: map[string]any{"Min": r.GrayPercent + 1}}
		}
		n.GrayPercent = c.GrayPercent
	case EvGrayRevert:
		n.GrayPercent = 0
	case EvReleaseOK, EvGrayDone:
		n.ReleasedAt = c.At
	case EvEdit:
		// A new commit will follow: whatever the old submission carried is void.
		n.ApproverID, n.Approver, n.ApprovalHash, n.ApprovedAt = 0, "", "", time.Time{}
		n.AuditID, n.Reason, n.ScreenShots, n.GrayPercent = 0, "", "", 0
	}
	if to.Failed() {
		n.Errcode = c.Errcode
	} else {
		n.Errcode = 0
	}
	n.State, n.Seq, n.UpdatedAt = to, r.Seq+1, c.At
	t := ReleaseTransition{
		ReleaseID: r.ID, TenantID: r.TenantID, Seq: n.Seq, From: r.State, Event: ev, To: to,
		Cause: c.Kind, ActorID: c.ActorID, Actor: c.Actor, Detail: c.Detail, Errcode: c.Errcode, At: c.At,
	}
	return n, t, nil
}
