package platform

import (
	"context"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
)

// Health is what staff see about the WeChat side. It holds no secrets.
type Health struct {
	ComponentAppID string
	Component      store.ComponentHealth
	TicketAge      time.Duration // valid when Component.HasTicket
	TicketStale    bool          // older than the watchdog tolerates, or none
	TokenStates    map[string]int
	Trouble        []store.Authorizer // failing or needing re-authorization
	LastPushes     []store.Push       // newest of each kind
	Warnings       []store.Warning
	Jobs           map[string]int
}

// Health collects the WeChat health snapshot.
func (p *Platform) Health(ctx context.Context) (Health, error) {
	h := Health{ComponentAppID: p.componentAppID}
	var err error
	h.Component, err = p.Store.ComponentHealth(ctx, p.componentAppID)
	if err != nil && !model.IsNotFound(err) {
		return h, err
	}
	if h.Component.HasTicket {
		h.TicketAge = p.now().Sub(h.Component.TicketReceivedAt)
	}
	h.TicketStale = !h.Component.HasTicket || h.TicketAge > p.Vault.TicketMaxAge
	if h.TokenStates, err = p.Store.AuthorizerTokenStates(ctx); err != nil {
		return h, err
	}
	if h.Trouble, err = p.Store.AuthorizersInTrouble(ctx, 20); err != nil {
		return h, err
	}
	if h.LastPushes, err = p.Store.LastPushPerKind(ctx); err != nil {
		return h, err
	}
	if h.Warnings, err = p.Store.Warnings(ctx, 10); err != nil {
		return h, err
	}
	h.Jobs, err = p.Store.JobCounts(ctx)
	return h, err
}
