package wechat

import (
	"context"
	"net/url"
	"strconv"
)

// Template library APIs authenticate with the component token passed as
// ?access_token= (§6).

// TemplateDraft is an uploaded draft that can become a template.
type TemplateDraft struct {
	DraftID     int64  `json:"draft_id"`
	UserVersion string `json:"user_version"`
	UserDesc    string `json:"user_desc"`
	CreateTime  int64  `json:"create_time"`
	// Present in SDK beans, not in the official table.
	SourceMiniprogramAppID string `json:"source_miniprogram_appid,omitempty"`
	SourceMiniprogram      string `json:"source_miniprogram,omitempty"`
	Developer              string `json:"developer,omitempty"`
}

// TemplateDrafts lists the drafts uploaded from the developer tools.
// Endpoint: GET /wxa/gettemplatedraftlist.
func (c *Client) TemplateDrafts(ctx context.Context) ([]TemplateDraft, error) {
	var out struct {
		DraftList []TemplateDraft `json:"draft_list"`
	}
	if err := c.call(ctx, get("/wxa/gettemplatedraftlist", authComponentAsAccess, ""), &out); err != nil {
		return nil, err
	}
	return out.DraftList, nil
}

// TemplateType selects the normal or the (retiring) standard library.
type TemplateType int

const (
	TemplateNormal   TemplateType = 0
	TemplateStandard TemplateType = 1
	// TemplateAny omits template_type when listing.
	TemplateAny TemplateType = -1
)

// AddToTemplate turns a draft into a template of the given type.
// Endpoint: POST /wxa/addtotemplate.
func (c *Client) AddToTemplate(ctx context.Context, draftID int64, t TemplateType) error {
	return c.call(ctx, post("/wxa/addtotemplate", authComponentAsAccess, "", struct {
		DraftID      int64        `json:"draft_id"`
		TemplateType TemplateType `json:"template_type"`
	}{draftID, t}), nil)
}

// Template is an entry of the template library. The audit fields are set
// only for standard templates.
type Template struct {
	TemplateID             int64        `json:"template_id"`
	DraftID                int64        `json:"draft_id"`
	UserVersion            string       `json:"user_version"`
	UserDesc               string       `json:"user_desc"`
	CreateTime             int64        `json:"create_time"`
	TemplateType           TemplateType `json:"template_type"`
	SourceMiniprogramAppID string       `json:"source_miniprogram_appid"`
	SourceMiniprogram      string       `json:"source_miniprogram"`
	Developer              string       `json:"developer"`
	AuditScene             int          `json:"audit_scene,omitempty"`
	AuditStatus            int          `json:"audit_status,omitempty"`
	Reason                 string       `json:"reason,omitempty"`
}

// Templates lists the template library, filtered by type unless TemplateAny.
// Endpoint: GET /wxa/gettemplatelist.
func (c *Client) Templates(ctx context.Context, t TemplateType) ([]Template, error) {
	r := get("/wxa/gettemplatelist", authComponentAsAccess, "")
	if t != TemplateAny {
		r.query = url.Values{"template_type": {strconv.Itoa(int(t))}}
	}
	var out struct {
		TemplateList []Template `json:"template_list"`
	}
	if err := c.call(ctx, r, &out); err != nil {
		return nil, err
	}
	return out.TemplateList, nil
}

// DeleteTemplate removes a template from the library.
// Endpoint: POST /wxa/deletetemplate.
func (c *Client) DeleteTemplate(ctx context.Context, templateID int64) error {
	return c.call(ctx, post("/wxa/deletetemplate", authComponentAsAccess, "", struct {
		TemplateID int64 `json:"template_id"`
	}{templateID}), nil)
}
