package store

import (
	"context"
	"errors"
	"testing"
)

// A read whose statement cannot be prepared (here: its context is already
// cancelled, as when serve stops while a loop reads) reports the error on
// Scan; it used to retry itself until the stack overflowed.
func TestReadRowReportsPrepareError(t *testing.T) {
	s := OpenTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var n int
	err := s.readRow(ctx, `SELECT 1 WHERE ? = 1 /* never prepared before */`, 1).Scan(&n)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Scan = %v, want context.Canceled", err)
	}
}
