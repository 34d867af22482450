package wechat

import (
	"context"
	"fmt"
	"time"
)

// StartPushTicket asks WeChat to push a component_verify_ticket now.
// Endpoint: POST /cgi-bin/component/api_start_push_ticket (no token).
func (c *Client) StartPushTicket(ctx context.Context) error {
	return c.call(ctx, post("/cgi-bin/component/api_start_push_ticket", authNone, "", struct {
		ComponentAppID  string `json:"component_appid"`
		ComponentSecret string `json:"component_secret"`
	}{c.ComponentAppID, c.ComponentSecret}), nil)
}

// ComponentToken is a component_access_token. ExpiresAt is computed from
// ExpiresIn with the client's clock.
type ComponentToken struct {
	AccessToken string    `json:"component_access_token"`
	ExpiresIn   int64     `json:"expires_in"`
	ExpiresAt   time.Time `json:"-"`
}

// ComponentToken exchanges the latest verify ticket for a new component
// access token. It does not use TokenSource: the vault calls it.
// Endpoint: POST /cgi-bin/component/api_component_token (no token).
func (c *Client) ComponentToken(ctx context.Context, ticket string) (*ComponentToken, error) {
	const api = "/cgi-bin/component/api_component_token"
	var out ComponentToken
	err := c.call(ctx, post(api, authNone, "", struct {
		ComponentAppID     string `json:"component_appid"`
		ComponentAppSecret string `json:"component_appsecret"`
		Ticket             string `json:"component_verify_ticket"`
	}{c.ComponentAppID, c.ComponentSecret, ticket}), &out)
	if err != nil {
		return nil, err
	}
	if out.AccessToken == "" {
		return nil, missing(api, "component_access_token")
	}
	out.ExpiresAt = c.expiresAt(out.ExpiresIn)
	return &out, nil
}

// PreAuthCode is a single-use pre_auth_code for one authorization attempt.
type PreAuthCode struct {
	Code      string    `json:"pre_auth_code"`
	ExpiresIn int64     `json:"expires_in"`
	ExpiresAt time.Time `json:"-"`
}

// CreatePreAuthCode returns a fresh pre_auth_code.
// Endpoint: POST /cgi-bin/component/api_create_preauthcode.
func (c *Client) CreatePreAuthCode(ctx context.Context) (*PreAuthCode, error) {
	const api = "/cgi-bin/component/api_create_preauthcode"
	var out PreAuthCode
	if err := c.call(ctx, post(api, authComponent, "", c.componentBody()), &out); err != nil {
		return nil, err
	}
	if out.Code == "" {
		return nil, missing(api, "pre_auth_code")
	}
	out.ExpiresAt = c.expiresAt(out.ExpiresIn)
	return &out, nil
}

func (c *Client) componentBody() any {
	return struct {
		ComponentAppID string `json:"component_appid"`
	}{c.ComponentAppID}
}

// FuncInfo is one granted permission set.
type FuncInfo struct {
	FuncscopeCategory struct {
		ID int `json:"id"`
	} `json:"funcscope_category"`
	ConfirmInfo *struct {
		NeedConfirm    int `json:"need_confirm"`
		AlreadyConfirm int `json:"already_confirm"`
		CanConfirm     int `json:"can_confirm"`
	} `json:"confirm_info,omitempty"`
}

// PermissionSetCodeManagement is the permission set that covers commit,
// audit, release, testers and privacy (§3.3).
const PermissionSetCodeManagement = 18

// AuthorizationInfo is the authorization_info object of api_query_auth and
// api_get_authorizer_info. Tokens are present only from api_query_auth and
// only when the account granted API permissions.
type AuthorizationInfo struct {
	AuthorizerAppID        string     `json:"authorizer_appid"`
	AuthorizerAccessToken  string     `json:"authorizer_access_token,omitempty"`
	ExpiresIn              int64      `json:"expires_in,omitempty"`
	AuthorizerRefreshToken string     `json:"authorizer_refresh_token,omitempty"`
	FuncInfo               []FuncInfo `json:"func_info"`
	ExpiresAt              time.Time  `json:"-"`
}

