package model

import (
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Event types a webhook endpoint can subscribe to (issue #15, docs/webhooks.md).
const (
	EvtAppAuthorized    = "app.authorized"
	EvtAppUpdated       = "app.updated"
	EvtAppUnauthorized  = "app.unauthorized"
	EvtAuditSuccess     = "audit.success"
	EvtAuditFail        = "audit.fail"
	EvtAuditDelay       = "audit.delay"
	EvtReleaseDone      = "release.done"
	EvtCampaignProgress = "campaign.progress"
	EvtCampaignFinished = "campaign.finished"
	// EvtWeChatPush is every decrypted push WeChat sends to an app's URL
	// (messages and events), for tenants that ask for it.
	EvtWeChatPush = "wechat.push"
)

// EventTypes lists every event type, in the order forms show them.
var EventTypes = []string{
	EvtAppAuthorized, EvtAppUpdated, EvtAppUnauthorized,
	EvtAuditSuccess, EvtAuditFail, EvtAuditDelay,
	EvtReleaseDone, EvtCampaignProgress, EvtCampaignFinished,
	EvtWeChatPush,
}

// Endpoint states.
const (
	EndpointActive = "active"
	EndpointPaused = "paused"
)

// Delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
	DeliveryCancelled = "cancelled"
)

// WebhookEndpoint is where a tenant (or, TenantID 0, the platform) wants
// events delivered. The signing secret is never part of it.
type WebhookEndpoint struct {
	ID           int64
	TenantID     int64 // 0: a platform endpoint (staff)
	URL          string
	Description  string
	Events       []string
	State        string
	FailingSince time.Time
	PausedAt     time.Time
	Notice       string // translation key of why it was paused
	CreatedBy    string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	// Counts of its deliveries by state (filled by the list).
	Pending, Failed int
}

// Wants reports whether the endpoint subscribed to typ.
func (e WebhookEndpoint) Wants(typ string) bool { return slices.Contains(e.Events, typ) }

// WebhookDelivery is one event for one endpoint, with its last attempt.
type WebhookDelivery struct {
	ID         int64
	EndpointID int64
	EventID    string
	Type       string
	TenantID   int64
	AppID      string
	Payload    string // the event's data, JSON
	CreatedAt  time.Time
	State      string
	Attempts   int
	NextAt     time.Time
	LastCode   int
	LastError  string
	LastMS     int
	LastAt     time.Time
	ReplayOf   int64
}

// EndpointInput is what a person (or the API) sets on an endpoint.
type EndpointInput struct {
	URL         string
	Description string
	Events      []string
}

// URLRules says which endpoint URLs are accepted: https anywhere public;
// http and loopback/private addresses only when AllowPrivate (sandbox mode
// or MINIFLEET_WEBHOOKS_ALLOW_PRIVATE).
type URLRules struct{ AllowPrivate bool }

// Validate checks the input; field errors name "url", "events", "description".
func (in *EndpointInput) Validate(r URLRules) error {
	fe := FieldErrors{}
	in.URL = strings.TrimSpace(in.URL)
	if key := r.Check(in.URL); key != "" {
		fe.Add("url", key)
	}
	if len([]rune(in.Description)) > 200 {
		fe.Add("description", "webhooks.err.description_long")
	}
	seen := map[string]bool{}
	var evs []string
	for _, e := range in.Events {
		if !slices.Contains(EventTypes, e) {
			fe.Add("events", "webhooks.err.events_unknown")
			continue
		}
		if !seen[e] {
			seen[e] = true
			evs = append(evs, e)
		}
	}
	if len(evs) == 0 {
		fe.Add("events", "webhooks.err.events_none")
	}
	in.Events = evs
	return fe.Err()
}

// Check returns the translation key of what is wrong with u, "" when it
// may be an endpoint. The address a name resolves to is checked again when
// the delivery dials (platform's webhook client), so a public name that
// resolves inward is refused there.
func (r URLRules) Check(raw string) string {
	if raw == "" {
		return "webhooks.err.url_required"
	}
	if len(raw) > 2000 {
		return "webhooks.err.url_invalid"
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" || u.Opaque != "" {
		return "webhooks.err.url_invalid"
	}
	host := u.Hostname()
	if host == "" {
		return "webhooks.err.url_invalid"
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !r.AllowPrivate {
			return "webhooks.err.url_https"
		}
	default:
		return "webhooks.err.url_invalid"
	}
	if r.AllowPrivate {
		return ""
	}
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return "webhooks.err.url_private"
	}
	if ip, err := netip.ParseAddr(host); err == nil && !PublicAddr(ip) {
		return "webhooks.err.url_private"
	}
	return ""
}

// PublicAddr reports whether ip is a public unicast address: not loopback,
// private, link-local, multicast, unspecified, CGNAT, NAT64/6to4 or a
// documentation range.
func PublicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsMulticast() || ip.IsUnspecified() || ip.IsInterfaceLocalMulticast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

var nonPublic = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{"0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15",
		"198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4", "64:ff9b::/96", "64:ff9b:1::/48", "2002::/16",
		"2001:db8::/32", "100::/64", "fc00::/7"} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()
