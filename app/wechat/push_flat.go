package wechat

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"
)

// WeChat's pushes are flat: <xml>, then one element per field holding a
// CDATA section or plain text, then </xml>. encoding/xml, reflecting over
// the structs twice (header, then the typed value), was the largest CPU cost
// of push intake after SQLite. parseFlat reads exactly that shape in one
// pass and gives up (ok=false) on anything else — attributes, nesting,
// entities, comments, declarations, \r, odd names, a bad number, the kinds
// with nested fields — and ParsePush then uses encoding/xml. Where it
// answers, it answers what encoding/xml would (FuzzParseFlatMatchesXML).

type flatField struct{ name, value []byte }

type flatXML []flatField

// scanFlat splits b into its fields, or reports false.
func scanFlat(b []byte, out flatXML) (flatXML, bool) {
	i := skipSpace(b, 0)
	if !hasAt(b, i, "<xml>") {
		return nil, false
	}
	i += len("<xml>")
	for {
		i = skipSpace(b, i)
		if hasAt(b, i, "</xml>") {
			return out, skipSpace(b, i+len("</xml>")) == len(b)
		}
		// <Name>
		if i >= len(b) || b[i] != '<' {
			return nil, false
		}
		i++
		n := i
		for i < len(b) && isNameByte(b[i], i == n) {
			i++
		}
		if i == n || i >= len(b) || b[i] != '>' {
			return nil, false
		}
		name := b[n:i]
		i++
		// value
		var value []byte
		if hasAt(b, i, "<![CDATA[") {
			i += len("<![CDATA[")
			end := indexAt(b, i, cdataEnd)
			if end < 0 {
				return nil, false
			}
			value = b[i:end]
			i = end + len("]]>")
		} else {
			v := i
			for i < len(b) && b[i] != '<' {
				if c := b[i]; c == '&' || c == '>' {
					return nil, false
				}
				i++
			}
			value = b[v:i]
		}
		if !plainChars(value) {
			return nil, false
		}
		// </Name>
		if e := i + 2 + len(name); e >= len(b) || b[i] != '<' || b[i+1] != '/' || !bytes.Equal(b[i+2:e], name) || b[e] != '>' {
			return nil, false
		}
		i += 2 + len(name) + 1
		out = append(out, flatField{name: name, value: value})
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n') {
		i++
	}
	return i
}

func hasAt(b []byte, i int, s string) bool {
	return i >= 0 && i <= len(b) && len(b)-i >= len(s) && string(b[i:i+len(s)]) == s
}

// indexAt finds s in b at or after i (bytes.Index: strings.Index over
// string(b[i:]) copied the rest of the push at every CDATA section).
var cdataEnd = []byte("]]>")

func indexAt(b []byte, i int, s []byte) int {
	if j := bytes.Index(b[i:], s); j >= 0 {
		return i + j
	}
	return -1
}

// isNameByte keeps names to ASCII letters, digits and '_' (no namespaces).
func isNameByte(c byte, first bool) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || !first && '0' <= c && c <= '9'
}

// plainChars reports whether v is valid UTF-8 made of XML characters with
// no \r (which encoding/xml would rewrite).
func plainChars(v []byte) bool {
	for i := 0; i < len(v); {
		c := v[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(v[i:])
		if r == utf8.RuneError && size == 1 || !isXMLChar(r) {
			return false
		}
		i += size
	}
	return true
}

func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// str is the last value of the element name, as encoding/xml keeps it.
func (f flatXML) str(name string) string {
	for i := len(f) - 1; i >= 0; i-- {
		if string(f[i].name) == name {
			return string(f[i].value)
		}
	}
	return ""
}

// int parses every value of the element name as encoding/xml does (an
// empty element is 0, spaces are trimmed) and returns the last; false if
// any does not parse.
func (f flatXML) int(name string, bits int) (int64, bool) {
	var n int64
	for _, fl := range f {
		if string(fl.name) != name {
			continue
		}
		if len(fl.value) == 0 {
			n = 0
			continue
		}
		v, err := strconv.ParseInt(strings.TrimSpace(string(fl.value)), 10, bits)
		if err != nil {
			return 0, false
		}
		n = v
	}
	return n, true
}

// parseFlat is ParsePush for flat pushes; ok=false means "ask encoding/xml".
func parseFlat(b []byte) (p Push, ok bool) {
	var buf [16]flatField
	f, ok := scanFlat(b, buf[:0])
	if !ok {
		return nil, false
	}
	kind := strings.TrimSpace(f.str("InfoType"))
	if kind == "" {
		kind = strings.TrimSpace(f.str("Event"))
	}
	ct, ok := f.int("CreateTime", 64)
	if !ok {
		return nil, false
	}
	event := func() (EventHeader, bool) {
		return EventHeader{ToUserName: f.str("ToUserName"), FromUserName: f.str("FromUserName"), CreateTime: ct,
			MsgType: f.str("MsgType"), Event: f.str("Event")}, true
	}
	switch kind {
	case KindComponentVerifyTicket:
		return &ComponentVerifyTicket{AppID: f.str("AppId"), CreateTime: ct, Ticket: f.str("ComponentVerifyTicket")}, true
	case KindAuthorized, KindUpdateAuthorized:
		exp, ok := f.int("AuthorizationCodeExpiredTime", 64)
		if !ok {
			return nil, false
		}
		g := AuthorizationGrant{AppID: f.str("AppId"), CreateTime: ct, AuthorizerAppID: f.str("AuthorizerAppid"),
			AuthorizationCode: f.str("AuthorizationCode"), AuthorizationCodeExpiredTime: exp, PreAuthCode: f.str("PreAuthCode")}
		if kind == KindAuthorized {
			return &Authorized{g}, true
		}
		return &UpdateAuthorized{g}, true
	case KindUnauthorized:
		return &Unauthorized{AppID: f.str("AppId"), CreateTime: ct, AuthorizerAppID: f.str("AuthorizerAppid")}, true
	case KindAuditSuccess:
		h, _ := event()
		t, ok := f.int("SuccTime", 64)
		return &AuditSuccess{EventHeader: h, SuccTime: t}, ok
	case KindAuditFail:
		h, _ := event()
		t, ok := f.int("FailTime", 64)
		return &AuditFail{EventHeader: h, Reason: f.str("Reason"), FailTime: t, ScreenShot: f.str("ScreenShot")}, ok
	case KindAuditDelay:
		h, _ := event()
		t, ok := f.int("DelayTime", 64)
		return &AuditDelay{EventHeader: h, Reason: f.str("Reason"), DelayTime: t}, ok
	case KindNicknameAudit:
		h, _ := event()
		ret, ok := f.int("ret", strconv.IntSize)
		return &NicknameAudit{EventHeader: h, Ret: int(ret), Nickname: f.str("nickname"), Reason: f.str("reason")}, ok
	case KindFastRegister, KindMediaCheck:
		return nil, false // nested fields: encoding/xml
	}
	if kind == "" {
		kind = strings.TrimSpace(f.str("MsgType"))
	}
	return &UnknownPush{
		Type:         kind,
		AppID:        f.str("AppId"),
		ToUserName:   f.str("ToUserName"),
		FromUserName: f.str("FromUserName"),
		CreateTime:   ct,
		MsgID:        strings.TrimSpace(f.str("MsgId")),
		Raw:          append([]byte(nil), b...),
	}, true
}
