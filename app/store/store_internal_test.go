package store

import (
	"context"
	"fmt"
	"testing"
)

// isUnique goes by SQLite's extended result code: UNIQUE and PRIMARY KEY
// failures, wrapped or not; no other constraint.
func TestIsUniqueByCode(t *testing.T) {
	ctx := context.Background()
	st := OpenTest(t)
	exec := func(q string, args ...any) error {
		_, err := st.W.ExecContext(ctx, q, args...)
		return err
	}
	if err := exec(`INSERT INTO users (email, name, password_hash, created_at, updated_at) VALUES ('a@b.test', 'a', 'h', 1, 1)`); err != nil {
		t.Fatal(err)
	}
	if err := exec(`INSERT INTO leases (name, holder, expires_at) VALUES ('l', 'h', 1)`); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"unique", exec(`INSERT INTO users (email, name, password_hash, created_at, updated_at) VALUES ('A@b.test', 'b', 'h', 1, 1)`), true},
		{"primary key", exec(`INSERT INTO leases (name, holder, expires_at) VALUES ('l', 'h', 1)`), true},
		{"check", exec(`INSERT INTO users (email, name, password_hash, staff_role, created_at, updated_at) VALUES ('c@b.test', 'c', 'h', 'nobody', 1, 1)`), false},
		{"not null", exec(`INSERT INTO leases (name, holder, expires_at) VALUES ('m', NULL, 1)`), false},
	} {
		if c.err == nil && c.want {
			t.Fatalf("%s: no error", c.name)
		}
		if got := isUnique(c.err); got != c.want {
			t.Errorf("%s: isUnique(%v) = %v", c.name, c.err, got)
		}
		if got := isUnique(fmt.Errorf("wrapped: %w", c.err)); c.err != nil && got != c.want {
			t.Errorf("%s wrapped: isUnique = %v", c.name, got)
		}
	}
	if isUnique(nil) {
		t.Error("isUnique(nil)")
	}
}
