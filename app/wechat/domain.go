package wechat

import "context"

// DomainAction is the action of the domain APIs.
type DomainAction string

const (
	DomainAdd    DomainAction = "add"
	DomainDelete DomainAction = "delete"
	DomainSet    DomainAction = "set"
	DomainGet    DomainAction = "get"
)

// ServerDomains are a Mini Program's server domain lists. A nil list is
// left out of the request; an empty non-nil list is sent as [] so that
// DomainSet can clear a type.
type ServerDomains struct {
	RequestDomain   []string `json:"requestdomain,omitzero"`
	WsRequestDomain []string `json:"wsrequestdomain,omitzero"`
	UploadDomain    []string `json:"uploaddomain,omitzero"`
	DownloadDomain  []string `json:"downloaddomain,omitzero"`
	UDPDomain       []string `json:"udpdomain,omitzero"`
	TCPDomain       []string `json:"tcpdomain,omitzero"`
}

// ServerDomainsResult echoes the effective lists. The invalid_* lists come
// from SDK beans, not the official table.
type ServerDomainsResult struct {
	ServerDomains
	InvalidRequestDomain   []string `json:"invalid_requestdomain"`
	InvalidWsRequestDomain []string `json:"invalid_wsrequestdomain"`
	InvalidUploadDomain    []string `json:"invalid_uploaddomain"`
	InvalidDownloadDomain  []string `json:"invalid_downloaddomain"`
	InvalidUDPDomain       []string `json:"invalid_udpdomain"`
	InvalidTCPDomain       []string `json:"invalid_tcpdomain"`
}

// ModifyDomain changes or reads the server domains. Domains must first be
// registered on the platform itself.
// Endpoint: POST /wxa/modify_domain.
func (c *Client) ModifyDomain(ctx context.Context, appID string, action DomainAction, d ServerDomains) (*ServerDomainsResult, error) {
	body := struct {
		Action DomainAction `json:"action"`
		ServerDomains
	}{action, d}
	var out ServerDomainsResult
	if err := c.call(ctx, post("/wxa/modify_domain", authAuthorizer, appID, body), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SetWebviewDomain changes or reads the web-view (business) domains and
// returns the list WeChat reports (filled for DomainGet).
// Endpoint: POST /wxa/setwebviewdomain.
func (c *Client) SetWebviewDomain(ctx context.Context, appID string, action DomainAction, domains []string) ([]string, error) {
	body := struct {
		Action        DomainAction `json:"action"`
		WebviewDomain []string     `json:"webviewdomain,omitzero"`
	}{action, domains}
	var out struct {
		WebviewDomain []string `json:"webviewdomain"`
	}
	if err := c.call(ctx, post("/wxa/setwebviewdomain", authAuthorizer, appID, body), &out); err != nil {
		return nil, err
	}
	return out.WebviewDomain, nil
}

// SetWebviewDomainDirectly changes or reads the app's own business (web-view)
// domains without registering them on the platform first; each domain's
// root must serve the app's verification file (WebviewDomainConfirmFile).
// WeChat's doc: read (get) before add/delete, never set what was set
// elsewhere. The change takes effect with the next release.
// Endpoint: POST /wxa/setwebviewdomain_directly.
func (c *Client) SetWebviewDomainDirectly(ctx context.Context, appID string, action DomainAction, domains []string) ([]string, error) {
	body := struct {
		Action        DomainAction `json:"action"`
		WebviewDomain []string     `json:"webviewdomain,omitzero"`
	}{action, domains}
	if action != DomainGet && body.WebviewDomain == nil {
		body.WebviewDomain = []string{} // required except for get
	}
	var out struct {
		WebviewDomain []string `json:"webviewdomain"`
	}
	if err := c.call(ctx, post("/wxa/setwebviewdomain_directly", authAuthorizer, appID, body), &out); err != nil {
		return nil, err
	}
	return out.WebviewDomain, nil
}

// ConfirmFile is the business-domain verification file WeChat checks at
// the root of each business domain.
type ConfirmFile struct {
	Name    string `json:"file_name"`
	Content string `json:"file_content"`
}

// WebviewDomainConfirmFile returns the app's verification file.
// Endpoint: POST /wxa/get_webviewdomain_confirmfile (body {}).
func (c *Client) WebviewDomainConfirmFile(ctx context.Context, appID string) (*ConfirmFile, error) {
	var out ConfirmFile
	if err := c.call(ctx, post("/wxa/get_webviewdomain_confirmfile", authAuthorizer, appID, nil), &out); err != nil {
		return nil, err
	}
	if out.Name == "" {
		return nil, missing("/wxa/get_webviewdomain_confirmfile", "file_name")
	}
	return &out, nil
}

// ModifyDomainDirectly changes or reads the app's own server domains
// without registering them on the platform. The doc marks all six lists
// required for add/delete/set, so every list is sent ([] when unchanged).
// Endpoint: POST /wxa/modify_domain_directly.
func (c *Client) ModifyDomainDirectly(ctx context.Context, appID string, action DomainAction, d ServerDomains) (*ServerDomainsResult, error) {
	type lists struct {
		RequestDomain   []string `json:"requestdomain"`
		WsRequestDomain []string `json:"wsrequestdomain"`
		UploadDomain    []string `json:"uploaddomain"`
		DownloadDomain  []string `json:"downloaddomain"`
		UDPDomain       []string `json:"udpdomain"`
		TCPDomain       []string `json:"tcpdomain"`
	}
	nz := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	var body any = struct {
		Action DomainAction `json:"action"`
	}{action}
	if action != DomainGet {
		body = struct {
			Action DomainAction `json:"action"`
			lists
		}{action, lists{nz(d.RequestDomain), nz(d.WsRequestDomain), nz(d.UploadDomain), nz(d.DownloadDomain), nz(d.UDPDomain), nz(d.TCPDomain)}}
	}
	var out ServerDomainsResult
	if err := c.call(ctx, post("/wxa/modify_domain_directly", authAuthorizer, appID, body), &out); err != nil {
		return nil, err
	}
	return &out, nil
}
