package msgcrypt

import (
	"bytes"
	"strings"
)

// encryptFieldFast reads the envelope WeChat actually sends — a flat
// <xml> whose children are <Name>text</Name> or <Name><![CDATA[text]]></Name>
// — without encoding/xml, which spends most of a push's CPU walking the long
// base64 text byte by byte. ok is false for anything else (attributes,
// nesting, comments, entities, a second <Encrypt>…); the caller then falls
// back to the full decoder, so this path never accepts more than it does.
func encryptFieldFast(body []byte) (encrypt string, ok bool) {
	b := bytes.TrimSpace(body)
	if !bytes.HasPrefix(b, []byte("<xml>")) || !bytes.HasSuffix(b, []byte("</xml>")) {
		return "", false
	}
	b = b[len("<xml>") : len(b)-len("</xml>")]
	found := 0
	for {
		b = bytes.TrimLeft(b, " \t\r\n")
		if len(b) == 0 {
			break
		}
		if b[0] != '<' {
			return "", false
		}
		end := bytes.IndexByte(b, '>')
		if end < 2 {
			return "", false
		}
		name := b[1:end]
		if !isName(name) {
			return "", false
		}
		b = b[end+1:]
		var text []byte
		if bytes.HasPrefix(b, []byte("<![CDATA[")) {
			i := bytes.Index(b, []byte("]]>"))
			if i < 0 {
				return "", false
			}
			text, b = b[len("<![CDATA["):i], b[i+len("]]>"):]
		} else {
			i := bytes.IndexByte(b, '<')
			if i < 0 {
				return "", false
			}
			text, b = b[:i], b[i:]
			if bytes.IndexByte(text, '&') >= 0 {
				return "", false // entities: let the real decoder unescape them
			}
		}
		closing := "</" + string(name) + ">"
		if !bytes.HasPrefix(b, []byte(closing)) {
			return "", false
		}
		b = b[len(closing):]
		if string(name) == "Encrypt" {
			found++
			encrypt = strings.TrimSpace(string(text))
		}
	}
	if found != 1 || encrypt == "" || len(encrypt) > MaxEncryptLen {
		return "", false
	}
	return encrypt, true
}

// isName accepts the plain ASCII element names WeChat uses.
func isName(n []byte) bool {
	if len(n) == 0 {
		return false
	}
	for _, c := range n {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
