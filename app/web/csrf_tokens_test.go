package web

import (
	"strings"
	"testing"
	"time"
)

// TestCSRFTokensAnyNode: a token one node issues is accepted by another
// with the same secret key (a replica's form posted to the primary), not
// with another key, not once altered, and not after its lifetime.
func TestCSRFTokensAnyNode(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	key := []byte("0123456789abcdef0123456789abcdef")
	replica, primary := newCSRFTokens(key, time.Hour, clock), newCSRFTokens(key, time.Hour, clock)
	other := newCSRFTokens([]byte("another key, another platform.."), time.Hour, clock)
	tok := replica.Generate()
	if tok == replica.Generate() {
		t.Fatal("two tokens are equal")
	}
	if v, _ := primary.Get(tok); v == nil {
		t.Fatal("the primary refused the replica's token")
	}
	if v, _ := other.Get(tok); v != nil {
		t.Fatal("a token signed with another key was accepted")
	}
	bad := []byte(tok)
	i := strings.IndexByte(tok, '.') - 3
	bad[i] ^= 1
	if v, _ := primary.Get(string(bad)); v != nil {
		t.Fatal("an altered token was accepted")
	}
	for _, junk := range []string{"", ".", "abc", tok + "x", strings.Replace(tok, ".", "", 1)} {
		if v, _ := primary.Get(junk); v != nil {
			t.Fatalf("%q was accepted", junk)
		}
	}
	now = now.Add(59 * time.Minute)
	if v, _ := primary.Get(tok); v == nil {
		t.Fatal("a token within its lifetime was refused")
	}
	now = now.Add(2 * time.Minute)
	if v, _ := primary.Get(tok); v != nil {
		t.Fatal("an expired token was accepted")
	}
}
