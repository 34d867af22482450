package main

import (
	"log/slog"

	"github.com/minifleet/minifleet/app/config"
	"github.com/minifleet/minifleet/app/platform"
)

// newOnboarding builds the merchant authorization flow over the platform and
// hooks it to the authorization push jobs (binding, details, activity, live
// updates). Set before the platform runs.
func newOnboarding(cfg config.Config, p *platform.Platform, log *slog.Logger) *platform.Onboarding {
	o := &platform.Onboarding{
		Store: p.Store, WeChat: p.Client, Hub: platform.NewHub(), EvictToken: p.Vault.Evict,
		Now: p.Now, Log: log.With("component", "onboarding"), BaseURL: cfg.BaseURL,
	}
	o.UseJobs(p.Jobs)
	p.Hooks.GrantApplied = o.GrantApplied
	p.Hooks.Unauthorized = o.Unauthorized
	return o
}
