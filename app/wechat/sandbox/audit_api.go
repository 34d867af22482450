package sandbox

import (
	"errors"
	"slices"
	"strings"
	"time"
)

// Audit status values (get_auditstatus).
const (
	AuditApproved  = 0
	AuditRejected  = 1
	AuditReviewing = 2
	AuditWithdrawn = 3
	AuditDelayed   = 4
)

// AuditOutcome is what the reviewer decides.
type AuditOutcome int

const (
	AuditApprove AuditOutcome = iota
	AuditReject
	// AuditDelay pushes weapp_audit_delay, then approves after another AuditDelay.
	AuditDelay
)

// AuditSubmission is what an AuditDecider sees.
type AuditSubmission struct {
	AppID       string
	AuditID     int64
	TemplateID  int64
	UserVersion string
	UserDesc    string // from commit
	VersionDesc string // from submit_audit
	// What else submit_audit carried: preview_info, feedback_* and
	// ugc_declare's scenes.
	PreviewPics, PreviewVideos []string
	FeedbackInfo               string
	FeedbackStuff              []string
	UGCScene                   []int
}

// AuditDecision is the reviewer's verdict.
type AuditDecision struct {
	Outcome    AuditOutcome
	Reason     string // fail or delay reason
	ScreenShot string // "|"-separated media ids (fail)
}

// DefaultAuditDecider rejects when user_desc or version_desc contains
// "reject", delays (then approves) when it contains "delay", else approves.
func DefaultAuditDecider(sub AuditSubmission) AuditDecision {
	text := strings.ToLower(sub.UserDesc + " " + sub.VersionDesc)
	switch {
	case strings.Contains(text, "reject"):
		return AuditDecision{Outcome: AuditReject,
			Reason:     "1:小程序内容不符合规范:<br>(1):页面存在测试内容，请完善后重新提交<br>",
			ScreenShot: "sandbox_media_screenshot_1|sandbox_media_screenshot_2"}
	case strings.Contains(text, "delay"):
		return AuditDecision{Outcome: AuditDelay, Reason: "小程序涉及需要进一步核实的服务类目，审核将延期"}
	}
	return AuditDecision{Outcome: AuditApprove}
}

type audit struct {
	id          int64
	version     *codeVersion
	versionDesc string
	submission  AuditSubmission // what submit_audit carried besides items
	status      int
	reason      string
	screenshot  string
	submitted   time.Time
	decideAt    time.Time
	sped        bool
	released    bool
	gen         int // bumped to cancel a scheduled decision
}

const auditIDBase = 400000000

func (a *app) latestAudit() *audit {
	if n := len(a.code.audits); n > 0 {
		return a.code.audits[n-1]
	}
	return nil
}

func inFlight(au *audit) bool {
	return au != nil && (au.status == AuditReviewing || au.status == AuditDelayed)
}

type submitItem struct {
	Address     string `json:"address"`
	Tag         string `json:"tag"`
	FirstClass  string `json:"first_class"`
	SecondClass string `json:"second_class"`
	ThirdClass  string `json:"third_class"`
	FirstID     int    `json:"first_id"`
	SecondID    int    `json:"second_id"`
	ThirdID     int    `json:"third_id"`
	Title       string `json:"title"`
}

type submitAuditRequest struct {
	ItemList      []submitItem `json:"item_list"`
	FeedbackInfo  string       `json:"feedback_info"`
	FeedbackStuff string       `json:"feedback_stuff"`
	VersionDesc   string       `json:"version_desc"`
	PreviewInfo   *struct {
		VideoIDList []string `json:"video_id_list"`
		PicIDList   []string `json:"pic_id_list"`
	} `json:"preview_info"`
	UgcDeclare *struct {
		Scene          []int  `json:"scene"`
		OtherSceneDesc string `json:"other_scene_desc"`
		Method         []int  `json:"method"`
		HasAuditTeam   int    `json:"has_audit_team"`
		AuditDesc      string `json:"audit_desc"`
	} `json:"ugc_declare"`
	PrivacyAPINotUse bool   `json:"privacy_api_not_use"`
	OrderPath        string `json:"order_path"`
}

