package wechat

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Push is a decrypted push from WeChat, parsed by ParsePush. Use a type
// switch on the concrete pointer types; unrecognised kinds are *UnknownPush.
type Push interface {
	// Kind is the InfoType (authorization-event URL) or Event
	// (message-and-event URL), e.g. "authorized" or "weapp_audit_fail".
	Kind() string
	// DedupeKey identifies the push across WeChat's retries (§11), for a
	// UNIQUE index. Retries repeat the same message, CreateTime included,
	// so each key is the kind, the account it concerns, CreateTime and the
	// payload field that tells two pushes of one second apart.
	DedupeKey() string
}

// Push kinds (§2, §5).
const (
	KindComponentVerifyTicket = "component_verify_ticket"
	KindAuthorized            = "authorized"
	KindUpdateAuthorized      = "updateauthorized"
	KindUnauthorized          = "unauthorized"
	KindFastRegister          = "notify_third_fasteregister"
	KindAuditSuccess          = "weapp_audit_success"
	KindAuditFail             = "weapp_audit_fail"
	KindAuditDelay            = "weapp_audit_delay"
	KindNicknameAudit         = "wxa_nickname_audit"
	KindMediaCheck            = "wxa_media_check"
)

// MaxPushBytes bounds the plaintext ParsePush accepts.
const MaxPushBytes = 1 << 20

// ErrMalformedPush is wrapped by ParsePush errors.
var ErrMalformedPush = errors.New("wechat: malformed push")

// ComponentVerifyTicket is pushed every 10 minutes; the ticket is valid 12 h.
type ComponentVerifyTicket struct {
	AppID      string `xml:"AppId"` // component appid
	CreateTime int64  `xml:"CreateTime"`
	Ticket     string `xml:"ComponentVerifyTicket"`
}

// AuthorizationGrant is the payload shared by authorized and updateauthorized.
type AuthorizationGrant struct {
	AppID             string `xml:"AppId"` // component appid
	CreateTime        int64  `xml:"CreateTime"`
	AuthorizerAppID   string `xml:"AuthorizerAppid"`
	AuthorizationCode string `xml:"AuthorizationCode"` // for api_query_auth
	// AuthorizationCodeExpiredTime is an absolute unix time in SDK fixtures;
	// the doc wording suggests a duration [U].
	AuthorizationCodeExpiredTime int64  `xml:"AuthorizationCodeExpiredTime"`
	PreAuthCode                  string `xml:"PreAuthCode"` // correlates with the link we generated
}

// Authorized: a merchant authorized the platform.
type Authorized struct{ AuthorizationGrant }

// UpdateAuthorized: a merchant changed the granted permission sets.
type UpdateAuthorized struct{ AuthorizationGrant }

// Unauthorized: a merchant revoked the authorization; its refresh token is dead.
type Unauthorized struct {
	AppID           string `xml:"AppId"`
	CreateTime      int64  `xml:"CreateTime"`
	AuthorizerAppID string `xml:"AuthorizerAppid"`
}

// FastRegisterInfo is the enterprise (Name…ComponentPhone) or personal
// (WxUser, IDName, ComponentPhone) registration data echoed back.
type FastRegisterInfo struct {
	Name               string `xml:"name"`
	Code               string `xml:"code"`
	CodeType           int    `xml:"code_type"`
	LegalPersonaWechat string `xml:"legal_persona_wechat"`
	LegalPersonaName   string `xml:"legal_persona_name"`
	ComponentPhone     string `xml:"component_phone"`
	WxUser             string `xml:"wxuser"`
	IDName             string `xml:"idname"`
}

// FastRegister reports the outcome of fast-registering a Mini Program.
type FastRegister struct {
	AppID      string           `xml:"AppId"` // component appid
	CreateTime int64            `xml:"CreateTime"`
	NewAppID   string           `xml:"appid"`     // the new Mini Program
	Status     int              `xml:"status"`    // 0 success, else a failure code
	AuthCode   string           `xml:"auth_code"` // for api_query_auth
	Msg        string           `xml:"msg"`
	Info       FastRegisterInfo `xml:"info"`
}

// EventHeader is common to message-and-event URL pushes. ToUserName is the
// authorizer's original id (gh_…).
type EventHeader struct {
	ToUserName   string `xml:"ToUserName"`
	FromUserName string `xml:"FromUserName"`
	CreateTime   int64  `xml:"CreateTime"`
	MsgType      string `xml:"MsgType"`
	Event        string `xml:"Event"`
}

// AuditSuccess: the submitted version passed review. Audit pushes carry no
// auditid; correlate by the authorizer (one audit in flight per app).
type AuditSuccess struct {
	EventHeader
	SuccTime int64 `xml:"SuccTime"`
}

// AuditFail: the submitted version was rejected.
type AuditFail struct {
	EventHeader
	Reason     string `xml:"Reason"` // may contain <br>
	FailTime   int64  `xml:"FailTime"`
	ScreenShot string `xml:"ScreenShot"` // '|'-separated media ids
}

