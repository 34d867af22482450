package wechat

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
)

// Ways into a released Mini Program from outside it: the encrypted URL
// Scheme, the URL Link, the Short Link and the unlimited 小程序码 (the
// 2023-12 rules: one link may be opened by many users, at most 30 days).
// See docs/links.md for the limits and errcodes.

// Expire types of generatescheme and generate_urllink.
const (
	ExpireAtTime     = 0 // expire_time: a unix time at most 30 days ahead
	ExpireAfterDays  = 1 // expire_interval: 1–30 days
	MaxLinkDays      = 30
	MaxLinkQueryLen  = 1024
	MaxShortLinkPage = 1024
	MaxWxaCodeScene  = 32
)

// LinkRequest is what generatescheme and generate_urllink share: the page
// (no query; "" opens the home page), its query, the version to open
// outside WeChat and when the link expires.
type LinkRequest struct {
	Path           string
	Query          string
	EnvVersion     string // release (default), trial, develop
	ExpireType     int    // ExpireAtTime or ExpireAfterDays
	ExpireTime     int64  // unix seconds, for ExpireAtTime
	ExpireInterval int    // days, for ExpireAfterDays
}

type jumpWxa struct {
	Path       string `json:"path"`
	Query      string `json:"query"`
	EnvVersion string `json:"env_version,omitempty"`
}

type expiry struct {
	ExpireType     int   `json:"expire_type"`
	ExpireTime     int64 `json:"expire_time,omitempty"`
	ExpireInterval int   `json:"expire_interval,omitempty"`
}

func (r LinkRequest) expiry() expiry {
	e := expiry{ExpireType: r.ExpireType}
	if r.ExpireType == ExpireAfterDays {
		e.ExpireInterval = r.ExpireInterval
	} else {
		e.ExpireTime = r.ExpireTime
	}
	return e
}

// GenerateScheme makes an encrypted URL Scheme (weixin://dl/business/?t=…).
// is_expire is no longer sent: WeChat ignores it, every scheme expires.
// Endpoint: POST /wxa/generatescheme (permission set 88).
func (c *Client) GenerateScheme(ctx context.Context, appID string, r LinkRequest) (string, error) {
	const api = "/wxa/generatescheme"
	body := struct {
		JumpWxa jumpWxa `json:"jump_wxa"`
		expiry
	}{jumpWxa{r.Path, r.Query, r.EnvVersion}, r.expiry()}
	var out struct {
		OpenLink string `json:"openlink"`
	}
	if err := c.call(ctx, post(api, authAuthorizer, appID, body), &out); err != nil {
		return "", err
	}
	if out.OpenLink == "" {
		return "", missing(api, "openlink")
	}
	return out.OpenLink, nil
}

// GenerateURLLink makes a URL Link (https://wxaurl.cn/…).
// Endpoint: POST /wxa/generate_urllink (permission set 88).
func (c *Client) GenerateURLLink(ctx context.Context, appID string, r LinkRequest) (string, error) {
	const api = "/wxa/generate_urllink"
	body := struct {
		jumpWxa
		expiry
	}{jumpWxa{r.Path, r.Query, r.EnvVersion}, r.expiry()}
	var out struct {
		URLLink string `json:"url_link"`
	}
	if err := c.call(ctx, post(api, authAuthorizer, appID, body), &out); err != nil {
		return "", err
	}
	if out.URLLink == "" {
		return "", missing(api, "url_link")
	}
	return out.URLLink, nil
}

// GenerateShortLink makes a Short Link (#小程序://…), opened inside WeChat
// only. pageURL may carry a query; a temporary one lasts 30 days.
// Endpoint: POST /wxa/genwxashortlink (permission set 88).
func (c *Client) GenerateShortLink(ctx context.Context, appID, pageURL, title string, permanent bool) (string, error) {
	const api = "/wxa/genwxashortlink"
	body := struct {
		PageURL     string `json:"page_url"`
		PageTitle   string `json:"page_title,omitempty"`
		IsPermanent bool   `json:"is_permanent"`
	}{pageURL, title, permanent}
	var out struct {
		Link string `json:"link"`
	}
	if err := c.call(ctx, post(api, authAuthorizer, appID, body), &out); err != nil {
		return "", err
	}
	if out.Link == "" {
		return "", missing(api, "link")
	}
	return out.Link, nil
}

