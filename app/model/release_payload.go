package model

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// ReleasePayload is everything the approver approves: what wxa/commit and
// wxa/submit_audit will carry. Its hash binds an approval.
type ReleasePayload struct {
	TemplateID  int64         `json:"template_id"`
	UserVersion string        `json:"user_version"`
	UserDesc    string        `json:"user_desc"`
	ExtJSON     string        `json:"ext_json"` // the exact string commit sends
	Submit      SubmitChoices `json:"submit"`   // chosen during preflight
}

// SubmitChoices are the preflight choices that go into submit_audit (§7.1).
type SubmitChoices struct {
	Items            []AuditItemChoice `json:"items"` // ≤5; order is kept
	PrivacyAPINotUse bool              `json:"privacy_api_not_use"`
	VersionDesc      string            `json:"version_desc"`
	FeedbackInfo     string            `json:"feedback_info"`
	OrderPath        string            `json:"order_path"`
	// The rest of WeChat's submit form; empty ones are left out so payloads
	// made before them hash as they did.
	UGC           *UGCDeclare  `json:"ugc,omitempty"`            // ugc_declare
	Preview       []AuditMedia `json:"preview,omitempty"`        // preview_info: screenshots and recordings
	FeedbackStuff []AuditMedia `json:"feedback_stuff,omitempty"` // images for the reviewers after a rejection
}

// UGCDeclare is submit_audit's user-generated content declaration.
type UGCDeclare struct {
	Scene          []int  `json:"scene"`  // UGCScene*: 0 alone, or any of 1–5
	Method         []int  `json:"method"` // UGCMethod*: how the content is checked
	OtherSceneDesc string `json:"other_scene_desc,omitempty"`
	HasAuditTeam   bool   `json:"has_audit_team"`
	AuditDesc      string `json:"audit_desc,omitempty"`
}

// ugc_declare's scenes and methods, as WeChat numbers them.
const (
	UGCSceneNone    = 0 // 不涉及用户生成内容
	UGCSceneProfile = 1 // 用户资料
	UGCScenePicture = 2 // 图片
	UGCSceneVideo   = 3 // 视频
	UGCSceneText    = 4 // 文本
	UGCSceneOther   = 5 // 其他 (音频 in the newest doc)

	UGCMethodAPI    = 1 // 使用平台建议的内容安全 API
	UGCMethodVendor = 2 // 使用其他的内容审核产品
	UGCMethodManual = 3 // 通过人工审核把关
	UGCMethodNone   = 4 // 未做内容审核把关
)

// AuditMedia is a file for the reviewers, bound by its content hash; it
// is uploaded to WeChat when the release is submitted (WeChat's media ids
// last three days, approvals may take longer).
type AuditMedia struct {
	SHA256 string `json:"sha256"`
	Kind   string `json:"kind"` // "image" or "video"
	Name   string `json:"name"`
	Size   int    `json:"size"`
}

// Audit media kinds.
const (
	MediaImage = "image"
	MediaVideo = "video"
)

// AuditItemChoice is one page described to the reviewers, with a category
// from get_category.
type AuditItemChoice struct {
	Address     string `json:"address"`
	Tag         string `json:"tag"`
	Title       string `json:"title"`
	FirstClass  string `json:"first_class"`
	SecondClass string `json:"second_class"`
	ThirdClass  string `json:"third_class"`
	FirstID     int    `json:"first_id"`
	SecondID    int    `json:"second_id"`
	ThirdID     int    `json:"third_id"`
}

// Limits WeChat enforces on the payload (§7, §7.1).
const (
	MaxUserVersionLen  = 64
	MaxAuditItems      = 5
	MaxAuditTitleLen   = 32
	MaxFeedbackInfoLen = 200
	MaxFeedbackStuff   = 5    // feedback_stuff images
	MaxUGCTextLen      = 256  // other_scene_desc, audit_desc
	MaxVersionDescLen  = 1000 // ours: WeChat states no limit
	MaxPreviewImages   = 10   // ours: WeChat states no limit
	MaxPreviewVideos   = 3    // ours: WeChat states no limit
)

// Check validates the payload's fields before WeChat does.
func (p ReleasePayload) Check() error {
	switch {
	case p.TemplateID <= 0:
		return FieldError("template_id", "release.err.template_required")
	case strings.TrimSpace(p.UserVersion) == "":
		return FieldError("user_version", "form.required")
	case utf8.RuneCountInString(p.UserVersion) > MaxUserVersionLen:
		return FieldError("user_version", "form.too_long")
	case p.ExtJSON != "" && !json.Valid([]byte(p.ExtJSON)):
		return FieldError("ext_json", "release.err.ext_json")
	}
	return p.Submit.Check()
}

