package store_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/minifleet/minifleet/app/store"
)

// openStore opens a store over a new database in the test's temp dir,
// closed when the test ends.
func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "test.db"), bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
