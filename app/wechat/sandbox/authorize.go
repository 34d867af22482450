package sandbox

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

type preAuthCode struct {
	value   string
	expires time.Time
	used    bool
}

type authCode struct {
	value   string
	appID   string
	expires time.Time
	used    bool
}

// authRequest is what an authorization link asks for (protocol doc §4).
type authRequest struct {
	preAuthCode string
	authType    int // 1 Official Accounts, 2 Mini Programs, 3 both (default)
	bizAppID    string
	categories  []int // requested permission sets; nil = all
}

// Errors of the programmatic authorization helpers.
var (
	ErrPreAuthCode = errors.New("sandbox: pre_auth_code is invalid, used or expired")
	ErrNoApp       = errors.New("sandbox: no such app")
	ErrAccountType = errors.New("sandbox: account type not allowed by auth_type or biz_appid")
)

func (s *Sandbox) newPreAuthCodeLocked() *preAuthCode {
	p := &preAuthCode{value: s.opaqueLocked("preauthcode@@@", 36), expires: s.clock.Now().Add(s.opts.PreAuthCodeTTL)}
	s.preAuth[p.value] = p
	return p
}

// CreatePreAuthCode issues a pre_auth_code without the API (for tests).
func (s *Sandbox) CreatePreAuthCode() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newPreAuthCodeLocked().value
}

func (s *Sandbox) livePreAuthLocked(code string) (*preAuthCode, error) {
	p := s.preAuth[code]
	if p == nil || p.used || !s.clock.Now().Before(p.expires) {
		return nil, ErrPreAuthCode
	}
	return p, nil
}

// Authorize performs what a merchant does on the authorization page: grant
// spec's account (existing or new) to the platform. It pushes authorized
// (or updateauthorized when the app was already authorized) and returns the
// auth_code the redirect would carry.
func (s *Sandbox) Authorize(preAuthCode string, spec AppSpec) (authCode string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.authorizeLocked(authRequest{preAuthCode: preAuthCode}, spec)
	if err != nil {
		return "", err
	}
	return a.value, nil
}

// AuthorizeApp is Authorize for a new account built from spec, returning its appid too.
func (s *Sandbox) AuthorizeApp(preAuthCode string, spec AppSpec) (appID, authCode string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.authorizeLocked(authRequest{preAuthCode: preAuthCode}, spec)
	if err != nil {
		return "", "", err
	}
	return c.appID, c.value, nil
}

func (s *Sandbox) authorizeLocked(req authRequest, spec AppSpec) (*authCode, error) {
	pre, err := s.livePreAuthLocked(req.preAuthCode)
	if err != nil {
		return nil, err
	}
	var a *app
	if spec.AppID != "" {
		if a = s.apps[spec.AppID]; a == nil {
			return nil, ErrNoApp
		}
	}
	kind := spec.Kind
	if a != nil {
		kind = a.kind
	}
	if !authTypeAllows(req.authType, kind) || (req.bizAppID != "" && (a == nil || a.appID != req.bizAppID)) {
		return nil, ErrAccountType
	}
	if a == nil {
		a = s.newAppLocked(spec)
	}
	perms := spec.PermissionSets
	if perms == nil {
		perms = allSetIDs(a.kind)
		if req.categories != nil {
			perms = slices.DeleteFunc(perms, func(id int) bool { return !slices.Contains(req.categories, id) })
		}
	}
	pre.used = true
	wasAuthorized := a.authorized
	s.grantLocked(a, perms)
	code := s.newAuthCodeLocked(a)
	info := "authorized"
	if wasAuthorized {
		info = "updateauthorized"
	}
	s.pushAuthEventLocked(info, a, code, pre.value)
	return code, nil
}

func authTypeAllows(authType int, k AccountKind) bool {
	switch authType {
	case 1:
		return k != MiniProgram
	case 2:
		return k == MiniProgram
	}
	return true
}

func (s *Sandbox) newAuthCodeLocked(a *app) *authCode {
	c := &authCode{value: s.opaqueLocked("queryauthcode@@@", 40), appID: a.appID, expires: s.clock.Now().Add(s.opts.AuthCodeTTL)}
	s.authCodes[c.value] = c
	return c
}

// Revoke is the merchant cancelling the authorization: tokens and refresh
// token die and unauthorized is pushed. History (code, audits) is kept.
func (s *Sandbox) Revoke(appID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.revokeLocked(appID)
}

func (s *Sandbox) revokeLocked(appID string) error {
	a := s.apps[appID]
	if a == nil || !a.authorized {
		return ErrNoApp
	}
	a.authorized = false
	s.revokeLineLocked(&a.tokens)
	s.pushAuthEventLocked("unauthorized", a, nil, "")
	return nil
}

// UpdatePermissions is the merchant changing the granted permission sets in
// their console: pushes updateauthorized; the refresh token stays.
func (s *Sandbox) UpdatePermissions(appID string, sets []int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[appID]
	if a == nil || !a.authorized {
		return ErrNoApp
	}
	a.perms = slices.Clone(sets)
	s.pushAuthEventLocked("updateauthorized", a, s.newAuthCodeLocked(a), "")
	return nil
}

func (s *Sandbox) pushAuthEventLocked(infoType string, a *app, code *authCode, preAuthCode string) {
	now := s.clock.Now()
	var b xmlBuilder
	b.open()
	b.cdata("AppId", s.opts.ComponentAppID)
	b.num("CreateTime", now.Unix())
	b.cdata("InfoType", infoType)
	b.cdata("AuthorizerAppid", a.appID)
	if code != nil {
		b.cdata("AuthorizationCode", code.value)
		exp := code.expires.Unix()
		if s.opts.AuthCodeExpiryAsDuration {
			exp = int64(s.opts.AuthCodeTTL / time.Second)
		}
		b.num("AuthorizationCodeExpiredTime", exp)
		b.cdata("PreAuthCode", preAuthCode)
	}
	b.close()
	s.pushComponentLocked(infoType, a.appID, b.bytes())
}

// parseCategoryList reads category_id_list ("99|31").
func parseCategoryList(v string) ([]int, error) {
	if v == "" {
		return nil, nil
	}
	var ids []int
	for _, f := range strings.Split(v, "|") {
		id, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("bad category_id_list entry %q", f)
		}
		ids = append(ids, id)
	}
	return ids, nil
}
