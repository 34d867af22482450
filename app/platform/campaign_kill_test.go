package platform_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat"
	"github.com/minifleet/minifleet/app/wechat/sandbox"
)

const campChildEnv = "MINIFLEET_CAMPAIGN_CHILD" // "<db path>|<sandbox URL>"

// TestCampaignChildEngine is the process TestCampaignKilledMidWave kills:
// it runs only when re-executed with campChildEnv set, and drives
// campaigns (jobs, release resume loop, campaign engine) until killed.
func TestCampaignChildEngine(t *testing.T) {
	env := os.Getenv(campChildEnv)
	if env == "" {
		t.Skip("runs only as the child of TestCampaignKilledMidWave")
	}
	dbPath, sbURL, _ := strings.Cut(env, "|")
	ctx := context.Background()
	st, err := store.Open(ctx, dbPath, testKey)
	if err != nil {
		t.Fatal(err)
	}
	c := wechat.New(testAppID, testSecret, nil)
	c.APIBase, c.MPBase, c.OpenBase = sbURL, sbURL, sbURL
	p, err := platform.New(platform.Config{Store: st, Client: c, Token: testToken, AESKey: testAESKey,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	p.Jobs.Tick, p.Jobs.Lease, p.Jobs.BaseBackoff = 50*time.Millisecond, 3*time.Second, 200*time.Millisecond
	rel := p.Releases
	rel.ScanPoll, rel.ResumeEvery, rel.InFlightGrace, rel.AuditPoll = 300*time.Millisecond, 200*time.Millisecond, time.Second, 2*time.Second
	e := p.Campaigns
	e.Tick, e.MinGap = 50*time.Millisecond, 10*time.Millisecond
	e.Policy = model.RetryPolicy{Base: 200 * time.Millisecond, QuotaBase: time.Second, ScanWait: 300 * time.Millisecond,
		AuditWait: time.Second, Max: 2 * time.Second, MaxAttempts: 5}
	p.Run(ctx) // until SIGKILL
}

// A process driving a campaign is killed with SIGKILL in the middle of a
// wave, with WeChat calls in flight; a new process continues where it
// stopped: every app ends released, none committed or submitted twice.
func TestCampaignKilledMidWave(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns engine processes")
	}
	// The fake clock starts now (the child process runs on real time) and
	// then runs 20× faster, so scans and audits take seconds.
	cr := newCampRigAt(t, 80, time.Now(), func(o *sandbox.Options) {})
	cr.sb.SetLatency(15 * time.Millisecond) // calls are in flight when the kill comes
	in := cr.input("6.0.0", "崩溃恢复")
	in.CanarySize, in.Concurrency = 2, 16
	c := cr.createApproved(t, in)

	stopClock := make(chan struct{})
	defer close(stopClock)
	go func() {
		for {
			select {
			case <-stopClock:
				return
			case <-time.After(20 * time.Millisecond):
				cr.clock.Advance(400 * time.Millisecond)
			}
		}
	}()
	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCampaignChildEngine$", "-test.count=1")
		cmd.Env = append(os.Environ(), campChildEnv+"="+cr.dbPath+"|"+cr.sbURL)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	commits := func() int {
		n := 0
		for _, id := range cr.apps {
			n += cr.sb.AppSuccessCount("commit", id)
		}
		return n
	}
	child := start()
	deadline := time.Now().Add(60 * time.Second)
	for commits() < 30 {
		if time.Now().After(deadline) {
			child.Process.Kill()
			t.Fatalf("only %d commits after 60 s", commits())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	atKill := commits()
	t.Logf("killed after %d commits", atKill)

	child = start()
	defer func() { child.Process.Kill(); _ = child.Wait() }()
	deadline = time.Now().Add(90 * time.Second)
	for {
		c2, err := cr.st.Campaign(cr.ctx, 0, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if c2.State == model.CampDone {
			break
		}
		if time.Now().After(deadline) {
			p, _ := cr.camp.Progress(cr.ctx, 0, c.ID)
			t.Fatalf("campaign %s after the restart, counts %v", c2.State, p.Counts)
		}
		time.Sleep(50 * time.Millisecond)
	}
	want := map[string]bool{}
	for id, a := range cr.phases(t, c.ID) {
		want[id] = true
		if a.Phase() != model.PhReleased {
			t.Errorf("%s: %s (%s errcode %d), want released", id, a.Phase(), a.RelState, a.Errcode)
		}
	}
	if len(want) != 80 {
		t.Fatalf("%d apps in the campaign, want 80", len(want))
	}
	cr.onceEach(t, want)
}
