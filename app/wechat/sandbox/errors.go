package sandbox

import (
	"fmt"
	"math/rand/v2"
)

// apiError is a WeChat error envelope. Handlers return it as their result;
// WeChat answers errors with HTTP 200 and a JSON body, so do we.
type apiError struct {
	Code int
	Msg  string // optional override of the standard text
}

func (e *apiError) Error() string { return fmt.Sprintf("errcode %d: %s", e.Code, e.message()) }

func (e *apiError) message() string {
	if e.Msg != "" {
		return e.Msg
	}
	if m, ok := errMessages[e.Code]; ok {
		return m
	}
	return "system error"
}

func fail(code int) *apiError { return &apiError{Code: code} }

func failMsg(code int, msg string) *apiError { return &apiError{Code: code, Msg: msg} }

// errMessages holds the errmsg texts, mostly as WeChat words them
// (protocol doc §10; texts of 61007, 61009, 61010, 61024 are unconfirmed).
var errMessages = map[int]string{
	-1:    "system error",
	0:     "ok",
	40001: "invalid credential, access_token is invalid or not latest",
	40013: "invalid appid",
	40014: "invalid access_token",
	40125: "invalid appsecret",
	41001: "access_token missing",
	41004: "appsecret missing",
	42001: "access_token expired",
	44002: "empty post data",
	45009: "reach max api daily quota limit",
	47001: "data format error",
	47002: "data format error, do NOT use json unicode encode",
	48001: "api unauthorized",
	48006: "forbid to clear quota because of reaching the limit",
	61003: "component is not authorized by this account",
	61004: "access clientip is not registered",
	61005: "component ticket is expired",
	61006: "component ticket is invalid",
	61007: "api is unauthorized to component",
	61009: "code is invalid",
	61010: "code is expired",
	61011: "invalid component",
	61023: "refresh_token is invalid",
	61039: "privacy info scanning is not finished, please try again later",
	61040: "privacy api is not authorized or not configured",
	40097: "invalid args",
	40129: "invalid scene",
	40165: "invalid weapp pagepath",
	40169: "invalid length for scene, or the data is not json string",
	40212: "invalid query",
	41030: "invalid page",
	44990: "reach max frequency limit",
	85400: "reach max long time quota limit",
	85401: "invalid expire time, must be 1 minute to 30 days",
	85402: "invalid env_version",
	85403: "scheme or url_link not exist",
	85001: "user not exist",
	85002: "the number of testers reached the limit",
	85003: "the wechat id is a tester of too many apps",
	85004: "user already bound as tester",
	85006: "tag is in invalid format",
	85007: "page path is invalid",
	85008: "no category approved",
	85009: "already submit a version under auditing",
	85011: "title is in invalid format",
	85012: "invalid audit id",
	85013: "invalid ext config",
	85014: "template not exist",
	85015: "not a mini program",
	85016: "exceed the domain limit",
	85017: "no domain to modify",
	85018: "domain is not registered on the component",
	85019: "no version is under auditing",
	85020: "status not allowed",
	85023: "item count is invalid, must be 1 to 5",
	85045: "some path in ext_json not exist",
	85046: "tabBar item has no pagePath",
	85047: "pages is empty",
	85048: "parse ext.json failed",
	85052: "app is already released",
	85058: "no valid audit_id exist",
	85064: "template not found",
	85065: "template list is full",
	85077: "category is invalid",
	85079: "miniprogram has no online release",
	85080: "miniprogram commit not approved",
	85081: "invalid gray percentage",
	85082: "gray percentage must be larger than current",
	85085: "submit audit reach limit",
	85086: "must commit before submit audit",
	86001: "no code committed by the third party",
	86071: "invalid privacy_ver",
	86074: "no online privacy setting",
	87011: "current version is in gray release, can not revert",
	87012: "forbid revert this version release",
	87013: "no quota to undo code",
	89401: "system is unstable, please try again later",
	89402: "audit is not in the queue",
	89403: "audit id is invalid or not eligible for speed-up",
	89404: "audit is already expedited",
	89405: "no speed-up quota left",
}

// rid mimics the request id WeChat appends to every errmsg.
func rid(r *rand.Rand) string {
	return fmt.Sprintf("%08x-%08x-%08x", r.Uint32(), r.Uint32(), r.Uint32())
}
