package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/store"
)

// A job asked for a moment from now is not due now, even when the moment
// falls in the same whole second (run_at has second resolution).
func TestJobDelayedBySubSecondIsNotDueAtOnce(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	now := time.Unix(1700000000, 100_000_000) // .1 s into a second
	st.Now = func() time.Time { return now }
	if _, _, err := st.EnqueueJob(ctx, store.NewJob{Kind: "poll", RunAt: now.Add(500 * time.Millisecond)}); err != nil {
		t.Fatal(err)
	}
	if j, err := st.ClaimJob(ctx, "me", now, time.Minute); err == nil && j.ID != 0 {
		t.Fatalf("job due at once: %+v", j)
	}
	if j, err := st.ClaimJob(ctx, "me", now.Add(time.Second), time.Minute); err != nil || j.ID == 0 {
		t.Fatalf("job not due a second later: %+v %v", j, err)
	}
}
