package wechat

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Code management APIs act on one authorized Mini Program with its
// authorizer access token (§7, permission set 18).

// CommitRequest is the body of /wxa/commit.
type CommitRequest struct {
	TemplateID int64 `json:"template_id"`
	// ExtJSON is the rendered ext.json as a JSON *string* (§8); sending an
	// object gives 47001, so it stays a string here.
	ExtJSON     string `json:"ext_json,omitempty"`
	UserVersion string `json:"user_version"`
	UserDesc    string `json:"user_desc"`
}

// Commit uploads a template as the Mini Program's trial version and starts
// the privacy-API scan.
// Endpoint: POST /wxa/commit.
func (c *Client) Commit(ctx context.Context, appID string, r CommitRequest) error {
	if r.ExtJSON != "" {
		trimmed := bytes.TrimSpace([]byte(r.ExtJSON))
		if !json.Valid(trimmed) || trimmed[0] != '{' {
			return fmt.Errorf("wechat /wxa/commit: ext_json must be a JSON object encoded as a string")
		}
	}
	return c.call(ctx, post("/wxa/commit", authAuthorizer, appID, r), nil)
}

// VersionInfo is what getversioninfo reports about an app's code: the
// trial version (the last commit) and the version live now. Times are Unix
// seconds; a part is empty when there is no such version.
type VersionInfo struct {
	ExpInfo struct {
		ExpTime    int64  `json:"exp_time"`
		ExpVersion string `json:"exp_version"`
		ExpDesc    string `json:"exp_desc"`
	} `json:"exp_info"`
	ReleaseInfo struct {
		ReleaseTime    int64  `json:"release_time"`
		ReleaseVersion string `json:"release_version"`
		ReleaseDesc    string `json:"release_desc"`
	} `json:"release_info"`
}

