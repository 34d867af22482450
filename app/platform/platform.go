// Package platform holds the workflows that change Minifleet's state in
// response to WeChat: push intake, the token vault and its refresh loop,
// and the durable jobs that follow pushes up. It is the only service layer;
// it knows nothing about HTTP servers.
package platform

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat"
	"github.com/minifleet/minifleet/app/wechat/msgcrypt"
)

// Config is what New needs.
type Config struct {
	Store *store.Store
	// Client calls WeChat for the component. New sets its Tokens to the
	// vault and its Now to the platform's clock.
	Client *wechat.Client
	// Token and AESKey are the component's message token and EncodingAESKey.
	Token  string
	AESKey string
	Now    func() time.Time // nil means time.Now
	Log    *slog.Logger
	// Holder names this process in leases; empty picks host-pid-random.
	Holder string
}

// Platform wires the vault, the intake and the jobs runner over one store.
type Platform struct {
	Store  *store.Store
	Client *wechat.Client
	Vault  *Vault
	Intake *Intake
	Jobs   *Jobs
	// Hooks run after authorization pushes are applied (set before Run).
	Hooks AuthHooks

	componentAppID string
	now            func() time.Time
	log            *slog.Logger
	holder         string
}

// New builds a Platform. Call Run to start its background loops.
func New(cfg Config) (*Platform, error) {
	if cfg.Store == nil || cfg.Client == nil {
		return nil, errors.New("platform: Store and Client are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Holder == "" {
		cfg.Holder = newHolder()
	}
	crypter, err := msgcrypt.New(cfg.Token, cfg.AESKey, cfg.Client.ComponentAppID)
	if err != nil {
		return nil, fmt.Errorf("platform: message crypto: %w", err)
	}
	p := &Platform{
		Store:          cfg.Store,
		Client:         cfg.Client,
		componentAppID: cfg.Client.ComponentAppID,
		now:            cfg.Now,
		log:            cfg.Log,
		holder:         cfg.Holder,
	}
	p.Vault = newVault(p)
	p.Jobs = newJobs(cfg.Store, cfg.Now, cfg.Holder, cfg.Log)
	p.Intake = newIntake(p, crypter)
	cfg.Client.Tokens = p.Vault
	cfg.Client.Now = cfg.Now
	p.registerJobs()
	return p, nil
}

// ComponentAppID is the platform's component appid.
func (p *Platform) ComponentAppID() string { return p.componentAppID }

// Holder is this process's lease holder name.
func (p *Platform) Holder() string { return p.holder }

// Now is the platform's clock.
func (p *Platform) Now() time.Time { return p.now() }

// Run runs the token refresh loop and the jobs runner until ctx ends.
func (p *Platform) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.Vault.Run(ctx) }()
	go func() { defer wg.Done(); p.Jobs.Run(ctx) }()
	wg.Wait()
}

func newHolder() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// sleep waits d or until ctx ends; it reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
