package main

import (
	"github.com/minifleet/minifleet/app/platform"
)

// newReleases builds the release pipeline and the template library over
// the platform. The pipeline publishes on the onboarding hub, so the live
// pages (apps list, release pages, fleet board) share one stream per tenant.
func newReleases(p *platform.Platform, o *platform.Onboarding) (*platform.Releases, *platform.Library) {
	return platform.NewReleases(p, o.Hub), platform.NewLibrary(p)
}