// VersionInfo asks which trial and live versions the app has: after a
// crash it tells whether a commit landed, long after the privacy scan ended.
// Endpoint: POST /wxa/getversioninfo (body {}).
func (c *Client) VersionInfo(ctx context.Context, appID string) (*VersionInfo, error) {
	var out VersionInfo
	if err := c.call(ctx, post("/wxa/getversioninfo", authAuthorizer, appID, struct{}{}), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Pages lists the page paths of the committed code.
// Endpoint: GET /wxa/get_page.
func (c *Client) Pages(ctx context.Context, appID string) ([]string, error) {
	var out struct {
		PageList []string `json:"page_list"`
	}
	if err := c.call(ctx, get("/wxa/get_page", authAuthorizer, appID), &out); err != nil {
		return nil, err
	}
	return out.PageList, nil
}

// QRCode is the trial version's QR code image.
type QRCode struct {
	Image       []byte
	ContentType string
}

// TrialQRCode fetches the trial version's QR code, opening path if it is
// not empty (e.g. "page/index?action=1"). Success is an image; failure is a
// JSON errcode body, detected by content rather than trusting headers.
// Endpoint: GET /wxa/get_qrcode.
func (c *Client) TrialQRCode(ctx context.Context, appID, path string) (*QRCode, error) {
	const api = "/wxa/get_qrcode"
	r := get(api, authAuthorizer, appID)
	if path != "" {
		r.query = url.Values{"path": {path}}
	}
	var qr *QRCode
	err := c.withToken(ctx, r, func(token string) error {
		resp, err := c.send(ctx, r, token)
		if err != nil {
			return err
		}
		if b := bytes.TrimSpace(resp.body); len(b) > 0 && b[0] == '{' {
			if err := decodeJSON(api, b, nil); err != nil {
				return err
			}
			return fmt.Errorf("wechat %s: %w: JSON instead of an image", api, ErrBadResponse)
		}
		ct := resp.contentType
		if !strings.HasPrefix(ct, "image/") {
			ct = http.DetectContentType(resp.body)
		}
		if !strings.HasPrefix(ct, "image/") {
			return fmt.Errorf("wechat %s: %w: content type %q", api, ErrBadResponse, ct)
		}
		qr = &QRCode{Image: resp.body, ContentType: ct}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return qr, nil
}

// Category is a category configured on the Mini Program, usable in
// SubmitAuditRequest items.
type Category struct {
	FirstClass  string `json:"first_class"`
	SecondClass string `json:"second_class"`
	ThirdClass  string `json:"third_class,omitempty"`
	FirstID     int    `json:"first_id"`
	SecondID    int    `json:"second_id"`
	ThirdID     int    `json:"third_id,omitempty"`
}

// Categories lists the categories the Mini Program may submit under.
// Endpoint: GET /wxa/get_category.
func (c *Client) Categories(ctx context.Context, appID string) ([]Category, error) {
	var out struct {
		CategoryList []Category `json:"category_list"`
	}
	if err := c.call(ctx, get("/wxa/get_category", authAuthorizer, appID), &out); err != nil {
		return nil, err
	}
	return out.CategoryList, nil
}

// AuditItem describes one page for the reviewers (at most 5 per audit).
type AuditItem struct {
	Address     string `json:"address,omitempty"` // a path from Pages
	Tag         string `json:"tag,omitempty"`     // space-separated, ≤10 tags
	FirstClass  string `json:"first_class,omitempty"`
	SecondClass string `json:"second_class,omitempty"`
	ThirdClass  string `json:"third_class,omitempty"`
	FirstID     int    `json:"first_id,omitempty"`
	SecondID    int    `json:"second_id,omitempty"`
	ThirdID     int    `json:"third_id,omitempty"`
	Title       string `json:"title,omitempty"`
}

// PreviewInfo holds media ids from /wxa/uploadmedia.
type PreviewInfo struct {
	VideoIDList []string `json:"video_id_list,omitempty"`
	PicIDList   []string `json:"pic_id_list,omitempty"`
}

// UGCDeclare declares user-generated content handling.
type UGCDeclare struct {
	Scene          []int  `json:"scene,omitempty"`
	OtherSceneDesc string `json:"other_scene_desc,omitempty"`
	Method         []int  `json:"method,omitempty"`
	HasAuditTeam   int    `json:"has_audit_team"`
	AuditDesc      string `json:"audit_desc,omitempty"`
}

// SubmitAuditRequest is the body of /wxa/submit_audit (§7.1).
type SubmitAuditRequest struct {
	ItemList      []AuditItem  `json:"item_list,omitempty"`
	FeedbackInfo  string       `json:"feedback_info,omitempty"`
	FeedbackStuff string       `json:"feedback_stuff,omitempty"` // '|'-separated media ids
	VersionDesc   string       `json:"version_desc,omitempty"`
	PreviewInfo   *PreviewInfo `json:"preview_info,omitempty"`
	UGCDeclare    *UGCDeclare  `json:"ugc_declare,omitempty"`
	// PrivacyAPINotUse declares detected privacy APIs unused (avoids 61040).
	PrivacyAPINotUse bool   `json:"privacy_api_not_use,omitempty"`
	OrderPath        string `json:"order_path,omitempty"`
}

// SubmitAudit submits the trial version for review and returns the audit id.
// Endpoint: POST /wxa/submit_audit.
func (c *Client) SubmitAudit(ctx context.Context, appID string, r SubmitAuditRequest) (auditID int64, err error) {
	const api = "/wxa/submit_audit"
	var out struct {
		AuditID int64 `json:"auditid"`
	}
	if err := c.call(ctx, post(api, authAuthorizer, appID, r), &out); err != nil {
		return 0, err
	}
	if out.AuditID == 0 {
		return 0, missing(api, "auditid")
	}
	return out.AuditID, nil
}

// Audit status values (§7.1).
const (
	AuditApproved  = 0
	AuditRejected  = 1
	AuditReviewing = 2
	AuditWithdrawn = 3
	AuditDelayed   = 4
)

// AuditStatus is the state of one audit.
type AuditStatus struct {
	AuditID int64  `json:"auditid"` // only from LatestAuditStatus
	Status  int    `json:"status"`
	Reason  string `json:"reason"`
	// ScreenShot is '|'-separated media ids. get_latest_auditstatus spells
	// the key "ScreenShot"; encoding/json matches keys case-insensitively.
	ScreenShot      string `json:"screenshot"`
	UserVersion     string `json:"user_version"`
	UserDesc        string `json:"user_desc"`
	SubmitAuditTime int64  `json:"submit_audit_time"`
}

// AuditStatus returns the state of the given audit.
// Endpoint: POST /wxa/get_auditstatus.
func (c *Client) AuditStatus(ctx context.Context, appID string, auditID int64) (*AuditStatus, error) {
	var out AuditStatus
	err := c.call(ctx, post("/wxa/get_auditstatus", authAuthorizer, appID, struct {
		AuditID int64 `json:"auditid"`
	}{auditID}), &out)
	if err != nil {
		return nil, err
	}
	out.AuditID = auditID
	return &out, nil
}

// LatestAuditStatus returns the most recent audit; 85058 if none exists.
// Endpoint: GET /wxa/get_latest_auditstatus.
func (c *Client) LatestAuditStatus(ctx context.Context, appID string) (*AuditStatus, error) {
	var out AuditStatus
	if err := c.call(ctx, get("/wxa/get_latest_auditstatus", authAuthorizer, appID), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UndoAudit withdraws the pending audit (limited to 5/day, 10/month: 87013).
// Endpoint: GET /wxa/undocodeaudit.
func (c *Client) UndoAudit(ctx context.Context, appID string) error {
	return c.call(ctx, get("/wxa/undocodeaudit", authAuthorizer, appID), nil)
}

// Release publishes the last approved version.
// Endpoint: POST /wxa/release (body {}).
func (c *Client) Release(ctx context.Context, appID string) error {
	return c.call(ctx, post("/wxa/release", authAuthorizer, appID, nil), nil)
}

// RevertRelease rolls back to the previous release, or to appVersion when
// it is non-zero (see ReleaseHistory).
// Endpoint: GET /wxa/revertcoderelease.
func (c *Client) RevertRelease(ctx context.Context, appID string, appVersion int64) error {
	r := get("/wxa/revertcoderelease", authAuthorizer, appID)
	if appVersion != 0 {
		r.query = url.Values{"app_version": {strconv.FormatInt(appVersion, 10)}}
	}
	return c.call(ctx, r, nil)
}

// HistoryVersion is a release that RevertRelease can return to.
type HistoryVersion struct {
	AppVersion  int64  `json:"app_version"`
	UserVersion string `json:"user_version"`
	UserDesc    string `json:"user_desc"`
	CommitTime  int64  `json:"commit_time"`
}

// ReleaseHistory lists the last (up to 5) releases available for rollback.
// Endpoint: GET /wxa/revertcoderelease?action=get_history_version.
func (c *Client) ReleaseHistory(ctx context.Context, appID string) ([]HistoryVersion, error) {
	r := get("/wxa/revertcoderelease", authAuthorizer, appID)
	r.query = url.Values{"action": {"get_history_version"}}
	var out struct {
		VersionList []HistoryVersion `json:"version_list"`
	}
	if err := c.call(ctx, r, &out); err != nil {
		return nil, err
	}
	return out.VersionList, nil
}

// GrayReleaseRequest starts or widens a phased release.
type GrayReleaseRequest struct {
	GrayPercentage int `json:"gray_percentage"` // 1..100
	// The two flags are unconfirmed as request fields [U]; sent only when true.
	SupportDebugerFirst     bool `json:"support_debuger_first,omitempty"`
	SupportExperiencerFirst bool `json:"support_experiencer_first,omitempty"`
}

// GrayRelease starts or raises a phased release of the approved version.
// Endpoint: POST /wxa/grayrelease.
func (c *Client) GrayRelease(ctx context.Context, appID string, r GrayReleaseRequest) error {
	return c.call(ctx, post("/wxa/grayrelease", authAuthorizer, appID, r), nil)
}

// RevertGrayRelease cancels the phased release.
// Endpoint: GET /wxa/revertgrayrelease.
func (c *Client) RevertGrayRelease(ctx context.Context, appID string) error {
	return c.call(ctx, get("/wxa/revertgrayrelease", authAuthorizer, appID), nil)
}

// Gray release plan states.
const (
	GrayInit    = 0
	GrayRunning = 1
	GrayPaused  = 2
	GrayDone    = 3
	GrayDeleted = 4
)

// GrayReleasePlan is the current phased release.
type GrayReleasePlan struct {
	Status                  int   `json:"status"`
	CreateTimestamp         int64 `json:"create_timestamp"`
	GrayPercentage          int   `json:"gray_percentage"`
	SupportExperiencerFirst bool  `json:"support_experiencer_first"`
	SupportDebugerFirst     bool  `json:"support_debuger_first"`
}

// GrayReleasePlan returns the phased release plan.
// Endpoint: GET /wxa/getgrayreleaseplan.
func (c *Client) GrayReleasePlan(ctx context.Context, appID string) (*GrayReleasePlan, error) {
	var out struct {
		Plan GrayReleasePlan `json:"gray_release_plan"`
	}
	if err := c.call(ctx, get("/wxa/getgrayreleaseplan", authAuthorizer, appID), &out); err != nil {
		return nil, err
	}
	return &out.Plan, nil
}

// SpeedUpAudit asks for an expedited review of auditID.
// Endpoint: POST /wxa/speedupaudit.
func (c *Client) SpeedUpAudit(ctx context.Context, appID string, auditID int64) error {
	return c.call(ctx, post("/wxa/speedupaudit", authAuthorizer, appID, struct {
		AuditID int64 `json:"auditid"`
	}{auditID}), nil)
}

// AuditQuota is the platform's monthly audit budget, shared by every
// authorizer.
type AuditQuota struct {
	Rest         int `json:"rest"`
	Limit        int `json:"limit"`
	SpeedupRest  int `json:"speedup_rest"`
	SpeedupLimit int `json:"speedup_limit"`
}

// AuditQuota returns the platform's audit quota; any authorizer's token
// works.
// Endpoint: GET /wxa/queryquota.
func (c *Client) AuditQuota(ctx context.Context, appID string) (*AuditQuota, error) {
	var out AuditQuota
	if err := c.call(ctx, get("/wxa/queryquota", authAuthorizer, appID), &out); err != nil {
		return nil, err
	}
	return &out, nil
}
