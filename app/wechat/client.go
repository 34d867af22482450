package wechat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Default hosts (§0).
const (
	DefaultAPIBase  = "https://api.weixin.qq.com"
	DefaultMPBase   = "https://mp.weixin.qq.com"
	DefaultOpenBase = "https://open.weixin.qq.com"
)

// MaxResponseBytes bounds every response body read. The largest legitimate
// response is a get_qrcode image, well under this.
const MaxResponseBytes = 8 << 20

// TokenSource is implemented by the token vault (in another package).
type TokenSource interface {
	ComponentAccessToken(ctx context.Context) (string, error)
	AuthorizerAccessToken(ctx context.Context, authorizerAppID string) (string, error)
	// Expire* are compare-then-expire: drop the cached token only if it still equals `failed`.
	ExpireComponentAccessToken(ctx context.Context, failed string)
	ExpireAuthorizerAccessToken(ctx context.Context, authorizerAppID, failed string)
}

// Client calls the Open Platform APIs on behalf of one component.
// All configuration is in fields so tests and the sandbox can point it
// anywhere; it is safe for concurrent use once configured.
type Client struct {
	APIBase  string // API host, default DefaultAPIBase
	MPBase   string // PC authorization page host, default DefaultMPBase
	OpenBase string // mobile authorization link host, default DefaultOpenBase

	HTTP *http.Client     // nil means http.DefaultClient
	Now  func() time.Time // nil means time.Now; used for ExpiresAt fields

	ComponentAppID  string
	ComponentSecret string
	Tokens          TokenSource

	// Observe, when set, hears every HTTP exchange with WeChat: the API
	// path, the errcode (0 ok, -2 no answer or not JSON-decodable) and how
	// long it took (metrics).
	Observe func(path string, errcode int, d time.Duration)
}

// observe reports one exchange to Observe.
func (c *Client) observe(path string, start time.Time, err error) {
	if c.Observe == nil {
		return
	}
	code := 0
	var we *Error
	switch {
	case err == nil:
	case errors.As(err, &we):
		code = we.Code
	default:
		code = -2
	}
	c.Observe(path, code, time.Since(start))
}

// New returns a Client for the real WeChat hosts with a 30-second HTTP
// timeout; override fields afterwards to point it at the sandbox.
func New(componentAppID, componentSecret string, tokens TokenSource) *Client {
	return &Client{
		APIBase:         DefaultAPIBase,
		MPBase:          DefaultMPBase,
		OpenBase:        DefaultOpenBase,
		HTTP:            &http.Client{Timeout: 30 * time.Second},
		Now:             time.Now,
		ComponentAppID:  componentAppID,
		ComponentSecret: componentSecret,
		Tokens:          tokens,
	}
}

func (c *Client) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP == nil {
		return http.DefaultClient
	}
	return c.HTTP
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// auth says which token a request carries and under which query name (§0).
type auth int

const (
	authNone auth = iota
	// authComponent: ?component_access_token=, the name every SDK uses on
	// /cgi-bin/component/* (newer docs also accept access_token).
	authComponent
	// authComponentAsAccess: the component token as ?access_token=, as the
	// template library APIs require.
	authComponentAsAccess
	// authAuthorizer: the authorizer's token as ?access_token=.
	authAuthorizer
)

// tokenErrorCodes trigger one expire-and-retry (§10, as WxJava does).
var tokenErrorCodes = []int{CodeInvalidCredential, CodeInvalidAccessToken, CodeAccessTokenExpired}

type request struct {
	method string
	path   string     // also the API name in errors
	query  url.Values // extra query parameters, never the token
	body   any        // JSON body for POST; nil sends {}
	auth   auth
	appID  string    // authorizer appid for authAuthorizer
	file   *filePart // a multipart upload instead of a JSON body
}

// filePart is the one file of a multipart upload (field "media").
type filePart struct {
	field, name, contentType string
	data                     []byte
}

func get(path string, a auth, appID string) request {
	return request{method: http.MethodGet, path: path, auth: a, appID: appID}
}

func post(path string, a auth, appID string, body any) request {
	return request{method: http.MethodPost, path: path, auth: a, appID: appID, body: body}
}

// response is a raw, size-limited HTTP response.
type response struct {
	body        []byte
	contentType string
}

// call sends r and decodes a JSON success into out (which may be nil).
func (c *Client) call(ctx context.Context, r request, out any) error {
	return c.withToken(ctx, r, func(token string) error {
		start := time.Now()
		resp, err := c.send(ctx, r, token)
		if err == nil {
			err = decodeJSON(r.path, resp.body, out)
		}
		c.observe(r.path, start, err)
		return err
	})
}

