package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/store"
)

// Sessions: a committed session is found until its expiry, then neither
// found nor kept by DeleteExpired; Delete ends it; a second commit replaces it.
func TestSessionsStore(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	ss := store.Sessions{S: st}
	if _, found, err := ss.FindCtx(ctx, "nope"); found || err != nil {
		t.Fatalf("unknown token: found %v, %v", found, err)
	}
	if err := ss.CommitCtx(ctx, "live", []byte("one"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := ss.Commit("live", []byte("two"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := ss.CommitCtx(ctx, "old", []byte("x"), time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if b, found, err := ss.Find("live"); !found || err != nil || string(b) != "two" {
		t.Fatalf("live: %q %v %v", b, found, err)
	}
	if _, found, _ := ss.FindCtx(ctx, "old"); found {
		t.Fatal("an expired session was found")
	}
	if n, err := ss.DeleteExpired(ctx); n != 1 || err != nil {
		t.Fatalf("DeleteExpired = %d, %v; want 1", n, err)
	}
	if err := ss.Delete("live"); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := ss.FindCtx(ctx, "live"); found {
		t.Fatal("a deleted session was found")
	}
	var left int
	if err := st.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions`).Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d sessions left (%v)", left, err)
	}
}
