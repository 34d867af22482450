package platform_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat/sandbox"
)

// receiver is a local endpoint that verifies every delivery with the docs'
// receiver example and records what it accepted, in arrival order.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	secret string
	now    func() time.Time

	mu     sync.Mutex
	events []Event
	bad    int              // deliveries whose signature did not verify
	fail   func(Event) bool // answer 503 to these
	hits   int
}

func newReceiver(t *testing.T, now func() time.Time) *receiver {
	rc := &receiver{t: t, now: now}
	seen := map[string]bool{}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc.mu.Lock()
		rc.hits++
		secret := rc.secret
		rc.mu.Unlock()
		h := WebhookHandler(secret, rc.now,
			func(id string) bool { rc.mu.Lock(); defer rc.mu.Unlock(); return seen[id] },
			func(ev Event) error {
				rc.mu.Lock()
				defer rc.mu.Unlock()
				if rc.fail != nil && rc.fail(ev) {
					return errFail
				}
				seen[ev.ID] = true
				rc.events = append(rc.events, ev)
				return nil
			})
		rw := &statusWriter{ResponseWriter: w}
		h(rw, r)
		if rw.code == http.StatusUnauthorized {
			rc.mu.Lock()
			rc.bad++
			rc.mu.Unlock()
		}
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

var errFail = &json.UnsupportedValueError{Str: "fail"}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(c int) { s.code = c; s.ResponseWriter.WriteHeader(c) }

func (rc *receiver) types() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []string
	for _, e := range rc.events {
		out = append(out, e.Type)
	}
	return out
}

