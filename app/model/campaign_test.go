package model

import (
	"testing"
	"time"
)

func TestPlanWaveAgainstQuota(t *testing.T) {
	s := CampaignSettings{CanarySize: 5, WaveMax: 100}
	cases := []struct {
		name string
		p    WavePlan
		want int
	}{
		{"canary", WavePlan{Wave: 1, Queued: 1000, QuotaRest: 20, Settings: s}, 5},
		{"canary bounded by quota", WavePlan{Wave: 1, Queued: 1000, QuotaRest: 3, Settings: s}, 3},
		{"later wave takes WaveMax", WavePlan{Wave: 2, Queued: 1000, QuotaRest: 500, Settings: s}, 100},
		{"later wave bounded by quota", WavePlan{Wave: 2, Queued: 1000, QuotaRest: 40, Settings: s}, 40},
		{"quota the started apps will still spend is not counted twice", WavePlan{Wave: 3, Queued: 1000, QuotaRest: 40, Unsubmitted: 30, Settings: s}, 10},
		{"started apps spend all the quota left", WavePlan{Wave: 3, Queued: 1000, QuotaRest: 40, Unsubmitted: 40, Settings: s}, 0},
		{"more started than quota: never negative", WavePlan{Wave: 3, Queued: 10, QuotaRest: 5, Unsubmitted: 9, Settings: s}, 0},
		{"the queue ends first", WavePlan{Wave: 2, Queued: 7, QuotaRest: 500, Settings: s}, 7},
		{"quota spent", WavePlan{Wave: 2, Queued: 7, QuotaRest: 0, Settings: s}, 0},
	}
	for _, c := range cases {
		if got := PlanWave(c.p); got != c.want {
			t.Errorf("%s: PlanWave = %d, want %d", c.name, got, c.want)
		}
	}
}

func TestWaveVerdict(t *testing.T) {
	cases := []struct {
		size, decided, rejected int
		halt                    bool
	}{
		{3, 3, 1, true},    // a canary of 3 with one rejection: 33% > 20%
		{3, 2, 2, false},   // not all decided and fewer than 5: wait
		{100, 5, 2, true},  // 40% of 5 decided in a large wave
		{100, 5, 1, false}, // 20% is not past 20%
		{100, 4, 4, false}, // too few decided yet
		{10, 10, 2, false},
		{10, 10, 3, true},
		{1, 0, 0, false},
	}
	for _, c := range cases {
		if halt, _ := WaveVerdict(c.size, c.decided, c.rejected, 0.2); halt != c.halt {
			t.Errorf("WaveVerdict(%d, %d, %d, 0.2) = %v, want %v", c.size, c.decided, c.rejected, halt, c.halt)
		}
	}
}

func TestRetryPolicyPerErrcode(t *testing.T) {
	p := RetryPolicy{Base: 10 * time.Second, QuotaBase: time.Minute, ScanWait: 15 * time.Second, AuditWait: 5 * time.Minute, Max: 5 * time.Minute, MaxAttempts: 4}
	cases := []struct {
		code, attempt int
		verb          RetryVerb
		delay         time.Duration
	}{
		{-1, 1, RetryLater, 10 * time.Second},
		{-1, 2, RetryLater, 20 * time.Second},
		{-1, 4, RetryLater, 80 * time.Second},
		{-1, 5, RetryStop, 0},                // attempts spent
		{0, 1, RetryLater, 10 * time.Second}, // no answer
		{45009, 1, RetryLater, time.Minute},
		{45009, 3, RetryLater, 4 * time.Minute},
		{45009, 4, RetryLater, 5 * time.Minute}, // capped at Max
		{61039, 1, RetryWaitScan, 15 * time.Second},
		{85009, 1, RetryWaitAud, 5 * time.Minute},
		{85085, 1, RetryDefer, 0},
		{85085, 99, RetryDefer, 0}, // a quota window is never "spent"
		{85013, 1, RetryStop, 0},
		{61040, 1, RetryStop, 0},
		{86002, 1, RetryStop, 0},
		{40001, 1, RetryLater, 10 * time.Second}, // token errors the client could not heal
	}
	for _, c := range cases {
		v, d := p.Decide(c.code, c.attempt)
		if v != c.verb || d != c.delay {
			t.Errorf("Decide(%d, %d) = %s %s, want %s %s", c.code, c.attempt, v, d, c.verb, c.delay)
		}
	}
}

