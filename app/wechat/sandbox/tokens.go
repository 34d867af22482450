package sandbox

import (
	"encoding/base64"
	"time"
)

// token is one issued access token.
type token struct {
	value   string
	expires time.Time
	// superseded is set when a newer token cut this one's life short; past
	// that point WeChat says "not latest" (40001), not "expired" (42001).
	superseded bool
}

// tokenLine is the token history of one credential holder. Only the newest
// two tokens exist: on issue, the previous current keeps at most
// TokenOverlap more life and anything older is revoked (protocol doc §3.2,
// unconfirmed item 1).
type tokenLine struct {
	cur, prev *token
	issued    int
}

type tokenOwner struct {
	component bool
	appID     string // authorizer token owner
}

func (s *Sandbox) issueTokenLocked(line *tokenLine, owner tokenOwner) *token {
	now := s.clock.Now()
	if line.prev != nil {
		delete(s.tokens, line.prev.value)
	}
	if line.cur != nil {
		if cut := now.Add(s.opts.TokenOverlap); cut.Before(line.cur.expires) {
			line.cur.expires, line.cur.superseded = cut, true
		}
	}
	t := &token{value: s.tokenValueLocked(), expires: now.Add(s.opts.TokenTTL)}
	line.prev, line.cur = line.cur, t
	line.issued++
	s.tokens[t.value] = owner
	return t
}

// tokenValueLocked mimics real tokens: "NN_" and a long opaque tail.
func (s *Sandbox) tokenValueLocked() string {
	b := make([]byte, 96)
	for i := range b {
		b[i] = byte(s.rnd.Uint32())
	}
	return itoa2(int(s.rnd.IntN(90)+10)) + "_" + base64.RawURLEncoding.EncodeToString(b)
}

func itoa2(n int) string { return string([]byte{byte('0' + n/10), byte('0' + n%10)}) }

// checkToken returns 0 if v is a live token of line, else the errcode.
func (s *Sandbox) checkTokenLocked(line *tokenLine, v string) int {
	now := s.clock.Now()
	for _, t := range []*token{line.cur, line.prev} {
		if t == nil || t.value != v {
			continue
		}
		if now.Before(t.expires) {
			return 0
		}
		if t.superseded {
			return 40001
		}
		return 42001
	}
	return 40001
}

// revokeLine kills every token of a holder (authorizer unauthorized).
func (s *Sandbox) revokeLineLocked(line *tokenLine) {
	for _, t := range []*token{line.cur, line.prev} {
		if t != nil {
			delete(s.tokens, t.value)
		}
	}
	line.cur, line.prev = nil, nil
}

// randHex returns n random lowercase hex digits.
func (s *Sandbox) randHexLocked(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[s.rnd.IntN(16)]
	}
	return string(b)
}

// opaqueLocked returns prefix followed by a random url-safe tail.
func (s *Sandbox) opaqueLocked(prefix string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(s.rnd.Uint32())
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}