// PermissionSets returns the granted funcscope_category ids.
func (a *AuthorizationInfo) PermissionSets() []int {
	ids := make([]int, 0, len(a.FuncInfo))
	for _, f := range a.FuncInfo {
		ids = append(ids, f.FuncscopeCategory.ID)
	}
	return ids
}

// QueryAuth exchanges an authorization code (redirect auth_code, push
// AuthorizationCode or fast-register auth_code) for the authorizer's tokens.
// Endpoint: POST /cgi-bin/component/api_query_auth.
func (c *Client) QueryAuth(ctx context.Context, authorizationCode string) (*AuthorizationInfo, error) {
	const api = "/cgi-bin/component/api_query_auth"
	var out struct {
		Info *AuthorizationInfo `json:"authorization_info"`
	}
	err := c.call(ctx, post(api, authComponent, "", struct {
		ComponentAppID string `json:"component_appid"`
		Code           string `json:"authorization_code"`
	}{c.ComponentAppID, authorizationCode}), &out)
	if err != nil {
		return nil, err
	}
	if out.Info == nil || out.Info.AuthorizerAppID == "" {
		return nil, missing(api, "authorization_info.authorizer_appid")
	}
	if out.Info.AuthorizerAccessToken != "" {
		out.Info.ExpiresAt = c.expiresAt(out.Info.ExpiresIn)
	}
	return out.Info, nil
}

// AuthorizerToken is a refreshed authorizer_access_token. RefreshToken is
// echoed back by WeChat and normally unchanged; store it if it differs.
type AuthorizerToken struct {
	AccessToken  string    `json:"authorizer_access_token"`
	ExpiresIn    int64     `json:"expires_in"`
	RefreshToken string    `json:"authorizer_refresh_token"`
	ExpiresAt    time.Time `json:"-"`
}

// RefreshAuthorizerToken gets a new authorizer access token.
// Endpoint: POST /cgi-bin/component/api_authorizer_token.
func (c *Client) RefreshAuthorizerToken(ctx context.Context, authorizerAppID, refreshToken string) (*AuthorizerToken, error) {
	const api = "/cgi-bin/component/api_authorizer_token"
	var out AuthorizerToken
	err := c.call(ctx, post(api, authComponent, "", struct {
		ComponentAppID  string `json:"component_appid"`
		AuthorizerAppID string `json:"authorizer_appid"`
		RefreshToken    string `json:"authorizer_refresh_token"`
	}{c.ComponentAppID, authorizerAppID, refreshToken}), &out)
	if err != nil {
		return nil, err
	}
	if out.AccessToken == "" {
		return nil, missing(api, "authorizer_access_token")
	}
	out.ExpiresAt = c.expiresAt(out.ExpiresIn)
	return &out, nil
}

// TypeInfo is WeChat's {"id": N} wrapper (service_type_info, verify_type_info).
type TypeInfo struct {
	ID int `json:"id"`
}

// MiniProgramNetwork lists the configured server domains.
type MiniProgramNetwork struct {
	RequestDomain   []string `json:"RequestDomain"`
	WsRequestDomain []string `json:"WsRequestDomain"`
	UploadDomain    []string `json:"UploadDomain"`
	DownloadDomain  []string `json:"DownloadDomain"`
	BizDomain       []string `json:"BizDomain"`
	UDPDomain       []string `json:"UDPDomain"`
	TCPDomain       []string `json:"TCPDomain"`
}

// MiniProgramInfo is present only for Mini Programs.
type MiniProgramInfo struct {
	Network    MiniProgramNetwork `json:"network"`
	Categories []struct {
		First  string `json:"first"`
		Second string `json:"second"`
	} `json:"categories"`
	VisitStatus int `json:"visit_status"`
}

