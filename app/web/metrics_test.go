package web

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/minifleet/minifleet/app/wechat/msgcrypt"
)

// metricValue is the value of the sample line starting with series, -1 if absent.
func metricValue(body, series string) float64 {
	for _, line := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err == nil {
				return v
			}
		}
	}
	return -1
}

// /metrics counts what happens: pushes by kind and outcome, WeChat calls by
// endpoint and errcode, token refreshes, HTTP requests by route pattern
// (never the raw path, so ids and tokens stay out and the series bounded).
func TestMetricsCountWhatHappens(t *testing.T) {
	h := newHarness(t)
	w := h.seed()
	scrape := func() string {
		t.Helper()
		r := h.client().get("/metrics", withHeader("Authorization", "Bearer "+testMetricsToken))
		if r.Status != 200 {
			t.Fatalf("/metrics: %d", r.Status)
		}
		return r.Body
	}
	before := scrape()
	ticketOK := `minifleet_pushes_total{kind="component_verify_ticket",outcome="applied"}`
	if v := metricValue(before, ticketOK); v > 0 {
		t.Fatalf("%s = %v before any push", ticketOK, v)
	}
	// A ticket push through the real route, twice (the second a duplicate).
	c := wxCrypter(t)
	for range 2 {
		req, _, _ := wxPushRequest(t, c, "/wechat/component/events", msgcrypt.FieldAppID, wxAppID, wxTicketXML(h.sb.Ticket(), h.clock.Now().Unix()+5))
		if status, _ := h.wxSend(req); status != 200 {
			t.Fatalf("ticket push: %d", status)
		}
	}
	// A token refresh: one WeChat call.
	if _, err := h.p.Vault.ComponentAccessToken(context.Background()); err != nil {
		t.Fatal(err)
	}
	owner := h.client()
	owner.login("owner@a.test")
	for range 3 {
		if r := owner.get("/t/" + itoa(w.A.ID) + "/settings/webhooks"); r.Status != 200 {
			t.Fatalf("webhooks page: %d", r.Status)
		}
	}
	after := scrape()
	for series, want := range map[string]float64{
		ticketOK: 1,
		`minifleet_pushes_total{kind="component_verify_ticket",outcome="duplicate"}`:                  1,
		`minifleet_wechat_calls_total{endpoint="/cgi-bin/component/api_component_token",errcode="0"}`: 1,
		`minifleet_token_refreshes_total{outcome="ok",token="component"}`:                             1,
		`minifleet_http_requests_total{method="GET",route="/t/:tid/settings/webhooks",status="200"}`:  3,
		`minifleet_wechat_call_seconds_count{endpoint="/cgi-bin/component/api_component_token"}`:      1,
	} {
		if got := metricValue(after, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	if regexp.MustCompile(`route="/t/\d`).MatchString(after) {
		t.Error("a raw path became a label")
	}
	if strings.Contains(after, testMetricsToken) {
		t.Error("the token is in the scrape")
	}
}
