package msgcrypt

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"unicode/utf8"
)

// MaxBodyLen bounds the envelope body OpenPush will parse.
const MaxBodyLen = MaxEncryptLen + 64<<10

// Envelope fields WeChat puts beside <Encrypt>.
const (
	FieldAppID      = "AppId"      // authorization-event URL: component appid
	FieldToUserName = "ToUserName" // message-and-event URL: authorizer original id
)

// OpenPush verifies msgSignature over the envelope's <Encrypt> element in
// constant time, then decrypts it. Errors wrap ErrMalformed (body is not an
// envelope), ErrSignature, ErrDecrypt or ErrAppID.
func (c *Crypter) OpenPush(body []byte, timestamp, nonce, msgSignature string) ([]byte, error) {
	encrypt, err := EncryptField(body)
	if err != nil {
		return nil, err
	}
	want := c.MsgSignature(timestamp, nonce, encrypt)
	if subtle.ConstantTimeCompare([]byte(want), []byte(msgSignature)) != 1 {
		return nil, ErrSignature
	}
	return c.Decrypt(encrypt)
}

// EncryptField returns the text of the single <Encrypt> child of the
// envelope's root element. Other children vary between URLs and are ignored.
func EncryptField(body []byte) (string, error) {
	if len(body) > MaxBodyLen {
		return "", fmt.Errorf("%w: body of %d bytes", ErrMalformed, len(body))
	}
	if enc, ok := encryptFieldFast(body); ok {
		return enc, nil
	}
	return encryptFieldSlow(body)
}

// encryptFieldSlow is EncryptField through encoding/xml, for any envelope
// the fast path declines.
func encryptFieldSlow(body []byte) (string, error) {
	d := xml.NewDecoder(bytes.NewReader(body))
	var (
		depth, roots, found int
		inEncrypt           bool
		text                strings.Builder
	)
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 1 {
				if roots++; roots > 1 || t.Name.Local != "xml" {
					return "", fmt.Errorf("%w: unexpected root element %q", ErrMalformed, t.Name.Local)
				}
			}
			if depth == 2 && t.Name.Local == "Encrypt" {
				found++
				inEncrypt = true
			}
		case xml.EndElement:
			if depth == 2 {
				inEncrypt = false
			}
			depth--
		case xml.CharData:
			if inEncrypt && depth == 2 {
				if text.Len()+len(t) > MaxEncryptLen {
					return "", fmt.Errorf("%w: Encrypt too long", ErrMalformed)
				}
				text.Write(t)
			}
		}
	}
	if found != 1 {
		return "", fmt.Errorf("%w: want one <Encrypt>, found %d", ErrMalformed, found)
	}
	encrypt := strings.TrimSpace(text.String())
	if encrypt == "" {
		return "", fmt.Errorf("%w: empty <Encrypt>", ErrMalformed)
	}
	return encrypt, nil
}

// SealPush builds what WeChat sends on a push: the envelope body with
// envelopeField (FieldAppID or FieldToUserName) and <Encrypt>, and the query
// values signature, timestamp, nonce, encrypt_type=aes and msg_signature.
func (c *Crypter) SealPush(envelopeField, envelopeValue string, msg []byte, timestamp, nonce string) (body []byte, query url.Values, err error) {
	var random [16]byte
	if _, err := rand.Read(random[:]); err != nil {
		return nil, nil, fmt.Errorf("msgcrypt: random: %w", err)
	}
	return c.SealPushWithRandom(random, envelopeField, envelopeValue, msg, timestamp, nonce)
}

// SealPushWithRandom is SealPush with a fixed random prefix, for golden tests.
func (c *Crypter) SealPushWithRandom(random [16]byte, envelopeField, envelopeValue string, msg []byte, timestamp, nonce string) (body []byte, query url.Values, err error) {
	if envelopeField != FieldAppID && envelopeField != FieldToUserName {
		return nil, nil, fmt.Errorf("msgcrypt: envelope field %q, want %s or %s", envelopeField, FieldAppID, FieldToUserName)
	}
	if !cdataSafe(envelopeValue) {
		return nil, nil, fmt.Errorf("msgcrypt: envelope value %q cannot be sent as CDATA", envelopeValue)
	}
	encrypt, err := c.EncryptWithRandom(random, msg)
	if err != nil {
		return nil, nil, err
	}
	var b bytes.Buffer
	b.WriteString("<xml><")
	b.WriteString(envelopeField)
	b.WriteString("><![CDATA[")
	b.WriteString(envelopeValue)
	b.WriteString("]]></")
	b.WriteString(envelopeField)
	b.WriteString("><Encrypt><![CDATA[")
	b.WriteString(encrypt)
	b.WriteString("]]></Encrypt></xml>")

	query = url.Values{
		"signature":     {c.Signature(timestamp, nonce)},
		"timestamp":     {timestamp},
		"nonce":         {nonce},
		"encrypt_type":  {"aes"},
		"msg_signature": {c.MsgSignature(timestamp, nonce, encrypt)},
	}
	return b.Bytes(), query, nil
}

// cdataSafe reports whether s can sit inside a CDATA section unchanged.
func cdataSafe(s string) bool {
	if !utf8.ValidString(s) || strings.Contains(s, "]]>") {
		return false
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0xFFFE || r == 0xFFFF {
			return false
		}
	}
	return true
}
