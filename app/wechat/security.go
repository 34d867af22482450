package wechat

import "context"

// Content security v2 (wechat-protocol.md §9, docs/content-security.md).
// Both checks need the openid of a user who opened the Mini Program within
// the last two hours (61010 otherwise) and a scene.

// Scenes of the content checks.
const (
	SceneProfile = 1 // 资料
	SceneComment = 2 // 评论
	SceneForum   = 3 // 论坛
	SceneLog     = 4 // 社交日志
)

// MediaTypeImage is media_check_async's media_type for an image.
const MediaTypeImage = 2

// Media check limits from WeChat's doc: a file of at most 10 MB; results
// are pushed (wxa_media_check) within 30 minutes.
const (
	MediaCheckMaxBytes = 10 << 20
	MediaCheckWithin   = 30 * 60 // seconds
	TextCheckMaxRunes  = 2500
)

// MediaCheckRequest is the body of media_check_async v2.
type MediaCheckRequest struct {
	MediaURL  string `json:"media_url"`
	MediaType int    `json:"media_type"`
	Version   int    `json:"version"`
	Scene     int    `json:"scene"`
	OpenID    string `json:"openid"`
}

// MediaCheckAsync asks WeChat to check an image (or audio) it downloads
// from MediaURL; the verdict comes later as a wxa_media_check push with the
// trace_id returned here.
// Endpoint: POST /wxa/media_check_async (v2).
func (c *Client) MediaCheckAsync(ctx context.Context, appID string, r MediaCheckRequest) (traceID string, err error) {
	r.Version = 2
	var out struct {
		TraceID string `json:"trace_id"`
	}
	if err := c.call(ctx, post("/wxa/media_check_async", authAuthorizer, appID, r), &out); err != nil {
		return "", err
	}
	return out.TraceID, nil
}

// TextCheckRequest is the body of msg_sec_check v2.
type TextCheckRequest struct {
	Content   string `json:"content"`
	Version   int    `json:"version"`
	Scene     int    `json:"scene"`
	OpenID    string `json:"openid"`
	Title     string `json:"title,omitempty"`
	Nickname  string `json:"nickname,omitempty"`
	Signature string `json:"signature,omitempty"`
}

// SecResult is a check's overall verdict: suggest is pass, review or risky;
// label names the category (100 normal, 10001 ad, 20001 politics …).
type SecResult struct {
	Suggest string `json:"suggest"`
	Label   int    `json:"label"`
}

// TextCheckResult is msg_sec_check's answer. errcode is 0 even for risky
// text: read Result.Suggest.
type TextCheckResult struct {
	TraceID string    `json:"trace_id"`
	Result  SecResult `json:"result"`
}

// MsgSecCheck checks a text at once.
// Endpoint: POST /wxa/msg_sec_check (v2).
func (c *Client) MsgSecCheck(ctx context.Context, appID string, r TextCheckRequest) (TextCheckResult, error) {
	r.Version = 2
	var out TextCheckResult
	err := c.call(ctx, post("/wxa/msg_sec_check", authAuthorizer, appID, r), &out)
	return out, err
}
