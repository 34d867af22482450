// Package sandbox emulates WeChat's side of the Open Platform for a
// third-party platform: the component and authorizer APIs, the
// authorization pages, signed and encrypted pushes, token lifetimes, the
// code audit process, and fault injection. It is a plain http.Handler whose
// paths mirror WeChat's hosts (api.weixin.qq.com, mp.weixin.qq.com,
// open.weixin.qq.com) relative to its root, so a client pointed at
// PublicBase for all three hosts works unchanged:
//
//	sb, _ := sandbox.New(sandbox.Options{PublicBase: "http://localhost:8080/sandbox", …})
//	mux.Handle("/sandbox/", http.StripPrefix("/sandbox", sb))
//	sb.Start(ctx)
//	defer sb.Close()
//
// API names used by CallCount, InjectError, SetFailureRate and
// Options.DailyQuotas are the last path segment ("api_component_token",
// "commit", "get_code_privacy_info"), except "quota_get" for
// /cgi-bin/openapi/quota/get; full paths are accepted too.
//
// Time comes from Options.Clock; tests use a FakeClock and Advance it.
// Where the protocol doc marks behaviour unconfirmed, Options make it
// adjustable.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minifleet/minifleet/app/wechat/msgcrypt"
)

// Options configure a Sandbox. Zero values get WeChat's documented defaults.
type Options struct {
	ComponentAppID  string
	ComponentSecret string
	Token           string // message token for push signatures
	EncodingAESKey  string // 43 chars

	// ComponentEventsURL receives component pushes (tickets, authorization events).
	ComponentEventsURL string
	// AppEventsURL receives per-authorizer pushes (audit results); "$APPID$"
	// is replaced by the authorizer appid.
	AppEventsURL string
	// AllowedEntryHost is the platform's "授权发起页域名". When set, the PC
	// authorization page requires a Referer on this host and a redirect_uri on it.
	AllowedEntryHost string
	// ServerDomains, when non-empty, are the platform's registered server
	// domains (hosts); modify_domain refuses others with 85018.
	ServerDomains []string
	// AllowedIPs, when non-empty, is the component IP whitelist (61004 otherwise).
	AllowedIPs []string
	// PublicBase is the URL prefix under which the handler is mounted (e.g.
	// "http://localhost:8080/sandbox"); every link and redirect it renders starts with it.
	PublicBase string
	// AssetBase is the URL prefix under which the platform's server fetches
	// the images the sandbox hands out (head_img); default PublicBase. In
	// sandbox mode the server reaches the emulator over loopback, not
	// through the public address.
	AssetBase string

	TicketInterval time.Duration // default 10 min
	TicketTTL      time.Duration // default 12 h
	TokenTTL       time.Duration // component and authorizer tokens, default 7200 s
	TokenOverlap   time.Duration // previous token's grace after a new one, default 5 min
	PreAuthCodeTTL time.Duration // default 1800 s (docs also say 600)
	AuthCodeTTL    time.Duration // default 600 s (redirect expires_in)
	// AuthCodeExpiryAsDuration pushes AuthorizationCodeExpiredTime as seconds
	// instead of an absolute unix time (SDK fixtures use absolute; unconfirmed).
	AuthCodeExpiryAsDuration bool

	PrivacyScanDuration time.Duration // commit → scan done, default 20 s
	AuditDelay          time.Duration // submit → decision, default 1 min
	// AuditDecider picks the outcome of an audit; default DefaultAuditDecider.
	AuditDecider func(AuditSubmission) AuditDecision

	AuditQuota       int // submit_audit per month for the whole platform, default 20
	SpeedupQuota     int // speedupaudit per month, default 3
	UndoDailyLimit   int // undocodeaudit per app per day, default 5
	UndoMonthlyLimit int // undocodeaudit per app per month, default 10
	TemplateCap      int // templates per library, default 200
	TesterLimit      int // testers per app, default 40
	// DailyQuotas maps an API name (see CallCount) to its daily call limit (45009 past it).
	DailyQuotas map[string]int
	// AllowUnicodeEscapes accepts \uXXXX-escaped non-ASCII in bodies instead of 47002.
	AllowUnicodeEscapes bool

	PushTimeout    time.Duration // WeChat waits 5 s per attempt
	PushAttempts   int           // attempts in total, default 3
	PushRetryDelay time.Duration // wait between attempts on the Clock, default 0

	HTTPClient *http.Client
	Clock      Clock
	Logger     *slog.Logger
	Seed       uint64 // random source seed; 0 picks one
}