func (s *Sandbox) apiSubmitAudit(c *call) any {
	var req submitAuditRequest
	if e := c.decode(&req); e != nil {
		return e
	}
	a := c.app
	v := a.code.trial
	switch {
	case v == nil:
		return fail(85086)
	case c.now.Before(v.scanDone):
		return fail(61039)
	case inFlight(a.latestAudit()):
		return fail(85009)
	case s.quota.audits[monthKey(c.now)] >= s.opts.AuditQuota:
		return fail(85085)
	}
	if e := validateSubmit(a, v, &req); e != nil {
		return e
	}
	if wa, wc := a.privacyFindings(v); (len(wa) > 0 || len(wc) > 0) && !req.PrivacyAPINotUse {
		return failMsg(61040, "privacy api is not authorized or not configured: "+strings.Join(append(wa, wc...), ","))
	}
	s.quota.audits[monthKey(c.now)]++
	if e := s.checkSubmitMediaLocked(c, &req); e != nil {
		return e
	}
	au := &audit{id: auditIDBase + int64(s.nextAuditSeqLocked()), version: v, versionDesc: req.VersionDesc,
		status: AuditReviewing, submitted: c.now}
	au.submission = AuditSubmission{AppID: a.appID, AuditID: au.id, TemplateID: v.template.id, UserVersion: v.userVersion,
		UserDesc: v.userDesc, VersionDesc: req.VersionDesc, FeedbackInfo: req.FeedbackInfo}
	if req.PreviewInfo != nil {
		au.submission.PreviewPics, au.submission.PreviewVideos = req.PreviewInfo.PicIDList, req.PreviewInfo.VideoIDList
	}
	if req.FeedbackStuff != "" {
		au.submission.FeedbackStuff = strings.Split(req.FeedbackStuff, "|")
	}
	if req.UgcDeclare != nil {
		au.submission.UGCScene = req.UgcDeclare.Scene
	}
	a.code.audits = append(a.code.audits, au)
	s.scheduleDecisionLocked(a, au, c.now.Add(s.opts.AuditDelay))
	return struct {
		okEnvelope
		AuditID int64 `json:"auditid"`
	}{ok(), au.id}
}

func (s *Sandbox) nextAuditSeqLocked() int64 {
	s.nextID++
	return s.nextID
}

func validateSubmit(a *app, v *codeVersion, req *submitAuditRequest) *apiError {
	if len(req.ItemList) > 5 {
		return fail(85023)
	}
	for _, it := range req.ItemList {
		if it.Address != "" && !slices.Contains(v.pages, it.Address) {
			return failMsg(85007, "page path is invalid: "+it.Address)
		}
		if tags := strings.Fields(it.Tag); len(tags) > 10 || slices.ContainsFunc(tags, func(t string) bool { return lenRunes(t) > 20 }) {
			return fail(85006)
		}
		if lenRunes(it.Title) > 32 {
			return fail(85011)
		}
		if it.FirstID != 0 || it.SecondID != 0 {
			if len(a.categories) == 0 {
				return fail(85008)
			}
			if !slices.ContainsFunc(a.categories, func(cat category) bool {
				return cat.FirstID == it.FirstID && cat.SecondID == it.SecondID
			}) {
				return fail(85077)
			}
		}
	}
	// A first submission in a social category must declare its
	// user-generated content (submit_audit's note on ugc_declare).
	if len(a.code.audits) == 0 && req.UgcDeclare == nil && slices.ContainsFunc(req.ItemList, func(it submitItem) bool {
		return it.FirstClass == "社交" && slices.Contains([]string{"社区/论坛", "笔记", "问答"}, it.SecondClass)
	}) {
		return failMsg(85094, "need add ugc declare")
	}
	if req.UgcDeclare != nil {
		for _, sc := range req.UgcDeclare.Scene {
			if sc < 0 || sc > 5 || (sc == 0 && len(req.UgcDeclare.Scene) > 1) {
				return failMsg(47001, "data format error: ugc_declare.scene")
			}
		}
		if lenRunes(req.UgcDeclare.OtherSceneDesc) > 256 || lenRunes(req.UgcDeclare.AuditDesc) > 256 {
			return failMsg(47001, "data format error: ugc_declare text too long")
		}
	}
	if lenRunes(req.FeedbackInfo) > 200 {
		return failMsg(47001, "data format error: feedback_info too long")
	}
	if req.FeedbackStuff != "" && len(strings.Split(req.FeedbackStuff, "|")) > 5 {
		return failMsg(47001, "data format error: at most 5 feedback_stuff media")
	}
	return nil
}

