package sandbox

import (
	"context"
	"sort"
	"time"
)

// scheduled is a future state change (ticket push, audit decision). fn runs
// with s.mu held.
type scheduled struct {
	at time.Time
	fn func(now time.Time)
}

func (s *Sandbox) scheduleLocked(at time.Time, fn func(now time.Time)) {
	s.schedule = append(s.schedule, scheduled{at: at, fn: fn})
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// pumpLocked runs everything that is due. API handlers call it too, so state
// read through the API always matches the clock even if the loop lags.
func (s *Sandbox) pumpLocked() {
	for {
		now := s.clock.Now()
		sort.SliceStable(s.schedule, func(i, j int) bool { return s.schedule[i].at.Before(s.schedule[j].at) })
		if len(s.schedule) == 0 || s.schedule[0].at.After(now) {
			return
		}
		next := s.schedule[0]
		s.schedule = s.schedule[1:]
		next.fn(next.at)
	}
}

func (s *Sandbox) loop(ctx context.Context) {
	defer s.loopWG.Done()
	for {
		s.mu.Lock()
		s.pumpLocked()
		var due <-chan time.Time
		if len(s.schedule) > 0 {
			due = s.clock.At(s.schedule[0].at)
		}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-due:
		}
	}
}

// ticketTick pushes a ticket and re-arms itself on a fixed cadence; WeChat
// keeps pushing regardless of earlier delivery failures.
func (s *Sandbox) ticketTick(at time.Time) {
	s.pushTicketLocked()
	s.scheduleLocked(at.Add(s.opts.TicketInterval), s.ticketTick)
}
