package platform

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
)

// Keys is the API keys service (issue #15): creation (the secret is
// returned once, only its SHA-256 is stored), revocation, and the check of
// every API request. Verified keys are kept in memory for CacheTTL, so a
// request with a known key reads no SQL; revoking drops the key from the
// cache at once (another process notices within CacheTTL). Uses are
// collected in memory and written every FlushEvery (Run), never one write a
// call.
type Keys struct {
	st  *store.Store
	now func() time.Time
	log *slog.Logger

	// Prefix starts every new secret: "mf_live_" (live mode) or "mf_test_" (sandbox).
	Prefix string
	// CacheTTL bounds how long a verified (or unknown) key is trusted
	// without reading the database again.
	CacheTTL time.Duration
	// FlushEvery is how often last-used times are written.
	FlushEvery time.Duration

	mu    sync.RWMutex
	cache map[[32]byte]*keyEntry

	usedMu sync.Mutex
	used   map[int64]time.Time
}

type keyEntry struct {
	key   model.APIKey
	hash  []byte // the stored hash
	found bool
	at    time.Time
	touch atomic.Int64 // unix second of the last use recorded
}

// Key prefixes: a live deployment's keys and the sandbox's.
const (
	LiveKeyPrefix = "mf_live_"
	TestKeyPrefix = "mf_test_"
	secretBytes   = 32
	// cacheMax bounds the cache; past it the cache starts over (unknown
	// secrets cannot grow it without end).
	cacheMax = 10000
)

// secretLen is a whole secret's length: the prefix and 32 bytes in base64url.
var secretLen = len(LiveKeyPrefix) + base64.RawURLEncoding.EncodedLen(secretBytes)

// ErrBadKey is every refusal of a key: unknown, malformed, revoked or
// expired look the same to the caller.
var ErrBadKey = errors.New("platform: bad API key")

func newKeys(p *Platform, prefix string) *Keys {
	if prefix == "" {
		prefix = LiveKeyPrefix
	}
	return &Keys{st: p.Store, now: p.now, log: p.log, Prefix: prefix, CacheTTL: 30 * time.Second, FlushEvery: 5 * time.Second,
		cache: map[[32]byte]*keyEntry{}, used: map[int64]time.Time{}}
}

// NewAPIKey is what a person asks for; the scopes were already checked
// against the creator's permissions by the caller (app/web).
type NewAPIKey struct {
	TenantID  int64   // 0: a platform key
	Tenants   []int64 // a platform key's tenants; empty: every tenant
	Name      string
	Scopes    []model.APIScope
	ExpiresAt time.Time // zero: never
}

// Check validates the request; errors name the field.
func (n NewAPIKey) Check(now time.Time) error {
	errs := model.FieldErrors{}
	switch name := strings.TrimSpace(n.Name); {
	case name == "":
		errs.Add("name", "form.required")
	case utf8.RuneCountInString(name) > 80:
		errs.Add("name", "form.too_long")
	}
	if len(n.Scopes) == 0 {
		errs.Add("scopes", "apikey.err.scopes")
	}
	for _, s := range n.Scopes {
		if !model.ValidScope(string(s)) {
			errs.Add("scopes", "form.invalid_choice")
		}
	}
	if !n.ExpiresAt.IsZero() && !n.ExpiresAt.After(now) {
		errs.Add("expires", "apikey.err.expires_past")
	}
	if n.TenantID != 0 && len(n.Tenants) > 0 {
		errs.Add("tenants", "form.invalid_choice")
	}
	return errs.Err()
}

// Create stores a new key and returns it with its secret, which is never
// stored nor shown again.
func (k *Keys) Create(ctx context.Context, actor model.Actor, n NewAPIKey) (model.APIKey, string, error) {
	n.Name = strings.TrimSpace(n.Name)
	if err := n.Check(k.now()); err != nil {
		return model.APIKey{}, "", err
	}
	var b [secretBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return model.APIKey{}, "", err
	}
	secret := k.Prefix + base64.RawURLEncoding.EncodeToString(b[:])
	h := sha256.Sum256([]byte(secret))
	key, err := k.st.CreateAPIKey(ctx, actor, model.APIKey{TenantID: n.TenantID, Tenants: n.Tenants, Name: n.Name,
		Prefix: secret[:len(k.Prefix)+6], Scopes: n.Scopes, ExpiresAt: n.ExpiresAt}, h[:])
	return key, secret, err
}

// Revoke revokes a key of the tenant (tid > 0) or a platform key (0) and
// forgets it at once.
func (k *Keys) Revoke(ctx context.Context, actor model.Actor, tid, id int64) (model.APIKey, error) {
	key, err := k.st.RevokeAPIKey(ctx, actor, tid, id)
	if err != nil {
		return key, err
	}
	k.mu.Lock()
	for h, e := range k.cache {
		if e.key.ID == id {
			delete(k.cache, h)
		}
	}
	k.mu.Unlock()
	return key, nil
}

// Verify answers the key a secret names, if it is usable now; ErrBadKey
// otherwise, whatever the reason. A key verified within CacheTTL costs no
// SQL; its use is recorded in memory.
func (k *Keys) Verify(ctx context.Context, secret string) (model.APIKey, error) {
	if len(secret) != secretLen || !(strings.HasPrefix(secret, LiveKeyPrefix) || strings.HasPrefix(secret, TestKeyPrefix)) {
		return model.APIKey{}, ErrBadKey
	}
	h := sha256.Sum256([]byte(secret))
	now := k.now()
	k.mu.RLock()
	e := k.cache[h]
	k.mu.RUnlock()
	if e == nil || now.Sub(e.at) >= k.CacheTTL || now.Before(e.at) {
		key, stored, err := k.st.APIKeyByHash(ctx, h[:])
		if err != nil && !model.IsNotFound(err) {
			return model.APIKey{}, err
		}
		e = &keyEntry{key: key, hash: stored, found: err == nil, at: now}
		k.mu.Lock()
		if len(k.cache) >= cacheMax {
			k.cache = map[[32]byte]*keyEntry{}
		}
		k.cache[h] = e
		k.mu.Unlock()
	}
	// Found by its hash; the stored hash is compared in constant time.
	if !e.found || subtle.ConstantTimeCompare(e.hash, h[:]) != 1 || !e.key.Usable(now) {
		return model.APIKey{}, ErrBadKey
	}
	if sec := now.Unix(); e.touch.Load() != sec {
		e.touch.Store(sec)
		k.usedMu.Lock()
		k.used[e.key.ID] = now
		k.usedMu.Unlock()
	}
	return e.key, nil
}

// Flush writes the collected last-used times.
func (k *Keys) Flush(ctx context.Context) error {
	k.usedMu.Lock()
	used := k.used
	k.used = map[int64]time.Time{}
	k.usedMu.Unlock()
	if err := k.st.TouchAPIKeys(ctx, used); err != nil {
		k.usedMu.Lock()
		for id, at := range used { // keep them for the next flush
			if at.After(k.used[id]) {
				k.used[id] = at
			}
		}
		k.usedMu.Unlock()
		return err
	}
	return nil
}

// Run writes last-used times every FlushEvery until ctx ends, then once more.
func (k *Keys) Run(ctx context.Context) {
	t := time.NewTicker(k.FlushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := k.Flush(context.WithoutCancel(ctx)); err != nil {
				k.log.Warn("api keys: last used", "err", err)
			}
			return
		case <-t.C:
			if err := k.Flush(ctx); err != nil {
				k.log.Warn("api keys: last used", "err", err)
			}
		}
	}
}
