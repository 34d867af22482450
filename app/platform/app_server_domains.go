package platform

import (
	"context"
	"errors"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/wechat"
)

// Per-app server domains (服务器域名) set directly on an app
// (modify_domain_directly), when the provider allows it: the platform
// setting SettingAppServerDomains. Read first, add/delete only, every list
// the doc marks required sent (docs/links.md).

// SettingAppServerDomains (bool) lets owners and developers set their own
// apps' server domains.
const SettingAppServerDomains = "app_server_domains"

// ServerDomainKinds are the lists a merchant may change, with the scheme
// each requires; udp and tcp are sent as WeChat has them (never changed here).
var ServerDomainKinds = []struct{ Name, Scheme string }{
	{"requestdomain", "https"}, {"wsrequestdomain", "wss"}, {"uploaddomain", "https"}, {"downloaddomain", "https"},
}

func serverList(d *wechat.ServerDomains, kind string) *[]string {
	switch kind {
	case "requestdomain":
		return &d.RequestDomain
	case "wsrequestdomain":
		return &d.WsRequestDomain
	case "uploaddomain":
		return &d.UploadDomain
	case "downloaddomain":
		return &d.DownloadDomain
	}
	return nil
}

// AppServerDomainsAllowed reports the platform setting (off when unset).
func (r *Releases) AppServerDomainsAllowed(ctx context.Context) bool {
	var on bool
	if err := r.Store.Setting(ctx, SettingAppServerDomains, &on); err != nil {
		return false
	}
	return on
}

// SetAppServerDomainsAllowed changes the platform setting.
func (r *Releases) SetAppServerDomainsAllowed(ctx context.Context, actor model.Actor, on bool) error {
	return r.Store.SetSetting(ctx, actor, SettingAppServerDomains, on)
}

// ParseServerDomains reads one list as typed (one a line): scheme://host
// with an optional port, no path, no IP address.
func ParseServerDomains(field, scheme, typed string) ([]string, error) {
	var out []string
	for _, d := range strings.FieldsFunc(typed, func(r rune) bool { return r == '\n' || r == '\r' || r == ' ' || r == ',' }) {
		if !strings.Contains(d, "://") {
			d = scheme + "://" + d
		}
		u, err := url.Parse(d)
		if err != nil || u.Scheme != scheme || u.Hostname() == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil ||
			net.ParseIP(u.Hostname()) != nil || !strings.Contains(u.Hostname(), ".") || strings.EqualFold(u.Hostname(), "api.weixin.qq.com") {
			return nil, model.FieldError(field, "domain.err.server_format")
		}
		if d = scheme + "://" + strings.ToLower(u.Host); !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out, nil
}

// ServerDomainPlan is a change per list, read against WeChat's lists.
type ServerDomainPlan struct {
	Add, Remove wechat.ServerDomains
	Current     wechat.ServerDomains
}

// Empty reports a plan that changes nothing.
func (p ServerDomainPlan) Empty() bool {
	for _, k := range ServerDomainKinds {
		if len(*serverList(&p.Add, k.Name)) > 0 || len(*serverList(&p.Remove, k.Name)) > 0 {
			return false
		}
	}
	return true
}

func (r *Releases) readServerDomains(ctx context.Context, appID string) (wechat.ServerDomains, error) {
	var cur *wechat.ServerDomainsResult
	err := retryBusy(ctx, func() (err error) {
		cur, err = r.WeChat.ModifyDomainDirectly(ctx, appID, wechat.DomainGet, wechat.ServerDomains{})
		return err
	})
	if err != nil {
		return wechat.ServerDomains{}, domainError(err)
	}
	return cur.ServerDomains, nil
}

// AppServerDomains reads an app's server domains from WeChat.
func (r *Releases) AppServerDomains(ctx context.Context, tenantID int64, appID string) (wechat.ServerDomains, int, error) {
	if _, err := r.Store.App(ctx, tenantID, appID); err != nil {
		return wechat.ServerDomains{}, 0, err
	}
	cur, err := r.readServerDomains(ctx, appID)
	if err != nil {
		return cur, 0, err
	}
	changes, err := r.Store.DomainChangesSince(ctx, appID, "server", chinaMonth(r.Now()))
	return cur, len(changes), err
}

// PlanServerDomains reads WeChat's lists and keeps of add only what is not
// there and of remove only what is.
func (r *Releases) PlanServerDomains(ctx context.Context, tenantID int64, appID string, add, remove wechat.ServerDomains) (ServerDomainPlan, error) {
	if !r.AppServerDomainsAllowed(ctx) {
		return ServerDomainPlan{}, model.Errorf(model.CodeForbidden, "domain.err.server_off")
	}
	if _, err := r.Store.App(ctx, tenantID, appID); err != nil {
		return ServerDomainPlan{}, err
	}
	cur, err := r.readServerDomains(ctx, appID)
	if err != nil {
		return ServerDomainPlan{}, err
	}
	p := ServerDomainPlan{Current: cur}
	for _, k := range ServerDomainKinds {
		have := *serverList(&cur, k.Name)
		for _, d := range *serverList(&add, k.Name) {
			if !slices.Contains(have, d) {
				*serverList(&p.Add, k.Name) = append(*serverList(&p.Add, k.Name), d)
			}
		}
		for _, d := range *serverList(&remove, k.Name) {
			if slices.Contains(have, d) {
				*serverList(&p.Remove, k.Name) = append(*serverList(&p.Remove, k.Name), d)
			}
		}
		if len(have)+len(*serverList(&p.Add, k.Name)) > 200 {
			return p, model.FieldError("add_"+k.Name, "domain.err.85016")
		}
	}
	return p, nil
}

// ChangeServerDomains applies a plan read again now: one add and one
// delete at most, each a change request counted and logged.
func (r *Releases) ChangeServerDomains(ctx context.Context, actor model.Actor, tenantID int64, appID string, add, remove wechat.ServerDomains) (ServerDomainPlan, error) {
	p, err := r.PlanServerDomains(ctx, tenantID, appID, add, remove)
	if err != nil {
		return p, err
	}
	if p.Empty() {
		return p, model.Errorf(model.CodeInvalid, "domain.err.nothing")
	}
	changes, err := r.Store.DomainChangesSince(ctx, appID, "server", chinaMonth(r.Now()))
	if err != nil {
		return p, err
	}
	steps := []struct {
		action wechat.DomainAction
		lists  wechat.ServerDomains
	}{{wechat.DomainAdd, p.Add}, {wechat.DomainDelete, p.Remove}}
	need := 0
	for _, s := range steps {
		if !(ServerDomainPlan{Add: s.lists}).Empty() {
			need++
		}
	}
	if len(changes)+need > MonthlyDomainChanges {
		return p, &model.Error{Code: model.CodeInvalid, Key: "domain.err.month",
			Data: map[string]any{"Used": strconv.Itoa(len(changes)), "Limit": strconv.Itoa(MonthlyDomainChanges)}}
	}
	for _, s := range steps {
		if (ServerDomainPlan{Add: s.lists}).Empty() {
			continue
		}
		if _, err := r.WeChat.ModifyDomainDirectly(ctx, appID, s.action, s.lists); err != nil {
			var we *wechat.Error
			if errors.As(err, &we) {
				return p, domainError(err)
			}
			return p, err
		}
		var all []string
		for _, k := range ServerDomainKinds {
			all = append(all, *serverList(&s.lists, k.Name)...)
		}
		if err := r.Store.DomainsChanged(ctx, actor, tenantID, appID, "server", string(s.action), all); err != nil {
			return p, err
		}
	}
	return p, nil
}
