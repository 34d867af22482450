package platform_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The code between the markers is docs/webhooks.md's receiver example,
// word for word (TestReceiverExampleIsTheDocs checks); the webhook tests
// verify real deliveries with it.

// receiver:start

// VerifySignature checks a Minifleet-Signature header ("t=<unix>,v1=<hex>")
// against the raw request body: v1 must be the hex HMAC-SHA256, keyed with
// the endpoint's secret, of "<t>.<body>", and t within tolerance of now
// (a replayed old request fails). Several v1 values may be present while a
// secret is being rotated; any one matching is enough.
func VerifySignature(header string, body []byte, secret string, tolerance time.Duration, now time.Time) error {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return errors.New("malformed signature header")
	}
	if d := now.Sub(time.Unix(t, 0)); d > tolerance || d < -tolerance {
		return errors.New("signature timestamp outside tolerance")
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, s := range sigs {
		if got, err := hex.DecodeString(s); err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("signature mismatch")
}

// Event is the body of every delivery.
type Event struct {
	ID       string          `json:"id"` // the same on every retry and replay: deduplicate by it
	Type     string          `json:"type"`
	Created  int64           `json:"created"`
	TenantID int64           `json:"tenant_id"`
	AppID    string          `json:"appid"`
	Data     json.RawMessage `json:"data"`
}

// WebhookHandler verifies each delivery, skips events already handled
// (seen reports whether handle has succeeded for an event id; handle
// records it) and answers 2xx quickly; anything else makes Minifleet retry.
func WebhookHandler(secret string, now func() time.Time, seen func(id string) bool, handle func(Event) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "read error", http.StatusBadRequest)
			return
		}
		if err := VerifySignature(r.Header.Get("Minifleet-Signature"), body, secret, 5*time.Minute, now()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var ev Event
		if err := json.Unmarshal(body, &ev); err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		if seen(ev.ID) {
			w.WriteHeader(http.StatusOK) // a retry of something already handled
			return
		}
		if err := handle(ev); err != nil {
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}
}

// receiver:end