// scheduleDecisionLocked arms the reviewer for au at t; a later gen bump
// (withdrawal, speed-up, manual decision) makes this one a no-op.
func (s *Sandbox) scheduleDecisionLocked(a *app, au *audit, t time.Time) {
	au.gen++
	gen := au.gen
	au.decideAt = t
	s.scheduleLocked(t, func(at time.Time) {
		if au.gen != gen || !inFlight(au) {
			return
		}
		if au.status == AuditDelayed { // a delay always ends in approval
			s.applyDecisionLocked(a, au, AuditDecision{Outcome: AuditApprove}, at)
			return
		}
		s.applyDecisionLocked(a, au, s.opts.AuditDecider(au.submission), at)
	})
}

func (s *Sandbox) applyDecisionLocked(a *app, au *audit, d AuditDecision, at time.Time) {
	au.gen++
	switch d.Outcome {
	case AuditReject:
		au.status, au.reason, au.screenshot = AuditRejected, d.Reason, d.ScreenShot
		if au.reason == "" {
			au.reason = "1:小程序内容不符合规范<br>"
		}
		s.pushAppEventLocked(a, "weapp_audit_fail", at, func(b *xmlBuilder) {
			b.cdata("Reason", au.reason)
			b.num("FailTime", at.Unix())
			b.cdata("ScreenShot", au.screenshot)
		})
	case AuditDelay:
		au.status, au.reason = AuditDelayed, d.Reason
		if au.reason == "" {
			au.reason = "审核延期"
		}
		s.pushAppEventLocked(a, "weapp_audit_delay", at, func(b *xmlBuilder) {
			b.cdata("Reason", au.reason)
			b.num("DelayTime", at.Unix())
		})
		s.scheduleDecisionLocked(a, au, at.Add(s.opts.AuditDelay))
	default:
		au.status, au.reason, au.screenshot = AuditApproved, "", ""
		s.pushAppEventLocked(a, "weapp_audit_success", at, func(b *xmlBuilder) {
			b.num("SuccTime", at.Unix())
		})
	}
}

// ErrNoAudit is returned by DecideAudit when the app has no audit in flight.
var ErrNoAudit = errors.New("sandbox: no audit in flight")

// DecideAudit decides an app's in-flight audit now, as the console buttons do.
func (s *Sandbox) DecideAudit(appID string, d AuditDecision) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pumpLocked()
	a := s.apps[appID]
	if a == nil {
		return ErrNoApp
	}
	au := a.latestAudit()
	if !inFlight(au) {
		return ErrNoAudit
	}
	if d.Outcome == AuditReject && d.Reason == "" {
		d = DefaultAuditDecider(AuditSubmission{VersionDesc: "reject"})
	}
	s.applyDecisionLocked(a, au, d, s.clock.Now())
	return nil
}

func (s *Sandbox) apiGetAuditStatus(c *call) any {
	var req struct {
		AuditID *flexInt `json:"auditid"`
	}
	if e := c.decode(&req); e != nil {
		return e
	}
	if req.AuditID == nil {
		return fail(85012)
	}
	i := slices.IndexFunc(c.app.code.audits, func(au *audit) bool { return au.id == int64(*req.AuditID) })
	if i < 0 {
		return fail(85012)
	}
	au := c.app.code.audits[i]
	return struct {
		okEnvelope
		Status          int    `json:"status"`
		Reason          string `json:"reason,omitempty"`
		ScreenShot      string `json:"screenshot,omitempty"`
		UserVersion     string `json:"user_version"`
		UserDesc        string `json:"user_desc"`
		SubmitAuditTime int64  `json:"submit_audit_time"`
	}{ok(), au.status, au.reason, au.screenshot, au.version.userVersion, au.version.userDesc, au.submitted.Unix()}
}

