package store_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
)

// The writer never checkpoints; the checkpointer copies the WAL back
// within a second or so, and Close leaves an empty WAL behind.
func TestCheckpointerKeepsWALCopiedBack(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "c.db")
	st, err := store.Open(ctx, path, relKey)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200; i++ {
		if err := st.Activity(ctx, model.SystemActor, 0, "test", "row", "x"); err != nil {
			t.Fatal(err)
		}
	}
	var busy, log, done int
	deadline := time.Now().Add(5 * time.Second)
	for {
		// A reader's view of the WAL: frames written (log) and frames
		// already copied back (done). NOOP-like: PASSIVE copies nothing
		// new when the checkpointer has already run.
		db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		err = db.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &done)
		db.Close()
		if err == nil && log > 0 && done == log {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("WAL not copied back: busy %d log %d done %d (%v)", busy, log, done, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() != 0 {
		t.Errorf("WAL is %d bytes after Close, want truncated", fi.Size())
	}
	if err := st.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