func TestCampaignSetHashBindsEveryApp(t *testing.T) {
	ts := []CampaignTarget{{AppID: "wxb", ExtHash: ExtHash(`{"a":1}`)}, {AppID: "wxa", ExtHash: ExtHash(`{"a":2}`)}}
	h := CampaignSetHash(7, "1.0.0", "desc", ts)
	if h2 := CampaignSetHash(7, "1.0.0", "desc", []CampaignTarget{ts[1], ts[0]}); h2 != h {
		t.Fatal("the hash depends on the order targets were listed in")
	}
	changed := []CampaignTarget{ts[0], {AppID: "wxa", ExtHash: ExtHash(`{"a":3}`)}}
	for name, other := range map[string]string{
		"template":     CampaignSetHash(8, "1.0.0", "desc", ts),
		"version":      CampaignSetHash(7, "1.0.1", "desc", ts),
		"desc":         CampaignSetHash(7, "1.0.0", "desc!", ts),
		"one ext_json": CampaignSetHash(7, "1.0.0", "desc", changed),
		"one app less": CampaignSetHash(7, "1.0.0", "desc", ts[:1]),
	} {
		if other == h {
			t.Errorf("changing the %s keeps the set hash", name)
		}
	}
}

func TestCampaignApprovalTwoPersonRule(t *testing.T) {
	c := Campaign{CreatorID: 1, SetHash: "sha256:x", State: CampAwaitingApproval}
	if err := c.CheckApproval(1, "sha256:x"); ErrorCode(err) != CodeForbidden {
		t.Errorf("creator approving: %v, want forbidden", err)
	}
	if err := c.CheckApproval(2, "sha256:y"); ErrorCode(err) != CodeConflict {
		t.Errorf("approving another set: %v, want conflict", err)
	}
	if err := c.CheckApproval(2, "sha256:x"); err != nil {
		t.Errorf("second person approving the set shown: %v", err)
	}
	c.ApproverID, c.ApprovedHash = 2, "sha256:x"
	if !c.Approved() {
		t.Error("approved campaign not Approved")
	}
	c.SetHash = "sha256:z"
	if c.Approved() {
		t.Error("approval survives a changed set")
	}
}

func TestCampaignStateMachine(t *testing.T) {
	if _, err := NextCampaignState(CampAwaitingApproval, CampActPause); ErrorCode(err) != CodeConflict {
		t.Errorf("pausing an unapproved campaign: %v", err)
	}
	for _, c := range []struct {
		from CampaignState
		a    CampaignAction
		to   CampaignState
	}{
		{CampAwaitingApproval, CampActApprove, CampRunning},
		{CampRunning, CampActPause, CampPaused},
		{CampPaused, CampActResume, CampRunning},
		{CampHalted, CampActResume, CampRunning},
		{CampWaitingQuota, CampActCancel, CampCancelled},
	} {
		if got, err := NextCampaignState(c.from, c.a); err != nil || got != c.to {
			t.Errorf("%s %s = %s, %v; want %s", c.from, c.a, got, err, c.to)
		}
	}
	for _, s := range []CampaignState{CampDone, CampCancelled} {
		if len(s.Actions()) != 0 {
			t.Errorf("%s offers %v", s, s.Actions())
		}
	}
}

func TestNextQuotaWindowIsChinaMonth(t *testing.T) {
	// 2026-11-30 17:00 UTC is already December 1st in China.
	got := NextQuotaWindow(time.Date(2026, 11, 30, 17, 0, 0, 0, time.UTC))
	if want := time.Date(2026, 12, 31, 16, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("window = %s, want %s", got.UTC(), want)
	}
	got = NextQuotaWindow(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	if want := time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("window = %s, want %s", got.UTC(), want)
	}
}

func TestPhaseOf(t *testing.T) {
	for _, c := range []struct {
		s  CampaignAppState
		r  ReleaseState
		ph Phase
	}{
		{CAQueued, "", PhQueued}, {CASkipped, "", PhSkipped}, {CADeferred, RelSubmitFailed, PhDeferred},
		{CAStarted, RelPrivacyScan, PhPreparing}, {CAStarted, RelAwaitingApproval, PhAwaiting},
		{CAStarted, RelDelayed, PhInReview}, {CAStarted, RelGray, PhReleased}, {CAStarted, RelWithdrawn, PhRejected},
		{CAStarted, RelSubmitFailed, PhFailed}, {CADropped, RelAwaitingApproval, PhDropped},
	} {
		if got := PhaseOf(c.s, c.r); got != c.ph {
			t.Errorf("PhaseOf(%s, %s) = %s, want %s", c.s, c.r, got, c.ph)
		}
	}
}
