package sandbox

import "time"

// WeChat counts days and months in China Standard Time.
var cst = time.FixedZone("CST", 8*3600)

func dayKey(t time.Time) string   { return t.In(cst).Format("2006-01-02") }
func monthKey(t time.Time) string { return t.In(cst).Format("2006-01") }

// quotaBook counts calls against daily API quotas and the platform's monthly
// audit budgets.
type quotaBook struct {
	daily   map[string]int // day|api → calls
	audits  map[string]int // month → submit_audit successes
	speedup map[string]int // month → speedupaudit successes
	clears  map[string]int // month|appid → clear_quota successes
}

func (q *quotaBook) init() {
	q.daily = map[string]int{}
	q.audits = map[string]int{}
	q.speedup = map[string]int{}
	q.clears = map[string]int{}
}

// spend counts one call and reports whether it is within limit (0 = unlimited).
func (q *quotaBook) spend(api string, now time.Time, limit int) bool {
	k := dayKey(now) + "|" + api
	if limit > 0 && q.daily[k] >= limit {
		return false
	}
	q.daily[k]++
	return true
}

func (q *quotaBook) used(api string, now time.Time) int { return q.daily[dayKey(now)+"|"+api] }
