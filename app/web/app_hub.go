package web

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/authz"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/views"
)

// hubReleases is how many of an app's newest releases the hub reads.
const hubReleases = 30

// liveState: the release's code is what users get (fully or phased).
func liveState(s model.ReleaseState) bool {
	switch s {
	case model.RelReleased, model.RelGray, model.RelRollingBack, model.RelRollbackFailed:
		return true
	}
	return false
}

// auditState: the release was sent to (or waits to be sent to) WeChat's audit.
func auditState(s model.ReleaseState) bool {
	switch s {
	case model.RelAwaitingApproval, model.RelSubmitting, model.RelSubmitFailed, model.RelAuditing, model.RelDelayed,
		model.RelApproved, model.RelRejected, model.RelWithdrawn, model.RelReleasing, model.RelReleaseFailed:
		return true
	}
	return false
}

// lastInto is the newest transition of events into one of states.
func lastInto(events []model.ReleaseTransition, states ...model.ReleaseState) *model.ReleaseTransition {
	for i := len(events) - 1; i >= 0; i-- {
		for _, s := range states {
			if events[i].To == s {
				return &events[i]
			}
		}
	}
	return nil
}

// hubBlock shows r as of the transition at (when it reached the block's
// state) and by whoever took the step by (a person's transition; the
// preparer when none).
func hubBlock(r *model.Release, at, by *model.ReleaseTransition) views.HubBlock {
	b := views.HubBlock{Release: r, At: r.UpdatedAt, By: r.Preparer}
	if at != nil {
		b.At = at.At
	}
	if by != nil && by.Cause == model.CauseUser && by.Actor != "" {
		b.By = by.Actor
	}
	return b
}

// appBlocks finds the 线上版本, 审核版本 and 体验版 blocks among the app's
// releases: the newest live one; the newest one in audit, when newer than
// the live one; the newest one whose code was committed (WeChat keeps one
// trial version per app), with its QR code when the tenant's route can show it.
func (s *Server) appBlocks(ctx context.Context, tenantID int64, a model.App, withQR bool) (views.AppHub, *model.Release, error) {
	var h views.AppHub
	rels, err := s.Store.ListReleases(ctx, tenantID, a.AppID, hubReleases)
	if err != nil {
		return h, nil, err
	}
	var open *model.Release
	var liveID int64
	for i := range rels {
		r := &rels[i]
		if open == nil && r.State.Open() {
			open = r
		}
		if h.Live.Release == nil && liveState(r.State) {
			ev, err := s.Store.ReleaseEvents(ctx, tenantID, r.ID)
			if err != nil {
				return h, nil, err
			}
			h.Live, liveID = hubBlock(r, lastInto(ev, model.RelReleased, model.RelGray), lastInto(ev, model.RelReleasing, model.RelGray)), r.ID
			if !r.ReleasedAt.IsZero() {
				h.Live.At = r.ReleasedAt
			}
		}
	}
	for i := range rels {
		r := &rels[i]
		if r.ID <= liveID {
			break
		}
		if auditState(r.State) {
			ev, err := s.Store.ReleaseEvents(ctx, tenantID, r.ID)
			if err != nil {
				return h, nil, err
			}
			h.Audit = hubBlock(r, lastInto(ev, r.State), lastInto(ev, model.RelSubmitting))
			break
		}
	}
	for i := range rels {
		r := &rels[i]
		switch r.State {
		case model.RelDraft, model.RelCommitting, model.RelCommitFailed:
			continue
		}
		ev, err := s.Store.ReleaseEvents(ctx, tenantID, r.ID)
		if err != nil {
			return h, nil, err
		}
		committed := lastInto(ev, model.RelCommitted)
		if committed == nil {
			continue // cancelled before its code was committed
		}
		h.Trial = hubBlock(r, committed, lastInto(ev, model.RelCommitting))
		if withQR {
			art, err := s.Store.ReleaseArtifacts(ctx, tenantID, r.ID)
			if err != nil {
				return h, nil, err
			}
			if art.HasQR {
				h.Trial.QR = paths.ReleaseQR(tenantID, a.AppID, r.ID)
			}
		}
		break
	}
	return h, open, nil
}

