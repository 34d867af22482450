package cluster

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// fakeMount writes the files LiteFS serves in its mount.
type fakeMount struct {
	t   *testing.T
	dir string
}

func (m fakeMount) primary(host string) { // "" = this node is primary
	m.t.Helper()
	p := filepath.Join(m.dir, ".primary")
	if host == "" {
		os.Remove(p)
		m.write(".lag", "+0000000000\n")
		return
	}
	m.write(".primary", host+"\n")
	m.write(".lag", "+0000000012\n")
}

func (m fakeMount) noPrimary() {
	os.Remove(filepath.Join(m.dir, ".primary"))
	m.write(".lag", "+0000004000\n")
}

func (m fakeMount) pos(txid uint64) {
	m.write("app.db-pos", FormatTXIDPadded(txid)+"/8d3f9a0b1c2d3e4f\n")
}

func (m fakeMount) write(name, s string) {
	m.t.Helper()
	if err := os.WriteFile(filepath.Join(m.dir, name), []byte(s), 0o600); err != nil {
		m.t.Fatal(err)
	}
}

// FormatTXIDPadded is the TXID as LiteFS's -pos file holds it.
func FormatTXIDPadded(txid uint64) string {
	s := FormatTXID(txid)
	for len(s) < 16 {
		s = "0" + s
	}
	return s
}

func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestParsePos(t *testing.T) {
	for in, want := range map[string]uint64{"000000000000002a/8d3f9a0b1c2d3e4f\n": 42, "0000000000000001/0000000000000000": 1, "00000000000f4240/x": 1000000} {
		if got, err := ParsePos(in); err != nil || got != want {
			t.Errorf("ParsePos(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	if _, err := ParsePos("garbage"); err == nil {
		t.Error("ParsePos accepted garbage")
	}
}

func TestSingleNodeIsAlwaysPrimary(t *testing.T) {
	n := New("", "app.db")
	if !n.IsPrimary() || n.Clustered() || !n.WaitFor(context.Background(), 99, time.Millisecond) {
		t.Fatal("a node without LiteFS must be the primary and never wait")
	}
	ran := false
	n.WhilePrimary(context.Background(), func(context.Context) { ran = true })
	if !ran {
		t.Fatal("WhilePrimary did not run on a single node")
	}
}

// TestRoleFollowsLiteFS: the role comes from .primary and .lag; work runs
// only while primary, starts on promotion and stops on demotion; a replica
// that lost its primary is not the primary.
func TestRoleFollowsLiteFS(t *testing.T) {
	old := PollEvery
	PollEvery = 5 * time.Millisecond
	defer func() { PollEvery = old }()
	m := fakeMount{t, t.TempDir()}
	m.primary("node-a")
	m.pos(1)
	n := New(m.dir, "app.db")
	if n.IsPrimary() || n.Primary() != "node-a" {
		t.Fatalf("replica read as primary=%v host=%q", n.IsPrimary(), n.Primary())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go n.Watch(ctx)
	var running, starts atomic.Int32
	done := make(chan struct{})
	go func() {
		defer close(done)
		n.WhilePrimary(ctx, func(rctx context.Context) {
			starts.Add(1)
			running.Store(1)
			<-rctx.Done()
			running.Store(0)
		})
	}()
	time.Sleep(50 * time.Millisecond)
	if running.Load() != 0 {
		t.Fatal("work runs on a replica")
	}
	m.primary("")
	eventually(t, "work to start on promotion", func() bool { return running.Load() == 1 })
	m.noPrimary()
	eventually(t, "work to stop when no longer primary", func() bool { return running.Load() == 0 })
	if n.IsPrimary() || n.Primary() != NoPrimary {
		t.Fatalf("a replica without a primary: primary=%v host=%q", n.IsPrimary(), n.Primary())
	}
	m.primary("")
	eventually(t, "work to start again", func() bool { return running.Load() == 1 && starts.Load() == 2 })
	cancel()
	<-done
	if running.Load() != 0 {
		t.Fatal("work still runs after ctx ended")
	}
}

// TestWaitForPosition: WaitFor returns once the position reaches the TXID,
// after the OnAdvance hooks ran for it; it gives up after max.
func TestWaitForPosition(t *testing.T) {
	old := PollEvery
	PollEvery = 5 * time.Millisecond
	defer func() { PollEvery = old }()
	m := fakeMount{t, t.TempDir()}
	m.primary("node-a")
	m.pos(5)
	n := New(m.dir, "app.db")
	var hooked atomic.Uint64
	n.OnAdvance(func(p uint64) { hooked.Store(p) })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go n.Watch(ctx)
	if n.WaitFor(ctx, 7, 30*time.Millisecond) {
		t.Fatal("WaitFor reached 7 at position 5")
	}
	go func() { time.Sleep(20 * time.Millisecond); m.pos(8) }()
	if !n.WaitFor(ctx, 7, 5*time.Second) {
		t.Fatal("WaitFor did not see position 8")
	}
	if hooked.Load() != 8 {
		t.Fatalf("the hook saw %d when the waiter was released, want 8", hooked.Load())
	}
}
