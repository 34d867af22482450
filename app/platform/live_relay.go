package platform

import (
	"context"
	"sync"
	"time"

	"github.com/minifleet/minifleet/app/store"
)

// LiveRelay carries the Hub's events from the primary to LiteFS replicas
// through the database: the primary records each published event
// (live_events, ids only) in small batches; a replica, woken when its
// replication position moves, reads the events after the last one it saw
// and delivers them to its own Hub, so its live streams move as the
// primary's do without polling the tables they show.
type LiveRelay struct {
	p    *Platform
	ch   chan Event
	mu   sync.Mutex
	last int64 // the newest event id replayed (or skipped at start)
	// Keep is how long recorded events stay (a replica further behind
	// than this has restarted and renders from the database anyway).
	Keep time.Duration
}

// liveBatch is how often the primary writes what was published.
const liveBatch = 50 * time.Millisecond

func newLiveRelay(p *Platform) *LiveRelay {
	r := &LiveRelay{p: p, ch: make(chan Event, 1024), Keep: 10 * time.Minute}
	p.Hub.SetRelay(r.record)
	return r
}

// record queues e for the primary's writer; a full queue drops it (a live
// page heals with the next event).
func (r *LiveRelay) record(e Event) {
	select {
	case r.ch <- e:
	default:
	}
}

// Run writes the published events until ctx ends (a primary-only loop),
// and prunes old ones.
func (r *LiveRelay) Run(ctx context.Context) {
	tick := time.NewTicker(liveBatch)
	defer tick.Stop()
	prune := time.NewTicker(time.Minute)
	defer prune.Stop()
	var batch []store.LiveEvent
	for {
		select {
		case <-ctx.Done():
			return
		case e := <-r.ch:
			batch = append(batch, store.LiveEvent{Name: e.Name, TenantID: e.TenantID, AppID: e.AppID,
				AttemptID: e.AttemptID, Campaign: e.Campaign, At: r.p.now().Unix()})
			continue
		case <-tick.C:
		case <-prune.C:
			if err := r.p.Store.PruneLiveEvents(ctx, r.p.now().Add(-r.Keep).Unix()); err != nil && ctx.Err() == nil {
				r.p.log.Warn("pruning live events", "err", err)
			}
		}
		if len(batch) == 0 {
			continue
		}
		if err := r.p.Store.AddLiveEvents(ctx, batch); err != nil && ctx.Err() == nil {
			r.p.log.Warn("recording live events", "err", err, "events", len(batch))
		}
		batch = batch[:0]
	}
}

// Skip starts a replica at the newest recorded event: what happened
// before it started is in the pages it renders.
func (r *LiveRelay) Skip(ctx context.Context) error {
	id, err := r.p.Store.LastLiveEvent(ctx)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.last = max(r.last, id)
	r.mu.Unlock()
	return nil
}

// Replay delivers the events recorded after the last one replayed to this
// process's Hub (a replica, when its position moved). It returns how many.
func (r *LiveRelay) Replay(ctx context.Context) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for {
		evs, err := r.p.Store.LiveEventsAfter(ctx, r.last)
		if err != nil {
			return n, err
		}
		for _, e := range evs {
			r.p.Hub.Deliver(Event{Name: e.Name, TenantID: e.TenantID, AppID: e.AppID, AttemptID: e.AttemptID, Campaign: e.Campaign})
			r.last = e.ID
			n++
		}
		if len(evs) < 500 {
			return n, nil
		}
	}
}
