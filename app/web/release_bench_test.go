package web

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/authz"
	"github.com/minifleet/minifleet/app/config"
	"github.com/minifleet/minifleet/app/i18n"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/store"
)

// releaseBench is a portal on a real loopback listener with one tenant, one
// app and a release awaiting approval (eight transitions, a QR, a config).
type releaseBench struct {
	base, path string
	hub        *platform.Hub
	tenantID   int64
	client     *http.Client
}

func newReleaseBench(b *testing.B) *releaseBench {
	b.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	az, err := authz.New(ctx, st)
	if err != nil {
		b.Fatal(err)
	}
	bundle, err := i18n.New()
	if err != nil {
		b.Fatal(err)
	}
	cfg, _ := config.Load(func(string) string { return "" })
	pf := offlinePlatform(b, st)
	hub := pf.Hub
	app, srv := New(Deps{Config: cfg, Store: st, Authz: az, I18n: bundle, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Hasher: cheapHasher,
		Platform: pf})
	hash, _ := cheapHasher.Hash(testPassword)
	u, tn, err := st.Signup(ctx, model.User{Email: "owner@bench.test", Name: "Owner", PasswordHash: hash}, "Bench 商户", "")
	if err != nil {
		b.Fatal(err)
	}
	az.SetTenantRole(u.ID, tn.ID, model.RoleOwner)
	const appID = "wxbench000000001"
	if err := st.EnsureAuthorizer(ctx, appID); err != nil {
		b.Fatal(err)
	}
	if err := st.SaveAppDetails(ctx, appID, store.AppDetails{Nickname: "Bench 小程序", AccountKind: "miniprogram", AccountStatus: 1}); err != nil {
		b.Fatal(err)
	}
	if err := st.AssignApp(ctx, model.SystemActor, appID, tn.ID); err != nil {
		b.Fatal(err)
	}
	schema, err := os.ReadFile("../extconfig/testdata/shop.schema.json")
	if err != nil {
		b.Fatal(err)
	}
	if err := st.SyncTemplates(ctx, []model.Template{{TemplateID: 7, UserVersion: "1.0.0", UserDesc: "店铺模板"}}); err != nil {
		b.Fatal(err)
	}
	if err := st.SetTemplateSchema(ctx, model.SystemActor, 7, string(schema), nil); err != nil {
		b.Fatal(err)
	}
	who := model.Actor{UserID: u.ID, Label: u.Email}
	if _, err := st.SaveConfig(ctx, who, tn.ID, appID, 7, `{"shopName":"老王面馆","theme":"dark"}`, "", ""); err != nil {
		b.Fatal(err)
	}
	r, err := model.NewRelease(tn.ID, appID, 1, model.ReleasePayload{TemplateID: 7, UserVersion: "1.0.0", UserDesc: "首个版本",
		ExtJSON: `{"ext":{"shopName":"老王面馆","theme":"dark"},"extAppid":"wxbench000000001","extEnable":true}`}, who, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	if r, err = st.CreateRelease(ctx, tn.ID, r); err != nil {
		b.Fatal(err)
	}
	for _, ev := range []model.ReleaseEvent{model.EvCommit, model.EvCommitOK, model.EvScan, model.EvScanDone, model.EvPreflightOK} {
		c := model.Cause{Kind: model.CauseSystem, Actor: "system", At: time.Now()}
		switch ev {
		case model.EvCommit:
			c = model.Cause{Kind: model.CauseUser, ActorID: u.ID, Actor: u.Email, At: time.Now()}
		case model.EvScanDone:
			c.Kind = model.CausePoll
		}
		if r, err = st.TransitionRelease(ctx, tn.ID, r.ID, ev, c); err != nil {
			b.Fatal(err)
		}
	}
	if err := st.ApplyOps(ctx, st.QROp(tn.ID, r.ID, []byte("png"), "image/png")); err != nil {
		b.Fatal(err)
	}
	if err := st.ApplyOps(ctx, st.PreflightOp(tn.ID, r.ID, []store.PreflightCheck{{Name: "category", OK: true}, {Name: "pages", OK: true}, {Name: "privacy", OK: true}, {Name: "domains", OK: true, Skipped: true}})); err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go app.Listener(ln)
	b.Cleanup(func() { srv.Shutdown(); _ = app.ShutdownWithTimeout(2 * time.Second); st.Close() })
	jar, _ := cookiejar.New(nil)
	rb := &releaseBench{base: "http://" + ln.Addr().String(), hub: hub, tenantID: tn.ID,
		client: &http.Client{Jar: jar, Transport: &http.Transport{MaxIdleConnsPerHost: 1000, MaxConnsPerHost: 0}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	rb.path = "/t/" + itoa(tn.ID) + "/apps/" + appID + "/releases/" + itoa(r.ID)
	res, err := rb.client.Get(rb.base + "/login")
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := csrfInput.FindStringSubmatch(string(body))
	if m == nil {
		b.Fatal("no csrf token on /login")
	}
	res, err = rb.client.PostForm(rb.base+"/login", url.Values{"_csrf": {m[1]}, "email": {"owner@bench.test"}, "password": {testPassword}})
	if err != nil || res.StatusCode != 303 {
		b.Fatalf("login: %v %v", res, err)
	}
	res.Body.Close()
	return rb
}

// BenchmarkReleasePage is the release page's server time (one request at a
// time over loopback HTTP: session, tenant, authz, store reads, render).
func BenchmarkReleasePage(b *testing.B) {
	rb := newReleaseBench(b)
	for name, page := range map[string]string{"release": "", "review": "/review"} {
		b.Run("page="+name, func(b *testing.B) {
			for b.Loop() {
				res, err := rb.client.Get(rb.base + rb.path + page)
				if err != nil || res.StatusCode != 200 {
					b.Fatalf("%v %v", res, err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
			}
		})
	}
}

// BenchmarkReleaseSSEFanout500: 500 browsers hold the release page's live
// stream; one state change is published; the time is until every client has
// read its freshly rendered fragment.
func BenchmarkReleaseSSEFanout500(b *testing.B) {
	const clients = 500
	rb := newReleaseBench(b)
	var got sync.WaitGroup
	var ready sync.WaitGroup
	ready.Add(clients)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for range clients {
		go func() {
			req, _ := http.NewRequestWithContext(ctx, "GET", rb.base+rb.path+"/events", nil)
			res, err := rb.client.Do(req)
			if err != nil {
				ready.Done()
				b.Error(err)
				return
			}
			defer res.Body.Close()
			sc := bufio.NewScanner(res.Body)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			first := true
			for sc.Scan() {
				line := sc.Text()
				if first && strings.HasPrefix(line, "retry:") {
					first = false
					ready.Done()
				}
				if line == "event: release" {
					got.Done()
				}
			}
		}()
	}
	ready.Wait()
	for b.Loop() {
		got.Add(clients)
		rb.hub.Publish(platform.Event{Name: platform.EventRelease, TenantID: rb.tenantID, AppID: "wxbench000000001"})
		got.Wait()
	}
	b.ReportMetric(float64(clients), "clients")
}
