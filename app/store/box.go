package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
)

// Box seals secrets (tokens, refresh tokens) with AES-256-GCM under
// MINIFLEET_SECRET_KEY before they touch the disk.
type Box struct{ aead cipher.AEAD }

// NewBox takes a 32-byte key.
func NewBox(key []byte) (*Box, error) {
	if len(key) != 32 {
		return nil, errors.New("secret key must be 32 bytes")
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		return nil, err
	}
	return &Box{aead: g}, nil
}

// Seal encrypts plain; ad binds the ciphertext to its row (e.g. "authorizer:wx123:refresh")
// so a sealed value cannot be moved to another row.
func (b *Box) Seal(plain, ad string) string {
	n := b.aead.NonceSize()
	out := make([]byte, n, n+len(plain)+b.aead.Overhead()) // Seal appends in place
	if _, err := rand.Read(out); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.StdEncoding.EncodeToString(b.aead.Seal(out, out, []byte(plain), []byte(ad)))
}

// Open decrypts what Seal produced with the same ad.
func (b *Box) Open(sealed, ad string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(raw) < b.aead.NonceSize() {
		return "", errors.New("box: malformed ciphertext")
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], []byte(ad))
	if err != nil {
		return "", errors.New("box: cannot decrypt (wrong key or moved value)")
	}
	return string(plain), nil
}
