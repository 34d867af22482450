package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/wechat/msgcrypt"
)

const (
	testComponentAppID = "wx2c2769f8efd9abc2"
	testSecret         = "component-secret"
	testToken          = "spamtest"
	testAESKey         = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
)

var testStart = time.Date(2026, 11, 2, 10, 0, 0, 0, cst)

// received is one push as a platform would see it after verifying it.
type received struct {
	Path     string
	Envelope map[string]string // children of the envelope besides Encrypt
	Msg      map[string]string // decrypted message fields
}

// receiver is the platform side of pushes: it checks both signatures,
// decrypts with msgcrypt and answers "success" (or failStatus while failures remain).
type receiver struct {
	t        *testing.T
	crypter  *msgcrypt.Crypter
	srv      *httptest.Server
	ch       chan received
	mu       sync.Mutex
	failures int // answer 500 to this many requests first
	hits     int
}

func newReceiver(t *testing.T) *receiver {
	c, err := msgcrypt.New(testToken, testAESKey, testComponentAppID)
	if err != nil {
		t.Fatal(err)
	}
	rv := &receiver{t: t, crypter: c, ch: make(chan received, 4096)}
	rv.srv = httptest.NewServer(http.HandlerFunc(rv.serve))
	t.Cleanup(rv.srv.Close)
	return rv
}

func (rv *receiver) serve(w http.ResponseWriter, r *http.Request) {
	rv.mu.Lock()
	rv.hits++
	if rv.failures > 0 {
		rv.failures--
		rv.mu.Unlock()
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	rv.mu.Unlock()
	q := r.URL.Query()
	body, _ := io.ReadAll(r.Body)
	if q.Get("encrypt_type") != "aes" {
		rv.t.Errorf("push encrypt_type = %q, want aes", q.Get("encrypt_type"))
	}
	if got, want := q.Get("signature"), rv.crypter.Signature(q.Get("timestamp"), q.Get("nonce")); got != want {
		rv.t.Errorf("push signature = %q, want %q", got, want)
	}
	plain, err := rv.crypter.OpenPush(body, q.Get("timestamp"), q.Get("nonce"), q.Get("msg_signature"))
	if err != nil {
		rv.t.Errorf("open push: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	env := flatXML(rv.t, body)
	delete(env, "Encrypt")
	rv.ch <- received{Path: r.URL.Path, Envelope: env, Msg: flatXML(rv.t, plain)}
	io.WriteString(w, "success")
}

// next returns the next push matching pred, skipping others. The deadline
// only bounds a broken test; nothing asserts on timing.
func (rv *receiver) next(pred func(received) bool) received {
	rv.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case p := <-rv.ch:
			if pred(p) {
				return p
			}
		case <-deadline:
			rv.t.Fatal("push did not arrive")
		}
	}
}

func (rv *receiver) nextType(typ string) received {
	rv.t.Helper()
	return rv.next(func(p received) bool { return p.Msg["InfoType"] == typ || p.Msg["Event"] == typ })
}

// flatXML reads <xml><A>..</A><B>..</B></xml> into a map.
func flatXML(t *testing.T, b []byte) map[string]string {
	t.Helper()
	var doc struct {
		Fields []struct {
			XMLName xml.Name
			Value   string `xml:",chardata"`
		} `xml:",any"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("bad push xml %q: %v", b, err)
	}
	m := map[string]string{}
	for _, f := range doc.Fields {
		m[f.XMLName.Local] = f.Value
	}
	return m
}

type harness struct {
	t     *testing.T
	sb    *Sandbox
	srv   *httptest.Server
	clock *FakeClock
	comp  *receiver // component pushes
	apps  *receiver // per-app pushes
}

func newHarness(t *testing.T, mutate func(*Options)) *harness {
	t.Helper()
	h := &harness{t: t, clock: NewFakeClock(testStart), comp: newReceiver(t), apps: newReceiver(t)}
	opts := Options{
		ComponentAppID: testComponentAppID, ComponentSecret: testSecret, Token: testToken, EncodingAESKey: testAESKey,
		ComponentEventsURL: h.comp.srv.URL + "/wechat/component/events",
		AppEventsURL:       h.apps.srv.URL + "/wechat/apps/$APPID$/events",
		Clock:              h.clock,
		Seed:               42,
	}
	if mutate != nil {
		mutate(&opts)
	}
	sb, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	h.sb = sb
	h.srv = httptest.NewServer(sb)
	t.Cleanup(h.srv.Close)
	if err := sb.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	return h
}

// call posts body (or GETs when body is nil) and decodes the JSON answer.
func (h *harness) call(path string, query url.Values, body any) map[string]any {
	h.t.Helper()
	u := h.srv.URL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var resp *http.Response
	var err error
	switch b := body.(type) {
	case nil:
		resp, err = http.Get(u)
	case string:
		resp, err = http.Post(u, "application/json", strings.NewReader(b))
	default:
		raw, _ := json.Marshal(b)
		resp, err = http.Post(u, "application/json", bytes.NewReader(raw))
	}
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		h.t.Fatalf("%s: decode: %v", path, err)
	}
	return m
}

func errcode(m map[string]any) int {
	if v, found := m["errcode"]; found {
		return int(v.(float64))
	}
	return 0
}

// expectCode fails unless the answer carries want (0 also accepts no errcode).
func (h *harness) expectCode(m map[string]any, want int, what string) {
	h.t.Helper()
	if got := errcode(m); got != want {
		h.t.Fatalf("%s: errcode %d (%v), want %d", what, got, m["errmsg"], want)
	}
}

func comp(token string) url.Values { return url.Values{"component_access_token": {token}} }
func acc(token string) url.Values  { return url.Values{"access_token": {token}} }

// componentToken waits for a ticket push and exchanges it.
func (h *harness) componentToken() string {
	h.t.Helper()
	ticket := h.comp.nextType("component_verify_ticket").Msg["ComponentVerifyTicket"]
	m := h.call("/cgi-bin/component/api_component_token", nil, map[string]string{
		"component_appid": testComponentAppID, "component_appsecret": testSecret, "component_verify_ticket": ticket})
	h.expectCode(m, 0, "api_component_token")
	return m["component_access_token"].(string)
}

func (h *harness) preAuthCode(ct string) string {
	h.t.Helper()
	m := h.call("/cgi-bin/component/api_create_preauthcode", comp(ct), map[string]string{"component_appid": testComponentAppID})
	h.expectCode(m, 0, "api_create_preauthcode")
	return m["pre_auth_code"].(string)
}

// authorizedApp authorizes a new Mini Program and returns its appid and authorizer token.
func (h *harness) authorizedApp(ct string, spec AppSpec) (appID, token string) {
	h.t.Helper()
	appID, code, err := h.sb.AuthorizeApp(h.preAuthCode(ct), spec)
	if err != nil {
		h.t.Fatal(err)
	}
	m := h.call("/cgi-bin/component/api_query_auth", comp(ct), map[string]string{
		"component_appid": testComponentAppID, "authorization_code": code})
	h.expectCode(m, 0, "api_query_auth")
	return appID, m["authorization_info"].(map[string]any)["authorizer_access_token"].(string)
}
