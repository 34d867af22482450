package platform_test

import (
	"context"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/platform"
)

// TestLiveRelayReachesAnotherProcess: events published on the "primary"
// (its relay running) reach a second process's subscribers when that
// process replays (what a LiteFS replica does when its position moves);
// events from before the replica started are skipped, none is delivered
// twice, and the replica's own Hub never records.
func TestLiveRelayReachesAnotherProcess(t *testing.T) {
	r := newRig(t, rigOpts{})
	_, primary := r.st, r.p
	_, replica := r.open()
	ctx, cancel := context.WithCancel(r.ctx)
	defer cancel()
	go primary.Live.Run(ctx)

	primary.Hub.Publish(platform.Event{Name: platform.EventApp, TenantID: 7, AppID: "wxold"})
	waitRelayed := func(n int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			id, err := r.st.LastLiveEvent(r.ctx)
			if err != nil {
				t.Fatal(err)
			}
			evs, _ := r.st.LiveEventsAfter(r.ctx, 0)
			if len(evs) >= n && id > 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d events recorded, want %d", len(evs), n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitRelayed(1)
	if err := replica.Live.Skip(r.ctx); err != nil {
		t.Fatal(err)
	}
	sub := replica.Hub.Subscribe(platform.TenantTopic(7))
	defer sub.Close()
	staff := replica.Hub.Subscribe(platform.TopicStaff)
	defer staff.Close()

	primary.Hub.Publish(platform.Event{Name: platform.EventAttempt, TenantID: 7, AttemptID: 3})
	primary.Hub.Publish(platform.Event{Name: platform.EventCampaign, TenantID: 8, Campaign: 4})
	waitRelayed(3)
	n, err := replica.Live.Replay(r.ctx)
	if err != nil || n != 2 {
		t.Fatalf("replayed %d, %v; want the 2 events after the replica started", n, err)
	}
	select {
	case e := <-sub.C:
		if e.Name != platform.EventAttempt || e.AttemptID != 3 || e.TenantID != 7 {
			t.Fatalf("tenant 7's subscriber got %+v", e)
		}
	default:
		t.Fatal("the replica's tenant subscriber got nothing")
	}
	select {
	case e := <-sub.C:
		t.Fatalf("tenant 7 got another tenant's or an old event: %+v", e)
	default:
	}
	if len(staff.C) != 2 {
		t.Fatalf("staff got %d events, want 2", len(staff.C))
	}
	if n, _ := replica.Live.Replay(r.ctx); n != 0 {
		t.Fatalf("a second replay delivered %d events again", n)
	}
	// The replica delivering does not record (its relay only records Publish).
	evs, _ := r.st.LiveEventsAfter(r.ctx, 0)
	if len(evs) != 3 {
		t.Fatalf("%d events recorded, want 3", len(evs))
	}
}
