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