// LinkInfo is what queryscheme and query_urllink say about one link.
type LinkInfo struct {
	AppID      string `json:"appid"`
	Path       string `json:"path"`
	Query      string `json:"query"`
	CreateTime int64  `json:"create_time"`
	ExpireTime int64  `json:"expire_time"` // 0: never
	EnvVersion string `json:"env_version"`
	// VisitOpenID is the older answer's first visitor; the current doc
	// dropped it (links are no longer one person each), so it is often "".
	VisitOpenID string `json:"-"`
	// RemainVisitQuota is today's remaining opens of all the app's
	// schemes and links (query_type 1), -1 when not asked.
	RemainVisitQuota int64 `json:"-"`
}

type linkQuery struct {
	VisitOpenID string `json:"visit_openid"`
	QuotaInfo   struct {
		RemainVisitQuota int64 `json:"remain_visit_quota"`
	} `json:"quota_info"`
}

// QueryScheme reads a scheme's settings (query_type 0).
// Endpoint: POST /wxa/queryscheme.
func (c *Client) QueryScheme(ctx context.Context, appID, scheme string) (*LinkInfo, error) {
	var out struct {
		SchemeInfo *LinkInfo `json:"scheme_info"`
		linkQuery
	}
	err := c.call(ctx, post("/wxa/queryscheme", authAuthorizer, appID, struct {
		Scheme    string `json:"scheme"`
		QueryType int    `json:"query_type"`
	}{scheme, 0}), &out)
	if err != nil {
		return nil, err
	}
	if out.SchemeInfo == nil {
		return nil, missing("/wxa/queryscheme", "scheme_info")
	}
	out.SchemeInfo.VisitOpenID, out.SchemeInfo.RemainVisitQuota = out.VisitOpenID, -1
	return out.SchemeInfo, nil
}

// QueryURLLink reads a URL Link's settings (query_type 0).
// Endpoint: POST /wxa/query_urllink.
func (c *Client) QueryURLLink(ctx context.Context, appID, link string) (*LinkInfo, error) {
	var out struct {
		Info *LinkInfo `json:"url_link_info"`
		linkQuery
	}
	err := c.call(ctx, post("/wxa/query_urllink", authAuthorizer, appID, struct {
		URLLink   string `json:"url_link"`
		QueryType int    `json:"query_type"`
	}{link, 0}), &out)
	if err != nil {
		return nil, err
	}
	if out.Info == nil {
		return nil, missing("/wxa/query_urllink", "url_link_info")
	}
	out.Info.VisitOpenID, out.Info.RemainVisitQuota = out.VisitOpenID, -1
	return out.Info, nil
}

// RemainVisitQuota is today's remaining opens of the app's URL Schemes and
// URL Links together (queryscheme with query_type 1).
// Endpoint: POST /wxa/queryscheme.
func (c *Client) RemainVisitQuota(ctx context.Context, appID string) (int64, error) {
	var out linkQuery
	err := c.call(ctx, post("/wxa/queryscheme", authAuthorizer, appID, struct {
		QueryType int `json:"query_type"`
	}{1}), &out)
	if err != nil {
		return 0, err
	}
	return out.QuotaInfo.RemainVisitQuota, nil
}

// WxaCodeRequest asks for an unlimited 小程序码: scene (≤32 visible
// characters of the doc's set) reaches the page as query.scene.
type WxaCodeRequest struct {
	Scene      string `json:"scene"`
	Page       string `json:"page,omitempty"` // no leading /, no query; "" is the home page
	CheckPath  bool   `json:"check_path"`
	EnvVersion string `json:"env_version,omitempty"`
	Width      int    `json:"width,omitempty"` // 280–1280, default 430
}

// UnlimitedWxaCode fetches an unlimited 小程序码. Success is an image;
// failure a JSON errcode body, told by content.
// Endpoint: POST /wxa/getwxacodeunlimit (permission set 17).
func (c *Client) UnlimitedWxaCode(ctx context.Context, appID string, r WxaCodeRequest) (*QRCode, error) {
	const api = "/wxa/getwxacodeunlimit"
	req := post(api, authAuthorizer, appID, r)
	var qr *QRCode
	err := c.withToken(ctx, req, func(token string) error {
		resp, err := c.send(ctx, req, token)
		if err != nil {
			return err
		}
		if b := bytes.TrimSpace(resp.body); len(b) > 0 && b[0] == '{' {
			if err := decodeJSON(api, b, nil); err != nil {
				return err
			}
			return fmt.Errorf("wechat %s: %w: JSON instead of an image", api, ErrBadResponse)
		}
		ct := http.DetectContentType(resp.body)
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
