package sandbox

import (
	"slices"
	"strconv"
	"time"
)

type liveVersion struct {
	appVersion  int
	userVersion string
	userDesc    string
	commitTime  time.Time
	auditID     int64
	pages       []string // the released version's pages: links and codes may open only these
}

// grayPlan statuses: 0 init, 1 running, 2 paused, 3 done, 4 deleted.
type grayPlan struct {
	status     int
	created    time.Time
	percentage int
	expFirst   bool
	debFirst   bool
}

const maxHistory = 5

func (s *Sandbox) apiRelease(c *call) any {
	var req struct{}
	if e := c.decode(&req); e != nil { // WeChat wants a literal {}
		return e
	}
	a := c.app
	au := a.latestAudit()
	switch {
	case au == nil:
		return fail(85019)
	case au.status != AuditApproved:
		return fail(85020)
	case au.released:
		return fail(85052)
	}
	au.released = true
	if a.code.live != nil {
		a.code.history = append(a.code.history, *a.code.live)
		if n := len(a.code.history); n > maxHistory {
			a.code.history = a.code.history[n-maxHistory:]
		}
	}
	a.code.appVersion++
	a.code.live = &liveVersion{appVersion: a.code.appVersion, userVersion: au.version.userVersion,
		userDesc: au.version.userDesc, commitTime: au.version.committed, auditID: au.id, pages: au.version.pages}
	if g := a.code.gray; g != nil && g.status == 1 {
		g.status = 3
	}
	// Releasing publishes the dev privacy guideline too.
	if dev := a.privacy[2]; dev != nil {
		live := *dev
		a.privacy[1] = &live
	}
	return nil
}

func (s *Sandbox) apiRevertCodeRelease(c *call) any {
	a := c.app
	q := c.r.URL.Query()
	if q.Get("action") == "get_history_version" {
		type item struct {
			AppVersion  int    `json:"app_version"`
			UserVersion string `json:"user_version"`
			UserDesc    string `json:"user_desc"`
			CommitTime  int64  `json:"commit_time"`
		}
		list := []item{}
		for _, v := range slices.Backward(a.code.history) {
			list = append(list, item{v.appVersion, v.userVersion, v.userDesc, v.commitTime.Unix()})
		}
		return struct {
			okEnvelope
			List []item `json:"version_list"`
		}{ok(), list}
	}
	if g := a.code.gray; g != nil && g.status == 1 {
		return fail(87011)
	}
	i := len(a.code.history) - 1
	if v := q.Get("app_version"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fail(87012)
		}
		i = slices.IndexFunc(a.code.history, func(h liveVersion) bool { return h.appVersion == n })
	}
	if i < 0 || a.code.live == nil {
		return fail(87012)
	}
	target := a.code.history[i]
	a.code.history = slices.Delete(a.code.history, i, len(a.code.history))
	a.code.live = &target
	return nil
}

func (s *Sandbox) apiGrayRelease(c *call) any {
	var req struct {
		Percentage       *int `json:"gray_percentage"`
		DebugerFirst     bool `json:"support_debuger_first"`
		ExperiencerFirst bool `json:"support_experiencer_first"`
	}
	if e := c.decode(&req); e != nil {
		return e
	}
	a := c.app
	au := a.latestAudit()
	g := a.code.gray
	switch {
	case a.code.live == nil:
		return fail(85079)
	case au == nil || au.status != AuditApproved || au.released:
		return fail(85080)
	case req.Percentage == nil || *req.Percentage < 1 || *req.Percentage > 100:
		return fail(85081)
	case g != nil && g.status == 1 && *req.Percentage <= g.percentage:
		return fail(85082)
	}
	if g == nil || g.status != 1 {
		g = &grayPlan{status: 1, created: c.now}
		a.code.gray = g
	}
	g.percentage, g.debFirst, g.expFirst = *req.Percentage, req.DebugerFirst, req.ExperiencerFirst
	return nil
}

func (s *Sandbox) apiRevertGrayRelease(c *call) any {
	if g := c.app.code.gray; g != nil && g.status == 1 {
		g.status = 4
	}
	return nil
}

func (s *Sandbox) apiGetGrayReleasePlan(c *call) any {
	type plan struct {
		Status           int   `json:"status"`
		CreateTimestamp  int64 `json:"create_timestamp"`
		GrayPercentage   int   `json:"gray_percentage"`
		ExperiencerFirst bool  `json:"support_experiencer_first"`
		DebugerFirst     bool  `json:"support_debuger_first"`
	}
	var p plan
	if g := c.app.code.gray; g != nil {
		p = plan{g.status, g.created.Unix(), g.percentage, g.expFirst, g.debFirst}
	}
	return struct {
		okEnvelope
		Plan plan `json:"gray_release_plan"`
	}{ok(), p}
}
