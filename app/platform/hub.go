package platform

import (
	"strconv"
	"sync"
)

// Event tells live pages that something they show has changed. It carries
// ids only; subscribers read the current state themselves, so a dropped
// event is healed by the next one and no secret ever travels through it.
type Event struct {
	Name      string // EventApp, EventAttempt, EventReconcile
	TenantID  int64  // 0 for apps bound to no tenant
	AppID     string // authorizer appid, when about an app
	AttemptID int64  // authorization attempt, when about one
	Campaign  int64  // campaign, for EventCampaign
}

// Event names.
const (
	EventApp       = "app"       // an app's binding, status or info changed
	EventAttempt   = "attempt"   // an authorization attempt moved
	EventReconcile = "reconcile" // a reconcile run finished
	EventCampaign  = "campaign"  // a campaign's progress changed
	EventContent   = "content"   // an app's content check was decided (content.go)
)

// Topics: one per tenant, and one for staff that sees every event.
const TopicStaff = "staff"

// TenantTopic is the topic of one tenant's events.
func TenantTopic(tenantID int64) string { return "t:" + strconv.FormatInt(tenantID, 10) }

// subBuffer bounds each subscriber's queue. A subscriber that falls this far
// behind loses events (Dropped counts them); publishers never block.
const subBuffer = 32

// Hub is an in-process publish/subscribe switch for live updates.
type Hub struct {
	mu      sync.Mutex
	subs    map[string]map[*Subscription]struct{}
	dropped int64
	relay   func(Event)
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{subs: map[string]map[*Subscription]struct{}{}} }

// Subscription receives the events of one topic on C until Close.
type Subscription struct {
	C     <-chan Event
	c     chan Event
	topic string
	hub   *Hub
	once  sync.Once
}

// Subscribe starts receiving topic's events.
func (h *Hub) Subscribe(topic string) *Subscription {
	c := make(chan Event, subBuffer)
	s := &Subscription{C: c, c: c, topic: topic, hub: h}
	h.mu.Lock()
	if h.subs[topic] == nil {
		h.subs[topic] = map[*Subscription]struct{}{}
	}
	h.subs[topic][s] = struct{}{}
	h.mu.Unlock()
	return s
}

// Close stops the subscription; it is safe to call more than once.
func (s *Subscription) Close() {
	s.once.Do(func() {
		h := s.hub
		h.mu.Lock()
		delete(h.subs[s.topic], s)
		if len(h.subs[s.topic]) == 0 {
			delete(h.subs, s.topic)
		}
		h.mu.Unlock()
	})
}

// Publish delivers e to its tenant's subscribers and to staff, without
// blocking: a full subscriber queue drops the event for that subscriber.
// The relay (SetRelay) gets it too, to record it for replicas.
func (h *Hub) Publish(e Event) {
	if h == nil {
		return
	}
	h.Deliver(e)
	h.mu.Lock()
	relay := h.relay
	h.mu.Unlock()
	if relay != nil {
		relay(e)
	}
}

// SetRelay makes every Publish also call fn (LiveRelay.record); fn must
// not block.
func (h *Hub) SetRelay(fn func(Event)) {
	h.mu.Lock()
	h.relay = fn
	h.mu.Unlock()
}

// Deliver is Publish to this process's subscribers only: what a replica
// does with the events the primary recorded.
func (h *Hub) Deliver(e Event) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	topics := []string{TopicStaff}
	if e.TenantID != 0 {
		topics = append(topics, TenantTopic(e.TenantID))
	}
	for _, t := range topics {
		for s := range h.subs[t] {
			select {
			case s.c <- e:
			default:
				h.dropped++
			}
		}
	}
}

// Subscribers counts open subscriptions (for the health page and tests).
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, m := range h.subs {
		n += len(m)
	}
	return n
}

// Dropped counts events lost to full subscriber queues.
func (h *Hub) Dropped() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.dropped
}
