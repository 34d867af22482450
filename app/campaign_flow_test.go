package main

import (
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/wechat/sandbox"
)

// startCampaignRig runs the whole app with every background loop, the
// campaign engine included, and the sandbox reviewing in well under a
// second; the demo (accounts, a dozen apps, the template) is seeded.
func startCampaignRig(t *testing.T, d time.Duration) (*e2eApp, int64, context.Context) {
	t.Helper()
	saved := sandboxReview
	sandboxReview.Scan, sandboxReview.Audit = 300*time.Millisecond, 700*time.Millisecond
	t.Cleanup(func() { sandboxReview = saved })
	a := startE2EApp(t, cheapHasher)
	a.platform.Releases.ScanPoll = 150 * time.Millisecond
	a.platform.Releases.ScanMaxPolls = 400
	a.platform.Campaigns.Tick = 150 * time.Millisecond
	a.platform.Campaigns.MinGap = 20 * time.Millisecond
	lctx, stopLoops := context.WithCancel(context.Background())
	var loops sync.WaitGroup
	loops.Add(2)
	go func() { defer loops.Done(); a.sandbox.run(lctx, a.log) }()
	go func() { defer loops.Done(); a.platform.Run(lctx) }()
	t.Cleanup(func() { stopLoops(); loops.Wait() })

	budget, stop := context.WithTimeout(context.Background(), d)
	t.Cleanup(stop)
	for {
		h, err := a.store.ComponentHealth(budget, a.cfg.WeChat.ComponentAppID)
		if err == nil && h.HasTicket {
			break
		}
		select {
		case <-budget.Done():
			t.Fatal("no component_verify_ticket arrived from the sandbox")
		case <-time.After(20 * time.Millisecond):
		}
	}
	if err := printDemo(context.Background(), a.app, io.Discard); err != nil {
		t.Fatal(err)
	}
	owner, err := a.store.UserByEmail(context.Background(), demoOwnerEmail)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := a.store.MembershipsOfUser(context.Background(), owner.ID)
	if err != nil || len(ms) == 0 {
		t.Fatalf("demo owner's tenant: %v %v", ms, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			cs, _ := a.store.Campaigns(context.Background(), 0, 5)
			for _, c := range cs {
				p, _ := a.platform.Campaigns.Progress(context.Background(), 0, c.ID)
				t.Logf("campaign %d %s wave %d counts %v", c.ID, c.State, c.Wave, p.Counts)
				for _, x := range p.Apps {
					t.Logf("  %s %s rel %s errcode %d %s", x.AppID, x.Phase(), x.RelState, x.Errcode, x.Reason)
				}
			}
		}
	})
	return a, ms[0].TenantID, budget
}

func demoTemplateID(t *testing.T, a *e2eApp) int64 {
	t.Helper()
	ts, err := a.store.ListTemplates(context.Background(), false)
	if err != nil || len(ts) == 0 {
		t.Fatalf("templates: %v %v", ts, err)
	}
	return ts[0].TemplateID
}

// browser is a plain HTTP client with cookies, for flows without a browser.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

var csrfRE = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(method, path string, form url.Values, hx bool) (int, string, http.Header) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		if form.Get("_csrf") == "" {
			form.Set("_csrf", b.csrf)
		}
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept-Language", "zh-CN")
	if hx {
		req.Header.Set("HX-Request", "true")
		req.Header.Set("X-Csrf-Token", b.csrf)
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if m := csrfRE.FindSubmatch(raw); m != nil {
		b.csrf = string(m[1])
	}
	return res.StatusCode, string(raw), res.Header
}

func (b *browser) login(email string) {
	b.t.Helper()
	b.do("GET", "/login", nil, false)
	st, body, _ := b.do("POST", "/login", url.Values{"email": {email}, "password": {demoPassword}}, false)
	if st != http.StatusSeeOther {
		b.t.Fatalf("login %s: %d\n%s", email, st, body)
	}
	b.do("GET", "/account", nil, false)
}

func campaignForm(tpl int64, name, version, desc string) url.Values {
	return url.Values{"template_id": {strconv.FormatInt(tpl, 10)}, "name": {name}, "user_version": {version}, "user_desc": {desc}, "tag": {demoFleetTag},
		"canary_size": {"3"}, "wave_max": {"200"}, "concurrency": {"20"}, "halt_rate": {"20"}, "gray_percent": {"0"}, "release_mode": {"each"}}
}

