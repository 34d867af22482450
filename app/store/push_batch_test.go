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
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "p.db"), bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
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
