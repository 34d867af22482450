package platform_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat"
	"github.com/minifleet/minifleet/app/wechat/sandbox"
)

// usage samples the process's CPU time and peak heap during a run.
type usage struct {
	cpu0     time.Duration
	peakHeap uint64
	stop     chan struct{}
	done     chan struct{}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startUsage() *usage {
	runtime.GC()
	u := &usage{cpu0: cpuTime(), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(u.done)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			u.peakHeap = max(u.peakHeap, ms.HeapInuse)
			select {
			case <-u.stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	return u
}

func (u *usage) end() (cpu time.Duration, peakHeapMB float64) {
	close(u.stop)
	<-u.done
	return cpuTime() - u.cpu0, float64(u.peakHeap) / (1 << 20)
}

// BenchmarkCampaign1000Apps: 1,000 sandbox Mini Programs, 100 ms added
// to every WeChat call. Wall time from the approval to "all submitted" for
// the campaign engine (canary of 5 decided first, then one wave), against
// a plain sequential loop making the same calls per app over another
// 1,000 apps — the way one-app-at-a-time tools do it. Tokens are fetched
// before either run starts. MINIFLEET_BENCH_SEQ_APPS shortens the
// sequential side (its time is then scaled to 1,000 and says so).
func BenchmarkCampaign1000Apps(b *testing.B) {
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("MINIFLEET_BENCH_APPS")); err == nil && v > 0 {
		n = v // a smaller fleet, to look into the engine
	}
	seqApps := n
	if v, err := strconv.Atoi(os.Getenv("MINIFLEET_BENCH_SEQ_APPS")); err == nil && v > 0 && v < n {
		seqApps = v
	}
	t := &testing.T{}
	for b.Loop() {
		cr := newCampRig(t, 2*n, func(o *sandbox.Options) {
			o.PrivacyScanDuration = time.Nanosecond // done by the time anyone asks (0 means the default)
			o.AuditDelay = 500 * time.Millisecond
			o.AuditQuota = 3 * n
		})
		ctx, cancel := context.WithCancel(cr.ctx)
		clockCtx, stopClock := context.WithCancel(cr.ctx)
		engineApps, seqSet := cr.apps[:n], cr.apps[n:n+seqApps]
		// Engine side: the first 1,000 apps (tenant 0 and 1 alternate; a
		// staff campaign over both), tokens fetched beforehand.
		warm(b, cr, cr.apps)
		var clockWG sync.WaitGroup
		clockWG.Add(1)
		go func() { // the fake clock follows real time (audit decisions)
			defer clockWG.Done()
			for clockCtx.Err() == nil {
				time.Sleep(20 * time.Millisecond)
				cr.clock.Advance(20 * time.Millisecond)
			}
		}()
		in := cr.input("9.9.9", "批量发版")
		in.CanarySize, in.WaveMax, in.HaltRate = 5, model.MaxWaveSize, 0.2
		in.Concurrency = model.MaxConcurrency
		if v, err := strconv.Atoi(os.Getenv("MINIFLEET_BENCH_CONCURRENCY")); err == nil && v > 0 {
			in.Concurrency = v
		}
		// Real audits take hours: nothing would be released while the
		// fleet is being submitted, so the release waits for a set time.
		in.ReleaseMode, in.ReleaseAt = model.ReleaseAt, cr.now().Add(24*time.Hour)
		// The campaign targets the engine's 1,000 by tag; the others wait
		// for the sequential loop.
		for _, id := range engineApps {
			tn, err := cr.st.TenantOfApp(ctx, id)
			if err != nil {
				b.Fatal(err)
			}
			if err := cr.st.SetAppTags(ctx, cr.creator, tn, id, []string{"bench"}); err != nil {
				b.Fatal(err)
			}
		}
		in.Filter = store.CandidateFilter{Tag: "bench"}
		c, p, err := cr.camp.Create(ctx, in, cr.creator)
		if err != nil {
			b.Fatal(err)
		}
		if len(p.Targets) != n {
			b.Fatalf("%d targets, want %d", len(p.Targets), n)
		}
		cr.sb.SetLatency(100 * time.Millisecond)
		quota0, err := cr.p.Client.AuditQuota(ctx, engineApps[0])
		if err != nil {
			b.Fatal(err)
		}
		before := cr.sb.CallCounts()
		var wg sync.WaitGroup
		wg.Add(3)
		go func() { defer wg.Done(); cr.camp.Run(ctx) }()
		go func() { defer wg.Done(); cr.p.Jobs.Run(ctx) }()
		go func() { defer wg.Done(); cr.rel.Run(ctx) }()

		if f := os.Getenv("MINIFLEET_BENCH_CPUPROFILE"); f != "" {
			out, err := os.Create(f)
			if err != nil {
				b.Fatal(err)
			}
			if err := pprof.StartCPUProfile(out); err != nil {
				b.Fatal(err)
			}
		}
		u := startUsage()
		start := time.Now()
		if _, err := cr.camp.Decide(ctx, 0, c.ID, model.CampActApprove, cr.approver, c.Seq, c.SetHash); err != nil {
			b.Fatal(err)
		}
		for submitted(b, cr, c.ID) < n {
			if os.Getenv("MINIFLEET_BENCH_TRACE") != "" {
				p, _ := cr.camp.Progress(ctx, 0, c.ID)
				b.Logf("%5.1fs %v", time.Since(start).Seconds(), p.Counts)
				time.Sleep(500 * time.Millisecond)
			}
			if time.Since(start) > 5*time.Minute {
				b.Fatalf("only %d of %d submitted after 5 minutes", submitted(b, cr, c.ID), n)
			}
			time.Sleep(50 * time.Millisecond)
		}
		engineWall := time.Since(start)
		pprof.StopCPUProfile()
		if os.Getenv("MINIFLEET_BENCH_TRACE") != "" {
			os.WriteFile("/tmp/bench-logs.txt", []byte(cr.logs.String()), 0o644)
		}
		engineCPU, engineHeap := u.end()
		cancel()
		wg.Wait()
		cr.camp.Wait(context.Background())
		after := cr.sb.CallCounts()
		perApp := map[string]int{}
		for api, v := range after {
			if d := v - before[api]; d > 0 {
				perApp[api] = d
			}
		}
		var dup int
		for _, id := range engineApps {
			if cr.sb.AppSuccessCount("commit", id) != 1 || cr.sb.AppSuccessCount("submit_audit", id) != 1 {
				dup++
			}
		}
		if dup > 0 {
			b.Fatalf("%d apps not committed and submitted exactly once", dup)
		}
		if perApp["submit_audit"] > quota0.Rest {
			b.Fatalf("%d submissions with %d left in the quota", perApp["submit_audit"], quota0.Rest)
		}

		// Sequential side: the same calls, one app after another.
		u = startUsage()
		start = time.Now()
		sequentialLoop(b, cr, seqSet)
		seqWall := time.Since(start)
		seqCPU, seqHeap := u.end()
		stopClock()
		clockWG.Wait()
		seqScaled := seqWall * time.Duration(n) / time.Duration(seqApps)

		b.ReportMetric(engineWall.Seconds(), "engine-s")
		b.ReportMetric(seqScaled.Seconds(), "sequential-s")
		b.ReportMetric(seqScaled.Seconds()/engineWall.Seconds(), "speedup")
		b.ReportMetric(engineCPU.Seconds(), "engine-cpu-s")
		b.ReportMetric(engineHeap, "engine-peak-heap-MB")
		b.ReportMetric(seqCPU.Seconds(), "sequential-cpu-s")
		b.ReportMetric(seqHeap, "sequential-peak-heap-MB")
		b.ReportMetric(float64(seqApps), "sequential-apps")
		b.ReportMetric(float64(perApp["submit_audit"]), "submissions")
		b.ReportMetric(float64(quota0.Rest), "quota-rest")
		apis := make([]string, 0, len(perApp))
		for api := range perApp {
			apis = append(apis, api)
		}
		slices.Sort(apis)
		for _, api := range apis {
			b.Logf("engine calls %-24s %5d", api, perApp[api])
		}
	}
}

// warm fetches every app's authorizer token before the clock starts.
func warm(b *testing.B, cr *campRig, apps []string) {
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for _, id := range apps {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if _, err := cr.p.Client.Categories(cr.ctx, id); err != nil {
				b.Error(err)
			}
		}()
	}
	wg.Wait()
}

func submitted(b *testing.B, cr *campRig, id int64) int {
	var n int
	if err := cr.st.R.QueryRowContext(cr.ctx, `SELECT COUNT(*) FROM releases WHERE campaign_id = ? AND submitted_at IS NOT NULL`, id).Scan(&n); err != nil {
		b.Fatal(err)
	}
	return n
}

// sequentialLoop is what one-app-at-a-time tools do: for each app, the
// same WeChat calls the pipeline makes (prepare's category lookup, commit,
// experience QR, privacy scan, preflight's category, pages, privacy
// guideline and scan check, submit), nothing in parallel.
func sequentialLoop(b *testing.B, cr *campRig, apps []string) {
	ctx, c := cr.ctx, cr.p.Client
	ext := `{"extAppid":"%s","extEnable":true,"ext":{"shopName":"小店"}}`
	for _, id := range apps {
		must := func(err error) {
			if err != nil {
				b.Fatalf("%s: %v", id, err)
			}
		}
		cats, err := c.Categories(ctx, id)
		must(err)
		must(c.Commit(ctx, id, wechat.CommitRequest{TemplateID: cr.tplID, ExtJSON: fmt.Sprintf(ext, id), UserVersion: "9.9.9", UserDesc: "批量发版"}))
		_, err = c.TrialQRCode(ctx, id, "")
		must(err)
		_, err = c.CodePrivacyInfo(ctx, id)
		must(err)
		_, err = c.Categories(ctx, id)
		must(err)
		pages, err := c.Pages(ctx, id)
		must(err)
		_, err = c.PrivacySetting(ctx, id, wechat.PrivacyDev)
		must(err)
		_, err = c.CodePrivacyInfo(ctx, id)
		must(err)
		item := wechat.AuditItem{Address: pages[0], FirstClass: cats[0].FirstClass, SecondClass: cats[0].SecondClass,
			FirstID: cats[0].FirstID, SecondID: cats[0].SecondID}
		_, err = c.SubmitAudit(ctx, id, wechat.SubmitAuditRequest{ItemList: []wechat.AuditItem{item}})
		must(err)
	}
}