// ScreenShots splits ScreenShot into media ids.
func (p *AuditFail) ScreenShots() []string { return splitNonEmpty(p.ScreenShot, "|") }

// AuditDelay: the review will take longer.
type AuditDelay struct {
	EventHeader
	Reason    string `xml:"Reason"`
	DelayTime int64  `xml:"DelayTime"`
}

// Nickname review results.
const (
	NicknameRejected = 2
	NicknameApproved = 3
)

// NicknameAudit reports the result of a rename review.
type NicknameAudit struct {
	EventHeader
	Ret      int    `xml:"ret"`
	Nickname string `xml:"nickname"`
	Reason   string `xml:"reason"`
}

// MediaCheckDetail is one strategy's verdict in a v2 media check.
type MediaCheckDetail struct {
	Strategy string  `xml:"strategy"`
	ErrCode  int     `xml:"errcode"`
	Suggest  string  `xml:"suggest"`
	Label    int     `xml:"label"`
	Prob     float64 `xml:"prob"`
	Keyword  string  `xml:"keyword"`
}

// MediaCheck is the asynchronous result of media_check_async (§9); v1 and
// v2 fields are both mapped and only one set is filled.
type MediaCheck struct {
	EventHeader
	AppID   string `xml:"appid"`
	TraceID string `xml:"trace_id"`
	// v1
	IsRisky       int    `xml:"isrisky"`
	ExtraInfoJSON string `xml:"extra_info_json"`
	StatusCode    int64  `xml:"status_code"` // 4294966288: media not downloadable
	// v2
	Version int `xml:"version"`
	Result  struct {
		Suggest string `xml:"suggest"` // pass, review or risky
		Label   int    `xml:"label"`
	} `xml:"result"`
	Detail []MediaCheckDetail `xml:"detail"`
	// ErrCode is set when WeChat could not check the media (e.g. 43104,
	// 61010); the verdict fields are then empty.
	ErrCode int `xml:"errcode"`
}

// UnknownPush is any push of a kind this package does not model. It is kept,
// not dropped, so that new event types can be stored and handled later.
type UnknownPush struct {
	Type         string // InfoType, else Event, else MsgType
	AppID        string // AppId, component pushes
	ToUserName   string
	FromUserName string
	CreateTime   int64
	MsgID        string // user messages
	Raw          []byte // the plaintext XML as received
}

func (p *ComponentVerifyTicket) Kind() string { return KindComponentVerifyTicket }
func (p *Authorized) Kind() string            { return KindAuthorized }
func (p *UpdateAuthorized) Kind() string      { return KindUpdateAuthorized }
func (p *Unauthorized) Kind() string          { return KindUnauthorized }
func (p *FastRegister) Kind() string          { return KindFastRegister }
func (p *AuditSuccess) Kind() string          { return KindAuditSuccess }
func (p *AuditFail) Kind() string             { return KindAuditFail }
func (p *AuditDelay) Kind() string            { return KindAuditDelay }
func (p *NicknameAudit) Kind() string         { return KindNicknameAudit }
func (p *MediaCheck) Kind() string            { return KindMediaCheck }

// Kind is the push's type, or "unknown" if it names none.
func (p *UnknownPush) Kind() string {
	if p.Type == "" {
		return "unknown"
	}
	return p.Type
}

// The ticket value is new on every push, but a re-sent identical value must
// still refresh the receive time, so CreateTime is part of the key.
func (p *ComponentVerifyTicket) DedupeKey() string {
	return dedupeKey(p.Kind(), p.AppID, i64(p.CreateTime), p.Ticket)
}

func (p *Authorized) DedupeKey() string { return p.grantKey(p.Kind()) }

func (p *UpdateAuthorized) DedupeKey() string { return p.grantKey(p.Kind()) }

func (g *AuthorizationGrant) grantKey(kind string) string {
	return dedupeKey(kind, g.AppID, g.AuthorizerAppID, i64(g.CreateTime), g.AuthorizationCode)
}

func (p *Unauthorized) DedupeKey() string {
	return dedupeKey(p.Kind(), p.AppID, p.AuthorizerAppID, i64(p.CreateTime))
}

// Failed registrations carry no new appid or auth_code, so the applicant's
// enterprise code or WeChat id keeps two of them in one second apart.
func (p *FastRegister) DedupeKey() string {
	return dedupeKey(p.Kind(), p.AppID, i64(p.CreateTime), p.NewAppID, strconv.Itoa(p.Status), p.AuthCode, p.Info.Code, p.Info.WxUser)
}

// Events dedupe by FromUserName + CreateTime (§11), scoped to the authorizer.
func (h *EventHeader) eventKey(kind string, extra ...string) string {
	return dedupeKey(kind, append([]string{h.ToUserName, h.FromUserName, i64(h.CreateTime)}, extra...)...)
}

func (p *AuditSuccess) DedupeKey() string  { return p.eventKey(p.Kind()) }
func (p *AuditFail) DedupeKey() string     { return p.eventKey(p.Kind()) }
func (p *AuditDelay) DedupeKey() string    { return p.eventKey(p.Kind()) }
func (p *NicknameAudit) DedupeKey() string { return p.eventKey(p.Kind(), p.Nickname) }

