package platform

import (
	"context"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat"
)

// The go-live checklist: what WeChat and a provider's launch day need, each
// line true or false from what the platform has seen, with the fix in words
// (the translations "golive.<key>.title/ok/fix" take Data).

// GoLiveCheck is one line of the checklist.
type GoLiveCheck struct {
	Key  string // ticket, token, push_component, push_app, auth_domain, site_files, whitelist, publish_test, templates, contacts, secret
	OK   bool
	Data map[string]any
}

// GoLiveEnv is what the checklist needs of the configuration.
type GoLiveEnv struct {
	BaseURL       string
	Live          bool
	SecretFromEnv bool // the secret key came from MINIFLEET_SECRET_KEY
}

// pushRecent is how recent the component URL's last push must be: WeChat
// pushes a ticket every ten minutes.
const pushRecent = 30 * time.Minute

// GoLive evaluates the checklist now.
func (p *Platform) GoLive(ctx context.Context, env GoLiveEnv) ([]GoLiveCheck, error) {
	now := p.now()
	h, err := p.Store.ComponentHealth(ctx, p.componentAppID)
	if err != nil && !model.IsNotFound(err) {
		return nil, err
	}
	var testIDs []string
	for _, a := range wechat.PublishTestAccounts {
		testIDs = append(testIDs, a.AppID)
	}
	f, err := p.Store.GoLiveFacts(ctx, testIDs, JobPublishCheckAPI)
	if err != nil {
		return nil, err
	}
	var out []GoLiveCheck
	add := func(key string, ok bool, data map[string]any) {
		out = append(out, GoLiveCheck{Key: key, OK: ok, Data: data})
	}
	add("ticket", h.HasTicket && now.Sub(h.TicketReceivedAt) <= p.Vault.TicketMaxAge,
		map[string]any{"At": h.TicketReceivedAt, "Seen": h.HasTicket})
	add("token", h.HasToken && now.Before(h.TokenExpiresAt),
		map[string]any{"Expires": h.TokenExpiresAt, "Error": h.LastError})
	add("push_component", !f.LastComponentPush.IsZero() && now.Sub(f.LastComponentPush) <= pushRecent,
		map[string]any{"At": f.LastComponentPush, "Seen": !f.LastComponentPush.IsZero()})
	add("push_app", !f.LastAppPush.IsZero(), map[string]any{"At": f.LastAppPush})
	host, public := authDomain(env.BaseURL)
	add("auth_domain", public, map[string]any{"Host": host})
	add("site_files", f.SiteFiles > 0, map[string]any{"N": f.SiteFiles})
	refused := ExplainUpstream(h.LastError) // the IP WeChat names in a 61004
	add("whitelist", refused.Errcode != 61004, map[string]any{"IP": refused.IP})
	add("publish_test", f.TestPushes > 0 && f.TestAnswers[store.JobFailed] == 0 && f.TestAnswers[store.JobDone] > 0,
		map[string]any{"N": f.TestPushes, "Failed": f.TestAnswers[store.JobFailed]})
	add("templates", f.Templates > 0, map[string]any{"N": f.Templates})
	add("contacts", f.TenantsNoContact == 0, map[string]any{"N": f.TenantsNoContact})
	add("secret", !env.Live || env.SecretFromEnv, map[string]any{"Live": env.Live})
	return out, nil
}

// authDomain is the base URL's host and whether WeChat can use it as the
// authorization page's domain: https and a public name.
func authDomain(baseURL string) (string, bool) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Hostname() == "" {
		return "", false
	}
	host := u.Hostname()
	if u.Scheme != "https" || host == "localhost" || strings.HasSuffix(host, ".localhost") || !strings.Contains(host, ".") {
		return host, false
	}
	if ip := net.ParseIP(host); ip != nil && (ip.IsLoopback() || ip.IsPrivate() || ip.IsUnspecified() || ip.IsLinkLocalUnicast()) {
		return host, false
	}
	return host, true
}
