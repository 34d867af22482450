package platform

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/minifleet/minifleet/app/metrics"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
)

// WebhookAPI is the event-delivery service as the browser pages and the
// JSON API use it. tenantID 0 means the platform's own endpoints (staff);
// any other id scopes every call to that tenant's endpoints, so another
// tenant's endpoint or delivery is not found.
type WebhookAPI interface {
	CreateEndpoint(ctx context.Context, a model.Actor, tenantID int64, in model.EndpointInput) (model.WebhookEndpoint, string, error)
	Endpoints(ctx context.Context, tenantID int64) ([]model.WebhookEndpoint, error)
	Endpoint(ctx context.Context, tenantID, id int64) (model.WebhookEndpoint, error)
	UpdateEndpoint(ctx context.Context, a model.Actor, tenantID, id int64, in model.EndpointInput) (model.WebhookEndpoint, error)
	DeleteEndpoint(ctx context.Context, a model.Actor, tenantID, id int64) error
	ResumeEndpoint(ctx context.Context, a model.Actor, tenantID, id int64) error
	RotateSecret(ctx context.Context, a model.Actor, tenantID, id int64) (string, error)
	Deliveries(ctx context.Context, tenantID, endpointID, beforeID int64, limit int) ([]model.WebhookDelivery, error)
	Replay(ctx context.Context, a model.Actor, tenantID, endpointID, deliveryID int64) (int64, error)
}

var _ WebhookAPI = (*Webhooks)(nil)

// SignatureHeader carries "t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">".
const SignatureHeader = "Minifleet-Signature"

// webhooksLease is held by the one process that delivers.
const webhooksLease = "webhooks"

// Webhooks delivers events from the outbox (store.webhook_deliveries) to
// endpoints: at least once, signed, in order per (endpoint, app), retried
// with backoff for 24 hours; an endpoint failing for PauseAfter is paused.
type Webhooks struct {
	Store   *store.Store
	Now     func() time.Time
	Log     *slog.Logger
	Metrics *metrics.Metrics
	Holder  string
	Rules   model.URLRules
	Client  *http.Client

	Tick       time.Duration // the loop's pass when nothing kicks it; 1 s
	LeaseTTL   time.Duration // 30 s
	PerGroup   int           // deliveries of one (endpoint, app) in a pass; 100
	Batch      int           // deliveries in a pass; 2000
	Workers    int           // (endpoint, app) groups delivered at once; 16
	RetryBase  time.Duration // the first retry's wait; 10 s, doubling
	RetryMax   time.Duration // the longest wait; 1 h
	GiveUp     time.Duration // retried for 24 h after the event
	PauseAfter time.Duration // consecutive failures for 6 h pause the endpoint

	kick chan struct{}
}

func newWebhooks(p *Platform, allowPrivate bool, m *metrics.Metrics) *Webhooks {
	return &Webhooks{
		Store: p.Store, Now: p.now, Log: p.log, Metrics: m, Holder: p.holder,
		Rules:  model.URLRules{AllowPrivate: allowPrivate},
		Client: NewWebhookClient(allowPrivate),
		Tick:   time.Second, LeaseTTL: 30 * time.Second, PerGroup: 100, Batch: 2000, Workers: 16,
		RetryBase: 10 * time.Second, RetryMax: time.Hour, GiveUp: 24 * time.Hour, PauseAfter: 6 * time.Hour,
		kick: make(chan struct{}, 1),
	}
}

// Kick wakes the delivery loop (an event was written).
func (w *Webhooks) Kick() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// NewSecret is a fresh signing secret: "whsec_" and 32 random bytes.
func NewSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return "whsec_" + base64.RawURLEncoding.EncodeToString(b[:])
}

// CreateEndpoint validates and stores an endpoint; the secret is returned
// once and stored sealed.
func (w *Webhooks) CreateEndpoint(ctx context.Context, a model.Actor, tenantID int64, in model.EndpointInput) (model.WebhookEndpoint, string, error) {
	if err := in.Validate(w.Rules); err != nil {
		return model.WebhookEndpoint{}, "", err
	}
	secret := NewSecret()
	e, err := w.Store.CreateEndpoint(ctx, a, tenantID, in, secret)
	if err != nil {
		return e, "", err
	}
	return e, secret, nil
}

// Endpoints lists a tenant's (0: the platform's) endpoints.
func (w *Webhooks) Endpoints(ctx context.Context, tenantID int64) ([]model.WebhookEndpoint, error) {
	return w.Store.Endpoints(ctx, tenantID)
}

// Endpoint loads one endpoint in scope.
func (w *Webhooks) Endpoint(ctx context.Context, tenantID, id int64) (model.WebhookEndpoint, error) {
	return w.Store.Endpoint(ctx, tenantID, id)
}

