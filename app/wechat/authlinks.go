package wechat

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
)

// Auth types for the authorization pages (§4).
const (
	AuthTypeOfficialAccount = 1
	AuthTypeMiniProgram     = 2
	AuthTypeBoth            = 3
)

// AuthLink describes one authorization attempt.
type AuthLink struct {
	PreAuthCode string // fresh from CreatePreAuthCode; single use
	RedirectURI string // absolute; its host must be the platform's authorization-start domain
	// AuthType restricts the account kinds shown; 0 means AuthTypeMiniProgram.
	// Mutually exclusive with BizAppID.
	AuthType int
	// BizAppID restricts the page to one account; auth_type is then omitted.
	BizAppID string
	// CategoryIDs are the permission sets to request (category_id_list);
	// empty means all. Exact semantics are unconfirmed [U].
	CategoryIDs []int
}

// PCAuthURL returns the PC QR-code authorization page URL (§4.1). The
// browser must open it from a page on the authorization-start domain
// (WeChat checks the Referer), not via a redirect.
func (c *Client) PCAuthURL(l AuthLink) (string, error) {
	q, err := c.authQuery(l)
	if err != nil {
		return "", err
	}
	return orDefault(c.MPBase, DefaultMPBase) + "/cgi-bin/componentloginpage?" + q, nil
}

// MobileAuthURL returns the quick-auth link to open inside WeChat (§4.2).
func (c *Client) MobileAuthURL(l AuthLink) (string, error) {
	q, err := c.authQuery(l)
	if err != nil {
		return "", err
	}
	return orDefault(c.OpenBase, DefaultOpenBase) + "/wxaopen/safe/bindcomponent?action=bindcomponent&no_scan=1&" + q + "#wechat_redirect", nil
}

// authQuery builds the shared parameters in the documented order;
// url.Values.Encode would sort them.
func (c *Client) authQuery(l AuthLink) (string, error) {
	switch {
	case c.ComponentAppID == "":
		return "", errors.New("wechat: auth link: empty component appid")
	case l.PreAuthCode == "":
		return "", errors.New("wechat: auth link: empty pre_auth_code")
	case l.AuthType != 0 && l.BizAppID != "":
		return "", errors.New("wechat: auth link: auth_type and biz_appid are mutually exclusive")
	}
	if u, err := url.Parse(l.RedirectURI); err != nil || !u.IsAbs() || u.Host == "" {
		return "", errors.New("wechat: auth link: redirect_uri must be an absolute URL")
	}
	var b strings.Builder
	add := func(k, v string) {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(v))
	}
	add("component_appid", c.ComponentAppID)
	add("pre_auth_code", l.PreAuthCode)
	add("redirect_uri", l.RedirectURI)
	if l.BizAppID != "" {
		add("biz_appid", l.BizAppID)
	} else {
		t := l.AuthType
		if t == 0 {
			t = AuthTypeMiniProgram
		}
		add("auth_type", strconv.Itoa(t))
	}
	if len(l.CategoryIDs) > 0 {
		ids := make([]string, len(l.CategoryIDs))
		for i, id := range l.CategoryIDs {
			ids[i] = strconv.Itoa(id)
		}
		add("category_id_list", strings.Join(ids, "|"))
	}
	return b.String(), nil
}
