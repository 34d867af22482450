package sandbox

import (
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// faults holds injected failures. It lives under s.mu except latency, which
// is read before the lock is taken.
type faults struct {
	queued map[string][]queuedFault // api → remaining forced errors
	rates  map[string]rateFault
}

type queuedFault struct{ code, times int }

type rateFault struct {
	rate float64
	code int
}

func (f *faults) init() {
	f.queued = map[string][]queuedFault{}
	f.rates = map[string]rateFault{}
}

// take returns the error an API call must fail with, if any. "*" matches every API.
func (f *faults) take(api string, rnd *rand.Rand) *apiError {
	for _, key := range []string{api, "*"} {
		q := f.queued[key]
		if len(q) == 0 {
			continue
		}
		code := q[0].code
		if q[0].times--; q[0].times <= 0 {
			q = q[1:]
		}
		f.queued[key] = q
		return fail(code)
	}
	for _, key := range []string{api, "*"} {
		if r, found := f.rates[key]; found && rnd.Float64() < r.rate {
			return fail(r.code)
		}
	}
	return nil
}

// InjectError makes the next times calls of api fail with errcode. api is a
// name as in CallCount, a path, or "*" for every API. Injections queue up.
func (s *Sandbox) InjectError(api string, errcode, times int) {
	if times <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	api = s.apiName(api)
	s.faults.queued[api] = append(s.faults.queued[api], queuedFault{code: errcode, times: times})
}

// SetFailureRate makes a fraction of api's calls fail with errcode (rate 0 turns it off).
func (s *Sandbox) SetFailureRate(api string, rate float64, errcode int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	api = s.apiName(api)
	if rate <= 0 {
		delete(s.faults.rates, api)
		return
	}
	s.faults.rates[api] = rateFault{rate: rate, code: errcode}
}

// SetLatency delays every API answer by d (real time: it emulates the network).
func (s *Sandbox) SetLatency(d time.Duration) { s.latencyNS.Store(int64(d)) }

func (s *Sandbox) latency() time.Duration { return time.Duration(s.latencyNS.Load()) }

// CallCount reports how many times an API was called, by name
// ("api_component_token", "commit", "submit_audit", …) or by path.
func (s *Sandbox) CallCount(api string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[s.apiName(api)]
}

// CallCounts reports every API's call count so far, by name.
func (s *Sandbox) CallCounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.calls)
}

// AppSuccessCount reports how many calls of api for one authorizer
// succeeded: tests prove with it that nothing was committed or submitted twice.
func (s *Sandbox) AppSuccessCount(api, appID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.appOK[s.apiName(api)+"|"+appID]
}

// apiName maps a path ("/wxa/commit") to its API name; names pass through.
func (s *Sandbox) apiName(api string) string {
	if !strings.HasPrefix(api, "/") {
		return api
	}
	for _, rt := range s.routes {
		if rt.path == api {
			return rt.name
		}
	}
	return api
}

// SetAllowedIPs replaces the component IP whitelist at run time (nil: every
// address is allowed): a server outside it gets 61004 naming its address,
// as WeChat answers a whitelist mistake.
func (s *Sandbox) SetAllowedIPs(ips []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.AllowedIPs = slices.Clone(ips)
}