// AuthorizerInfo is the authorizer_info object (§3.3).
type AuthorizerInfo struct {
	NickName        string           `json:"nick_name"`
	HeadImg         string           `json:"head_img"`
	ServiceTypeInfo TypeInfo         `json:"service_type_info"`
	VerifyTypeInfo  TypeInfo         `json:"verify_type_info"`
	UserName        string           `json:"user_name"` // original id, gh_…
	Alias           string           `json:"alias"`
	QRCodeURL       string           `json:"qrcode_url"`
	PrincipalName   string           `json:"principal_name"`
	Signature       string           `json:"signature"`
	BusinessInfo    map[string]int   `json:"business_info"`
	MiniProgramInfo *MiniProgramInfo `json:"MiniProgramInfo"`
	RegisterType    int              `json:"register_type"`
	AccountStatus   int              `json:"account_status"` // 1 normal, 14 deregistered, 16 banned, 18 warned, 19 frozen [C1]
	BasicConfig     *struct {
		IsPhoneConfigured bool `json:"is_phone_configured"`
		IsEmailConfigured bool `json:"is_email_configured"`
	} `json:"basic_config"`
}

// IsMiniProgram reports whether the account is a Mini Program rather than an
// Official Account.
func (a *AuthorizerInfo) IsMiniProgram() bool { return a.MiniProgramInfo != nil }

// AuthorizerDetails is the api_get_authorizer_info response.
type AuthorizerDetails struct {
	AuthorizerInfo    AuthorizerInfo    `json:"authorizer_info"`
	AuthorizationInfo AuthorizationInfo `json:"authorization_info"`
}

// AuthorizerInfo fetches an authorizer's account details and grants.
// Endpoint: POST /cgi-bin/component/api_get_authorizer_info.
func (c *Client) AuthorizerInfo(ctx context.Context, authorizerAppID string) (*AuthorizerDetails, error) {
	const api = "/cgi-bin/component/api_get_authorizer_info"
	var out AuthorizerDetails
	err := c.call(ctx, post(api, authComponent, "", struct {
		ComponentAppID  string `json:"component_appid"`
		AuthorizerAppID string `json:"authorizer_appid"`
	}{c.ComponentAppID, authorizerAppID}), &out)
	if err != nil {
		return nil, err
	}
	if out.AuthorizationInfo.AuthorizerAppID == "" {
		return nil, missing(api, "authorization_info.authorizer_appid")
	}
	return &out, nil
}

// AuthorizerListItem is one entry of api_get_authorizer_list. RefreshToken
// is empty when the authorization was never exchanged with api_query_auth.
type AuthorizerListItem struct {
	AuthorizerAppID string `json:"authorizer_appid"`
	RefreshToken    string `json:"refresh_token"`
	AuthTime        int64  `json:"auth_time"`
}

// AuthorizerPage is one page of api_get_authorizer_list.
type AuthorizerPage struct {
	TotalCount int                  `json:"total_count"`
	List       []AuthorizerListItem `json:"list"`
}

// MaxAuthorizerPage is the largest count api_get_authorizer_list accepts.
const MaxAuthorizerPage = 500

// AuthorizerList returns one page of authorizers; count must be 1..500.
// Endpoint: POST /cgi-bin/component/api_get_authorizer_list.
func (c *Client) AuthorizerList(ctx context.Context, offset, count int) (*AuthorizerPage, error) {
	const api = "/cgi-bin/component/api_get_authorizer_list"
	if offset < 0 || count < 1 || count > MaxAuthorizerPage {
		return nil, fmt.Errorf("wechat %s: offset %d, count %d out of range", api, offset, count)
	}
	var out AuthorizerPage
	err := c.call(ctx, post(api, authComponent, "", struct {
		ComponentAppID string `json:"component_appid"`
		Offset         int    `json:"offset"`
		Count          int    `json:"count"`
	}{c.ComponentAppID, offset, count}), &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// AllAuthorizers pages through api_get_authorizer_list 500 at a time until
// total_count is reached or a page comes back empty. The list can shift
// while paging (new authorizations), so repeated appids are dropped.
func (c *Client) AllAuthorizers(ctx context.Context) ([]AuthorizerListItem, error) {
	var all []AuthorizerListItem
	seen := map[string]bool{}
	for offset := 0; ; {
		page, err := c.AuthorizerList(ctx, offset, MaxAuthorizerPage)
		if err != nil {
			return nil, err
		}
		offset += len(page.List)
		for _, a := range page.List {
			if !seen[a.AuthorizerAppID] {
				seen[a.AuthorizerAppID] = true
				all = append(all, a)
			}
		}
		if len(page.List) == 0 || offset >= page.TotalCount {
			return all, nil
		}
	}
}
