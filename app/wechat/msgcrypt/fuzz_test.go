package msgcrypt

import (
	"bytes"
	"testing"
)

func FuzzDecrypt(f *testing.F) {
	f.Add(vecAEncrypt)
	f.Add(vecDEncrypt)
	f.Add("")
	f.Add("AAAA")
	f.Add(vecAEncrypt[:len(vecAEncrypt)-4])
	c := mustNew(f, vecAToken, vecAAppID)
	f.Fuzz(func(t *testing.T, encrypt string) {
		msg, err := c.Decrypt(encrypt)
		if err != nil {
			return
		}
		// Anything accepted must survive a fresh encrypt/decrypt round trip.
		again, err := c.Encrypt(msg)
		if err != nil {
			t.Fatalf("Encrypt of accepted message: %v", err)
		}
		back, err := c.Decrypt(again)
		if err != nil || !bytes.Equal(back, msg) {
			t.Fatalf("round trip = %q, %v; want %q", back, err, msg)
		}
	})
}

func FuzzOpenPush(f *testing.F) {
	c := mustNew(f, vecAToken, vecAAppID)
	f.Add([]byte("<xml><Encrypt><![CDATA["+vecAEncrypt+"]]></Encrypt></xml>"), vecATimestamp, vecANonce, vecAMsgSig)
	f.Add([]byte(vecCBody), vecCTimestamp, vecCNonce, vecCMsgSig)
	f.Add([]byte("<xml><Encrypt>a</Encrypt><Encrypt>b</Encrypt></xml>"), "1", "2", "3")
	f.Add([]byte("<xml><![CDATA["), "", "", "")
	f.Fuzz(func(t *testing.T, body []byte, timestamp, nonce, sig string) {
		msg, err := c.OpenPush(body, timestamp, nonce, sig)
		if err != nil {
			return
		}
		enc, err := EncryptField(body)
		if err != nil {
			t.Fatalf("OpenPush accepted a body EncryptField rejects: %v", err)
		}
		if want := c.MsgSignature(timestamp, nonce, enc); sig != want {
			t.Fatalf("accepted signature %q, want %q", sig, want)
		}
		if dec, err := c.Decrypt(enc); err != nil || !bytes.Equal(dec, msg) {
			t.Fatalf("Decrypt(field) = %q, %v; OpenPush gave %q", dec, err, msg)
		}
	})
}
