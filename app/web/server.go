// Package web is Minifleet's HTTP side and its only Fiber importer: the
// browser pages (templ views from package views, HTMX, live updates over
// SSE) and WeChat's push endpoints. routes.go is the one route table (path,
// scope, permission, handler); a feature's handlers share a file; the
// form_<area>.go files read and check what each form posts (one typed
// struct per form, see forms.go); respond.go redirects with a flash
// and puts errors on forms; render.go renders views and maps errors to pages.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/api"
	"github.com/minifleet/minifleet/app/authz"
	"github.com/minifleet/minifleet/app/cluster"
	"github.com/minifleet/minifleet/app/config"
	"github.com/minifleet/minifleet/app/i18n"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/store"
)

// Deps is what the web layer needs; main builds it.
type Deps struct {
	Config config.Config
	Store  *store.Store
	Authz  *authz.Authorizer
	I18n   *i18n.Bundle
	Log    *slog.Logger
	Now    func() time.Time
	// Sandbox is the WeChat emulator's handler, mounted under /sandbox in sandbox mode (nil in live mode).
	Sandbox http.Handler
	// Hasher hashes passwords; tests may pass a cheaper one.
	Hasher *PasswordHasher
	// Platform is the service graph (platform.New); required.
	Platform *platform.Platform
	// SSEMaxLife ends each live stream after this long (the browser
	// reconnects by itself); 0 means 30 minutes.
	SSEMaxLife time.Duration
	// Cluster is this node under LiteFS (nil or unclustered: one node,
	// always the primary).
	Cluster *cluster.Node
	// SandboxAssets is the base URL the sandbox rig gave the emulator for
	// its images (sandbox mode only, with Sandbox): head images under it
	// are fetched from Sandbox in process, not over the network.
	SandboxAssets string
	// APIRate and APIBurst are each API key's token bucket (0: app/api's
	// defaults); benchmarks raise them.
	APIRate  float64
	APIBurst int
}

// Server holds the dependencies every handler uses.
type Server struct {
	Deps
	// The platform's services, named as the handlers use them.
	Onboarding *platform.Onboarding
	Releases   *platform.Releases
	Library    *platform.Library
	Campaigns  *platform.Campaigns
	Hub        *platform.Hub

	sessions *scs.SessionManager
	stop     chan struct{} // closed at shutdown so long-lived streams end
	avatars  *avatarCache  // fetched head images (avatar.go)
	// avatarFetch is how the avatar proxy fetches: defaultAvatars (WeChat's
	// hosts, https, public addresses); only this package's tests set
	// another.
	avatarFetch *avatarFetcher
	shots       *avatarCache // fetched audit screenshots (release.go)
	api         *api.API     // the JSON API (app/api), mounted before the browser middleware
	forward     *forwarder   // a replica's writes to the primary (cluster.go)
}

// New builds the Fiber app with every route registered.
func New(d Deps) (*fiber.App, *Server) {
	if d.Platform == nil {
		panic("web: Deps.Platform is required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Hasher == nil {
		d.Hasher = DefaultHasher
	}
	sm := scs.New()
	sm.Store = store.Sessions{S: d.Store}
	sm.Lifetime = 12 * time.Hour
	sm.Cookie.Name = "sid"
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = d.Config.SecureCookies()
	sm.HashTokenInStore = true // the database holds hashes of session tokens, not the tokens
	p := d.Platform
	s := &Server{Deps: d, Onboarding: p.Onboarding, Releases: p.Releases, Library: p.Library, Campaigns: p.Campaigns, Hub: p.Hub,
		sessions: sm, stop: make(chan struct{}), avatars: newAvatarCache(avatarEntries), shots: newAvatarCache(shotEntries),
		avatarFetch: defaultAvatars, forward: newForwarder()}

	s.api = api.New(api.Deps{Store: d.Store, Authz: d.Authz, Platform: p, I18n: d.I18n, Log: d.Log.With("component", "api"),
		Rate: d.APIRate, Burst: d.APIBurst})

	// The client's address (c.IP()): the peer, unless the peer is one of
	// the trusted proxies, whose header names the client (clientip.go).
	trusted := len(d.Config.TrustedProxies) > 0
	proxyHeader := ""
	if trusted {
		proxyHeader = d.Config.ProxyHeader
	}
	app := fiber.New(fiber.Config{
		EnableTrustedProxyCheck: trusted,
		TrustedProxies:          d.Config.TrustedProxies,
		ProxyHeader:             proxyHeader,
		EnableIPValidation:      true,
		AppName:                 "minifleet",
		BodyLimit:               d.Config.MaxBodySize,
		ReadTimeout:             30 * time.Second,
		IdleTimeout:             120 * time.Second,
		DisableStartupMessage:   true,
		ErrorHandler:            s.fallbackErrorHandler,
		// WriteTimeout stays 0: fasthttp would cut SSE streams at that deadline.
	})
	s.routes(app)
	go s.pruneSessions(30 * time.Minute)
	return app, s
}

// pruneSessions deletes expired sessions every interval until Shutdown.
func (s *Server) pruneSessions(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if !s.Cluster.IsPrimary() {
				continue // a LiteFS replica cannot write; the primary prunes
			}
			if _, err := (store.Sessions{S: s.Store}).DeleteExpired(context.Background()); err != nil {
				s.Log.Warn("pruning expired sessions", "err", err)
			}
		}
	}
}

// Shutdown ends long-lived streams so the HTTP server can stop.
func (s *Server) Shutdown() { close(s.stop) }

// ctxKey types for values stored in the request's user context.
type ctxKey int

const (
	keyUser ctxKey = iota
)

func withValue(c *fiber.Ctx, k ctxKey, v any) {
	c.SetUserContext(context.WithValue(c.UserContext(), k, v))
}
