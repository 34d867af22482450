package msgcrypt

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

const testKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"

// Vector A: the official WXBizMsgCrypt sample (wechat-protocol.md §1.4).
const (
	vecAToken     = "spamtest"
	vecAAppID     = "wx2c2769f8efd9abc2"
	vecATimestamp = "1409735669"
	vecANonce     = "1320562132"
	vecAEncrypt   = "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
	vecAMsgSig    = "5d197aaffba7e9b25a30732f161a50dee96bd5fa"
	vecASig       = "16120ec1b8dbb870f510d87ce6bc2463eae6ca1a"
	vecARandom    = "89465c840c5f116f"
	vecAMsg       = "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\n<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>\n<CreateTime>1409735668</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[abcdteT]]></Content>\n<MsgId>6054768590064713728</MsgId>\n</xml>"
)

// Vector B: official Java sample WXBizMsgCryptTest (encrypt with fixed random).
const (
	vecBToken   = "pamtest"
	vecBAppID   = "wxb11529c136998cb6"
	vecBRandom  = "aaaabbbbccccdddd"
	vecBMsg     = "我是中文abcd123"
	vecBEncrypt = "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="
	vecBMsgSig  = "82c962d39941aa48552f90ef55aa323dc620cc10"
)

// Vector C: easywechat tests/Kernel/EncryptorTest.php (envelope + decrypt).
const (
	vecCTimestamp = "1458300676"
	vecCNonce     = "260774613"
	vecCMsgSig    = "4f3ad57b6989f09f4eb392acce4f9e93942ed890"
	vecCBody      = "<xml>\n    <ToUserName><![CDATA[asdasdasd]]></ToUserName>\n    <Encrypt><![CDATA[rTNFcsut4LfGuAFKEUVVpwcaCOTJzOd9twZdIW910jb3k+iicx2uvhttIZ3Qg9Qgty3BEF2xbOrz6boTfb30dMomcgrkTqdFPwnhqbk+kIQ7rZiwny9D7NUrTgA5kpX3KsZvrXzUZyP2x9YOlxbgm572lmxKvM7HAQQhIQ/p6HBmoY30bGXFK0BtIu1pW9TjhOYrLQoU18nWYjWqDA1ynkmOytpv7QRI1P1+0NoxL0q2zO1DgeSvnE8CZGo/o5Ap/WHK5W2RAsinpzN4/LjPnmB6U01I5XCoJoC0GK/yMZycd2Oh8Nq6+wBkC1U85oy0ktOY4nLvsQMLrourmMGdZHuTbqpeJ8Ao/5PRYJ+WBvRUwPfGKBL2+2IKZF49vAJqkcGWSHGE76ZN2erXeuNazf/o9o3lIE3q739o4c8t9QGPe31GT2Go/rOz1BsrASwvauNulCh+++yz+CQzBIuikA==]]></Encrypt>\n</xml>\n"
)

// Vector D: a component_verify_ticket push derived for emulator golden tests.
const (
	vecDTimestamp = "1413192605"
	vecDNonce     = "1320562132"
	vecDMsg       = "<xml><AppId><![CDATA[wx2c2769f8efd9abc2]]></AppId><CreateTime>1413192605</CreateTime><InfoType><![CDATA[component_verify_ticket]]></InfoType><ComponentVerifyTicket><![CDATA[ticket@@@test]]></ComponentVerifyTicket></xml>"
	vecDEncrypt   = "jn1L23DB+6ELqJ+6bruv2yHmq6mx9/dumlDSDRZcLzugMHiAq7IwhwskEpapjPZbU+/5QXi2NDkOA/ClPMmg22H+eDrTTMMYw8uM7VlmN2a1B0YM3BDv9M0FxYKfamcWTEBDjYRdw6Na9DQFL0Ok2caDYJyPWUKtA+5JlGyqNI5AhqmoZx/Ea5mnKKy+rbGhjODEwXXewbk61hBKf4HYl1v/UJyuJsOPPY5KjIkvoYDZdDjyKh8dO7GTpCVwgUFlpJ31L3IOMC40w+NyEJMMmXleKu6HEkh5WgQmEAuPv2ZWhAuDqgiRk3Svp1ORRs2aFHT4vdduv8LJdos6tv4ouXAe3tyARTBAIsGLkt08prSztqPyLCuYGDx5dMOqltV+"
	vecDMsgSig    = "d041aad24a782661cfaed8c80868157420fc59a6"
	vecDSig       = "9c4a719ef184968d4d302c2cc69eebf02c07c403"
)

