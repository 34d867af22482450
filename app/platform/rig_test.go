package platform_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat"
	"github.com/minifleet/minifleet/app/wechat/msgcrypt"
	"github.com/minifleet/minifleet/app/wechat/sandbox"
)

const (
	testAppID  = "wx0123456789abcdef"
	testSecret = "component-secret"
	testToken  = "pushtoken"
	testAESKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
)

var testKey = bytes.Repeat([]byte{7}, 32)

// rig is one database, the sandbox on a real HTTP server, and platforms
// (processes) over that database. The only fakes are WeChat and the clock.
type rig struct {
	t       *testing.T
	ctx     context.Context
	dbPath  string
	clock   *sandbox.FakeClock
	sb      *sandbox.Sandbox
	sbURL   string
	sbHTTP  *http.Client
	st      *store.Store
	p       *platform.Platform
	crypter *msgcrypt.Crypter // WeChat's side, to seal pushes by hand
	logs    *syncBuffer
}

type rigOpts struct {
	deliver        bool // the sandbox delivers pushes to an intake HTTP server
	start          bool // start the sandbox (first ticket push, ticket ticks)
	ticketInterval time.Duration
	sandbox        func(*sandbox.Options) // adjusts the emulator's options
	epoch          time.Time              // the fake clock's start; zero: epoch
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var epoch = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func newRig(t *testing.T, o rigOpts) *rig {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	start := epoch
	if !o.epoch.IsZero() {
		start = o.epoch
	}
	r := &rig{t: t, ctx: ctx, dbPath: filepath.Join(t.TempDir(), "minifleet.db"), clock: sandbox.NewFakeClock(start), logs: &syncBuffer{}}
	var sbHandler http.Handler
	sbSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { sbHandler.ServeHTTP(w, req) }))
	t.Cleanup(sbSrv.Close)
	r.sbURL, r.sbHTTP = sbSrv.URL, sbSrv.Client()

	opts := sandbox.Options{
		ComponentAppID: testAppID, ComponentSecret: testSecret, Token: testToken, EncodingAESKey: testAESKey,
		PublicBase: sbSrv.URL, Clock: r.clock, TicketInterval: o.ticketInterval, Seed: 1,
	}
	if o.deliver {
		in := httptest.NewServer(http.HandlerFunc(r.serveIntake))
		t.Cleanup(in.Close)
		opts.ComponentEventsURL = in.URL + "/wechat/component/events"
		opts.AppEventsURL = in.URL + "/wechat/apps/$APPID$/events"
	}
	if o.sandbox != nil {
		o.sandbox(&opts)
	}
	sb, err := sandbox.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	sbHandler = sb
	r.sb = sb
	r.crypter, err = msgcrypt.New(testToken, testAESKey, testAppID)
	if err != nil {
		t.Fatal(err)
	}
	r.st, r.p = r.open()
	if o.start {
		if err := sb.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sb.Close() })
		sb.WaitPushes()
	}
	return r
}

func (r *rig) now() time.Time { return r.clock.Now() }

// open starts another "process": its own store pools and platform over the
// same database file.
func (r *rig) open() (*store.Store, *platform.Platform) {
	r.t.Helper()
	st, err := store.Open(r.ctx, r.dbPath, testKey)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { st.Close() })
	st.Now = r.clock.Now
	c := wechat.New(testAppID, testSecret, nil)
	c.APIBase, c.MPBase, c.OpenBase, c.HTTP = r.sbURL, r.sbURL, r.sbURL, r.sbHTTP
	p, err := platform.New(platform.Config{
		Store: st, Client: c, Token: testToken, AESKey: testAESKey, Now: r.clock.Now,
		Log:                  slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		WebhooksAllowPrivate: true, // test receivers listen on loopback
	})
	if err != nil {
		r.t.Fatal(err)
	}
	p.Vault.PollEvery = 5 * time.Millisecond
	return st, p
}

// serveIntake stands in for the web layer's push routes.
func (r *rig) serveIntake(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(req.Body, platform.MaxPushBody+1))
	appID := ""
	const prefix = "/wechat/apps/"
	if len(req.URL.Path) > len(prefix) && req.URL.Path[:len(prefix)] == prefix {
		appID = req.URL.Path[len(prefix) : len(req.URL.Path)-len("/events")]
	}
	res := r.p.Intake.Receive(req.Context(), body, req.URL.Query(), appID)
	switch res.Verdict {
	case platform.Accepted, platform.Duplicate:
		io.WriteString(w, "success")
	case platform.Rejected:
		w.WriteHeader(http.StatusForbidden)
	case platform.Malformed:
		w.WriteHeader(http.StatusBadRequest)
	case platform.TooLarge:
		w.WriteHeader(http.StatusRequestEntityTooLarge)
	default:
		w.WriteHeader(http.StatusInternalServerError)
	}
}

// seal builds a component push as WeChat would send it.
func (r *rig) seal(xml string) ([]byte, map[string][]string) {
	r.t.Helper()
	body, q, err := r.crypter.SealPush(msgcrypt.FieldAppID, testAppID, []byte(xml), strconv.FormatInt(r.now().Unix(), 10), "12345")
	if err != nil {
		r.t.Fatal(err)
	}
	return body, q
}

func (r *rig) receive(xml, routeAppID string) platform.Result {
	r.t.Helper()
	body, q := r.seal(xml)
	return r.p.Intake.Receive(r.ctx, body, q, routeAppID)
}

func ticketXML(ticket string, createTime int64) string {
	return "<xml><AppId><![CDATA[" + testAppID + "]]></AppId><CreateTime>" + strconv.FormatInt(createTime, 10) +
		"</CreateTime><InfoType><![CDATA[component_verify_ticket]]></InfoType><ComponentVerifyTicket><![CDATA[" + ticket + "]]></ComponentVerifyTicket></xml>"
}

func authXML(infoType, appID, code string, createTime int64) string {
	x := "<xml><AppId><![CDATA[" + testAppID + "]]></AppId><CreateTime>" + strconv.FormatInt(createTime, 10) +
		"</CreateTime><InfoType><![CDATA[" + infoType + "]]></InfoType><AuthorizerAppid><![CDATA[" + appID + "]]></AuthorizerAppid>"
	if code != "" {
		x += "<AuthorizationCode><![CDATA[" + code + "]]></AuthorizationCode><AuthorizationCodeExpiredTime>" +
			strconv.FormatInt(createTime+3600, 10) + "</AuthorizationCodeExpiredTime><PreAuthCode><![CDATA[preauthcode@@@x]]></PreAuthCode>"
	}
	return x + "</xml>"
}

func (r *rig) count(query string, args ...any) int {
	r.t.Helper()
	var n int
	if err := r.st.R.QueryRowContext(r.ctx, query, args...).Scan(&n); err != nil {
		r.t.Fatal(err)
	}
	return n
}

// seedAuthorizer stores a sandbox app as authorized with its live refresh
// token and no access token yet.
func (r *rig) seedAuthorizer(st *store.Store, appID string) {
	r.t.Helper()
	if _, err := st.SaveAuthorizerGrant(r.ctx, appID, store.AuthorizerGrant{RefreshToken: r.sb.RefreshToken(appID), PermissionSets: []int{18}}); err != nil {
		r.t.Fatal(err)
	}
}
