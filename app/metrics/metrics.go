// Package metrics is Minifleet's Prometheus instrumentation (issue #15,
// docs/metrics.md): the counters and histograms the platform and the web
// layer update as things happen, and the gauges read from the store at
// scrape time. It owns its registry (never the global default one), so
// nothing but what is listed here is exposed. Every method is safe on a nil
// *Metrics (tests and tools that do not measure).
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds every collector.
type Metrics struct {
	Registry *prometheus.Registry

	pushes        *prometheus.CounterVec
	wechatCalls   *prometheus.CounterVec
	wechatLatency *prometheus.HistogramVec
	tokenRefresh  *prometheus.CounterVec
	deliveries    *prometheus.CounterVec
	deliveryTime  prometheus.Histogram
	httpRequests  *prometheus.CounterVec
	httpLatency   *prometheus.HistogramVec

	// pushCounters are pre-bound (kind, outcome) counters: the push intake's
	// hot path does one map read under a read lock, no label hashing.
	mu           sync.RWMutex
	pushCounters map[[2]string]prometheus.Counter
}

// Snapshot is what the store answers at scrape time (cheap, indexed counts).
type Snapshot struct {
	ReleasesByState  map[string]int
	CampaignsByState map[string]int
	// CampaignApps counts the apps of active campaigns by phase.
	CampaignApps map[string]int
	// DeliveriesPending counts the outbox's pending deliveries.
	DeliveriesPending int
}

// Source reads the scrape-time snapshot.
type Source func(ctx context.Context) (Snapshot, error)

// New builds the collectors on a fresh registry. src, when set, is read on
// every scrape for the releases, campaigns and outbox gauges.
func New(src Source) *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry(), pushCounters: map[[2]string]prometheus.Counter{}}
	m.pushes = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "minifleet_pushes_total",
		Help: "WeChat pushes received, by kind and outcome (applied, queued, recorded, stale, duplicate, refused, failed)."}, []string{"kind", "outcome"})
	m.wechatCalls = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "minifleet_wechat_calls_total",
		Help: "Calls to WeChat's API by endpoint and errcode (0 ok, -2 no answer)."}, []string{"endpoint", "errcode"})
	m.wechatLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "minifleet_wechat_call_seconds",
		Help: "Latency of calls to WeChat's API by endpoint.", Buckets: []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10}}, []string{"endpoint"})
	m.tokenRefresh = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "minifleet_token_refreshes_total",
		Help: "Token refreshes by token (component, authorizer) and outcome (ok, failed, backoff)."}, []string{"token", "outcome"})
	m.deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "minifleet_webhook_deliveries_total",
		Help: "Webhook delivery attempts by outcome (delivered, retry, failed, paused)."}, []string{"outcome"})
	m.deliveryTime = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "minifleet_webhook_delivery_seconds",
		Help: "Duration of webhook delivery attempts.", Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10}})
	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "minifleet_http_requests_total",
		Help: "HTTP requests by route pattern (never the raw path), method and status."}, []string{"route", "method", "status"})
	m.httpLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "minifleet_http_request_seconds",
		Help: "HTTP request latency by route pattern.", Buckets: prometheus.DefBuckets}, []string{"route"})
	m.Registry.MustRegister(m.pushes, m.wechatCalls, m.wechatLatency, m.tokenRefresh, m.deliveries, m.deliveryTime,
		m.httpRequests, m.httpLatency, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if src != nil {
		m.Registry.MustRegister(&storeCollector{src: src})
	}
	return m
}

// Handler serves the registry in Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry, MaxRequestsInFlight: 2, Timeout: 10 * time.Second})
}

// Push counts one push.
func (m *Metrics) Push(kind, outcome string) {
	if m == nil {
		return
	}
	k := [2]string{kind, outcome}
	m.mu.RLock()
	c, ok := m.pushCounters[k]
	m.mu.RUnlock()
	if !ok {
		// Kinds come from WeChat: past 256 label pairs (or an odd kind)
		// everything new is counted as "other", so the series stay bounded.
		m.mu.Lock()
		if len(kind) > 48 || len(m.pushCounters) >= 256 {
			kind = "other"
		}
		c = m.pushes.WithLabelValues(kind, outcome)
		if len(m.pushCounters) < 256 {
			m.pushCounters[k] = c
		}
		m.mu.Unlock()
	}
	c.Inc()
}

// WeChatCall counts one call to WeChat's API.
func (m *Metrics) WeChatCall(endpoint string, errcode int, d time.Duration) {
	if m == nil {
		return
	}
	m.wechatCalls.WithLabelValues(endpoint, strconv.Itoa(errcode)).Inc()
	m.wechatLatency.WithLabelValues(endpoint).Observe(d.Seconds())
}

// TokenRefresh counts one token refresh.
func (m *Metrics) TokenRefresh(token, outcome string) {
	if m == nil {
		return
	}
	m.tokenRefresh.WithLabelValues(token, outcome).Inc()
}

// Delivery counts one webhook delivery attempt.
func (m *Metrics) Delivery(outcome string, d time.Duration) {
	if m == nil {
		return
	}
	m.deliveries.WithLabelValues(outcome).Inc()
	m.deliveryTime.Observe(d.Seconds())
}

// HTTP counts one HTTP request by its route pattern.
func (m *Metrics) HTTP(route, method string, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.httpRequests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.httpLatency.WithLabelValues(route).Observe(d.Seconds())
}

// storeCollector reads the snapshot at scrape time.
type storeCollector struct{ src Source }

var (
	descReleases   = prometheus.NewDesc("minifleet_releases", "Releases by state.", []string{"state"}, nil)
	descCampaigns  = prometheus.NewDesc("minifleet_campaigns", "Campaigns by state.", []string{"state"}, nil)
	descCampApps   = prometheus.NewDesc("minifleet_campaign_apps", "Apps of active campaigns by phase.", []string{"phase"}, nil)
	descDeliveries = prometheus.NewDesc("minifleet_webhook_outbox_pending", "Webhook deliveries waiting in the outbox (new or retrying).", nil, nil)
	descScrapeErr  = prometheus.NewDesc("minifleet_store_scrape_error", "1 when the store could not be read at this scrape.", nil, nil)
)

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descReleases
	ch <- descCampaigns
	ch <- descCampApps
	ch <- descDeliveries
	ch <- descScrapeErr
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := c.src(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(descScrapeErr, prometheus.GaugeValue, 1)
		return
	}
	ch <- prometheus.MustNewConstMetric(descScrapeErr, prometheus.GaugeValue, 0)
	emit := func(d *prometheus.Desc, m map[string]int) {
		for k, v := range m {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), k)
		}
	}
	emit(descReleases, s.ReleasesByState)
	emit(descCampaigns, s.CampaignsByState)
	emit(descCampApps, s.CampaignApps)
	ch <- prometheus.MustNewConstMetric(descDeliveries, prometheus.GaugeValue, float64(s.DeliveriesPending))
}