// UpdateEndpoint validates and changes an endpoint.
func (w *Webhooks) UpdateEndpoint(ctx context.Context, a model.Actor, tenantID, id int64, in model.EndpointInput) (model.WebhookEndpoint, error) {
	if err := in.Validate(w.Rules); err != nil {
		return model.WebhookEndpoint{}, err
	}
	return w.Store.UpdateEndpoint(ctx, a, tenantID, id, in)
}

// DeleteEndpoint removes an endpoint and cancels what it had pending.
func (w *Webhooks) DeleteEndpoint(ctx context.Context, a model.Actor, tenantID, id int64) error {
	return w.Store.DeleteEndpoint(ctx, a, tenantID, id)
}

// ResumeEndpoint resumes a paused endpoint; its waiting events go at once.
func (w *Webhooks) ResumeEndpoint(ctx context.Context, a model.Actor, tenantID, id int64) error {
	if err := w.Store.ResumeEndpoint(ctx, a, tenantID, id); err != nil {
		return err
	}
	w.Kick()
	return nil
}

// RotateSecret gives the endpoint a new signing secret, returned once.
func (w *Webhooks) RotateSecret(ctx context.Context, a model.Actor, tenantID, id int64) (string, error) {
	secret := NewSecret()
	return secret, w.Store.RotateEndpointSecret(ctx, a, tenantID, id, secret)
}

// Deliveries lists an endpoint's deliveries, newest first.
func (w *Webhooks) Deliveries(ctx context.Context, tenantID, endpointID, beforeID int64, limit int) ([]model.WebhookDelivery, error) {
	if _, err := w.Store.Endpoint(ctx, tenantID, endpointID); err != nil {
		return nil, err
	}
	return w.Store.Deliveries(ctx, endpointID, beforeID, limit)
}

// Replay queues a delivered or failed event again (same event id).
func (w *Webhooks) Replay(ctx context.Context, a model.Actor, tenantID, endpointID, deliveryID int64) (int64, error) {
	id, err := w.Store.ReplayDelivery(ctx, a, tenantID, endpointID, deliveryID)
	if err == nil {
		w.Kick()
	}
	return id, err
}

// Run delivers while this process holds the webhooks lease, until ctx ends.
func (w *Webhooks) Run(ctx context.Context) {
	defer w.Store.ReleaseLease(context.WithoutCancel(ctx), webhooksLease, w.Holder)
	for ctx.Err() == nil {
		wait := w.Tick
		ok, err := w.Store.AcquireLease(ctx, webhooksLease, w.Holder, w.Now(), w.LeaseTTL)
		if err != nil && ctx.Err() == nil {
			w.Log.Error("webhooks lease", "err", err)
		}
		if ok {
			n, err := w.DeliverDue(ctx)
			if err != nil && ctx.Err() == nil {
				w.Log.Error("webhook delivery pass", "err", err)
			}
			if n > 0 {
				continue // more may be due: the next pass at once
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-w.kick:
			t.Stop()
		case <-t.C:
		}
	}
}

// DeliverDue makes one pass: every (endpoint, app) whose oldest pending
// delivery is due gets up to PerGroup deliveries in order, stopping at its
// first failure; groups go in parallel. The outcomes are written in one
// transaction. It returns how many deliveries it attempted.
func (w *Webhooks) DeliverDue(ctx context.Context) (int, error) {
	now := w.Now()
	due, err := w.Store.DueDeliveries(ctx, now, w.PerGroup, w.Batch)
	if err != nil || len(due) == 0 {
		return 0, err
	}
	type gkey struct {
		ep  int64
		app string
	}
	var order []gkey
	groups := map[gkey][]store.DueDelivery{}
	secrets := map[int64]string{}
	for _, d := range due {
		k := gkey{d.EndpointID, d.AppID}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], d)
		if _, ok := secrets[d.EndpointID]; !ok {
			sec, err := w.Store.EndpointSecret(ctx, d.EndpointID)
			if err != nil {
				return 0, fmt.Errorf("opening endpoint %d's secret: %w", d.EndpointID, err)
			}
			secrets[d.EndpointID] = sec
		}
	}
	var mu sync.Mutex
	var results []store.AttemptResult
	sem := make(chan struct{}, max(w.Workers, 1))
	// A pass ends well inside the lease (slow receivers: 15 s an attempt),
	// so no other process takes over while deliveries are in flight.
	passEnd := time.Now().Add(w.LeaseTTL / 3) // + one attempt (15 s at most) < LeaseTTL
	var wg sync.WaitGroup
	for _, k := range order {
		ds := groups[k]
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			for _, d := range ds {
				if ctx.Err() != nil || time.Now().After(passEnd) {
					return
				}
				r := w.attempt(ctx, d, secrets[d.EndpointID])
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
				if !r.OK {
					return // the later events of this (endpoint, app) wait
				}
			}
		}()
	}
	wg.Wait()
	// Write what was attempted even when ctx ended meanwhile: a delivery
	// made and not recorded is sent again (at least once), never lost.
	if err := w.Store.SaveAttempts(context.WithoutCancel(ctx), results); err != nil {
		return 0, err
	}
	return len(results), nil
}

