// Package cluster reads what LiteFS says about this node (standard library
// only): whether it is the primary (LiteFS's ".primary" file in the mount is
// absent on the primary and holds the primary's hostname on a replica), and
// how far replication has come (the "<db>-pos" file: "TXID/checksum" in
// hex). It runs work only while this node is the primary and wakes
// followers when the position moves. A Node with no mount dir is one
// machine: always the primary, position never moves.
package cluster

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// PollEvery is how often the watcher looks at the two files. Reading
// them is a FUSE stat and a 34-byte read, served by LiteFS from memory.
var PollEvery = 50 * time.Millisecond

// Node watches one LiteFS mount.
type Node struct {
	dir, db string

	pollMu  sync.Mutex // one poll at a time: the watcher's or a waiter's
	mu      sync.Mutex
	primary string // "" while this node is the primary, NoPrimary when none is known
	pos     uint64 // the last position the watcher saw (and announced)
	changed chan struct{}
	hooks   []func(pos uint64)
	started bool
}

// New watches dir (LiteFS's fuse.dir; "" for a single node) and its
// database file db (the name inside dir).
func New(dir, db string) *Node {
	n := &Node{dir: dir, db: db, changed: make(chan struct{})}
	var err error
	if n.primary, err = n.readPrimary(); err != nil {
		n.primary = NoPrimary // unreadable: not known to be the primary
	}
	n.pos, _ = n.readPos()
	return n
}

// Clustered reports whether the node runs under LiteFS at all.
func (n *Node) Clustered() bool { return n != nil && n.dir != "" }

// readPrimary reads the node's role. LiteFS's ".primary" file holds the
// primary's hostname on a replica that knows its primary; it is absent both
// on the primary and on a replica that lost it. The ".lag" file tells
// those apart: it reads 0 only on the primary (LiteFS's PrimaryTimestamp).
// It returns "" on the primary, noPrimary when no primary is known.
func (n *Node) readPrimary() (string, error) {
	if !n.Clustered() {
		return "", nil
	}
	b, err := os.ReadFile(filepath.Join(n.dir, ".primary"))
	if err == nil {
		if h := strings.TrimSpace(string(b)); h != "" {
			return h, nil
		}
		return NoPrimary, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	lag, err := os.ReadFile(filepath.Join(n.dir, ".lag"))
	if err != nil {
		return "", err
	}
	if v, err := strconv.ParseInt(strings.TrimSpace(string(lag)), 10, 64); err == nil && v == 0 {
		return "", nil
	}
	return NoPrimary, nil
}

// NoPrimary is Primary's answer on a replica that knows no primary.
const NoPrimary = "?"

// ReadPos reads the replication position (the TXID) of the database.
func (n *Node) readPos() (uint64, error) {
	if !n.Clustered() {
		return 0, nil
	}
	b, err := os.ReadFile(filepath.Join(n.dir, n.db+"-pos"))
	if err != nil {
		return 0, err
	}
	return ParsePos(string(b))
}

// ParsePos reads LiteFS's "-pos" text ("000000000000002a/8d3f…\n") into
// its TXID.
func ParsePos(s string) (uint64, error) {
	txid, _, _ := strings.Cut(strings.TrimSpace(s), "/")
	return strconv.ParseUint(txid, 16, 64)
}

// FormatTXID is the TXID as LiteFS writes it (16 hex digits).
func FormatTXID(txid uint64) string { return strconv.FormatUint(txid, 16) }

// IsPrimary reports whether this node may write.
func (n *Node) IsPrimary() bool {
	if !n.Clustered() {
		return true
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.primary == ""
}

// Primary is the primary's hostname as LiteFS names it ("" on the primary).
func (n *Node) Primary() string {
	if !n.Clustered() {
		return ""
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.primary
}

// Pos is the replication position the watcher last saw.
func (n *Node) Pos() uint64 {
	if !n.Clustered() {
		return 0
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.pos
}

// CurrentPos reads the position now (the primary's TXID after its write).
func (n *Node) CurrentPos() uint64 {
	p, err := n.readPos()
	if err != nil {
		return 0
	}
	return p
}

// OnAdvance registers fn, called by the watcher (in its goroutine, in
// order) each time the position moves, before waiters of that position are
// released: what fn refreshes is fresh for them.
func (n *Node) OnAdvance(fn func(pos uint64)) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.hooks = append(n.hooks, fn)
}

// Watch polls the mount until ctx ends. It is a no-op on a single node.
func (n *Node) Watch(ctx context.Context) {
	if !n.Clustered() {
		return
	}
	n.mu.Lock()
	if n.started {
		n.mu.Unlock()
		return
	}
	n.started = true
	n.mu.Unlock()
	t := time.NewTicker(PollEvery)
	defer t.Stop()
	for {
		n.poll()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (n *Node) poll() {
	n.pollMu.Lock()
	defer n.pollMu.Unlock()
	prim, perr := n.readPrimary()
	pos, err := n.readPos()
	n.mu.Lock()
	moved := perr == nil && prim != n.primary
	if perr == nil {
		n.primary = prim
	}
	advanced := err == nil && pos != n.pos
	hooks := n.hooks
	n.mu.Unlock()
	if advanced {
		for _, h := range hooks {
			h(pos)
		}
		n.mu.Lock()
		n.pos = pos
		n.mu.Unlock()
	}
	if moved || advanced {
		n.mu.Lock()
		close(n.changed)
		n.changed = make(chan struct{})
		n.mu.Unlock()
	}
}

// Changed returns a channel closed at the next change of role or position.
func (n *Node) Changed() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.changed
}

// WaitFor waits until the position reaches txid (and the OnAdvance hooks
// ran for it), at most max; it reports whether it got there. While it
// waits it reads the position itself every 2 ms rather than waiting for
// the watcher's next poll, and runs the poll (hooks included) once the
// position is there.
func (n *Node) WaitFor(ctx context.Context, txid uint64, max time.Duration) bool {
	if !n.Clustered() {
		return true
	}
	deadline := time.NewTimer(max)
	defer deadline.Stop()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		ch := n.Changed()
		if n.Pos() >= txid {
			return true
		}
		if n.CurrentPos() >= txid {
			n.poll()
			continue
		}
		select {
		case <-ch:
		case <-tick.C:
		case <-deadline.C:
			return n.Pos() >= txid
		case <-ctx.Done():
			return false
		}
	}
}

// WhilePrimary runs run while this node is the primary: it starts run
// when the node becomes primary and cancels run's context (waiting for it
// to return) when it stops being primary, as often as that happens, until
// ctx ends. Watch must be running for a clustered node.
func (n *Node) WhilePrimary(ctx context.Context, run func(context.Context)) {
	if !n.Clustered() {
		run(ctx)
		return
	}
	for {
		for !n.IsPrimary() {
			select {
			case <-ctx.Done():
				return
			case <-n.Changed():
			}
		}
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); run(rctx) }()
		for n.IsPrimary() && ctx.Err() == nil {
			select {
			case <-ctx.Done():
			case <-n.Changed():
			case <-done:
			}
			if isDone(done) {
				break
			}
		}
		cancel()
		<-done
		if ctx.Err() != nil {
			return
		}
		if n.IsPrimary() {
			// run returned by itself while primary: do not spin.
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}
}

func isDone(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
