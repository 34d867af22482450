package platform

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat"
	"github.com/minifleet/minifleet/app/wechat/sandbox"
)

type rig struct {
	st  *store.Store
	sb  *sandbox.Sandbox
	o   *Onboarding
	hub *Hub
	ctx context.Context
}

const testKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"

func newRig(t *testing.T) *rig {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "m.db"), make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	// Pushes are never delivered (the sandbox is not started): the tests
	// call what the intake's jobs would.
	sb, err := sandbox.New(sandbox.Options{ComponentAppID: "wxcomponent0001", ComponentSecret: "secret", Token: "tok", EncodingAESKey: testKey,
		ComponentEventsURL: "http://127.0.0.1:1/none", PublicBase: "http://sandbox.test"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	sb.PushTicket()
	c := wechat.New("wxcomponent0001", "secret", nil)
	c.APIBase, c.MPBase, c.OpenBase = srv.URL, srv.URL, srv.URL
	p, err := New(Config{Store: st, Client: c, Token: "tok", AESKey: testKey, BaseURL: "http://portal.test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SaveTicket(ctx, "wxcomponent0001", sb.Ticket(), 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	return &rig{st: st, sb: sb, o: p.Onboarding, hub: p.Hub, ctx: ctx}
}

func (r *rig) tenant(t *testing.T, name string) (int64, model.Actor) {
	t.Helper()
	u, tn, err := r.st.Signup(r.ctx, model.User{Email: name + "@example.com", Name: name, PasswordHash: "x"}, name+" Co", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return tn.ID, model.Actor{UserID: u.ID, Label: u.Email}
}

func TestReconcilePagesAndFindsSilentUnauthorizationAndUnbound(t *testing.T) {
	r := newRig(t)
	tid, actor := r.tenant(t, "alice")
	ids := r.sb.AddApps(1203) // three pages
	// We hold the first 1200 as bound to alice, one without its refresh token.
	for i, id := range ids[:1200] {
		if err := r.st.EnsureAuthorizer(r.ctx, id); err != nil {
			t.Fatal(err)
		}
		if i != 7 {
			if err := r.st.SetAuthorizerRefreshToken(r.ctx, id, r.sb.RefreshToken(id)); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.st.AssignApp(r.ctx, actor, id, tid); err != nil {
			t.Fatal(err)
		}
	}
	silent := ids[42]
	if err := r.sb.Revoke(silent); err != nil { // its push is never delivered
		t.Fatal(err)
	}
	run, err := r.o.Reconcile(r.ctx, System, "manual")
	if err != nil {
		t.Fatal(err)
	}
	if run.Listed != 1202 || run.Unauthorized != 1 || run.Backfilled != 1 || run.Unbound != 3 {
		t.Fatalf("run = %+v, want listed 1202, unauthorized 1, backfilled 1, unbound 3", run)
	}
	if n := r.sb.CallCount("api_get_authorizer_list"); n < 3 {
		t.Fatalf("api_get_authorizer_list called %d times, want ≥ 3 pages", n)
	}
	app, err := r.st.App(r.ctx, tid, silent)
	if err != nil {
		t.Fatal(err)
	}
	if app.DisplayStatus() != model.AppUnauthorized || app.HasRefresh || app.TenantID != tid {
		t.Fatalf("silently unauthorized app = %+v", app)
	}
	if _, refresh, _ := r.st.AuthorizerSecrets(r.ctx, ids[7]); refresh != r.sb.RefreshToken(ids[7]) {
		t.Fatalf("refresh token of %s not backfilled", ids[7])
	}
	res, err := r.st.StaffApps(r.ctx, store.AppFilter{Status: "unbound"})
	if err != nil || res.Total != 3 {
		t.Fatalf("unbound = %d (%v), want 3", res.Total, err)
	}
	unbound := res.Apps
	if !slices.ContainsFunc(unbound, func(a model.App) bool { return a.AppID == ids[1202] && a.Nickname != "" }) {
		t.Fatalf("unbound list lacks %s with its details: %+v", ids[1202], unbound)
	}
	acts, _ := r.st.ListActivity(r.ctx, store.ActivityFilter{TenantID: tid, Action: store.ActAppUnauthorized})
	if len(acts) != 1 || acts[0].Object != silent {
		t.Fatalf("activity = %+v, want one unauthorized row for %s", acts, silent)
	}
	// A second run changes nothing more.
	run, err = r.o.Reconcile(r.ctx, System, "manual")
	if err != nil || run.Unauthorized != 0 || run.Backfilled != 0 {
		t.Fatalf("second run = %+v, %v", run, err)
	}
}

func TestHubNeverBlocksAndScopesTenants(t *testing.T) {
	h := NewHub()
	a := h.Subscribe(TenantTopic(1))
	b := h.Subscribe(TenantTopic(2))
	staff := h.Subscribe(TopicStaff)
	defer a.Close()
	defer staff.Close()
	for i := 0; i < subBuffer*3; i++ {
		h.Publish(Event{Name: EventApp, TenantID: 1, AppID: "wx1"})
	}
	if len(a.C) != subBuffer || len(b.C) != 0 || len(staff.C) != subBuffer {
		t.Fatalf("queues a=%d b=%d staff=%d", len(a.C), len(b.C), len(staff.C))
	}
	if h.Dropped() != int64(2*subBuffer*2) {
		t.Fatalf("dropped = %d", h.Dropped())
	}
	b.Close()
	b.Close()
	if h.Subscribers() != 2 {
		t.Fatalf("subscribers = %d, want 2", h.Subscribers())
	}
}

var _ = strings.Contains
var _ = time.Second