// viewer is what the person looking at the app page may do, read once
// per request (a live stream keeps it for its fragments).
type viewer struct {
	userID                                 int64
	authorize, configure, prepare, approve bool
}

func (s *Server) viewerOf(c *fiber.Ctx) viewer {
	v := viewer{authorize: s.can(c, authz.PermAppsAuthorize), configure: s.can(c, authz.PermConfigWrite),
		prepare: s.can(c, authz.PermReleasePrepare), approve: s.can(c, authz.PermReleaseApprove)}
	if u := currentUser(c); u != nil {
		v.userID = u.ID
	}
	return v
}

// appHub is the tenant app page's hub: the blocks and the one next step,
// from the app's real state and what the viewer may do.
func (s *Server) appHub(ctx context.Context, tid int64, a model.App, who viewer) (*views.AppHub, error) {
	h, open, err := s.appBlocks(ctx, tid, a, true)
	if err != nil {
		return nil, err
	}
	hasConfig := true
	if _, err := s.Store.LatestConfig(ctx, tid, a.AppID); model.IsNotFound(err) {
		hasConfig = false
	} else if err != nil {
		return nil, err
	}
	h.Next = nextStep(tid, a, open, hasConfig, h.Live.Release != nil, who)
	return &h, nil
}

// nextStep is authorize → configure → commit → waiting for approval →
// release, as the app stands; the button only when the viewer may take it.
func nextStep(tid int64, a model.App, open *model.Release, hasConfig, live bool, who viewer) views.AppNext {
	step := func(key string, may bool, url string, post bool, link, linkKey string) views.AppNext {
		n := views.AppNext{Key: key, Link: link, LinkKey: linkKey}
		if may {
			n.URL, n.Post = url, post
		} else {
			n.Blocked = true
		}
		return n
	}
	wait := func(key string, r *model.Release) views.AppNext {
		return views.AppNext{Key: key, Link: paths.Release(tid, a.AppID, r.ID), LinkKey: "apps.hub.open_release"}
	}
	switch {
	case a.DisplayStatus() != model.AppAuthorized:
		return step("authorize", who.authorize, paths.AppReauthorize(tid, a.AppID), true, "", "")
	case open != nil:
		rel := paths.Release(tid, a.AppID, open.ID)
		switch open.State {
		case model.RelAwaitingApproval:
			if who.approve && who.userID != 0 && open.MayApprove(who.userID) == "" {
				return views.AppNext{Key: "approve", URL: paths.ReleaseReview(tid, a.AppID, open.ID)}
			}
			return wait("waiting_approval", open)
		case model.RelApproved:
			return step("release", who.approve, rel, false, rel, "apps.hub.open_release")
		case model.RelRejected:
			return step("fix", who.prepare, rel, false, rel, "apps.hub.open_release")
		case model.RelGray:
			return step("gray", who.approve, rel, false, rel, "apps.hub.open_release")
		case model.RelCommitting, model.RelPrivacyScan, model.RelSubmitting, model.RelAuditing, model.RelDelayed, model.RelReleasing:
			return wait("wait_"+waitKind(open.State), open)
		default: // draft, committed, preflight, a failure
			return step("continue", who.prepare, rel, false, rel, "apps.hub.open_release")
		}
	case !hasConfig:
		return step("configure", who.configure, paths.Config(tid, a.AppID), false, paths.Config(tid, a.AppID), "config.title")
	case live:
		return step("commit_new", who.prepare, paths.Releases(tid, a.AppID), false, paths.Releases(tid, a.AppID), "release.list_title")
	default:
		return step("commit", who.prepare, paths.Releases(tid, a.AppID), false, paths.Releases(tid, a.AppID), "release.list_title")
	}
}

func waitKind(s model.ReleaseState) string {
	switch s {
	case model.RelAuditing, model.RelDelayed, model.RelSubmitting:
		return "audit"
	case model.RelReleasing:
		return "release"
	}
	return "commit"
}
