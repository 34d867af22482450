package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Pushes arrive in bursts (WeChat retries, many apps' audit results at once)
// and each must be durable before we answer "success". One SQLite commit per
// push caps intake at the commit rate, so concurrent pushes are grouped:
// one goroutine takes every push waiting and commits them together. A caller
// returns only after the commit that holds its push.
//
// Inside the batch transaction each push still stands alone:
//   - Pushes whose only state change is declared (a ticket, or none) take the
//     fast path (recordFast): one statement each, and one write of the
//     newest ticket for the batch.
//   - Pushes with an apply func run each inside its own SAVEPOINT (a failing
//     push rolls back alone).
//
// Group commit only pays if the batch is big: a commit writes every page the
// batch dirtied to the WAL, two syscalls a page, whether it holds one push or
// eight. Taking only what is already waiting gave ~2 pushes a commit under a
// flood. So the batch in hand waits, at most pushLinger after it started:
//   - while pushes are announced (ReceivePush announces one before its
//     prepare func verifies and decrypts it) but not yet handed over, and
//   - until it is as big as the previous batch: a flood keeps its pace, and
//     one short batch resets the expectation.
// A lone push on an idle server (previous batch 1, nothing announced) is
// committed at once.

const (
	maxPushBatch = 128
	pushLinger   = 2 * time.Millisecond
)

var errStoreClosed = errors.New("store: closed")

type pushReq struct {
	ctx     context.Context
	in      NewPush
	arrival *pushArrival // withdrawn once the batcher takes the push
	sealed  string       // in.FullXML sealed, done by the caller, off the writer goroutine
	apply   func(*PushTx) (string, error)
	done    chan pushRes
}

type pushRes struct {
	p   Push
	dup bool
	err error
}

type pushBatcher struct {
	s     *Store
	once  sync.Once
	reqs  chan *pushReq
	quit  chan struct{}
	ended chan struct{}

	coming atomic.Int64  // announced pushes not yet handed over or refused
	gone   chan struct{} // a signal (cap 1) that coming went down

	batches, pushes atomic.Int64 // committed so far, for PushBatchStats
}

// PushBatchStats reports how many push batches (commits) and pushes the
// batcher has run since Open.
func (s *Store) PushBatchStats() (batches, pushes int64) {
	return s.pushes.batches.Load(), s.pushes.pushes.Load()
}

// pushArrival is an announced push; see pushComing.
type pushArrival struct {
	b    *pushBatcher
	done atomic.Bool
}

// pushComing tells the batcher that a push is being verified and will
// likely be recorded in a moment, so that the batch about to commit waits
// for it. Done withdraws it (idempotent, so defer it).
func (s *Store) pushComing() *pushArrival {
	s.pushes.start()
	s.pushes.coming.Add(1)
	return &pushArrival{b: &s.pushes}
}

// Done withdraws the announcement (no-op after the first call or on nil).
func (a *pushArrival) Done() {
	if a == nil || !a.done.CompareAndSwap(false, true) {
		return
	}
	a.b.coming.Add(-1)
	select {
	case a.b.gone <- struct{}{}:
	default:
	}
}

func (b *pushBatcher) start() {
	b.once.Do(func() {
		b.reqs = make(chan *pushReq)
		b.quit = make(chan struct{})
		b.ended = make(chan struct{})
		b.gone = make(chan struct{}, 1)
		go b.loop()
	})
}

// stop ends the batching goroutine once the batch in hand is committed.
func (b *pushBatcher) stop() {
	b.start()
	select {
	case <-b.quit:
	default:
		close(b.quit)
	}
	<-b.ended
}

func (b *pushBatcher) record(ctx context.Context, in NewPush, arrival *pushArrival, apply func(*PushTx) (string, error)) (Push, bool, error) {
	b.start()
	defer arrival.Done()
	r := &pushReq{ctx: ctx, in: in, arrival: arrival, apply: apply, done: make(chan pushRes, 1),
		sealed: b.s.sealNonEmpty(in.FullXML, pushAD(in.DedupeKey))}
	select {
	case b.reqs <- r:
	case <-b.quit:
		return Push{}, false, errStoreClosed
	case <-ctx.Done():
		return Push{}, false, ctx.Err()
	}
	// Once handed over, wait for the commit even if ctx ends: the push may be
	// stored, and the answer must say so.
	res := <-r.done
	return res.p, res.dup, res.err
}

func (b *pushBatcher) loop() {
	defer close(b.ended)
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	last := 1 // the size of the previous batch
	for {
		var first *pushReq
		select {
		case first = <-b.reqs:
		case <-b.quit:
			return
		}
		first.arrival.Done()
		batch := []*pushReq{first}
		lingering := false
	gather:
		for len(batch) < maxPushBatch {
			select {
			case r := <-b.reqs:
				r.arrival.Done()
				batch = append(batch, r)
				continue
			default:
			}
			if len(batch) >= last && b.coming.Load() <= 0 {
				break
			}
			if !lingering {
				lingering = true
				linger.Reset(pushLinger)
			}
			select {
			case r := <-b.reqs:
				r.arrival.Done()
				batch = append(batch, r)
			case <-b.gone: // look at coming again
			case <-linger.C:
				lingering = false
				break gather
			}
		}
		if lingering {
			linger.Stop() // no stale tick follows (Go 1.23 timers)
		}
		last = len(batch)
		b.batches.Add(1)
		b.pushes.Add(int64(len(batch)))
		b.run(batch)
	}
}

// run records one batch in one transaction.
func (b *pushBatcher) run(batch []*pushReq) {
	s := b.s
	res := make([]pushRes, len(batch))
	ptxs := make([]*PushTx, len(batch))
	// Statements run without the callers' cancellation: an interrupted
	// INSERT would roll back the whole batch, not just its own push.
	bg := context.Background()
	tx, err := s.W.BeginTx(bg, nil)
	if err == nil {
		ins := tx.StmtContext(bg, s.hot.insertPush)
		var fast, slow []int
		for i, r := range batch {
			switch {
			case r.ctx.Err() != nil:
				res[i].err = r.ctx.Err()
			case r.apply == nil:
				fast = append(fast, i)
			default:
				slow = append(slow, i)
			}
		}
		if len(fast) > 0 {
			err = s.recordFast(tx, ins, batch, fast, res)
		}
		for _, i := range slow {
			if err != nil {
				break
			}
			r := batch[i]
			if _, err = tx.StmtContext(bg, s.hot.savepoint).ExecContext(bg); err != nil {
				break
			}
			ctx := context.WithoutCancel(r.ctx)
			res[i].p, res[i].dup, ptxs[i], res[i].err = s.recordPushTx(ctx, tx, ins, r.in, r.sealed, r.apply)
			if res[i].err != nil {
				ptxs[i] = nil
				if _, err = tx.StmtContext(bg, s.hot.rollbackToSavepoint).ExecContext(bg); err != nil {
					break
				}
			}
			_, err = tx.StmtContext(bg, s.hot.releaseSavepoint).ExecContext(bg)
		}
		if err == nil {
			err = tx.Commit()
			s.ckpt.poke()
			s.eventsCommitted()
		} else {
			tx.Rollback()
		}
	}
	for i, r := range batch {
		if err != nil {
			res[i] = pushRes{err: err}
		} else if ptxs[i] != nil {
			for _, f := range ptxs[i].after {
				f()
			}
		}
		r.done <- res[i]
	}
}

// recordFast records the pushes at idx (no apply func). Each push is one
// statement: an INSERT OR IGNORE, which SQLite runs without a statement
// journal (nothing in it can abort half-way), and a duplicate inserts
// nothing, so a push that fails leaves no trace and its neighbours stand.
// Their outcomes are worked out in arrival order as if applied one by one,
// and the newest ticket is written once. An error in that shared write
// fails the whole batch (err): nobody is answered "success", WeChat retries.
func (s *Store) recordFast(tx *sql.Tx, ins *sql.Stmt, batch []*pushReq, idx []int, res []pushRes) error {
	bg := context.Background()
	// The newest ticket CreateTime per component: stored, then as the batch
	// moves it. A ticket push is applied when it is at least as new, exactly
	// as saveTicketTx would decide one push after the other.
	type ticketState struct {
		createTime int64
		exists     bool // the component row is there
		winner     *pushReq
	}
	var tickets map[string]*ticketState
	for _, i := range idx {
		r := batch[i]
		in := r.in
		outcome := PushRecorded
		var ts *ticketState
		if t := in.Ticket; t != nil {
			if ts = tickets[t.ComponentAppID]; ts == nil {
				ts = &ticketState{}
				err := tx.StmtContext(bg, s.hot.ticketTime).QueryRowContext(bg, t.ComponentAppID).Scan(&ts.createTime)
				if err != nil && !errors.Is(err, sql.ErrNoRows) {
					return err
				}
				ts.exists = err == nil
				if tickets == nil {
					tickets = map[string]*ticketState{}
				}
				tickets[t.ComponentAppID] = ts
			}
			outcome = PushStale
			if t.CreateTime >= ts.createTime {
				outcome = PushApplied
			}
		}
		p, inserted, err := s.insertPush(bg, ins, in, r.sealed, outcome)
		if err != nil {
			res[i].err = err
			continue
		}
		if !inserted {
			p, err = s.countDuplicate(bg, tx, in)
			res[i] = pushRes{p: p, dup: true, err: err}
			continue
		}
		res[i] = pushRes{p: p}
		if outcome == PushApplied {
			ts.createTime, ts.winner = in.Ticket.CreateTime, r
		}
	}
	for appID, ts := range tickets {
		if ts.winner == nil {
			continue
		}
		t := ts.winner.in.Ticket
		if !ts.exists {
			if err := s.ensureComponentRow(bg, tx, appID); err != nil {
				return err
			}
		}
		saved, err := s.updateTicketTx(bg, tx, appID, t.Ticket, t.CreateTime, ts.winner.in.ReceivedAt)
		if err == nil && !saved {
			err = errors.New("store: newest ticket of the batch not saved")
		}
		if err != nil {
			return err
		}
	}
	return nil
}
