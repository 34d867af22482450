// Package platform is Minifleet's service layer: everything that changes
// state in answer to WeChat or to a person, with no HTTP in it. New builds
// the whole service graph once (vault, push intake, jobs, onboarding,
// releases, template library, campaigns and the live-update hub); Run
// starts every background loop and stops them all when its context ends.
//
//	Platform ─┬─ Hub         live-update events for the web layer's streams
//	          ├─ Vault       ticket, component and authorizer tokens (refresh loop)
//	          ├─ Jobs        durable jobs with leases and backoff
//	          ├─ Intake      verify → decrypt → record → the push table (pushes.go)
//	          ├─ Onboarding  authorization attempts, binding, nightly reconcile
//	          ├─ Releases    commit → scan → approval → audit → release (resume loop)
//	          ├─ Library     WeChat's template library and config schemas
//	          ├─ Campaigns   one template shipped to many apps in waves (engine)
//	          └─ Keys        API keys of the provider's backends (last-used writer)
//	          └─ Webhooks    signed event delivery from the outbox (delivery loop)
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

	"github.com/minifleet/minifleet/app/metrics"
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
	// BaseURL is the portal's public origin (authorization redirects).
	BaseURL string
	Now     func() time.Time // nil means time.Now
	Log     *slog.Logger
	// Holder names this process in leases; empty picks host-pid-random.
	Holder string
	// ScanPoll is the wait between privacy-scan polls; 0 means 15 s.
	ScanPoll time.Duration
	// KeyPrefix starts new API key secrets; "" means LiveKeyPrefix
	// (sandbox mode passes TestKeyPrefix).
	KeyPrefix string
	// WebhooksAllowPrivate lets webhook endpoints be http and on loopback or
	// private addresses (sandbox mode, or MINIFLEET_WEBHOOKS_ALLOW_PRIVATE).
	WebhooksAllowPrivate bool
	// Metrics, when set, is updated as things happen (nil: not measured).
	Metrics *metrics.Metrics
}

// Platform is the service graph over one store and one WeChat client.
type Platform struct {
	Store  *store.Store
	Client *wechat.Client
	// Hub carries live-update events to whoever shows them.
	Hub        *Hub
	Vault      *Vault
	Intake     *Intake
	Jobs       *Jobs
	Onboarding *Onboarding
	Releases   *Releases
	Library    *Library
	Campaigns  *Campaigns
	// Keys are the API keys of the provider's own backends (issue #15).
	Keys *Keys
	// Webhooks delivers events from the outbox to endpoints (webhooks.go).
	Webhooks *Webhooks
	Metrics  *metrics.Metrics
	// Live records the Hub's events for LiteFS replicas and replays them there.
	Live *LiveRelay

	componentAppID string
	now            func() time.Time
	log            *slog.Logger
	holder         string
}

// New builds the Platform. Nothing runs until Run.
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
		Hub:            NewHub(),
		componentAppID: cfg.Client.ComponentAppID,
		now:            cfg.Now,
		log:            cfg.Log,
		holder:         cfg.Holder,
		Metrics:        cfg.Metrics,
	}
	p.Vault = newVault(p)
	p.Jobs = newJobs(cfg.Store, cfg.Now, cfg.Holder, cfg.Log)
	p.Intake = newIntake(p, crypter)
	cfg.Client.Tokens = p.Vault
	cfg.Client.Now = cfg.Now
	if cfg.Metrics != nil {
		cfg.Client.Observe = cfg.Metrics.WeChatCall
	}
	p.Onboarding = newOnboarding(p, cfg.BaseURL)
	p.Releases = newReleases(p)
	p.Releases.BaseURL = cfg.BaseURL
	if cfg.ScanPoll > 0 {
		p.Releases.ScanPoll = cfg.ScanPoll
	}
	p.Library = newLibrary(p)
	p.Campaigns = newCampaigns(p)
	p.Keys = newKeys(p, cfg.KeyPrefix)
	p.Webhooks = newWebhooks(p, cfg.WebhooksAllowPrivate, cfg.Metrics)
	cfg.Store.OnEvent = p.Webhooks.Kick
	p.Live = newLiveRelay(p)
	p.registerJobs()
	p.Intake.handlers = p.pushHandlers()
	p.Intake.publishCheck = p.publishCheckAction()
	return p, nil
}

// registerJobs is every durable job kind and the service that runs it.
func (p *Platform) registerJobs() {
	p.Jobs.Handle(JobAuthorized, p.jobAuthorized)
	p.Jobs.Handle(JobUnauthorized, p.jobUnauthorized)
	p.Jobs.Handle(JobAttemptExchange, p.Onboarding.jobExchange)
	p.Jobs.Handle(JobReleaseStep, p.Releases.runStep)
	p.Jobs.Handle(JobReleaseReconcile, p.Releases.runReconcile)
	p.Jobs.Handle(JobPublishCheckAPI, p.jobPublishCheckAPI)
}

// ComponentAppID is the platform's component appid.
func (p *Platform) ComponentAppID() string { return p.componentAppID }

// Holder is this process's lease holder name.
func (p *Platform) Holder() string { return p.holder }

// Now is the platform's clock.
func (p *Platform) Now() time.Time { return p.now() }

// Run runs every background loop until ctx ends, and returns once all have
// stopped (campaign tasks under way included): token refresh, jobs, the
// nightly reconcile, the release resume loop and the campaign engine. Each
// loop that must run once per fleet takes its lease first.
func (p *Platform) Run(ctx context.Context) {
	loops := []func(context.Context){
		p.Vault.Run,
		p.Jobs.Run,
		p.Onboarding.Run,
		p.Releases.Run,
		p.Keys.Run,
		func(ctx context.Context) { p.Campaigns.Run(ctx); p.Campaigns.Wait(context.Background()) },
		p.Webhooks.Run,
		p.Live.Run,
	}
	var wg sync.WaitGroup
	for _, run := range loops {
		wg.Add(1)
		go func() { defer wg.Done(); run(ctx) }()
	}
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

// NewMetrics builds the Prometheus collectors (app/metrics) with the
// releases, campaigns and outbox gauges read from st at scrape time.
func NewMetrics(st *store.Store) *metrics.Metrics {
	return metrics.New(func(ctx context.Context) (metrics.Snapshot, error) {
		m, err := st.Metrics(ctx)
		return metrics.Snapshot{ReleasesByState: m.ReleasesByState, CampaignsByState: m.CampaignsByState,
			CampaignApps: m.CampaignApps, DeliveriesPending: m.DeliveriesPending}, err
	})
}
