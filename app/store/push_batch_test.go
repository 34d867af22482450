package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/store"
)

// Concurrent pushes share commits, yet each commits or fails on its own: a
// failing apply leaves no trace, its neighbours in the batch are stored, and
// a push seen twice is stored once.
func TestRecordPushBatchesKeepPushesIndependent(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	const n = 300
	var wg sync.WaitGroup
	errs := make([]error, n)
	dups := make([]bool, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprintf("k%d", i%(n-20)) // the last 20 repeat earlier keys
			in := store.NewPush{Route: store.RouteComponent, Kind: "test", DedupeKey: key, ReceivedAt: time.Unix(1700000000, 0), XML: "<xml/>"}
			_, dups[i], errs[i] = st.RecordPush(ctx, in, func(p *store.PushTx) (string, error) {
				if i%7 == 3 {
					return "", errors.New("refused by its handler")
				}
				return store.PushApplied, nil
			})
		}()
	}
	wg.Wait()
	for i := range n {
		failing := i%7 == 3
		if failing && errs[i] == nil && !dups[i] {
			t.Errorf("push %d: its handler failed but it was stored", i)
		}
		if !failing && errs[i] != nil {
			t.Errorf("push %d: %v", i, errs[i])
		}
	}
	// Every key whose first successful record exists is stored exactly once.
	want := map[string]bool{}
	for i := range n {
		if errs[i] == nil {
			want[fmt.Sprintf("k%d", i%(n-20))] = true
		}
	}
	pushes, total, err := st.ListPushes(ctx, store.PushFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if total != len(want) {
		t.Fatalf("stored %d pushes, want %d (one per successful key)", total, len(want))
	}
	for _, p := range pushes {
		if !want[p.DedupeKey] || p.Outcome != store.PushApplied {
			t.Errorf("unexpected stored push %q outcome %q", p.DedupeKey, p.Outcome)
		}
	}
}

func TestRecordPushAfterCloseFails(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "p.db"), bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if _, _, err := st.RecordPush(ctx, store.NewPush{DedupeKey: "x", Kind: "test", ReceivedAt: time.Now()}, nil); err == nil {
		t.Fatal("recording after Close succeeded")
	}
}

// Ticket pushes take the batch fast path: concurrent tickets keep the newest
// ticket, each push's outcome is what applying them one by one in arrival
// order gives, duplicates are counted once, and a row the table refuses
// fails alone.
func TestRecordTicketBatchFastPath(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	if _, err := st.SaveTicket(ctx, "wxc", "ticket@@@stored", 1000, time.Unix(1700000000, 0)); err != nil {
		t.Fatal(err)
	}
	const n = 200
	type result struct {
		p   store.Push
		dup bool
		err error
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ct := int64(900 + i%150) // below, at and above the stored 1000; i >= 150 repeat
			route := store.RouteComponent
			if i == 77 {
				route = "nowhere" // CHECK constraint: refused
			}
			in := store.NewPush{Route: route, Kind: "component_verify_ticket", DedupeKey: fmt.Sprintf("t%d", ct), CreateTime: ct,
				ReceivedAt: time.Unix(1700000000, 0), XML: "<xml/>", FullXML: "<xml/>",
				Ticket: &store.TicketChange{ComponentAppID: "wxc", Ticket: fmt.Sprintf("ticket@@@%d", ct), CreateTime: ct}}
			r := &results[i]
			r.p, r.dup, r.err = st.ReceivePush(ctx, func() (store.NewPush, store.PushApply, error) { return in, nil, nil })
		}()
	}
	wg.Wait()
	for i, r := range results {
		switch {
		case i == 77 && r.err == nil:
			t.Errorf("push 77 with a bad route was accepted: %+v", r.p)
		case i != 77 && r.err != nil:
			t.Errorf("push %d: %v", i, r.err)
		case r.err == nil && !r.dup && r.p.CreateTime < 1000 && r.p.Outcome != store.PushStale:
			t.Errorf("push %d (ct %d) outcome %q, want stale", i, r.p.CreateTime, r.p.Outcome)
		}
	}
	creds, err := st.ComponentCreds(ctx, "wxc")
	if err != nil {
		t.Fatal(err)
	}
	if creds.Ticket != "ticket@@@1049" || creds.TicketCreateTime != 1049 {
		t.Errorf("kept ticket %q (%d), want the newest, ticket@@@1049", creds.Ticket, creds.TicketCreateTime)
	}
	pushes, total, err := st.ListPushes(ctx, store.PushFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if total != 149 { // 150 keys, one refused
		t.Errorf("stored %d pushes, want 149", total)
	}
	applied, dups := 0, 0
	for _, p := range pushes {
		if p.Outcome == store.PushApplied {
			applied++
		}
		dups += p.Duplicates
	}
	if applied == 0 {
		t.Errorf("no push applied")
	}
	// Applied pushes are exactly those at least as new as every ticket
	// before them in commit (id) order, starting from the stored 1000.
	best := int64(1000)
	for i := len(pushes) - 1; i >= 0; i-- { // ListPushes is newest first
		p := pushes[i]
		want := store.PushStale
		if p.CreateTime >= best {
			want, best = store.PushApplied, p.CreateTime
		}
		if p.Outcome != want {
			t.Errorf("push id %d ct %d outcome %q, want %q", p.ID, p.CreateTime, p.Outcome, want)
		}
	}
	if want := 50; dups != want { // i >= 150 repeat i-150
		t.Errorf("%d duplicates counted, want %d", dups, want)
	}
}

// Closing the store during a flood answers every push: each one answered
// without error is stored, each refused one is not, and none hangs.
func TestRecordPushCloseDuringFlood(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "p.db")
	key := bytes.Repeat([]byte{9}, 32)
	st, err := store.Open(ctx, path, key)
	if err != nil {
		t.Fatal(err)
	}
	const n = 400
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := store.NewPush{Route: store.RouteComponent, Kind: "test", DedupeKey: fmt.Sprintf("k%d", i), CreateTime: int64(i),
				ReceivedAt: time.Unix(1700000000, 0), XML: "<xml/>"}
			_, _, errs[i] = st.ReceivePush(ctx, func() (store.NewPush, store.PushApply, error) { return in, nil, nil })
		}()
		if i == n/2 {
			go st.Close()
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("pushes left unanswered after Close")
	}
	st.Close()
	st, err = store.Open(ctx, path, key)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ok := 0
	for i := range n {
		_, err := st.PushByDedupeKey(ctx, int64(i), fmt.Sprintf("k%d", i))
		switch {
		case errs[i] == nil && err != nil:
			t.Errorf("push %d was answered as recorded but is not stored: %v", i, err)
		case errs[i] != nil && err == nil:
			t.Errorf("push %d was refused (%v) but is stored", i, errs[i])
		case errs[i] == nil:
			ok++
		}
	}
	if ok == 0 {
		t.Error("no push was recorded before Close")
	}
}
