package msgcrypt

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/xml"
	"fmt"
	"strings"
)

// A passive reply is the platform's answer to a message push, in the body of
// the push's HTTP response: the encrypted reply message, its signature, and
// the timestamp and nonce the signature covers (WeChat's message encryption
// guide, "回复消息").

// SealReply encrypts msg (the plaintext reply XML) into a passive reply.
func (c *Crypter) SealReply(msg []byte, timestamp, nonce string) ([]byte, error) {
	var random [16]byte
	if _, err := rand.Read(random[:]); err != nil {
		return nil, fmt.Errorf("msgcrypt: random: %w", err)
	}
	if !cdataSafe(nonce) || strings.ContainsAny(timestamp, "<&") {
		return nil, fmt.Errorf("msgcrypt: reply timestamp or nonce cannot be sent in XML")
	}
	encrypt, err := c.EncryptWithRandom(random, msg)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString("<xml><Encrypt><![CDATA[")
	b.WriteString(encrypt)
	b.WriteString("]]></Encrypt><MsgSignature><![CDATA[")
	b.WriteString(c.MsgSignature(timestamp, nonce, encrypt))
	b.WriteString("]]></MsgSignature><TimeStamp>")
	b.WriteString(timestamp)
	b.WriteString("</TimeStamp><Nonce><![CDATA[")
	b.WriteString(nonce)
	b.WriteString("]]></Nonce></xml>")
	return b.Bytes(), nil
}

// OpenReply verifies and decrypts a passive reply (what WeChat does with
// the body the platform answered): errors wrap ErrMalformed, ErrSignature,
// ErrDecrypt or ErrAppID.
func (c *Crypter) OpenReply(body []byte) ([]byte, error) {
	if len(body) > MaxBodyLen {
		return nil, fmt.Errorf("%w: reply of %d bytes", ErrMalformed, len(body))
	}
	var r struct {
		XMLName      xml.Name `xml:"xml"`
		Encrypt      string   `xml:"Encrypt"`
		MsgSignature string   `xml:"MsgSignature"`
		TimeStamp    string   `xml:"TimeStamp"`
		Nonce        string   `xml:"Nonce"`
	}
	if err := xml.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if r.Encrypt == "" {
		return nil, fmt.Errorf("%w: no <Encrypt> in the reply", ErrMalformed)
	}
	want := c.MsgSignature(strings.TrimSpace(r.TimeStamp), strings.TrimSpace(r.Nonce), r.Encrypt)
	if subtle.ConstantTimeCompare([]byte(want), []byte(strings.TrimSpace(r.MsgSignature))) != 1 {
		return nil, ErrSignature
	}
	return c.Decrypt(r.Encrypt)
}
