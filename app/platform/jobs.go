package platform

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
)

// JobHandler runs one job. Returning an error retries it with backoff;
// Permanent(err) fails it for good.
type JobHandler func(ctx context.Context, j store.Job) error

type permanentError struct{ error }

func (e permanentError) Unwrap() error { return e.error }

// Permanent marks err as not worth retrying.
func Permanent(err error) error { return permanentError{err} }

// Jobs runs durable jobs from the store. Only the process holding the
// "jobs" lease runs them; a job whose process died mid-run is claimed
// again once its own lease ends.
type Jobs struct {
	st     *store.Store
	now    func() time.Time
	holder string
	log    *slog.Logger
	kick   chan struct{}

	mu       sync.RWMutex
	handlers map[string]JobHandler

	// Tunables; tests shorten them.
	Lease       time.Duration // a claimed job's lease; a dead process's job waits this long
	Tick        time.Duration // how often Run looks for due jobs
	BaseBackoff time.Duration // first retry delay, doubled per attempt, jittered
	MaxBackoff  time.Duration
}

const jobsLease = "jobs"

func newJobs(st *store.Store, now func() time.Time, holder string, log *slog.Logger) *Jobs {
	return &Jobs{
		st: st, now: now, holder: holder, log: log,
		kick:        make(chan struct{}, 1),
		handlers:    map[string]JobHandler{},
		Lease:       2 * time.Minute,
		Tick:        2 * time.Second,
		BaseBackoff: 10 * time.Second,
		MaxBackoff:  time.Hour,
	}
}

// Handle registers the handler of a job kind.
func (js *Jobs) Handle(kind string, h JobHandler) {
	js.mu.Lock()
	defer js.mu.Unlock()
	js.handlers[kind] = h
}

// Kick wakes Run to look for due jobs now.
func (js *Jobs) Kick() {
	select {
	case js.kick <- struct{}{}:
	default:
	}
}

// Run claims and runs due jobs while this process holds the jobs lease,
// until ctx ends.
func (js *Jobs) Run(ctx context.Context) {
	t := time.NewTicker(js.Tick)
	defer t.Stop()
	defer js.st.ReleaseLease(context.WithoutCancel(ctx), jobsLease, js.holder)
	for {
		ok, err := js.st.AcquireLease(ctx, jobsLease, js.holder, js.now(), 3*js.Tick+5*time.Second)
		if err != nil && ctx.Err() == nil {
			js.log.Error("jobs lease", "err", err)
		}
		if ok {
			if _, err := js.RunDue(ctx); err != nil && ctx.Err() == nil {
				js.log.Error("jobs", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-js.kick:
		}
	}
}

// RunDue runs every job due now, one after another, and returns how many ran.
func (js *Jobs) RunDue(ctx context.Context) (int, error) {
	n := 0
	for ctx.Err() == nil {
		j, err := js.st.ClaimJob(ctx, js.holder, js.now(), js.Lease)
		if model.IsNotFound(err) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
		if err := js.run(ctx, j); err != nil {
			return n, err
		}
	}
	return n, ctx.Err()
}

func (js *Jobs) run(ctx context.Context, j store.Job) error {
	js.mu.RLock()
	h := js.handlers[j.Kind]
	js.mu.RUnlock()
	var err error
	if h == nil {
		err = fmt.Errorf("no handler for job kind %q", j.Kind)
	} else {
		// Finish well inside the lease, or another process would run it too.
		hctx, cancel := context.WithTimeout(ctx, js.Lease*3/4)
		err = safeRun(hctx, h, j)
		cancel()
	}
	if err == nil {
		return js.st.CompleteJob(ctx, j.ID, js.holder)
	}
	var perm permanentError
	final := errors.As(err, &perm) || j.Attempts >= j.MaxAttempts
	retry := js.now().Add(js.backoff(j.Attempts))
	js.log.Warn("job failed", "id", j.ID, "kind", j.Kind, "attempt", j.Attempts, "final", final, "err", err)
	return js.st.FailJob(ctx, j.ID, js.holder, err.Error(), retry, final)
}

// backoff doubles from BaseBackoff per attempt up to MaxBackoff, with
// jitter over its upper half so that retries of many jobs do not line up.
func (js *Jobs) backoff(attempt int) time.Duration {
	d := js.BaseBackoff
	for i := 1; i < attempt && d < js.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, js.MaxBackoff)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

func safeRun(ctx context.Context, h JobHandler, j store.Job) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("job panicked: %v", r)
		}
	}()
	return h(ctx, j)
}
