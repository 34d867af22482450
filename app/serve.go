package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/minifleet/minifleet/app/authz"
	"github.com/minifleet/minifleet/app/config"
	"github.com/minifleet/minifleet/app/i18n"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/web"
)

func loadConfig(getenv func(string) string) (config.Config, error) {
	cfg, err := config.Load(getenv)
	if err != nil {
		return cfg, fmt.Errorf("configuration:\n%w", err)
	}
	if err := cfg.EnsureSecretKey(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

func openStore(ctx context.Context, cfg config.Config) (*store.Store, error) {
	return store.Open(ctx, filepath.Join(cfg.DataDir, "minifleet.db"), cfg.SecretKey)
}

// app is everything serve and the tests wire together.
type app struct {
	cfg      config.Config
	log      *slog.Logger
	store    *store.Store
	authz    *authz.Authorizer
	i18n     *i18n.Bundle
	sandbox  *sandboxRig // nil in live mode
	platform *platform.Platform
	// onboarding is the merchant authorization flow (hooked to the platform).
	onboarding *platform.Onboarding
	// releases is the release pipeline; library the template library.
	releases *platform.Releases
	library  *platform.Library
	// campaigns ships a template to many apps in waves.
	campaigns *platform.Campaigns
	web       *web.Server
	handler   http.Handler
}

func serve(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))
	log.Info("starting", "config", cfg)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	a, err := build(ctx, cfg, log, ln.Addr().String())
	if err != nil {
		ln.Close()
		return err
	}
	defer a.store.Close()
	if !cfg.Live() {
		if err := printDemo(ctx, a, stdout); err != nil {
			return err
		}
	}
	fiberApp, srv := web.New(a.webDeps())
	errc := make(chan error, 1)
	go func() { errc <- fiberApp.Listener(ln) }()
	if a.sandbox != nil {
		go a.sandbox.run(ctx, log)
	}
	lctx, stopLoops := context.WithCancel(ctx) // token refresh and jobs, stopped before the store closes
	loops := make(chan struct{})
	go func() { defer close(loops); a.platform.Run(lctx) }()
	defer func() { stopLoops(); <-loops }()
	onboardingDone := make(chan struct{}) // exchange retries and the nightly reconcile
	go func() { defer close(onboardingDone); a.onboarding.Run(lctx, a.platform.Holder()) }()
	defer func() { stopLoops(); <-onboardingDone }()
	releasesDone := make(chan struct{}) // the release pipeline's resume loop
	go func() { defer close(releasesDone); a.releases.Run(lctx) }()
	defer func() { stopLoops(); <-releasesDone }()
	campaignsDone := make(chan struct{}) // the campaign engine
	go func() { defer close(campaignsDone); a.campaigns.Run(lctx); a.campaigns.Wait(context.Background()) }()
	defer func() { stopLoops(); <-campaignsDone }()
	log.Info("listening", "addr", ln.Addr().String(), "base_url", cfg.BaseURL, "live", cfg.Live())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	srv.Shutdown() // ends SSE streams first, or the server would wait for them
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := fiberApp.ShutdownWithContext(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// build opens the database and wires every part. listenAddr is where this
// process serves HTTP, so the sandbox can reach the push routes.
func build(ctx context.Context, cfg config.Config, log *slog.Logger, listenAddr string) (*app, error) {
	st, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	az, err := authz.New(ctx, st)
	if err != nil {
		st.Close()
		return nil, err
	}
	bundle, err := i18n.New()
	if err != nil {
		st.Close()
		return nil, err
	}
	a := &app{cfg: cfg, log: log, store: st, authz: az, i18n: bundle}
	if !cfg.Live() {
		if a.sandbox, err = newSandboxRig(&a.cfg, log, listenAddr); err != nil {
			st.Close()
			return nil, err
		}
	}
	if a.platform, err = newPlatform(a.cfg, st, log); err != nil {
		st.Close()
		return nil, err
	}
	a.onboarding = newOnboarding(a.cfg, a.platform, log)
	a.releases, a.library = newReleases(a.platform, a.onboarding)
	a.campaigns = platform.NewCampaigns(a.platform, a.releases)
	if a.sandbox != nil {
		// The emulator's scan takes sandboxReview.Scan: poll at a pace that notices it.
		a.releases.ScanPoll = min(a.releases.ScanPoll, max(sandboxReview.Scan/3, 100*time.Millisecond))
	}
	return a, nil
}

func (a *app) webDeps() web.Deps {
	d := web.Deps{Config: a.cfg, Store: a.store, Authz: a.authz, I18n: a.i18n, Log: a.log, Platform: a.platform, Onboarding: a.onboarding,
		Releases: a.releases, Library: a.library, Campaigns: a.campaigns}
	if a.sandbox != nil {
		d.Sandbox = a.sandbox.sb
	}
	return d
}