// Many media checks can complete in the same second; trace_id separates them.
func (p *MediaCheck) DedupeKey() string { return p.eventKey(p.Kind(), p.TraceID) }

// User messages dedupe by MsgId (§11). Other unknown pushes add a hash of
// the plaintext: for a kind we cannot interpret, storing a duplicate is
// better than merging two distinct pushes of the same second.
func (p *UnknownPush) DedupeKey() string {
	if p.MsgID != "" {
		return dedupeKey(p.Kind(), p.ToUserName, "msgid", p.MsgID)
	}
	sum := sha256.Sum256(p.Raw)
	return dedupeKey(p.Kind(), p.AppID, p.ToUserName, p.FromUserName, i64(p.CreateTime), hex.EncodeToString(sum[:8]))
}

// maxDedupeKey keeps keys index-friendly; longer ones are hashed.
const maxDedupeKey = 256

// dedupeKey is "kind:part|part|…" with each part path-escaped so that a '|'
// inside a value cannot make two different pushes collide.
func dedupeKey(kind string, parts ...string) string {
	esc := make([]string, len(parts))
	for i, p := range parts {
		esc[i] = url.PathEscape(p)
	}
	prefix := url.PathEscape(kind)
	key := prefix + ":" + strings.Join(esc, "|")
	if len(key) <= maxDedupeKey {
		return key
	}
	if len(prefix) > 64 {
		prefix = prefix[:64]
	}
	sum := sha256.Sum256([]byte(key))
	return prefix + ":sha256:" + hex.EncodeToString(sum[:])
}

func i64(n int64) string { return strconv.FormatInt(n, 10) }

func splitNonEmpty(s, sep string) []string {
	var out []string
	for _, f := range strings.Split(s, sep) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// pushHeader holds the discriminators. CreateTime stays a string here so
// that an odd value only fails the typed decode.
type pushHeader struct {
	XMLName      xml.Name
	AppID        string `xml:"AppId"`
	InfoType     string `xml:"InfoType"`
	ToUserName   string `xml:"ToUserName"`
	FromUserName string `xml:"FromUserName"`
	CreateTime   string `xml:"CreateTime"`
	MsgType      string `xml:"MsgType"`
	Event        string `xml:"Event"`
	MsgID        string `xml:"MsgId"`
}

// ParsePush parses a decrypted push (CDATA or plain text fields) into its
// typed value, or *UnknownPush for kinds not modelled here. Errors wrap
// ErrMalformedPush.
func ParsePush(plainXML []byte) (Push, error) {
	if len(plainXML) > MaxPushBytes {
		return nil, fmt.Errorf("%w: %d bytes", ErrMalformedPush, len(plainXML))
	}
	if p, ok := parseFlat(plainXML); ok {
		return p, nil
	}
	return parseXML(plainXML)
}

// parseXML is ParsePush through encoding/xml, for what parseFlat declines.
func parseXML(plainXML []byte) (Push, error) {
	var h pushHeader
	if err := xml.Unmarshal(plainXML, &h); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedPush, err)
	}
	if h.XMLName.Local != "xml" {
		return nil, fmt.Errorf("%w: root element %q", ErrMalformedPush, h.XMLName.Local)
	}
	kind := strings.TrimSpace(h.InfoType)
	if kind == "" {
		kind = strings.TrimSpace(h.Event)
	}

	var p Push
	switch kind {
	case KindComponentVerifyTicket:
		p = &ComponentVerifyTicket{}
	case KindAuthorized:
		p = &Authorized{}
	case KindUpdateAuthorized:
		p = &UpdateAuthorized{}
	case KindUnauthorized:
		p = &Unauthorized{}
	case KindFastRegister:
		p = &FastRegister{}
	case KindAuditSuccess:
		p = &AuditSuccess{}
	case KindAuditFail:
		p = &AuditFail{}
	case KindAuditDelay:
		p = &AuditDelay{}
	case KindNicknameAudit:
		p = &NicknameAudit{}
	case KindMediaCheck:
		p = &MediaCheck{}
	default:
		return parseUnknown(plainXML, h, kind)
	}
	if err := xml.Unmarshal(plainXML, p); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMalformedPush, kind, err)
	}
	return p, nil
}

func parseUnknown(raw []byte, h pushHeader, kind string) (*UnknownPush, error) {
	if kind == "" {
		kind = strings.TrimSpace(h.MsgType)
	}
	var created int64
	if s := strings.TrimSpace(h.CreateTime); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: CreateTime %q", ErrMalformedPush, s)
		}
		created = n
	}
	return &UnknownPush{
		Type:         kind,
		AppID:        h.AppID,
		ToUserName:   h.ToUserName,
		FromUserName: h.FromUserName,
		CreateTime:   created,
		MsgID:        strings.TrimSpace(h.MsgID),
		Raw:          append([]byte(nil), raw...),
	}, nil
}