func mustNew(t testing.TB, token, appID string) *Crypter {
	t.Helper()
	c, err := New(token, testKey, appID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func random16(s string) (r [16]byte) {
	if copy(r[:], s) != 16 {
		panic("random must be 16 bytes")
	}
	return r
}

func TestNewKey(t *testing.T) {
	c := mustNew(t, vecAToken, vecAAppID)
	const wantHex = "69b71d79f8218a39259a7a29aabb2dbafc31cb3d35db7e39ebbf3d0010831051"
	if got := hex.EncodeToString(c.key); got != wantHex {
		t.Errorf("AES key = %s, want %s", got, wantHex)
	}
	if c.AppID() != vecAAppID {
		t.Errorf("AppID() = %q, want %q", c.AppID(), vecAAppID)
	}
	for _, tc := range []struct{ name, token, key, appID string }{
		{"short key", "t", testKey[:42], "wx1"},
		{"long key", "t", testKey + "A", "wx1"},
		{"non-alphanumeric key", "t", testKey[:42] + "+", "wx1"},
		{"empty token", "", testKey, "wx1"},
		{"empty appid", "t", testKey, ""},
	} {
		if _, err := New(tc.token, tc.key, tc.appID); err == nil {
			t.Errorf("%s: New succeeded, want error", tc.name)
		}
	}
}

func TestVectorA(t *testing.T) {
	c := mustNew(t, vecAToken, vecAAppID)
	if got := c.Signature(vecATimestamp, vecANonce); got != vecASig {
		t.Errorf("Signature = %s, want %s", got, vecASig)
	}
	if got := c.MsgSignature(vecATimestamp, vecANonce, vecAEncrypt); got != vecAMsgSig {
		t.Errorf("MsgSignature = %s, want %s", got, vecAMsgSig)
	}
	msg, err := c.Decrypt(vecAEncrypt)
	if err != nil {
		t.Fatal(err)
	}
	if string(msg) != vecAMsg {
		t.Errorf("Decrypt = %q, want %q", msg, vecAMsg)
	}
	// CBC with a fixed IV is deterministic, so the published random
	// must reproduce the published ciphertext byte for byte.
	enc, err := c.EncryptWithRandom(random16(vecARandom), []byte(vecAMsg))
	if err != nil {
		t.Fatal(err)
	}
	if enc != vecAEncrypt {
		t.Errorf("EncryptWithRandom = %s, want %s", enc, vecAEncrypt)
	}
}

func TestVectorB(t *testing.T) {
	c := mustNew(t, vecBToken, vecBAppID)
	enc, err := c.EncryptWithRandom(random16(vecBRandom), []byte(vecBMsg))
	if err != nil {
		t.Fatal(err)
	}
	if enc != vecBEncrypt {
		t.Errorf("EncryptWithRandom = %s, want %s", enc, vecBEncrypt)
	}
	if got := c.MsgSignature("1409304348", "xxxxxx", enc); got != vecBMsgSig {
		t.Errorf("MsgSignature = %s, want %s", got, vecBMsgSig)
	}
	msg, err := c.Decrypt(vecBEncrypt)
	if err != nil || string(msg) != vecBMsg {
		t.Errorf("Decrypt = %q, %v; want %q", msg, err, vecBMsg)
	}
}

func TestVectorC(t *testing.T) {
	c := mustNew(t, vecBToken, vecBAppID)
	msg, err := c.OpenPush([]byte(vecCBody), vecCTimestamp, vecCNonce, vecCMsgSig)
	if err != nil {
		t.Fatal(err)
	}
	if len(msg) != 293 {
		t.Errorf("plaintext is %d bytes, want 293", len(msg))
	}
	for _, want := range []string{
		"<ToUserName><![CDATA[asdasdasd]]></ToUserName>",
		"<FromUserName><![CDATA[asdasdasdsadasd]]></FromUserName>",
		"<CreateTime>1234567898</CreateTime>",
		"<Content><![CDATA[hello]]></Content>",
	} {
		if !strings.Contains(string(msg), want) {
			t.Errorf("plaintext %q lacks %q", msg, want)
		}
	}

	if _, err := c.OpenPush([]byte(vecCBody), vecCTimestamp, vecCNonce, "invalid-signature"); !errors.Is(err, ErrSignature) {
		t.Errorf("bad signature: err = %v, want ErrSignature", err)
	}
	other := mustNew(t, vecBToken, "invalid appid")
	if _, err := other.OpenPush([]byte(vecCBody), vecCTimestamp, vecCNonce, vecCMsgSig); !errors.Is(err, ErrAppID) {
		t.Errorf("other appid: err = %v, want ErrAppID", err)
	}
}

func TestVectorD(t *testing.T) {
	c := mustNew(t, vecAToken, vecAAppID)
	enc, err := c.EncryptWithRandom(random16(vecBRandom), []byte(vecDMsg))
	if err != nil {
		t.Fatal(err)
	}
	if enc != vecDEncrypt {
		t.Errorf("EncryptWithRandom = %s, want %s", enc, vecDEncrypt)
	}
	if got := c.MsgSignature(vecDTimestamp, vecDNonce, vecDEncrypt); got != vecDMsgSig {
		t.Errorf("MsgSignature = %s, want %s", got, vecDMsgSig)
	}
	if got := c.Signature(vecDTimestamp, vecDNonce); got != vecDSig {
		t.Errorf("Signature = %s, want %s", got, vecDSig)
	}

	body, q, err := c.SealPushWithRandom(random16(vecBRandom), FieldAppID, vecAAppID, []byte(vecDMsg), vecDTimestamp, vecDNonce)
	if err != nil {
		t.Fatal(err)
	}
	wantBody := "<xml><AppId><![CDATA[wx2c2769f8efd9abc2]]></AppId><Encrypt><![CDATA[" + vecDEncrypt + "]]></Encrypt></xml>"
	if string(body) != wantBody {
		t.Errorf("body = %s, want %s", body, wantBody)
	}
	want := map[string]string{
		"signature": vecDSig, "timestamp": vecDTimestamp, "nonce": vecDNonce,
		"encrypt_type": "aes", "msg_signature": vecDMsgSig,
	}
	if len(q) != len(want) {
		t.Errorf("query = %v, want exactly %v", q, want)
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("query %s = %q, want %q", k, q.Get(k), v)
		}
	}
	msg, err := c.OpenPush(body, q.Get("timestamp"), q.Get("nonce"), q.Get("msg_signature"))
	if err != nil || string(msg) != vecDMsg {
		t.Errorf("OpenPush = %q, %v; want %q", msg, err, vecDMsg)
	}
}

func TestEncryptRoundTrip(t *testing.T) {
	c := mustNew(t, "tok", "wxcomponent")
	for _, n := range []int{0, 1, 31, 32, 33, 1000} {
		msg := []byte(strings.Repeat("x", n))
		a, err := c.Encrypt(msg)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := c.Encrypt(msg)
		if a == b {
			t.Errorf("len %d: two encryptions are identical; random prefix not used", n)
		}
		raw, _ := base64.StdEncoding.DecodeString(a)
		if len(raw)%32 != 0 {
			t.Errorf("len %d: ciphertext %d bytes, want a multiple of 32", n, len(raw))
		}
		got, err := c.Decrypt(a)
		if err != nil || string(got) != string(msg) {
			t.Errorf("len %d: round trip = %q, %v", n, got, err)
		}
	}
	if _, err := c.Encrypt(make([]byte, MaxEncryptLen)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized Encrypt: err = %v, want ErrTooLarge", err)
	}
}

// rawEncrypt CBC-encrypts plaintext that the test has laid out itself,
// so malformed padding and length prefixes can be produced.
func rawEncrypt(t *testing.T, c *Crypter, plain []byte) string {
	t.Helper()
	buf := append([]byte(nil), plain...)
	cipher.NewCBCEncrypter(c.block, c.key[:aes.BlockSize]).CryptBlocks(buf, buf)
	return base64.StdEncoding.EncodeToString(buf)
}

func layout(random string, size uint32, msg, appID string, pad []byte) []byte {
	b := []byte(random)
	b = binary.BigEndian.AppendUint32(b, size)
	b = append(b, msg...)
	b = append(b, appID...)
	return append(b, pad...)
}

func TestDecryptRejects(t *testing.T) {
	c := mustNew(t, "tok", "wxapp")
	const rnd = "0123456789abcdef"
	// 16+4+7+5 = 32 bytes before padding, so correct padding is 32 × 0x20.
	full := func(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }
	inconsistent := layout(rnd, 7, "payload", "wxapp", full(32))
	inconsistent[40] = 0x1f
	for _, tc := range []struct {
		name    string
		encrypt string
		want    error
	}{
		{"empty", "", ErrDecrypt},
		{"not base64", "!!!!", ErrDecrypt},
		{"odd length", "abc", ErrDecrypt},
		{"16-byte ciphertext", base64.StdEncoding.EncodeToString(make([]byte, 16)), ErrDecrypt},
		{"oversized", strings.Repeat("A", MaxEncryptLen+4), ErrDecrypt},
		{"pad 0", rawEncrypt(t, c, layout(rnd, 7, "payload", "wxapp", full(0))), ErrDecrypt},
		{"pad 33", rawEncrypt(t, c, layout(rnd, 7, "payload", "wxapp", full(33))), ErrDecrypt},
		{"inconsistent pad", rawEncrypt(t, c, inconsistent), ErrDecrypt},
		{"length overrun", rawEncrypt(t, c, layout(rnd, 1<<31, "payload", "wxapp", full(32))), ErrDecrypt},
		{"other appid", rawEncrypt(t, c, layout(rnd, 7, "payload", "wxapq", full(32))), ErrAppID},
		{"appid eaten by length", rawEncrypt(t, c, layout(rnd, 12, "payload", "wxapp", full(32))), ErrAppID},
	} {
		got, err := c.Decrypt(tc.encrypt)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: Decrypt = %q, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	ok := rawEncrypt(t, c, layout(rnd, 7, "payload", "wxapp", full(32)))
	if got, err := c.Decrypt(ok); err != nil || string(got) != "payload" {
		t.Errorf("well-formed: Decrypt = %q, %v", got, err)
	}
}
