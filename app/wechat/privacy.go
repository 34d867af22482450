package wechat

import (
	"context"
	"encoding/json"
)

// Privacy guideline versions.
const (
	PrivacyLive = 1 // only owner_setting may change
	PrivacyDev  = 2
)

// OwnerSetting is the developer's contact and notice information in the
// privacy guideline. At least one contact and NoticeMethod are required.
// StoreRegion appears in the doc with an unconfirmed type: it is passed
// through as WeChat gave it, so reading and writing back keeps it.
type OwnerSetting struct {
	ContactEmail   string `json:"contact_email,omitempty"`
	ContactPhone   string `json:"contact_phone,omitempty"`
	ContactQQ      string `json:"contact_qq,omitempty"`
	ContactWeixin  string `json:"contact_weixin,omitempty"`
	ExtFileMediaID string `json:"ext_file_media_id,omitempty"`
	NoticeMethod   string `json:"notice_method"`
	// StoreExpireTimestamp is a retention period such as "30天", despite its name.
	StoreExpireTimestamp string          `json:"store_expire_timestamp,omitempty"`
	StoreRegion          json.RawMessage `json:"store_region,omitempty"`
}

// PrivacyItem explains the use of one kind of user data.
type PrivacyItem struct {
	PrivacyKey   string `json:"privacy_key"` // e.g. "Location", "PhoneNumber"
	PrivacyText  string `json:"privacy_text"`
	PrivacyLabel string `json:"privacy_label,omitempty"` // response only
}

// PrivacySetting is the body of setprivacysetting.
type PrivacySetting struct {
	PrivacyVer   int           `json:"privacy_ver"`
	OwnerSetting OwnerSetting  `json:"owner_setting"`
	SettingList  []PrivacyItem `json:"setting_list,omitempty"` // required for PrivacyDev, absent for PrivacyLive
	// SDKPrivacyInfoList is passed through as given: the protocol doc does
	// not pin down its item shape.
	SDKPrivacyInfoList []json.RawMessage `json:"sdk_privacy_info_list,omitempty"`
}

// SetPrivacySetting writes the user-privacy guideline.
// Endpoint: POST /cgi-bin/component/setprivacysetting (authorizer token).
func (c *Client) SetPrivacySetting(ctx context.Context, appID string, s PrivacySetting) error {
	return c.call(ctx, post("/cgi-bin/component/setprivacysetting", authAuthorizer, appID, s), nil)
}

// PrivacySettingResult is the getprivacysetting response.
type PrivacySettingResult struct {
	CodeExist    int           `json:"code_exist"`
	PrivacyList  []string      `json:"privacy_list"` // privacy keys the code uses
	SettingList  []PrivacyItem `json:"setting_list"`
	UpdateTime   int64         `json:"update_time"`
	OwnerSetting OwnerSetting  `json:"owner_setting"`
	PrivacyDesc  struct {
		PrivacyDescList []struct {
			PrivacyKey  string `json:"privacy_key"`
			PrivacyDesc string `json:"privacy_desc"`
		} `json:"privacy_desc_list"`
	} `json:"privacy_desc"`
}

// PrivacySetting reads the guideline of the given version.
// Endpoint: POST /cgi-bin/component/getprivacysetting (authorizer token).
func (c *Client) PrivacySetting(ctx context.Context, appID string, privacyVer int) (*PrivacySettingResult, error) {
	var out PrivacySettingResult
	err := c.call(ctx, post("/cgi-bin/component/getprivacysetting", authAuthorizer, appID, struct {
		PrivacyVer int `json:"privacy_ver"`
	}{privacyVer}), &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// CodePrivacyInfo lists privacy APIs the committed code uses without
// authorization or without configuration.
type CodePrivacyInfo struct {
	WithoutAuthList []string `json:"without_auth_list"`
	WithoutConfList []string `json:"without_conf_list"`
}

// CodePrivacyInfo returns the post-commit privacy scan result; 61039 while
// the scan is still running.
// Endpoint: GET /wxa/security/get_code_privacy_info.
func (c *Client) CodePrivacyInfo(ctx context.Context, appID string) (*CodePrivacyInfo, error) {
	var out CodePrivacyInfo
	if err := c.call(ctx, get("/wxa/security/get_code_privacy_info", authAuthorizer, appID), &out); err != nil {
		return nil, err
	}
	return &out, nil
}
