package platform

import (
	"context"
	"errors"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/wechat"
)

// Per-app business (web-view) domains, set directly on the app
// (setwebviewdomain_directly, docs/links.md). WeChat is the source of truth:
// every change reads the list first and sends only add and delete, never
// set, so what the merchant set in WeChat stays unless asked to go.

// MonthlyDomainChanges is WeChat's monthly limit of domain change requests
// per app (documented for server domains, 50; applied to business domains too).
const MonthlyDomainChanges = 50

// MaxWebviewDomains is WeChat's limit of business domains per app.
const MaxWebviewDomains = 300

// WebviewDomains is an app's business domains as WeChat has them now, with
// this month's changes and the verification file.
type WebviewDomains struct {
	Current     []string
	ChangesUsed int // this calendar month (in the viewer's time zone's month start: UTC+8)
	ChangesLeft int
	ConfirmFile *wechat.ConfirmFile
	// Served reports whether this platform serves the verification file at
	// its own web root (a domain of the platform itself passes the check).
	Served bool
}

// DomainPlan is what a change would do, read against WeChat's list.
type DomainPlan struct {
	Add, Remove, Keep []string
	// AlreadyThere and NotThere were asked for but change nothing.
	AlreadyThere, NotThere []string
}

// Empty reports a plan that would change nothing.
func (p DomainPlan) Empty() bool { return len(p.Add) == 0 && len(p.Remove) == 0 }

// chinaMonth is the start of the calendar month WeChat counts in (UTC+8).
func chinaMonth(t time.Time) time.Time {
	cst := time.FixedZone("CST", 8*3600)
	t = t.In(cst)
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, cst)
}

// ParseWebviewDomains reads domains typed one a line (or separated by
// spaces or commas): each becomes https://host, as WeChat wants it; a
// scheme other than https, a port, a path, an IP address refuse the field.
func ParseWebviewDomains(field, typed string) ([]string, error) {
	var out []string
	for _, d := range strings.FieldsFunc(typed, func(r rune) bool { return r == '\n' || r == '\r' || r == ' ' || r == ',' || r == '，' }) {
		if !strings.Contains(d, "://") {
			d = "https://" + d
		}
		u, err := url.Parse(d)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.Port() != "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			return nil, &model.Error{Code: model.CodeInvalid, Key: "domain.err.format", Field: field, Data: map[string]any{"Domain": d}}
		}
		h := strings.ToLower(u.Hostname())
		if net.ParseIP(h) != nil || !strings.Contains(h, ".") || !allowed(h, ".-") {
			return nil, &model.Error{Code: model.CodeInvalid, Key: "domain.err.format", Field: field, Data: map[string]any{"Domain": d}}
		}
		if d = "https://" + h; !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out, nil
}

func domainError(err error) error {
	var we *wechat.Error
	if !errors.As(err, &we) {
		return err
	}
	key := "domain.err.other"
	switch we.Code {
	case 85015, 85016, 86103, 61007, 47001:
		key = "domain.err." + strconv.Itoa(we.Code)
	}
	return &model.Error{Code: model.CodeInvalid, Key: key, Data: map[string]any{"Errcode": strconv.Itoa(we.Code)}, Err: err}
}

// WebviewDomains reads the app's business domains from WeChat.
func (r *Releases) WebviewDomains(ctx context.Context, tenantID int64, appID string, servedByUs func(name, content string) bool) (*WebviewDomains, error) {
	if _, err := r.Store.App(ctx, tenantID, appID); err != nil {
		return nil, err
	}
	var v WebviewDomains
	err := retryBusy(ctx, func() (err error) {
		v.Current, err = r.WeChat.SetWebviewDomainDirectly(ctx, appID, wechat.DomainGet, nil)
		return err
	})
	if err != nil {
		return nil, domainError(err)
	}
	changes, err := r.Store.DomainChangesSince(ctx, appID, "webview", chinaMonth(r.Now()))
	if err != nil {
		return nil, err
	}
	v.ChangesUsed = len(changes)
	v.ChangesLeft = max(0, MonthlyDomainChanges-v.ChangesUsed)
	if f, err := r.WeChat.WebviewDomainConfirmFile(ctx, appID); err == nil {
		v.ConfirmFile = f
		v.Served = servedByUs != nil && servedByUs(f.Name, f.Content)
	} else {
		r.Log.Warn("webview confirm file", "appid", appID, "err", err)
	}
	return &v, nil
}

// PlanWebviewDomains reads WeChat's list and says what adding add and
// removing remove would change.
func (r *Releases) PlanWebviewDomains(ctx context.Context, tenantID int64, appID string, add, remove []string) (DomainPlan, []string, error) {
	if _, err := r.Store.App(ctx, tenantID, appID); err != nil {
		return DomainPlan{}, nil, err
	}
	var cur []string
	err := retryBusy(ctx, func() (err error) {
		cur, err = r.WeChat.SetWebviewDomainDirectly(ctx, appID, wechat.DomainGet, nil)
		return err
	})
	if err != nil {
		return DomainPlan{}, nil, domainError(err)
	}
	var p DomainPlan
	for _, d := range add {
		if slices.Contains(cur, d) {
			p.AlreadyThere = append(p.AlreadyThere, d)
		} else if !slices.Contains(remove, d) {
			p.Add = append(p.Add, d)
		}
	}
	for _, d := range remove {
		if slices.Contains(cur, d) {
			p.Remove = append(p.Remove, d)
		} else {
			p.NotThere = append(p.NotThere, d)
		}
	}
	for _, d := range cur {
		if !slices.Contains(p.Remove, d) {
			p.Keep = append(p.Keep, d)
		}
	}
	if n := len(p.Keep) + len(p.Add); n > MaxWebviewDomains {
		return p, cur, model.FieldError("add", "domain.err.85016")
	}
	return p, cur, nil
}

// ChangeWebviewDomains applies a plan read again now (WeChat's list may
// have moved since the preview): add, then delete, each one change request
// counted against the month's limit and logged.
func (r *Releases) ChangeWebviewDomains(ctx context.Context, actor model.Actor, tenantID int64, appID string, add, remove []string) (DomainPlan, error) {
	p, _, err := r.PlanWebviewDomains(ctx, tenantID, appID, add, remove)
	if err != nil {
		return p, err
	}
	if p.Empty() {
		return p, model.Errorf(model.CodeInvalid, "domain.err.nothing")
	}
	changes, err := r.Store.DomainChangesSince(ctx, appID, "webview", chinaMonth(r.Now()))
	if err != nil {
		return p, err
	}
	need := 0
	if len(p.Add) > 0 {
		need++
	}
	if len(p.Remove) > 0 {
		need++
	}
	if len(changes)+need > MonthlyDomainChanges {
		return p, &model.Error{Code: model.CodeInvalid, Key: "domain.err.month",
			Data: map[string]any{"Used": strconv.Itoa(len(changes)), "Limit": strconv.Itoa(MonthlyDomainChanges)}}
	}
	for _, step := range []struct {
		action wechat.DomainAction
		list   []string
	}{{wechat.DomainAdd, p.Add}, {wechat.DomainDelete, p.Remove}} {
		if len(step.list) == 0 {
			continue
		}
		if _, err := r.WeChat.SetWebviewDomainDirectly(ctx, appID, step.action, step.list); err != nil {
			return p, domainError(err)
		}
		if err := r.Store.DomainsChanged(ctx, actor, tenantID, appID, "webview", string(step.action), step.list); err != nil {
			return p, err
		}
	}
	return p, nil
}
