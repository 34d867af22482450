package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"time"
)

// csrfTokens make CSRF tokens that every node sharing the secret key
// accepts (a form rendered by a LiteFS replica is posted to the primary),
// and that survive a restart: a token is random bytes and its issue time,
// signed with a key derived from MINIFLEET_SECRET_KEY. It is fiber's csrf
// Storage: Get answers for a well-signed token younger than the lifetime;
// Set, Delete and Reset keep nothing. The double-submit check (the header
// or form field must equal the cookie) is the middleware's, unchanged.
type csrfTokens struct {
	key      []byte
	lifetime time.Duration
	now      func() time.Time
}

func newCSRFTokens(secret []byte, lifetime time.Duration, now func() time.Time) *csrfTokens {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("minifleet csrf v1"))
	return &csrfTokens{key: m.Sum(nil), lifetime: lifetime, now: now}
}

var b64 = base64.RawURLEncoding

func (t *csrfTokens) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, t.key)
	m.Write(payload)
	return m.Sum(nil)[:18]
}

// Generate is the middleware's KeyGenerator.
func (t *csrfTokens) Generate() string {
	p := make([]byte, 24)
	rand.Read(p[:16])
	binary.BigEndian.PutUint64(p[16:], uint64(t.now().Unix()))
	return b64.EncodeToString(p) + "." + b64.EncodeToString(t.mac(p))
}

func (t *csrfTokens) valid(token string) bool {
	ps, ms, ok := strings.Cut(token, ".")
	if !ok {
		return false
	}
	p, err1 := b64.DecodeString(ps)
	m, err2 := b64.DecodeString(ms)
	if err1 != nil || err2 != nil || len(p) != 24 || !hmac.Equal(m, t.mac(p)) {
		return false
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(p[16:])), 0)
	age := t.now().Sub(issued)
	return age > -time.Minute && age < t.lifetime
}

func (t *csrfTokens) Get(key string) ([]byte, error) {
	if t.valid(key) {
		return []byte{1}, nil
	}
	return nil, nil
}
func (t *csrfTokens) Set(string, []byte, time.Duration) error { return nil }
func (t *csrfTokens) Delete(string) error                     { return nil }
func (t *csrfTokens) Reset() error                            { return nil }
func (t *csrfTokens) Close() error                            { return nil }
