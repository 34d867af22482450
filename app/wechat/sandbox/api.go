package sandbox

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// credKind is the credential an API takes in its query string.
type credKind int

const (
	credNone       credKind = iota
	credComponent           // component_access_token (or access_token holding one)
	credAuthorizer          // authorizer access_token
	credAnyToken            // either kind
)

// route is one emulated API.
type route struct {
	name  string // short name used by CallCount, InjectError, DailyQuotas
	path  string
	cred  credKind
	perms []int // authorizer must hold one of these permission sets
	// mpOnlyCode is the errcode for accounts that are not Mini Programs (0: any account).
	mpOnlyCode int
	h          func(*call) any
}

// call is one API request being served; handlers run with s.mu held.
type call struct {
	s    *Sandbox
	r    *http.Request
	body []byte
	now  time.Time
	app  *app // the authorizer, for credAuthorizer routes
}

// okEnvelope is embedded in success bodies of APIs that answer errcode 0.
type okEnvelope struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

func ok() okEnvelope { return okEnvelope{ErrMsg: "ok"} }

// binary is a non-JSON success answer (get_qrcode).
type binary struct {
	contentType string
	header      map[string]string
	body        []byte
	// render makes body after the sandbox's lock is released, so drawing
	// an image never holds up every other API call.
	render func() ([]byte, error)
}

type errBody struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

func (s *Sandbox) handleAPI(rt *route) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, maxUploadBody))
		if d := s.latency(); d > 0 {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
		}
		s.mu.Lock()
		res := s.serveLocked(rt, r, body)
		var msgRID string
		if _, isErr := res.(*apiError); isErr {
			msgRID = rid(s.rnd)
		}
		s.mu.Unlock()
		writeResult(w, res, msgRID)
	}
}

func (s *Sandbox) serveLocked(rt *route, r *http.Request, body []byte) any {
	s.calls[rt.name]++
	s.pumpLocked()
	if e := s.faults.take(rt.name, s.rnd); e != nil {
		return e
	}
	c := &call{s: s, r: r, body: body, now: s.clock.Now()}
	if rt.cred == credNone || rt.cred == credComponent {
		if e := s.checkIPLocked(r); e != nil {
			return e
		}
	}
	if e := s.authLocked(rt, c); e != nil {
		return e
	}
	if !s.quota.spend(rt.name, c.now, s.opts.DailyQuotas[rt.name]) {
		return fail(45009)
	}
	res := rt.h(c)
	if _, failed := res.(*apiError); !failed && c.app != nil {
		s.appOK[rt.name+"|"+c.app.appID]++
	}
	return res
}

func (s *Sandbox) checkIPLocked(r *http.Request) *apiError {
	if len(s.opts.AllowedIPs) == 0 {
		return nil
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if slices.Contains(s.opts.AllowedIPs, host) {
		return nil
	}
	return failMsg(61004, "access clientip is not registered, not allow to access from your ip (ip: "+host+")")
}

func (s *Sandbox) authLocked(rt *route, c *call) *apiError {
	q := c.r.URL.Query()
	switch rt.cred {
	case credComponent:
		v := q.Get("component_access_token")
		if v == "" {
			v = q.Get("access_token")
		}
		return s.checkComponentTokenLocked(v)
	case credAuthorizer:
		return s.checkAuthorizerTokenLocked(rt, c, q.Get("access_token"))
	case credAnyToken:
		v := q.Get("access_token")
		if v == "" {
			v = q.Get("component_access_token")
		}
		if o, found := s.tokens[v]; found && o.component {
			return s.checkComponentTokenLocked(v)
		}
		return s.checkAuthorizerTokenLocked(rt, c, v)
	}
	return nil
}

func (s *Sandbox) checkComponentTokenLocked(v string) *apiError {
	if v == "" {
		return fail(41001)
	}
	if code := s.checkTokenLocked(&s.compTokens, v); code != 0 {
		return fail(code)
	}
	return nil
}

func (s *Sandbox) checkAuthorizerTokenLocked(rt *route, c *call, v string) *apiError {
	if v == "" {
		return fail(41001)
	}
	o, found := s.tokens[v]
	if !found || o.component {
		return fail(40001)
	}
	a := s.apps[o.appID]
	if code := s.checkTokenLocked(&a.tokens, v); code != 0 {
		return fail(code)
	}
	if !a.authorized {
		return fail(61003)
	}
	if rt.mpOnlyCode != 0 && a.kind != MiniProgram {
		return fail(rt.mpOnlyCode)
	}
	if len(rt.perms) > 0 && !slices.ContainsFunc(rt.perms, a.hasPerm) {
		return fail(61007)
	}
	c.app = a
	return nil
}

func writeResult(w http.ResponseWriter, res any, msgRID string) {
	switch v := res.(type) {
	case binary:
		if v.render != nil {
			body, err := v.render()
			if err != nil {
				writeResult(w, fail(-1), msgRID)
				return
			}
			v.body = body
		}
		for k, val := range v.header {
			w.Header().Set(k, val)
		}
		w.Header().Set("Content-Type", v.contentType)
		w.Write(v.body)
		return
	case *apiError:
		res = errBody{ErrCode: v.Code, ErrMsg: v.message() + " rid: " + msgRID}
	case nil:
		res = ok()
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // WeChat sends literal UTF-8 and markup
	enc.Encode(res)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(buf.Bytes())
}

// decode parses a JSON body as WeChat does: empty → 44002, \u-escaped
// non-ASCII → 47002, malformed or mistyped → 47001.
func (c *call) decode(v any) *apiError {
	if len(bytes.TrimSpace(c.body)) == 0 {
		return fail(44002)
	}
	if !c.s.opts.AllowUnicodeEscapes && hasEscapedNonASCII(c.body) {
		return fail(47002)
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		return failMsg(47001, "data format error: "+err.Error())
	}
	return nil
}

// hasEscapedNonASCII reports \uXXXX escapes of non-ASCII characters, other
// than U+2028/U+2029 which encoding/json always escapes.
func hasEscapedNonASCII(b []byte) bool {
	for i := 0; i+5 < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		if b[i+1] != 'u' {
			i++ // skip the escaped character, e.g. "\\u" is a literal backslash
			continue
		}
		hex := strings.ToLower(string(b[i+2 : i+6]))
		if hex[:2] != "00" || hex[2] >= '8' {
			if hex != "2028" && hex != "2029" {
				return true
			}
		}
	}
	return false
}

// lenRunes counts characters the way WeChat's length limits do.
func lenRunes(s string) int { return utf8.RuneCountInString(s) }
