package platform

import (
	"context"
	"net"
	"regexp"
	"strconv"
	"strings"
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
	// The upstream backoffs: what the last failure means and when the next
	// attempt is (zero Next: not backing off).
	TokenProblem  UpstreamProblem
	TicketProblem UpstreamProblem
	AgedPushes    int // pushes in the last 24 h whose CreateTime is over an hour from their arrival
}

// UpstreamProblem explains a failed upstream call to staff.
type UpstreamProblem struct {
	Errcode int    // WeChat's errcode; 0 when WeChat did not answer
	Key     string // translation key of its meaning ("wechat.upstream.…")
	IP      string // for 61004: the address WeChat saw
	Next    time.Time
}

var (
	errcodeRE = regexp.MustCompile(`errcode (-?\d+)`)
	ipRE      = regexp.MustCompile(`[0-9A-Fa-f:.]*[0-9A-Fa-f][0-9A-Fa-f:.]*`)
)

// ExplainUpstream reads a recorded error (as the vault stores it) and says
// what it means; for 61004 it finds the address WeChat names in errmsg.
func ExplainUpstream(lastError string) UpstreamProblem {
	var p UpstreamProblem
	if m := errcodeRE.FindStringSubmatch(lastError); m != nil {
		p.Errcode, _ = strconv.Atoi(m[1])
	}
	switch p.Errcode {
	case 0:
		p.Key = "wechat.upstream.network"
	case 61004:
		p.Key = "wechat.upstream.61004"
		_, msg, _ := strings.Cut(lastError, "errcode 61004:")
		for _, cand := range ipRE.FindAllString(msg, -1) {
			if ip := net.ParseIP(strings.Trim(cand, ".:")); ip != nil && strings.ContainsAny(cand, ".:") {
				p.IP = ip.String()
				break
			}
		}
		if p.IP == "" {
			p.Key = "wechat.upstream.61004_noip"
		}
	case -1, 45009, 61005, 61006, 40001, 42001, 61003, 61023:
		p.Key = "wechat.upstream." + strconv.Itoa(p.Errcode)
	default:
		p.Key = "wechat.upstream.other"
	}
	return p
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
	now := p.now()
	if c := h.Component; c.Failures > 0 {
		h.TokenProblem = ExplainUpstream(c.LastError)
		if now.Before(c.NextRefreshAt) {
			h.TokenProblem.Next = c.NextRefreshAt
		}
	}
	if c := h.Component; c.TicketFailures > 0 && h.TicketStale {
		h.TicketProblem = ExplainUpstream(c.TicketLastError)
		if now.Before(c.TicketRetryAt) {
			h.TicketProblem.Next = c.TicketRetryAt
		}
	}
	if h.AgedPushes, err = p.Store.AgedPushes(ctx, now.Add(-24*time.Hour)); err != nil {
		return h, err
	}
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