func (s *Sandbox) apiGetLatestAuditStatus(c *call) any {
	au := c.app.latestAudit()
	if au == nil {
		return fail(85058)
	}
	return struct {
		okEnvelope
		AuditID         int64  `json:"auditid"`
		Status          int    `json:"status"`
		Reason          string `json:"reason,omitempty"`
		ScreenShot      string `json:"ScreenShot,omitempty"` // capitalised as in the official example
		UserVersion     string `json:"user_version"`
		UserDesc        string `json:"user_desc"`
		SubmitAuditTime int64  `json:"submit_audit_time"`
	}{ok(), au.id, au.status, au.reason, au.screenshot, au.version.userVersion, au.version.userDesc, au.submitted.Unix()}
}

func (s *Sandbox) apiUndoCodeAudit(c *call) any {
	a := c.app
	au := a.latestAudit()
	if !inFlight(au) {
		return fail(85019)
	}
	day, month := dayKey(c.now), "m"+monthKey(c.now)
	if a.undoDays[day] >= s.opts.UndoDailyLimit || a.undoDays[month] >= s.opts.UndoMonthlyLimit {
		return fail(87013)
	}
	a.undoDays[day]++
	a.undoDays[month]++
	au.status = AuditWithdrawn
	au.gen++
	return nil
}

func (s *Sandbox) apiSpeedupAudit(c *call) any {
	var req struct {
		AuditID *flexInt `json:"auditid"`
	}
	if e := c.decode(&req); e != nil {
		return e
	}
	au := c.app.latestAudit()
	switch {
	case req.AuditID == nil || au == nil || au.id != int64(*req.AuditID):
		return fail(89403)
	case au.status != AuditReviewing:
		return fail(89402)
	case au.sped:
		return fail(89404)
	case s.quota.speedup[monthKey(c.now)] >= s.opts.SpeedupQuota:
		return fail(89405)
	}
	s.quota.speedup[monthKey(c.now)]++
	au.sped = true
	// Expedited reviews decide in a quarter of the remaining time.
	if remaining := au.decideAt.Sub(c.now); remaining > 0 {
		s.scheduleDecisionLocked(c.app, au, c.now.Add(remaining/4))
	}
	return nil
}

func (s *Sandbox) apiQueryQuota(c *call) any {
	m := monthKey(c.now)
	return struct {
		okEnvelope
		Rest         int `json:"rest"`
		Limit        int `json:"limit"`
		SpeedupRest  int `json:"speedup_rest"`
		SpeedupLimit int `json:"speedup_limit"`
	}{ok(), max(s.opts.AuditQuota-s.quota.audits[m], 0), s.opts.AuditQuota,
		max(s.opts.SpeedupQuota-s.quota.speedup[m], 0), s.opts.SpeedupQuota}
}

// checkSubmitMediaLocked checks submit_audit's media ids; feedback_stuff
// counts only after a rejection (WeChat ignores it otherwise).
func (s *Sandbox) checkSubmitMediaLocked(c *call, req *submitAuditRequest) *apiError {
	if req.PreviewInfo != nil {
		if e := s.checkMediaLocked(c, req.PreviewInfo.PicIDList, "image", false); e != nil {
			return e
		}
		if e := s.checkMediaLocked(c, req.PreviewInfo.VideoIDList, "video", false); e != nil {
			return e
		}
	}
	if req.FeedbackStuff != "" {
		return s.checkMediaLocked(c, strings.Split(req.FeedbackStuff, "|"), "image", true)
	}
	return nil
}

// LastSubmission is what the app's latest submit_audit carried.
func (s *Sandbox) LastSubmission(appID string) (AuditSubmission, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[appID]
	if a == nil || a.latestAudit() == nil {
		return AuditSubmission{}, false
	}
	return a.latestAudit().submission, true
}
