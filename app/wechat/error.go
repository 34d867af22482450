package wechat

import (
	"errors"
	"fmt"
	"slices"
)

// Error is a non-zero errcode returned by a WeChat API.
type Error struct {
	API  string // endpoint path, e.g. "/wxa/commit"
	Code int    // errcode
	Msg  string // errmsg, including WeChat's "rid: …" suffix
}

func (e *Error) Error() string {
	return fmt.Sprintf("wechat %s: errcode %d: %s", e.API, e.Code, e.Msg)
}

// IsCode reports whether err wraps an *Error whose Code is one of codes.
func IsCode(err error, codes ...int) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	return slices.Contains(codes, e.Code)
}

// Token errors: the call failed because the access token is invalid,
// superseded or expired (§10). The client heals these once by itself.
const (
	CodeInvalidCredential  = 40001
	CodeInvalidAccessToken = 40014
	CodeAccessTokenExpired = 42001
)

// HTTPError is a non-2xx HTTP status. WeChat reports API errors with status
// 200, so this means a gateway or proxy problem rather than an errcode.
type HTTPError struct {
	API        string
	StatusCode int
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("wechat %s: HTTP status %d", e.API, e.StatusCode)
}

// TransportError is a failure to get any response: DNS, TLS, timeouts,
// cancelled contexts. Unwrap exposes the cause (e.g. context.Canceled).
// The request URL is deliberately left out: it carries the access token.
type TransportError struct {
	API string
	Err error
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("wechat %s: transport: %v", e.API, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// ErrBadResponse is wrapped by errors for responses that cannot be used:
// oversized, not JSON, or a success without the expected payload.
var ErrBadResponse = errors.New("bad response")
