package platform_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat/sandbox"
)

// campSchema has defaults for everything, so apps without a saved config
// still render; "hotline" must be a phone number when set.
const campSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "properties": {
    "shopName": {"type": "string", "minLength": 2, "maxLength": 20, "default": "小店",
      "x-label": {"zh-CN": "店铺名称", "en": "Shop name"}},
    "hotline": {"type": "string", "pattern": "^[0-9-]{5,20}$", "default": "400-000-0000",
      "x-label": {"zh-CN": "客服电话", "en": "Hotline"}}
  }
}`

// campRig is the sandbox holding n Mini Programs bound to two tenants, a
// template with a schema, a staff creator and a staff approver, and the
// campaign engine over one "process".
type campRig struct {
	*rig
	rel      *platform.Releases
	lib      *platform.Library
	camp     *platform.Campaigns
	tenants  []int64
	creator  model.Actor
	approver model.Actor
	apps     []string // in appid order
	tplID    int64
}

func newCampRig(t *testing.T, n int, sb func(*sandbox.Options)) *campRig {
	return newCampRigAt(t, n, time.Time{}, sb)
}

// newCampRigAt is newCampRig with the fake clock starting at start.
func newCampRigAt(t *testing.T, n int, start time.Time, sb func(*sandbox.Options)) *campRig {
	t.Helper()
	r := newRig(t, rigOpts{deliver: true, start: true, ticketInterval: 24 * time.Hour, epoch: start, sandbox: func(o *sandbox.Options) {
		o.AuditQuota = 5000
		if sb != nil {
			sb(o)
		}
	}})
	cr := &campRig{rig: r}
	ctx := r.ctx
	for i, name := range []string{"华东连锁", "华南连锁"} {
		u, tn, err := r.st.Signup(ctx, model.User{Email: fmt.Sprintf("owner%d@example.com", i), Name: "o", PasswordHash: "x"}, name, "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		cr.tenants = append(cr.tenants, tn.ID)
		if i == 0 {
			cr.creator = model.Actor{UserID: u.ID, Label: u.Email}
		}
	}
	b, err := r.st.CreateUser(ctx, cr.creator, model.User{Email: "approver@example.com", Name: "a", PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	cr.approver = model.Actor{UserID: b.ID, Label: b.Email}
	cr.rel, cr.lib = r.p.Releases, r.p.Library
	cr.camp = cr.newEngine(r.p)
	if err := cr.lib.AddDraft(ctx, cr.creator, 1); err != nil {
		t.Fatal(err)
	}
	ts, err := r.st.ListTemplates(ctx, false)
	if err != nil || len(ts) != 1 {
		t.Fatalf("templates = %v, %v", ts, err)
	}
	cr.tplID = ts[0].TemplateID
	if err := cr.lib.SetSchema(ctx, cr.creator, cr.tplID, campSchema); err != nil {
		t.Fatal(err)
	}
	for i, tn := range cr.tenants {
		if err := cr.rel.SaveContact(ctx, cr.creator, tn, store.TenantContact{Name: "王", Email: fmt.Sprintf("ops%d@example.com", i)}); err != nil {
			t.Fatal(err)
		}
	}
	ids := r.sb.AddApps(n)
	for i, id := range ids {
		r.seedAuthorizer(r.st, id)
		if err := r.st.AssignApp(ctx, cr.creator, id, cr.tenants[i%2]); err != nil {
			t.Fatal(err)
		}
	}
	cr.apps = append(cr.apps, ids...)
	slices.Sort(cr.apps)
	return cr
}

// newEngine builds the campaign engine of one process with short timers.
func (cr *campRig) newEngine(p *platform.Platform) *platform.Campaigns {
	e := p.Campaigns
	e.Policy = model.RetryPolicy{Base: 10 * time.Second, QuotaBase: 20 * time.Second, ScanWait: 15 * time.Second,
		AuditWait: 30 * time.Second, Max: 2 * time.Minute, MaxAttempts: 5}
	e.QuotaRecheck = time.Minute
	return e
}

func (cr *campRig) input(version, desc string) platform.CampaignInput {
	return platform.CampaignInput{Name: "全量升级 " + version, TemplateID: cr.tplID, UserVersion: version, UserDesc: desc,
		CampaignSettings: model.CampaignSettings{CanarySize: 3, WaveMax: 500, Concurrency: 40, HaltRate: 0.5, ReleaseMode: model.ReleaseEach}}
}

// createApproved creates a staff campaign and has the approver approve it.
func (cr *campRig) createApproved(t *testing.T, in platform.CampaignInput) model.Campaign {
	t.Helper()
	c, _, err := cr.camp.Create(cr.ctx, in, cr.creator)
	if err != nil {
		t.Fatal(err)
	}
	c, err = cr.camp.Decide(cr.ctx, 0, c.ID, model.CampActApprove, cr.approver, c.Seq, c.SetHash)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// run moves time on in steps, running the engine, the jobs and WeChat's
// pushes, until done says stop or rounds run out.
func (cr *campRig) run(t *testing.T, e *platform.Campaigns, id int64, step time.Duration, rounds int, done func(model.Campaign) bool) model.Campaign {
	t.Helper()
	for i := 0; i < rounds; i++ {
		cr.round(t, e, 3) // let a pass's tasks feed the next pass at the same instant
		c, err := cr.st.Campaign(cr.ctx, 0, id)
		if err != nil {
			t.Fatal(err)
		}
		if done(c) {
			return c
		}
		cr.clock.Advance(step)
	}
	c, _ := cr.st.Campaign(cr.ctx, 0, id)
	p, _ := e.Progress(cr.ctx, 0, id)
	t.Fatalf("campaign %d did not finish: %s, counts %v\nlogs:\n%s", id, c.State, p.Counts, tail(cr.logs.String(), 4000))
	return c
}

// spin runs rounds of the engine, jobs and pushes, step apart.
func (cr *campRig) spin(t *testing.T, e *platform.Campaigns, step time.Duration, rounds int) {
	t.Helper()
	for i := 0; i < rounds; i++ {
		cr.round(t, e, 1)
		cr.clock.Advance(step)
	}
}

// round runs passes engine passes (waiting for their tasks), then the due
// jobs and WeChat's pushes, at one instant.
func (cr *campRig) round(t *testing.T, e *platform.Campaigns, passes int) {
	t.Helper()
	for k := 0; k < passes; k++ {
		if err := e.TickOnce(cr.ctx); err != nil {
			t.Logf("tick: %v", err)
		}
		e.Wait(cr.ctx)
	}
	if _, err := cr.p.Jobs.RunDue(cr.ctx); err != nil {
		t.Fatal(err)
	}
	cr.sb.WaitPushes()
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func ended(c model.Campaign) bool { return c.State.Ended() || c.State == model.CampHalted }

// phases returns each app's phase.
func (cr *campRig) phases(t *testing.T, id int64) map[string]store.CampaignApp {
	t.Helper()
	apps, err := cr.st.CampaignApps(cr.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.CampaignApp{}
	for _, a := range apps {
		out[a.AppID] = a
	}
	return out
}

// onceEach fails unless WeChat saw at most one successful commit and
// submission per app (and exactly one for the apps in wantSubmitted).
func (cr *campRig) onceEach(t *testing.T, wantSubmitted map[string]bool) {
	t.Helper()
	var bad []string
	for _, id := range cr.apps {
		c, s := cr.sb.AppSuccessCount("commit", id), cr.sb.AppSuccessCount("submit_audit", id)
		if c > 1 || s > 1 || wantSubmitted[id] && s != 1 {
			bad = append(bad, fmt.Sprintf("%s commit×%d submit×%d", id, c, s))
		}
	}
	if len(bad) > 0 {
		t.Fatalf("apps committed or submitted a wrong number of times: %s", strings.Join(bad, "; "))
	}
}
