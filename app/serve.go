package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/minifleet/minifleet/app/authz"
	"github.com/minifleet/minifleet/app/cluster"
	"github.com/minifleet/minifleet/app/config"
	"github.com/minifleet/minifleet/app/i18n"
	"github.com/minifleet/minifleet/app/metrics"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/web"
	"github.com/minifleet/minifleet/app/wechat"
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
	return store.Open(ctx, cfg.DBPath(), cfg.SecretKey)
}

// replicaReady reports whether the replicated database holds every
// migration this binary carries (the primary applies them).
func replicaReady(ctx context.Context, path string) bool {
	if _, err := os.Stat(path); err != nil {
		return false
	}
	d, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=query_only(1)")
	if err != nil {
		return false
	}
	defer d.Close()
	var level int64
	if d.QueryRowContext(ctx, `SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&level) != nil {
		return false
	}
	top, err := binaryMigrationLevel()
	return err == nil && level >= top
}

// openNodeStore opens the database as this node may: on a LiteFS replica
// it waits for the primary's database to arrive and neither creates nor
// migrates it.
func openNodeStore(ctx context.Context, cfg config.Config, node *cluster.Node, log *slog.Logger) (*store.Store, error) {
	if !node.Clustered() {
		return openStore(ctx, cfg)
	}
	replica := !node.IsPrimary()
	if replica {
		for i := 0; ; i++ {
			if replicaReady(ctx, cfg.DBPath()) {
				break
			}
			if i%50 == 0 {
				log.Info("replica: waiting for the primary's database", "primary", node.Primary(), "path", cfg.DBPath())
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return store.OpenWith(ctx, cfg.DBPath(), cfg.SecretKey, store.Options{LiteFS: true, Replica: replica})
}

// app is everything serve and the tests build: the store, the platform's
// service graph over it, and the web server over both.
type app struct {
	cfg      config.Config
	log      *slog.Logger
	store    *store.Store
	authz    *authz.Authorizer
	i18n     *i18n.Bundle
	sandbox  *sandboxRig // nil in live mode
	platform *platform.Platform
	node     *cluster.Node // LiteFS: primary or replica (a single node is always primary)
}

// demoBannerDelay lets the start-up log lines pass before the demo banner.
const demoBannerDelay = time.Second

func serve(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))
	log.Info("starting", "config", cfg)
	// Held while serving: `minifleet restore` refuses to replace the database under us.
	unlock, err := lockServe(cfg.DataDir)
	if err != nil {
		return err
	}
	defer unlock()
	var ln net.Listener
	var a *app
	if cfg.Live() {
		// Live mode needs no listen address to build (no sandbox), so the
		// database is checked (seed data refused) before anything listens.
		if a, err = build(ctx, cfg, log, ""); err != nil {
			return err
		}
		if ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			a.store.Close()
			return err
		}
	} else {
		if ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			return err
		}
		if a, err = build(ctx, cfg, log, ln.Addr().String()); err != nil {
			ln.Close()
			return err
		}
	}
	defer a.store.Close()
	if !cfg.Live() && a.node.IsPrimary() {
		if err := seedDemo(ctx, a); err != nil {
			return err
		}
	}
	fiberApp, srv := web.New(a.webDeps())
	errc := make(chan error, 1)
	go func() { errc <- fiberApp.Listener(ln) }()
	if a.sandbox != nil {
		go a.sandbox.run(ctx, log)
	}
	// Every background loop stops before the store closes.
	lctx, stopLoops := context.WithCancel(ctx)
	loops := make(chan struct{})
	go a.node.Watch(lctx)
	a.followPrimary(lctx)
	go func() { defer close(loops); a.node.WhilePrimary(lctx, a.primaryWork) }()
	defer func() { stopLoops(); <-loops }()
	if cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			return fmt.Errorf("MINIFLEET_METRICS_ADDR: %w", err)
		}
		msrv := metricsServer(a.platform.Metrics)
		go func() { _ = msrv.Serve(mln) }()
		defer msrv.Close()
		log.Info("metrics listening", "addr", mln.Addr().String())
	}
	log.Info("listening", "addr", ln.Addr().String(), "base_url", cfg.BaseURL, "live", cfg.Live())
	if !cfg.Live() {
		// The demo banner comes after the start-up log lines (the first
		// ticket, the loops starting), where a newcomer still sees it.
		go func() {
			select {
			case <-time.After(demoBannerDelay):
				demoBanner(a, stdout)
			case <-ctx.Done():
			}
		}()
	}
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
	node := cluster.New(cfg.Cluster.LiteFSDir, "minifleet.db")
	st, err := openNodeStore(ctx, cfg, node, log)
	if err != nil {
		return nil, err
	}
	if cfg.Live() {
		if err := refuseSeedData(ctx, st); err != nil {
			st.Close()
			return nil, err
		}
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
	a := &app{cfg: cfg, log: log, store: st, authz: az, i18n: bundle, node: node}
	if !cfg.Live() {
		if a.sandbox, err = newSandboxRig(&a.cfg, log, listenAddr); err != nil {
			st.Close()
			return nil, err
		}
	}
	w := a.cfg.WeChat
	c := wechat.New(w.ComponentAppID, w.ComponentSecret, nil)
	c.APIBase, c.MPBase, c.OpenBase = w.APIBase, w.MPBase, w.OpenBase
	pc := platform.Config{Store: st, Client: c, Token: w.Token, AESKey: w.AESKey, BaseURL: a.cfg.BaseURL,
		Log: log.With("component", "platform"),
		// Sandbox mode: receivers on this machine (http, loopback) are the point.
		WebhooksAllowPrivate: a.cfg.WebhooksAllowPrivate || !a.cfg.Live(),
		Metrics:              platform.NewMetrics(st),
	}
	if a.sandbox != nil {
		// The emulator's scan takes sandboxReview.Scan: poll at a pace that notices it.
		pc.ScanPoll = max(sandboxReview.Scan/3, 100*time.Millisecond)
		pc.KeyPrefix = platform.TestKeyPrefix // API keys say they belong to a sandbox
	}
	if a.platform, err = platform.New(pc); err != nil {
		st.Close()
		return nil, err
	}
	return a, nil
}

// ErrSeedData is why live mode refuses a database the sandbox seeded.
var ErrSeedData = errors.New("this database holds sandbox seed data")

// refuseSeedData fails when st holds rows the sandbox seeded: demo
// accounts whose password the README publishes (a platform admin among
// them), the demo tenant and its fleet. Live mode never runs with them.
func refuseSeedData(ctx context.Context, st *store.Store) error {
	n, err := st.SeedCount(ctx)
	if err != nil {
		return err
	}
	if len(n) == 0 {
		return nil
	}
	return fmt.Errorf("%w (%d demo users with a published password, %d tenants, %d apps, %d templates, %d campaigns): "+
		"live mode refuses to start on it. Remove it with `minifleet demo purge` (same MINIFLEET_DATA_DIR; take a backup first "+
		"with `minifleet backup PATH`), or start live on an empty data directory",
		ErrSeedData, n[store.SeedUser], n[store.SeedTenant], n[store.SeedApp], n[store.SeedTemplate], n[store.SeedCampaign])
}

// primaryWork is everything that runs only on the primary, from when this
// node becomes primary until it stops being it: the platform's loops
// (token refresh and the ticket watchdog, jobs, reconcile, release resume,
// campaigns, the live-event relay) and scheduled backups.
func (a *app) primaryWork(ctx context.Context) {
	if a.node.Clustered() {
		a.log.Info("this node is the primary: background work starts")
		defer a.log.Info("background work stopped")
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); a.backupLoop(ctx) }()
	a.platform.Run(ctx)
	wg.Wait()
}

// followPrimary makes a replica show the primary's changes: each time the
// replication position moves, the role cache reloads (roles are mirrored
// into the enforcer only where they were written) and the events the
// primary recorded reach this node's live streams.
func (a *app) followPrimary(ctx context.Context) {
	if !a.node.Clustered() {
		return
	}
	if err := a.platform.Live.Skip(ctx); err != nil {
		a.log.Warn("live events", "err", err)
	}
	a.node.OnAdvance(func(uint64) {
		if a.node.IsPrimary() {
			return
		}
		if err := a.authz.Reload(); err != nil {
			a.log.Warn("replica: reloading roles", "err", err)
		}
		if _, err := a.platform.Live.Replay(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("replica: replaying live events", "err", err)
		}
	})
}

func (a *app) webDeps() web.Deps {
	d := web.Deps{Config: a.cfg, Store: a.store, Authz: a.authz, I18n: a.i18n, Log: a.log, Platform: a.platform, Cluster: a.node}
	if a.sandbox != nil {
		d.Sandbox, d.SandboxAssets = a.sandbox.sb, a.sandbox.assets
	}
	return d
}

// metricsServer serves only /metrics, without a token: for
// MINIFLEET_METRICS_ADDR, a private listener (docs/metrics.md).
func metricsServer(m *metrics.Metrics) *http.Server {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	return &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
}
