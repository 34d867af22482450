package store

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
)

// OpenTest opens a store over a new database in the test's temp dir,
// closed when the test ends: the store tests' one helper, internal
// (package store) and external (openStore) alike.
func OpenTest(t testing.TB) *Store {
	t.Helper()
	st, err := Open(context.Background(), filepath.Join(t.TempDir(), "test.db"), bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
