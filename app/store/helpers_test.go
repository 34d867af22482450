package store_test

import (
	"testing"

	"github.com/minifleet/minifleet/app/store"
)

// openStore opens a store over a new database in the test's temp dir,
// closed when the test ends (store.OpenTest, export_test.go).
func openStore(t *testing.T) *store.Store { return store.OpenTest(t) }