// deliverAll runs delivery passes until nothing is due.
func deliverAll(t *testing.T, w *platform.Webhooks) {
	t.Helper()
	for range 100 {
		n, err := w.DeliverDue(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	t.Fatal("deliveries never settled")
}

// A tenant's endpoint gets signed events for a real sandbox flow, in order:
// the app authorized through WeChat's authorization (push, job, bind), the
// audit passing (WeChat's push on the app's URL: the raw push too), the
// release going live.
func TestWebhooksFlowSignedInOrder(t *testing.T) {
	var rc *receiver
	var endpoint model.WebhookEndpoint
	rr := newRelRigWith(t, 1, func(rr *relRig) string {
		r := rr.rig
		rc = newReceiver(t, r.now)
		var err error
		var secret string
		endpoint, secret, err = r.p.Webhooks.CreateEndpoint(r.ctx, rr.dev, rr.tenantID, model.EndpointInput{
			URL: rc.srv.URL + "/hooks?k=1", Events: model.EventTypes})
		if err != nil {
			t.Fatal(err)
		}
		rc.secret = secret
		if _, err := r.st.SaveTicket(r.ctx, testAppID, r.sb.Ticket(), 1, r.now()); err != nil {
			t.Fatal(err)
		}
		a, err := r.p.Onboarding.Start(r.ctx, rr.dev, rr.tenantID, "")
		if err != nil {
			t.Fatal(err)
		}
		appID, _, err := r.sb.AuthorizeApp(a.PreAuthCode, sandbox.AppSpec{Nickname: "钩子"})
		if err != nil {
			t.Fatal(err)
		}
		r.sb.WaitPushes()
		if _, err := r.p.Jobs.RunDue(r.ctx); err != nil {
			t.Fatal(err)
		}
		if app, err := r.st.App(r.ctx, rr.tenantID, appID); err != nil || app.AppID != appID {
			t.Fatalf("authorized app not bound: %+v %v\n%s", app, err, r.logs.String())
		}
		return appID
	})
	// Another tenant's endpoint hears nothing of this tenant.
	_, other, err := rr.st.Signup(rr.ctx, model.User{Email: "other@example.com", Name: "o", PasswordHash: "x"}, "Other Co", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	orc := newReceiver(t, rr.now)
	_, osec, err := rr.p.Webhooks.CreateEndpoint(rr.ctx, model.Actor{Label: "o"}, other.ID, model.EndpointInput{URL: orc.srv.URL, Events: model.EventTypes})
	if err != nil {
		t.Fatal(err)
	}
	orc.secret = osec

	rel := rr.approve(t, rr.prepareToApproval(t, "1.0.0", "webhooks"))
	rr.decide(t, sandbox.AuditDecision{Outcome: sandbox.AuditApprove})
	rr.want(t, rel.ID, model.RelApproved)
	if _, err := rr.rel.Release(rr.ctx, rr.tenantID, rel.ID, rr.boss); err != nil {
		t.Fatal(err)
	}
	rr.want(t, rel.ID, model.RelReleased)

	deliverAll(t, rr.p.Webhooks)
	got := rc.types()
	want := []string{model.EvtAppAuthorized, model.EvtAuditSuccess, model.EvtWeChatPush, model.EvtReleaseDone}
	var kept []string // the audit's state change comes before its raw push (same transaction)
	for _, g := range got {
		if len(kept) < len(want) && g == want[len(kept)] {
			kept = append(kept, g)
		}
	}
	if strings.Join(kept, " ") != strings.Join(want, " ") {
		t.Fatalf("events in order = %v, want %v as a subsequence", got, want)
	}
	if rc.bad != 0 {
		t.Errorf("%d deliveries failed verification", rc.bad)
	}
	rc.mu.Lock()
	for _, ev := range rc.events {
		if !strings.HasPrefix(ev.ID, "evt_") || ev.AppID != rr.appID || ev.TenantID != rr.tenantID {
			t.Errorf("event %+v: want an evt_ id, appid %s, tenant %d", ev, rr.appID, rr.tenantID)
		}
		switch ev.Type {
		case model.EvtAuditSuccess, model.EvtReleaseDone:
			var d struct {
				ReleaseID   int64  `json:"release_id"`
				UserVersion string `json:"user_version"`
			}
			if json.Unmarshal(ev.Data, &d); d.ReleaseID != rel.ID || d.UserVersion != "1.0.0" {
				t.Errorf("%s data = %s", ev.Type, ev.Data)
			}
		case model.EvtWeChatPush:
			var d struct{ Kind, XML string }
			if json.Unmarshal(ev.Data, &d); d.Kind != "weapp_audit_success" || !strings.Contains(d.XML, "<xml>") {
				t.Errorf("wechat.push data = %s", ev.Data)
			}
		}
	}
	rc.mu.Unlock()
	if n := len(orc.types()); n != 0 {
		t.Errorf("another tenant's endpoint got %d events: %v", n, orc.types())
	}
	ds, err := rr.p.Webhooks.Deliveries(rr.ctx, rr.tenantID, endpoint.ID, 0, 50)
	if err != nil || len(ds) != len(got) {
		t.Fatalf("delivery log = %d rows (%v), want %d", len(ds), err, len(got))
	}
	for _, d := range ds {
		if d.State != model.DeliveryDelivered || d.LastCode != 200 || d.Attempts != 1 {
			t.Errorf("delivery %+v", d)
		}
	}
	// The other tenant cannot read this endpoint's log.
	if _, err := rr.p.Webhooks.Deliveries(rr.ctx, other.ID, endpoint.ID, 0, 50); !model.IsNotFound(err) {
		t.Errorf("foreign tenant's delivery log: err = %v, want not found", err)
	}
}

// webhookRig is a tenant with one endpoint on a local receiver and events
// emitted by hand, on the fake clock.
type webhookRig struct {
	*rig
	rc       *receiver
	tenantID int64
	ep       model.WebhookEndpoint
	owner    model.Actor
}

func newWebhookRig(t *testing.T) *webhookRig {
	r := newRig(t, rigOpts{})
	u, tn, err := r.st.Signup(r.ctx, model.User{Email: "owner@example.com", Name: "o", PasswordHash: "x"}, "Hook Co", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	wr := &webhookRig{rig: r, rc: newReceiver(t, r.now), tenantID: tn.ID, owner: model.Actor{UserID: u.ID, Label: u.Email}}
	ep, secret, err := r.p.Webhooks.CreateEndpoint(r.ctx, wr.owner, tn.ID, model.EndpointInput{URL: wr.rc.srv.URL, Events: model.EventTypes})
	if err != nil {
		t.Fatal(err)
	}
	wr.ep, wr.rc.secret = ep, secret
	return wr
}

func (wr *webhookRig) emit(appID, typ string, n int) {
	wr.t.Helper()
	if err := wr.st.Emit(wr.ctx, store.Event{Type: typ, TenantID: wr.tenantID, AppID: appID, Data: map[string]any{"n": n}}); err != nil {
		wr.t.Fatal(err)
	}
}

func (wr *webhookRig) delivery(id int64) model.WebhookDelivery {
	wr.t.Helper()
	d, err := wr.st.Delivery(wr.ctx, wr.ep.ID, id)
	if err != nil {
		wr.t.Fatal(err)
	}
	return d
}

// A failing receiver: retries back off exponentially with jitter (never
// sooner than the doubling, at most a fifth more), the app's later event
// waits behind the failing one while another app's goes through, and
// after 6 h of consecutive failures the endpoint is paused with a notice
// and an activity row; resuming delivers everything in order.
func TestWebhookRetriesBackoffOrderAndPause(t *testing.T) {
	wr := newWebhookRig(t)
	w := wr.p.Webhooks
	down := true
	wr.rc.fail = func(ev Event) bool { return down && ev.AppID == "wxA" }
	wr.emit("wxA", model.EvtAuditSuccess, 1)
	wr.emit("wxA", model.EvtReleaseDone, 2)
	wr.emit("wxB", model.EvtAuditSuccess, 3)
	deliverAll(t, w)
	if got := wr.rc.types(); len(got) != 1 || wr.rc.events[0].AppID != "wxB" {
		t.Fatalf("delivered %v, want only wxB's event (wxA's first failed, its second waits)", got)
	}
	first := wr.delivery(1)
	if first.State != model.DeliveryPending || first.Attempts != 1 || first.LastCode != http.StatusServiceUnavailable {
		t.Fatalf("first = %+v", first)
	}
	if d2 := wr.delivery(2); d2.Attempts != 0 {
		t.Fatalf("the second event of wxA was attempted (%d) while the first retries", d2.Attempts)
	}
	// Each retry waits RetryBase·2^(n-1) (capped at an hour) plus up to a fifth.
	prevAt := wr.now()
	wait := w.RetryBase
	for attempt := 1; attempt <= 8; attempt++ {
		d := wr.delivery(1)
		gap := d.NextAt.Sub(prevAt)
		if gap < wait || gap > wait+wait/5+time.Second {
			t.Fatalf("attempt %d: next try after %v, want %v..%v", attempt, gap, wait, wait+wait/5)
		}
		// a second before it is due nothing is tried
		wr.setClock(d.NextAt.Add(-time.Second))
		if n, _ := w.DeliverDue(wr.ctx); n != 0 {
			t.Fatalf("attempt %d: %d deliveries before the retry was due", attempt, n)
		}
		wr.setClock(d.NextAt)
		prevAt = d.NextAt
		if n, err := w.DeliverDue(wr.ctx); n != 1 || err != nil {
			t.Fatalf("attempt %d: %d deliveries, %v", attempt+1, n, err)
		}
		wait = min(wait*2, w.RetryMax)
	}
	// Keep failing until six hours after the first failure.
	for wr.now().Sub(epoch) < w.PauseAfter+2*time.Hour {
		d := wr.delivery(1)
		if d.State != model.DeliveryPending {
			break
		}
		ep, _ := w.Endpoint(wr.ctx, wr.tenantID, wr.ep.ID)
		if ep.State == model.EndpointPaused {
			break
		}
		wr.setClock(d.NextAt)
		if _, err := w.DeliverDue(wr.ctx); err != nil {
			t.Fatal(err)
		}
	}
	ep, err := w.Endpoint(wr.ctx, wr.tenantID, wr.ep.ID)
	if err != nil || ep.State != model.EndpointPaused || ep.Notice == "" {
		t.Fatalf("endpoint after hours of failures = %+v %v, want paused with a notice", ep, err)
	}
	if since := ep.PausedAt.Sub(epoch); since < w.PauseAfter || since > w.PauseAfter+time.Hour+w.RetryMax/5 {
		t.Errorf("paused %v after the first failure, want about %v", since, w.PauseAfter)
	}
	if n := wr.count(`SELECT COUNT(*) FROM activity WHERE tenant_id = ? AND action = ?`, wr.tenantID, store.ActWebhookPause); n != 1 {
		t.Errorf("%d pause rows in the activity log, want 1", n)
	}
	// Paused: nothing is tried however long we wait.
	wr.clock.Advance(3 * time.Hour)
	hits := wr.rc.hits
	deliverAll(t, w)
	if wr.rc.hits != hits {
		t.Errorf("a paused endpoint was called")
	}
	// The receiver is fixed; the owner resumes: both of wxA's events, in order.
	down = false
	if err := w.ResumeEndpoint(wr.ctx, wr.owner, wr.tenantID, wr.ep.ID); err != nil {
		t.Fatal(err)
	}
	deliverAll(t, w)
	got := wr.rc.types()
	if len(got) != 3 || wr.rc.events[1].AppID != "wxA" || got[1] != model.EvtAuditSuccess || got[2] != model.EvtReleaseDone {
		t.Fatalf("after resume: %v", got)
	}
	if ep, _ := w.Endpoint(wr.ctx, wr.tenantID, wr.ep.ID); ep.State != model.EndpointActive || !ep.FailingSince.IsZero() {
		t.Errorf("after resume: %+v", ep)
	}
}

// An event is retried for 24 hours and then given up (the endpoint is not
// paused when PauseAfter is longer), and the app's next event goes.
func TestWebhookGivesUpAfter24h(t *testing.T) {
	wr := newWebhookRig(t)
	w := wr.p.Webhooks
	w.PauseAfter = 48 * time.Hour
	wr.rc.fail = func(ev Event) bool { return ev.Type == model.EvtAuditFail }
	wr.emit("wxA", model.EvtAuditFail, 1)
	wr.emit("wxA", model.EvtAuditSuccess, 2)
	deliverAll(t, w)
	for i := 0; wr.delivery(1).State == model.DeliveryPending; i++ {
		if i > 100 {
			t.Fatal("never gave up")
		}
		wr.setClock(wr.delivery(1).NextAt)
		deliverAll(t, w)
	}
	d := wr.delivery(1)
	if d.State != model.DeliveryFailed || wr.now().Sub(epoch) != w.GiveUp {
		t.Fatalf("gave up at %v with %+v, want at %v", wr.now().Sub(epoch), d, w.GiveUp)
	}
	if got := wr.rc.types(); len(got) != 1 || got[0] != model.EvtAuditSuccess {
		t.Errorf("after giving up: %v", got)
	}
}

// Replay sends a delivered event again with the same id; a pending one
// cannot be replayed, nor another tenant's.
func TestWebhookReplay(t *testing.T) {
	wr := newWebhookRig(t)
	w := wr.p.Webhooks
	wr.emit("wxA", model.EvtReleaseDone, 1)
	if _, err := w.Replay(wr.ctx, wr.owner, wr.tenantID, wr.ep.ID, 1); model.ErrorCode(err) != model.CodeConflict {
		t.Errorf("replay of a pending delivery: %v, want conflict", err)
	}
	deliverAll(t, w)
	id, err := w.Replay(wr.ctx, wr.owner, wr.tenantID, wr.ep.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Replay(wr.ctx, wr.owner, wr.tenantID+1, wr.ep.ID, 1); !model.IsNotFound(err) {
		t.Errorf("another tenant's replay: %v, want not found", err)
	}
	deliverAll(t, w)
	wr.rc.mu.Lock()
	evs := wr.rc.events
	wr.rc.mu.Unlock()
	// The receiver deduplicates by id: it saw the event once, got it twice.
	if len(evs) != 1 || wr.rc.hits != 2 {
		t.Fatalf("events %v, hits %d: want one event delivered twice", evs, wr.rc.hits)
	}
	if d := wr.delivery(id); d.State != model.DeliveryDelivered || d.ReplayOf != 1 || d.EventID != evs[0].ID {
		t.Errorf("replay = %+v", d)
	}
	if n := wr.count(`SELECT COUNT(*) FROM activity WHERE action = ?`, store.ActWebhookReplay); n != 1 {
		t.Errorf("%d replay rows, want 1", n)
	}
}

// The secret is sealed at rest: the database file holds no plain secret.
func TestWebhookSecretSealedAtRest(t *testing.T) {
	wr := newWebhookRig(t)
	if n := wr.count(`SELECT COUNT(*) FROM webhook_endpoints WHERE secret_sealed LIKE '%' || ? || '%'`, wr.rc.secret); n != 0 {
		t.Fatal("the secret is stored in plain text")
	}
	if err := wr.st.W.Close(); err != nil { // flush nothing more: read the file
		t.Fatal(err)
	}
	raw, err := os.ReadFile(wr.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	wal, _ := os.ReadFile(wr.dbPath + "-wal")
	if strings.Contains(string(raw)+string(wal), wr.rc.secret) {
		t.Fatal("the secret is in the database files")
	}
}

// Endpoint URLs: https only, no loopback or private addresses, unless
// allowed; and the client refuses them at the dial and follows no redirect.
func TestWebhookURLRulesAndClient(t *testing.T) {
	strict := model.URLRules{}
	for raw, want := range map[string]string{
		"https://hooks.example.com/x":  "",
		"http://hooks.example.com/x":   "webhooks.err.url_https",
		"https://127.0.0.1/x":          "webhooks.err.url_private",
		"https://10.1.2.3/x":           "webhooks.err.url_private",
		"https://169.254.169.254/":     "webhooks.err.url_private",
		"https://[::1]/":               "webhooks.err.url_private",
		"https://localhost/":           "webhooks.err.url_private",
		"https://user:pw@example.com/": "webhooks.err.url_invalid",
		"ftp://example.com/":           "webhooks.err.url_invalid",
		"":                             "webhooks.err.url_required",
	} {
		if got := strict.Check(raw); got != want {
			t.Errorf("Check(%q) = %q, want %q", raw, got, want)
		}
	}
	if got := (model.URLRules{AllowPrivate: true}).Check("http://127.0.0.1:8080/x"); got != "" {
		t.Errorf("allowed private: %q", got)
	}
	redirected := false
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { redirected = true }))
	defer target.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	if _, err := platform.NewWebhookClient(false).Post(srv.URL, "application/json", nil); err == nil || !strings.Contains(err.Error(), "address refused") {
		t.Errorf("strict client to loopback: %v, want refused at the dial", err)
	}
	resp, err := platform.NewWebhookClient(true).Post(srv.URL, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect || redirected {
		t.Errorf("redirect followed: %d %v", resp.StatusCode, redirected)
	}
}

// The docs' receiver example is the code the tests verify deliveries with.
func TestReceiverExampleIsTheDocs(t *testing.T) {
	src, err := os.ReadFile("webhook_receiver_example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(src), "// receiver:start\n")
	code, _, ok := strings.Cut(rest, "// receiver:end")
	if !ok || len(code) < 500 {
		t.Fatal("markers not found")
	}
	doc, err := os.ReadFile("../../docs/webhooks.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), strings.TrimSpace(code)) {
		t.Error("docs/webhooks.md does not hold the receiver example word for word")
	}
	// and the example refuses what it must
	body := []byte(`{"id":"evt_1"}`)
	now := time.Unix(1_800_000_000, 0)
	good := platform.Sign("whsec_x", now, body)
	if err := VerifySignature(good, body, "whsec_x", 5*time.Minute, now); err != nil {
		t.Errorf("good signature: %v", err)
	}
	for name, c := range map[string]struct {
		h    string
		body []byte
		at   time.Time
	}{
		"wrong body":   {good, []byte(`{"id":"evt_2"}`), now},
		"too old":      {good, body, now.Add(6 * time.Minute)},
		"wrong secret": {platform.Sign("whsec_y", now, body), body, now},
		"malformed":    {"v1=abc", body, now},
	} {
		if err := VerifySignature(c.h, c.body, "whsec_x", 5*time.Minute, c.at); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
}

func (wr *webhookRig) setClock(at time.Time) {
	if d := at.Sub(wr.now()); d > 0 {
		wr.clock.Advance(d)
	}
}