// withToken runs attempt with the token r needs. On a token errcode it
// expires exactly the token that failed (another caller may already have
// replaced it), fetches a fresh one and retries once.
func (c *Client) withToken(ctx context.Context, r request, attempt func(token string) error) error {
	if r.auth == authNone {
		return attempt("")
	}
	token, err := c.token(ctx, r)
	if err != nil {
		return err
	}
	err = attempt(token)
	if !IsCode(err, tokenErrorCodes...) {
		return err
	}
	c.expire(ctx, r, token)
	fresh, ferr := c.token(ctx, r)
	if ferr != nil {
		return fmt.Errorf("%w (refreshing token after it failed: %v)", err, ferr)
	}
	if fresh == token {
		// The source could not replace it; a retry would fail the same way.
		return err
	}
	return attempt(fresh)
}

func (c *Client) token(ctx context.Context, r request) (string, error) {
	if c.Tokens == nil {
		return "", fmt.Errorf("wechat %s: no TokenSource configured", r.path)
	}
	var (
		t   string
		err error
	)
	if r.auth == authAuthorizer {
		if r.appID == "" {
			return "", fmt.Errorf("wechat %s: empty authorizer appid", r.path)
		}
		t, err = c.Tokens.AuthorizerAccessToken(ctx, r.appID)
	} else {
		t, err = c.Tokens.ComponentAccessToken(ctx)
	}
	if err != nil {
		return "", fmt.Errorf("wechat %s: get access token: %w", r.path, err)
	}
	if t == "" {
		return "", fmt.Errorf("wechat %s: token source returned an empty token", r.path)
	}
	return t, nil
}

func (c *Client) expire(ctx context.Context, r request, failed string) {
	if r.auth == authAuthorizer {
		c.Tokens.ExpireAuthorizerAccessToken(ctx, r.appID, failed)
	} else {
		c.Tokens.ExpireComponentAccessToken(ctx, failed)
	}
}

// send performs one HTTP exchange. Errors never include the URL, which
// carries the token.
func (c *Client) send(ctx context.Context, r request, token string) (*response, error) {
	q := url.Values{}
	for k, v := range r.query {
		q[k] = v
	}
	switch r.auth {
	case authComponent:
		q.Set("component_access_token", token)
	case authComponentAsAccess, authAuthorizer:
		q.Set("access_token", token)
	}
	u := orDefault(c.APIBase, DefaultAPIBase) + r.path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}

	var (
		body        io.Reader
		contentType = "application/json; charset=utf-8"
	)
	switch {
	case r.file != nil:
		b, ct, err := r.file.encode()
		if err != nil {
			return nil, fmt.Errorf("wechat %s: encode upload: %w", r.path, err)
		}
		body, contentType = bytes.NewReader(b), ct
	case r.method == http.MethodPost:
		b, err := encodeJSON(r.body)
		if err != nil {
			return nil, fmt.Errorf("wechat %s: encode request: %w", r.path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return nil, fmt.Errorf("wechat %s: build request: %w", r.path, scrubURLError(err))
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, &TransportError{API: r.path, Err: scrubURLError(err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &HTTPError{API: r.path, StatusCode: resp.StatusCode}
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return nil, &TransportError{API: r.path, Err: scrubURLError(err)}
	}
	if len(b) > MaxResponseBytes {
		return nil, fmt.Errorf("wechat %s: %w: body exceeds %d bytes", r.path, ErrBadResponse, MaxResponseBytes)
	}
	return &response{body: b, contentType: resp.Header.Get("Content-Type")}, nil
}

// scrubURLError drops the URL (and with it the token) from *url.Error.
func scrubURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// encodeJSON writes v as raw UTF-8 JSON: WeChat may reject \uXXXX-escaped
// Chinese with 47002, and bodiless POSTs still need a literal {} (44002).
func encodeJSON(v any) ([]byte, error) {
	if v == nil {
		return []byte("{}"), nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// errEnvelope is the error part every JSON response may carry (§0).
type errEnvelope struct {
	ErrCode *int   `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// decodeJSON treats an absent or zero errcode as success: token endpoints
// omit errcode on success, /wxa/* send 0.
func decodeJSON(api string, body []byte, out any) error {
	var env errEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("wechat %s: %w: %v", api, ErrBadResponse, err)
	}
	if env.ErrCode != nil && *env.ErrCode != 0 {
		return &Error{API: api, Code: *env.ErrCode, Msg: env.ErrMsg}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("wechat %s: %w: %v", api, ErrBadResponse, err)
	}
	return nil
}

// missing reports a success response that lacks its essential field.
func missing(api, field string) error {
	return fmt.Errorf("wechat %s: %w: no %s in response", api, ErrBadResponse, field)
}

// expiresAt turns a relative expires_in into an absolute time on the
// client's clock.
func (c *Client) expiresAt(expiresIn int64) time.Time {
	return c.now().Add(time.Duration(expiresIn) * time.Second)
}
