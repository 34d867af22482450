package store

import (
	"context"
	"errors"
	"sync"
)

// Pushes arrive in bursts (WeChat retries, many apps' audit results at once)
// and each must be durable before we answer "success". One SQLite commit per
// push caps intake at the commit rate, so concurrent pushes are grouped:
// one goroutine takes every push waiting, runs each inside its own SAVEPOINT
// (a failing push rolls back alone), and commits them together. A caller
// returns only after the commit that holds its push.

const maxPushBatch = 128

var errStoreClosed = errors.New("store: closed")

type pushReq struct {
	ctx   context.Context
	in    NewPush
	apply func(*PushTx) (string, error)
	done  chan pushRes
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
}

func (b *pushBatcher) start() {
	b.once.Do(func() {
		b.reqs = make(chan *pushReq)
		b.quit = make(chan struct{})
		b.ended = make(chan struct{})
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

func (b *pushBatcher) record(ctx context.Context, in NewPush, apply func(*PushTx) (string, error)) (Push, bool, error) {
	b.start()
	r := &pushReq{ctx: ctx, in: in, apply: apply, done: make(chan pushRes, 1)}
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
	for {
		var first *pushReq
		select {
		case first = <-b.reqs:
		case <-b.quit:
			return
		}
		batch := []*pushReq{first}
	drain:
		for len(batch) < maxPushBatch {
			select {
			case r := <-b.reqs:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		b.run(batch)
	}
}

// run records one batch in one transaction, a savepoint per push.
func (b *pushBatcher) run(batch []*pushReq) {
	s := b.s
	res := make([]pushRes, len(batch))
	ptxs := make([]*PushTx, len(batch))
	// Statements run without the callers' cancellation: an interrupted
	// INSERT would roll back the whole batch, not just its own push.
	bg := context.Background()
	tx, err := s.W.BeginTx(bg, nil)
	if err == nil {
		for i, r := range batch {
			if err = r.ctx.Err(); err != nil {
				res[i].err = err
				err = nil
				continue
			}
			if _, err = s.execTx(bg, tx, `SAVEPOINT push`); err != nil {
				break
			}
			ctx := context.WithoutCancel(r.ctx)
			res[i].p, res[i].dup, ptxs[i], res[i].err = s.recordPushTx(ctx, tx, r.in, r.apply)
			if res[i].err != nil {
				ptxs[i] = nil
				if _, err = s.execTx(bg, tx, `ROLLBACK TO push`); err != nil {
					break
				}
			}
			if _, err = s.execTx(bg, tx, `RELEASE push`); err != nil {
				break
			}
		}
		if err == nil {
			err = tx.Commit()
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