// attempt sends one delivery and decides what follows a failure.
func (w *Webhooks) attempt(ctx context.Context, d store.DueDelivery, secret string) store.AttemptResult {
	start := w.Now()
	r := store.AttemptResult{DeliveryID: d.ID, EndpointID: d.EndpointID, TenantID: d.TenantID, Attempt: d.Attempts + 1, At: start, URL: d.URL}
	body := EventBody(d.WebhookDelivery)
	t0 := time.Now()
	code, err := w.send(ctx, d, body, secret, start)
	r.Duration = time.Since(t0)
	r.Code = code
	switch {
	case err != nil:
		r.Error = err.Error()
	case code < 200 || code > 299:
		r.Error = "HTTP " + strconv.Itoa(code)
	default:
		r.OK = true
		w.Metrics.Delivery("delivered", r.Duration)
		return r
	}
	r.RetryAt = w.retryAt(d.WebhookDelivery, r.Attempt, start)
	failingSince := d.FailingSince
	if failingSince.IsZero() {
		failingSince = start
	}
	r.Pause = start.Sub(failingSince) >= w.PauseAfter
	switch {
	case r.Pause:
		w.Metrics.Delivery("paused", r.Duration)
	case r.RetryAt.IsZero():
		w.Metrics.Delivery("failed", r.Duration)
	default:
		w.Metrics.Delivery("retry", r.Duration)
	}
	return r
}

// retryAt is when a delivery that failed its attempt-th attempt is tried
// again: RetryBase doubling to RetryMax, jittered up by at most a fifth;
// zero once the event is GiveUp old (the last try is made at that age).
func (w *Webhooks) retryAt(d model.WebhookDelivery, attempt int, now time.Time) time.Time {
	deadline := d.CreatedAt.Add(w.GiveUp)
	if !now.Before(deadline) {
		return time.Time{}
	}
	wait := w.RetryBase
	for i := 1; i < attempt && wait < w.RetryMax; i++ {
		wait *= 2
	}
	wait = min(wait, w.RetryMax)
	wait += time.Duration(mrand.Int64N(int64(wait)/5 + 1))
	at := now.Add(wait)
	if at.After(deadline) {
		at = deadline
	}
	return at
}

// EventBody is the JSON body of a delivery: the event's envelope with its
// data. The same event always gives the same body.
func EventBody(d model.WebhookDelivery) []byte {
	env := struct {
		ID       string          `json:"id"`
		Type     string          `json:"type"`
		Created  int64           `json:"created"`
		TenantID int64           `json:"tenant_id,omitempty"`
		AppID    string          `json:"appid,omitempty"`
		Data     json.RawMessage `json:"data"`
	}{d.EventID, d.Type, d.CreatedAt.Unix(), d.TenantID, d.AppID, json.RawMessage(d.Payload)}
	b, _ := json.Marshal(env)
	return b
}

// Sign is the Minifleet-Signature header value for body at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// maxResponseRead is how much of a receiver's answer is read (then dropped).
const maxResponseRead = 4 << 10

func (w *Webhooks) send(ctx context.Context, d store.DueDelivery, body []byte, secret string, at time.Time) (int, error) {
	u, err := url.Parse(d.URL)
	if err != nil || (u.Scheme != "https" && !(u.Scheme == "http" && w.Rules.AllowPrivate)) {
		return 0, errors.New("endpoint URL refused")
	}
	rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, d.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Minifleet-Webhooks/1")
	req.Header.Set("Minifleet-Event-Id", d.EventID)
	req.Header.Set("Minifleet-Event-Type", d.Type)
	req.Header.Set("Minifleet-Delivery-Id", strconv.FormatInt(d.ID, 10))
	req.Header.Set(SignatureHeader, Sign(secret, at, body))
	resp, err := w.Client.Do(req)
	if err != nil {
		return 0, scrubURL(err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseRead))
	resp.Body.Close()
	return resp.StatusCode, nil
}

// scrubURL keeps a *url.Error's cause without the URL (it may carry a
// token in its query): the error is shown on the delivery log.
func scrubURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

var errAddressRefused = errors.New("address refused: not a public address")

// NewWebhookClient is the narrowed HTTP client of deliveries: no proxy from
// the environment, no redirects followed (a 3xx is a failed attempt), short
// timeouts, and, unless allowPrivate, every address it connects to must be
// public — checked at the dial, after DNS, so a name resolving inward is
// refused too.
func NewWebhookClient(allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			ip, err := netip.ParseAddr(host)
			if err != nil || !model.PublicAddr(ip) {
				return errAddressRefused
			}
			return nil
		}
	}
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		TLSHandshakeTimeout:    5 * time.Second,
		ResponseHeaderTimeout:  10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxIdleConns:           64,
		MaxIdleConnsPerHost:    16,
		IdleConnTimeout:        60 * time.Second,
		MaxResponseHeaderBytes: 16 << 10,
		ForceAttemptHTTP2:      true,
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