// Check validates the submit form's fields before WeChat does.
func (c SubmitChoices) Check() error {
	switch {
	case len(c.Items) > MaxAuditItems:
		return FieldError("items", "release.err.too_many_items")
	case utf8.RuneCountInString(c.FeedbackInfo) > MaxFeedbackInfoLen:
		return FieldError("feedback_info", "form.too_long")
	case utf8.RuneCountInString(c.VersionDesc) > MaxVersionDescLen:
		return FieldError("version_desc", "form.too_long")
	case len(c.FeedbackStuff) > MaxFeedbackStuff:
		return FieldError("feedback_stuff", "release.err.too_many_media")
	case countMedia(c.Preview, MediaImage) > MaxPreviewImages || countMedia(c.Preview, MediaVideo) > MaxPreviewVideos:
		return FieldError("preview", "release.err.too_many_media")
	}
	for _, it := range c.Items {
		if utf8.RuneCountInString(it.Title) > MaxAuditTitleLen {
			return FieldError("items", "release.err.item_title")
		}
	}
	return c.UGC.check()
}

func countMedia(ms []AuditMedia, kind string) int {
	n := 0
	for _, m := range ms {
		if m.Kind == kind {
			n++
		}
	}
	return n
}

// check applies WeChat's rules: scene 0 stands alone and needs nothing
// else; any other scene needs a method; the texts are short.
func (u *UGCDeclare) check() error {
	if u == nil {
		return nil
	}
	switch {
	case len(u.Scene) == 0:
		return FieldError("ugc_scene", "release.err.ugc_scene")
	case slices.Contains(u.Scene, UGCSceneNone) && len(u.Scene) > 1:
		return FieldError("ugc_scene", "release.err.ugc_none_alone")
	case slices.ContainsFunc(u.Scene, func(s int) bool { return s < UGCSceneNone || s > UGCSceneOther }),
		slices.ContainsFunc(u.Method, func(m int) bool { return m < UGCMethodAPI || m > UGCMethodNone }):
		return FieldError("ugc_scene", "form.invalid_choice")
	case !slices.Contains(u.Scene, UGCSceneNone) && len(u.Method) == 0:
		return FieldError("ugc_method", "release.err.ugc_method")
	case utf8.RuneCountInString(u.OtherSceneDesc) > MaxUGCTextLen:
		return FieldError("ugc_other_desc", "form.too_long")
	case utf8.RuneCountInString(u.AuditDesc) > MaxUGCTextLen:
		return FieldError("ugc_audit_desc", "form.too_long")
	}
	return nil
}

// normalized makes equal payloads encode equally (nil and empty item lists).
func (p ReleasePayload) normalized() ReleasePayload {
	if p.Submit.Items == nil {
		p.Submit.Items = []AuditItemChoice{}
	}
	return p
}

// PayloadHash is the canonical hash of p: "sha256:" and hex. Every field
// counts, the ext_json string byte for byte, so any change voids an approval.
func PayloadHash(p ReleasePayload) string {
	var buf bytes.Buffer
	buf.WriteString("minifleet/release-payload/v1\n")
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p.normalized()); err != nil {
		panic(err) // only strings, ints and bools: cannot fail
	}
	sum := sha256.Sum256(buf.Bytes())
	return "sha256:" + hex.EncodeToString(sum[:])
}

// ApprovalValid reports whether r carries an approval for exactly its
// current payload.
func (r Release) ApprovalValid() bool {
	return r.ApprovalHash != "" && r.ApproverID != 0 && r.MayApprove(r.ApproverID) == "" &&
		r.ApprovalHash == PayloadHash(r.ReleasePayload) && r.ApprovalHash == r.PayloadHash
}

// amend replaces the payload. In draft anything may change; once committed
// only the preflight choices may, since the code WeChat holds is fixed.
func (r *Release) amend(p *ReleasePayload) error {
	if p == nil {
		return Errorf(CodeInvalid, "release.err.no_payload")
	}
	if err := p.Check(); err != nil {
		return err
	}
	if r.State != RelDraft {
		c := r.ReleasePayload
		if p.TemplateID != c.TemplateID || p.UserVersion != c.UserVersion || p.UserDesc != c.UserDesc || p.ExtJSON != c.ExtJSON {
			return Errorf(CodeConflict, "release.err.edit_needs_draft")
		}
	}
	r.ReleasePayload = p.normalized()
	r.PayloadHash = PayloadHash(*p)
	r.ApproverID, r.Approver, r.ApprovalHash, r.ApprovedAt = 0, "", "", time.Time{}
	return nil
}

// MayApprove applies the two-person rule to a user: "" when they may approve
// r, otherwise the reason's translation key. Whoever wrote any of the
// payload, the preparer or anyone who amended it since (audit items,
// description, choices), may not approve it.
func (r Release) MayApprove(userID int64) string {
	switch {
	case userID == r.PreparerID:
		return "release.err.preparer_cannot_approve"
	case slices.Contains(r.Amenders, userID):
		return "release.err.amender_cannot_approve"
	}
	return ""
}

// approve applies the two-person rule and binds the approval to the hash
// the approver was shown.
func (r *Release) approve(c Cause) error {
	if key := r.MayApprove(c.ActorID); key != "" {
		return Errorf(CodeForbidden, key)
	}
	if c.SeenHash == "" || c.SeenHash != r.PayloadHash || PayloadHash(r.ReleasePayload) != r.PayloadHash {
		return &Error{Code: CodeConflict, Key: "release.err.payload_changed"}
	}
	r.ApproverID, r.Approver, r.ApprovalHash, r.ApprovedAt = c.ActorID, c.Actor, r.PayloadHash, c.At
	return nil
}
