package msgcrypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
)

// Sentinel errors; match them with errors.Is.
var (
	ErrSignature = errors.New("msgcrypt: signature mismatch")
	ErrAppID     = errors.New("msgcrypt: appid mismatch")
	ErrDecrypt   = errors.New("msgcrypt: cannot decrypt")
	ErrMalformed = errors.New("msgcrypt: malformed envelope")
	ErrTooLarge  = errors.New("msgcrypt: message too large")
)

const (
	// blockSize is WeChat's PKCS#7 block, deliberately twice the AES block.
	blockSize = 32
	// MaxEncryptLen bounds the base64 Encrypt value accepted and produced.
	// Real pushes are a few KiB; the bound keeps hostile input cheap to reject.
	MaxEncryptLen = 1 << 20
	encodedKeyLen = 43
)

// Crypter signs, encrypts and decrypts for one (token, key, appid) triple.
// It is safe for concurrent use.
type Crypter struct {
	token string
	key   []byte // 32 bytes; IV is key[:16]
	appID string
	block cipher.Block
}

// New returns a Crypter. encodingAESKey must be the 43-character
// [A-Za-z0-9] EncodingAESKey from the platform settings.
func New(token, encodingAESKey, appID string) (*Crypter, error) {
	if token == "" {
		return nil, errors.New("msgcrypt: empty token")
	}
	if appID == "" {
		return nil, errors.New("msgcrypt: empty appid")
	}
	if len(encodingAESKey) != encodedKeyLen {
		return nil, fmt.Errorf("msgcrypt: EncodingAESKey must be %d characters, got %d", encodedKeyLen, len(encodingAESKey))
	}
	for _, r := range encodingAESKey {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return nil, errors.New("msgcrypt: EncodingAESKey must be alphanumeric")
		}
	}
	key, err := base64.StdEncoding.DecodeString(encodingAESKey + "=")
	if err != nil || len(key) != 32 {
		return nil, errors.New("msgcrypt: EncodingAESKey does not decode to 32 bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("msgcrypt: %w", err)
	}
	return &Crypter{token: token, key: key, appID: appID, block: block}, nil
}

// AppID returns the appid that Decrypt requires and Encrypt appends.
func (c *Crypter) AppID() string { return c.appID }

// Signature returns the plain `signature` query parameter:
// sha1 over the sorted (token, timestamp, nonce).
func (c *Crypter) Signature(timestamp, nonce string) string {
	return sign(c.token, timestamp, nonce)
}

// MsgSignature returns `msg_signature`:
// sha1 over the sorted (token, timestamp, nonce, encrypt).
func (c *Crypter) MsgSignature(timestamp, nonce, encrypt string) string {
	return sign(c.token, timestamp, nonce, encrypt)
}

// sign hashes the parts joined in sorted order. The encrypt part is most of
// a push: it is copied once (strings.Join then []byte copied it twice).
func sign(parts ...string) string {
	slices.Sort(parts)
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	buf := make([]byte, 0, n)
	for _, p := range parts {
		buf = append(buf, p...)
	}
	sum := sha1.Sum(buf)
	return hex.EncodeToString(sum[:])
}

// Encrypt encrypts msg with a fresh crypto/rand prefix and returns the
// base64 Encrypt value.
func (c *Crypter) Encrypt(msg []byte) (string, error) {
	var random [16]byte
	if _, err := rand.Read(random[:]); err != nil {
		return "", fmt.Errorf("msgcrypt: random: %w", err)
	}
	return c.EncryptWithRandom(random, msg)
}

// EncryptWithRandom is Encrypt with a caller-chosen 16-byte prefix, for
// golden vectors. Never use a fixed prefix in production.
func (c *Crypter) EncryptWithRandom(random [16]byte, msg []byte) (string, error) {
	n := 16 + 4 + len(msg) + len(c.appID)
	padded := n + blockSize - n%blockSize
	if len(msg) > math.MaxUint32 || base64.StdEncoding.EncodedLen(padded) > MaxEncryptLen {
		return "", ErrTooLarge
	}
	buf := make([]byte, 0, padded)
	buf = append(buf, random[:]...)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(msg)))
	buf = append(buf, msg...)
	buf = append(buf, c.appID...)
	pad := byte(padded - n) // 1..32; a whole block when already aligned
	for len(buf) < padded {
		buf = append(buf, pad)
	}
	cipher.NewCBCEncrypter(c.block, c.key[:aes.BlockSize]).CryptBlocks(buf, buf)
	return base64.StdEncoding.EncodeToString(buf), nil
}

// Decrypt reverses Encrypt. It rejects bad base64, a length that is not a
// positive multiple of 32, padding outside 1..32 or inconsistent, and a
// length prefix that overruns (all ErrDecrypt); a trailing appid other than
// c.AppID() yields ErrAppID.
func (c *Crypter) Decrypt(encrypt string) ([]byte, error) {
	if len(encrypt) == 0 || len(encrypt) > MaxEncryptLen {
		return nil, fmt.Errorf("%w: encrypt length %d", ErrDecrypt, len(encrypt))
	}
	buf, err := base64.StdEncoding.DecodeString(encrypt)
	if err != nil {
		return nil, fmt.Errorf("%w: base64: %v", ErrDecrypt, err)
	}
	if len(buf) == 0 || len(buf)%blockSize != 0 {
		return nil, fmt.Errorf("%w: ciphertext length %d", ErrDecrypt, len(buf))
	}
	cipher.NewCBCDecrypter(c.block, c.key[:aes.BlockSize]).CryptBlocks(buf, buf)

	pad := int(buf[len(buf)-1])
	if pad < 1 || pad > blockSize {
		return nil, fmt.Errorf("%w: bad padding", ErrDecrypt)
	}
	for _, b := range buf[len(buf)-pad:] {
		if int(b) != pad {
			return nil, fmt.Errorf("%w: bad padding", ErrDecrypt)
		}
	}
	content := buf[:len(buf)-pad]
	if len(content) < 20 {
		return nil, fmt.Errorf("%w: plaintext too short", ErrDecrypt)
	}
	size := uint64(binary.BigEndian.Uint32(content[16:20]))
	rest := content[20:]
	if size > uint64(len(rest)) {
		return nil, fmt.Errorf("%w: length prefix overruns plaintext", ErrDecrypt)
	}
	msg, appID := rest[:size], rest[size:]
	if string(appID) != c.appID {
		return nil, fmt.Errorf("%w: got %.64q", ErrAppID, appID)
	}
	return msg, nil
}