func (o *Options) setDefaults() {
	dur := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	num := func(n *int, def int) {
		if *n <= 0 {
			*n = def
		}
	}
	dur(&o.TicketInterval, 10*time.Minute)
	dur(&o.TicketTTL, 12*time.Hour)
	dur(&o.TokenTTL, 7200*time.Second)
	dur(&o.TokenOverlap, 5*time.Minute)
	dur(&o.PreAuthCodeTTL, 1800*time.Second)
	dur(&o.AuthCodeTTL, 600*time.Second)
	dur(&o.PrivacyScanDuration, 20*time.Second)
	dur(&o.AuditDelay, time.Minute)
	dur(&o.PushTimeout, 5*time.Second)
	num(&o.AuditQuota, 20)
	num(&o.SpeedupQuota, 3)
	num(&o.UndoDailyLimit, 5)
	num(&o.UndoMonthlyLimit, 10)
	num(&o.TemplateCap, 200)
	num(&o.TesterLimit, 40)
	num(&o.PushAttempts, 3)
	if o.AuditDecider == nil {
		o.AuditDecider = DefaultAuditDecider
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.PublicBase = strings.TrimRight(o.PublicBase, "/")
	o.AssetBase = strings.TrimRight(o.AssetBase, "/")
	if o.AssetBase == "" {
		o.AssetBase = o.PublicBase
	}
}

// Sandbox is the emulator. It is safe for concurrent use.
type Sandbox struct {
	opts    Options
	clock   Clock
	log     *slog.Logger
	crypter *msgcrypt.Crypter
	mux     *http.ServeMux
	routes  map[string]*route // by API name

	latencyNS atomic.Int64

	mu           sync.Mutex
	rnd          *rand.Rand
	tickets      []ticket
	compTokens   tokenLine
	tokens       map[string]tokenOwner
	preAuth      map[string]*preAuthCode
	authCodes    map[string]*authCode
	customMsgs   []customMessage // customer-service messages sent (publish_check.go)
	publishCheck []PublishCheckCase
	publishRan   string
	apps         map[string]*app
	appOrder     []string // creation order
	drafts       []*draft
	templates    []*codeTemplate
	nextID       int64 // draft, template and audit ids
	quota        quotaBook
	calls        map[string]int
	appOK        map[string]int // "api|appid" → calls answered with success
	faults       faults
	schedule     []scheduled
	pushLog      []PushRecord
	uploads      map[string]uploadedMedia // audit media ids (audit_media_api.go)
	nextPushID   int
	nextRisky    map[string]int // appid ("" any) → label of its next media check (security_api.go)
	mediaDelay   time.Duration  // media check → push, default 1 s

	wake     chan struct{}
	inflight int        // push deliveries running, under mu
	idle     *sync.Cond // signalled when inflight drops to 0
	stop     context.CancelFunc
	started  bool
	closed   bool
	queued   []*push // pushes made before Start
	runCtx   context.Context
	loopWG   sync.WaitGroup
}

// New builds a Sandbox. Call Start to begin ticket pushes and deliveries.
func New(opts Options) (*Sandbox, error) {
	opts.setDefaults()
	if opts.ComponentAppID == "" || opts.ComponentSecret == "" {
		return nil, errors.New("sandbox: ComponentAppID and ComponentSecret are required")
	}
	c, err := msgcrypt.New(opts.Token, opts.EncodingAESKey, opts.ComponentAppID)
	if err != nil {
		return nil, fmt.Errorf("sandbox: message crypto: %w", err)
	}
	seed := opts.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	s := &Sandbox{
		opts:      opts,
		clock:     opts.Clock,
		log:       opts.Logger,
		crypter:   c,
		rnd:       rand.New(rand.NewPCG(seed, seed^0x5eed)),
		tokens:    map[string]tokenOwner{},
		preAuth:   map[string]*preAuthCode{},
		authCodes: map[string]*authCode{},
		apps:      map[string]*app{},
		calls:     map[string]int{},
		appOK:     map[string]int{},
		wake:      make(chan struct{}, 1),
	}
	s.idle = sync.NewCond(&s.mu)
	s.faults.init()
	s.quota.init()
	s.seedDrafts()
	s.buildRoutes()
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Start pushes a first ticket, then keeps pushing one every TicketInterval,
// fires scheduled audit decisions and delivers pushes, until ctx ends or Close.
func (s *Sandbox) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.started || s.closed {
		s.mu.Unlock()
		return errors.New("sandbox: already started or closed")
	}
	ctx, cancel := context.WithCancel(ctx)
	s.started, s.stop, s.runCtx = true, cancel, ctx
	queued := s.queued
	s.queued = nil
	for _, p := range queued {
		s.deliverLocked(p)
	}
	s.pushTicketLocked()
	s.scheduleLocked(s.clock.Now().Add(s.opts.TicketInterval), s.ticketTick)
	s.mu.Unlock()

	s.loopWG.Add(1)
	go s.loop(ctx)
	return nil
}

// Close stops the loops and waits for deliveries in flight.
func (s *Sandbox) Close() error {
	s.mu.Lock()
	s.closed = true
	stop := s.stop
	s.mu.Unlock()
	if stop != nil {
		stop()
	}
	s.loopWG.Wait()
	s.WaitPushes()
	return nil
}

// url joins PublicBase and a path for rendered links and redirects.
func (s *Sandbox) url(path string) string { return s.opts.PublicBase + path }