func waitCampaign(t *testing.T, a *e2eApp, ctx context.Context, id int64, done func(model.Campaign) bool) model.Campaign {
	t.Helper()
	for {
		c, err := a.store.Campaign(context.Background(), 0, id)
		if err == nil && done(c) {
			return c
		}
		select {
		case <-ctx.Done():
			t.Fatalf("campaign %d: %s (%v); gave up", id, c.State, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestCampaignFlow: the demo owner previews and creates a campaign over
// the demo fleet in the portal; the owner cannot approve it; the demo
// approver does; the engine ships to every app; the CSV report has one row
// per app. A second campaign whose description says "reject" halts after
// its canary.
func TestCampaignFlow(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole app with its loops")
	}
	a, tid, budget := startCampaignRig(t, 120*time.Second)
	base := "/t/" + strconv.FormatInt(tid, 10) + "/campaigns"

	tpl := demoTemplateID(t, a)
	owner := newBrowser(t, a.base)
	owner.login(demoOwnerEmail)
	st, body, _ := owner.do("GET", base+"/new", nil, false)
	if st != 200 || !strings.Contains(body, `data-testid="campaign-form"`) || !strings.Contains(body, `value="demo"`) {
		t.Fatalf("new campaign form: %d\n%s", st, body)
	}
	st, body, _ = owner.do("POST", base+"/preview", campaignForm(tpl, "全量升级", "2.0.0", "春季上新"), true)
	if st != 200 || !strings.Contains(body, "12 个小程序将被发布") || strings.Contains(body, "<html") {
		t.Fatalf("preview: %d\n%s", st, body)
	}
	st, _, hdr := owner.do("POST", base, campaignForm(tpl, "全量升级", "2.0.0", "春季上新"), false)
	if st != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), base+"/") {
		t.Fatalf("create: %d %q", st, hdr.Get("Location"))
	}
	page := strings.SplitN(hdr.Get("Location"), "?", 2)[0]
	id, _ := strconv.ParseInt(page[strings.LastIndex(page, "/")+1:], 10, 64)
	st, body, _ = owner.do("GET", page, nil, false)
	if st != 200 || !strings.Contains(body, `data-testid="approve-reason"`) {
		t.Fatalf("the creator's page should say why they cannot approve: %d\n%s", st, body)
	}
	c, _ := a.store.Campaign(context.Background(), tid, id)
	st, body, _ = owner.do("POST", page+"/approve", url.Values{"set_hash": {c.SetHash}, "seq": {strconv.FormatInt(c.Seq, 10)}}, false)
	if st != http.StatusForbidden || !strings.Contains(body, "不能自己批准") {
		t.Fatalf("the creator approving: %d\n%s", st, body)
	}

	appr := newBrowser(t, a.base)
	appr.login(demoApproverEmail)
	st, body, _ = appr.do("GET", page, nil, false)
	m := regexp.MustCompile(`name="set_hash" value="([^"]+)"`).FindStringSubmatch(body)
	s := regexp.MustCompile(`name="seq" value="(\d+)"`).FindStringSubmatch(body)
	if st != 200 || m == nil || s == nil {
		t.Fatalf("approver's page: %d\n%s", st, body)
	}
	st, _, hdr = appr.do("POST", page+"/approve", url.Values{"set_hash": {m[1]}, "seq": {s[1]}}, false)
	if st != http.StatusSeeOther {
		t.Fatalf("approve: %d", st)
	}
	c = waitCampaign(t, a, budget, id, func(c model.Campaign) bool { return c.State.Ended() || c.State == model.CampHalted })
	if c.State != model.CampDone || c.Approver != demoApproverEmail {
		t.Fatalf("campaign ended %s approved by %q, want done by %s", c.State, c.Approver, demoApproverEmail)
	}

	st, body, hdr = owner.do("GET", page+"/report.csv", nil, false)
	if st != 200 || !strings.Contains(hdr.Get("Content-Disposition"), "campaign-"+strconv.FormatInt(id, 10)+".csv") {
		t.Fatalf("report: %d %v", st, hdr)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+demoFleetSize {
		t.Fatalf("report has %d rows, want a header and %d apps:\n%s", len(rows), demoFleetSize, body)
	}
	for _, r := range rows[1:] {
		if r[4] != "已发布" {
			t.Errorf("report row %v: phase %q, want 已发布", r, r[4])
		}
	}

	// A description saying "reject": the canary is rejected, the campaign halts.
	st, _, hdr = owner.do("POST", base, campaignForm(tpl, "试点驳回", "2.0.1", "please reject this"), false)
	if st != http.StatusSeeOther {
		t.Fatalf("create the second campaign: %d", st)
	}
	page2 := strings.SplitN(hdr.Get("Location"), "?", 2)[0]
	id2, _ := strconv.ParseInt(page2[strings.LastIndex(page2, "/")+1:], 10, 64)
	c2, _ := a.store.Campaign(context.Background(), tid, id2)
	if st, _, _ = appr.do("POST", page2+"/approve", url.Values{"set_hash": {c2.SetHash}, "seq": {strconv.FormatInt(c2.Seq, 10)}}, false); st != http.StatusSeeOther {
		t.Fatalf("approve the second campaign: %d", st)
	}
	c2 = waitCampaign(t, a, budget, id2, func(c model.Campaign) bool { return c.State.Ended() || c.State == model.CampHalted })
	if c2.State != model.CampHalted || c2.Notice != "campaign.notice.halted" {
		t.Fatalf("the rejected canary left the campaign %s (notice %q), want halted", c2.State, c2.Notice)
	}
	st, body, _ = owner.do("GET", page2, nil, false)
	if st != 200 || !strings.Contains(body, `data-testid="campaign-notice"`) || !strings.Contains(body, "已自动暂停") || !strings.Contains(body, `data-testid="campaign-resume"`) {
		t.Fatalf("the halted campaign's page: %d\n%s", st, body)
	}

	// The report of the halted campaign: WeChat's <br> in each rejected
	// app's audit reason is a line break inside the CSV cell.
	st, body, _ = owner.do("GET", page2+"/report.csv", nil, false)
	if st != 200 {
		t.Fatalf("second report: %d", st)
	}
	rows, err = csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var want []string // the sandbox's reason, split by hand on its tags
	for _, l := range strings.Split(sandbox.DefaultAuditDecider(sandbox.AuditSubmission{UserDesc: "reject"}).Reason, "<br>") {
		if l = strings.TrimSpace(l); l != "" {
			want = append(want, l)
		}
	}
	rejected := 0
	for _, r := range rows[1:] {
		if r[4] != "被驳回" {
			continue
		}
		rejected++
		if strings.Contains(r[9], "<br") || strings.Split(r[9], "\n")[0] != want[0] || r[9] != strings.Join(want, "\n") {
			t.Errorf("report row %s: reason cell %q, want the lines %q", r[0], r[9], want)
		}
	}
	if rejected == 0 || len(want) < 2 {
		t.Fatalf("the halted campaign's report has %d rejected rows (reason lines %q):\n%s", rejected, want, body)
	}
}
