package web

import (
	"net"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/authz"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/app/wechat"
	"github.com/minifleet/minifleet/views"
)

// domainFields are the form's fields: the list each fills and the scheme
// WeChat requires in it.
var domainFields = []struct {
	Name, Scheme string
	list         func(*wechat.ServerDomains) *[]string
}{
	{"requestdomain", "https", func(d *wechat.ServerDomains) *[]string { return &d.RequestDomain }},
	{"wsrequestdomain", "wss", func(d *wechat.ServerDomains) *[]string { return &d.WsRequestDomain }},
	{"uploaddomain", "https", func(d *wechat.ServerDomains) *[]string { return &d.UploadDomain }},
	{"downloaddomain", "https", func(d *wechat.ServerDomains) *[]string { return &d.DownloadDomain }},
}

// staffDomains shows the server domains preflight sets on every app.
func (s *Server) staffDomains(c *fiber.Ctx) error {
	d, err := s.Releases.ServerDomains(c.UserContext())
	if err != nil {
		return err
	}
	return s.render(c, views.DomainsPage(s.page(c, "domains.title", "domains.help"), s.domainsView(c, domainsFormOf(d).View())))
}

func (s *Server) domainsView(c *fiber.Ctx, f views.Form) views.DomainsView {
	v := views.DomainsView{Form: f, CanWrite: s.can(c, authz.PermWeChatWrite), AppServerDomains: s.Releases.AppServerDomainsAllowed(c.UserContext())}
	for _, fd := range domainFields {
		v.Fields = append(v.Fields, views.DomainField{Name: fd.Name, Scheme: fd.Scheme})
	}
	return v
}

// staffDomainsSave checks every line of every list; on any error nothing is
// stored and the form keeps what was typed.
func (s *Server) staffDomainsSave(c *fiber.Ctx) error {
	df := NewDomainsForm(c)
	d, err := df.Domains()
	if err == nil {
		if err := s.Releases.SetServerDomains(c.UserContext(), actor(c), d); err != nil {
			return err
		}
		return s.redirectFlash(c, paths.StaffDomains, "domains.saved")
	}
	f := df.View()
	formError(&f, err)
	c.Status(fiber.StatusUnprocessableEntity)
	return s.render(c, views.DomainsPage(s.page(c, "domains.title", "domains.help"), s.domainsView(c, f)))
}

// parseDomains reads one origin a line ("api.example.com" gets the scheme),
// normalized to scheme://host[:port], without duplicates. bad is the first
// line that is not a public host with the scheme.
func parseDomains(raw, scheme string) (list []string, bad string) {
	seen := map[string]bool{}
	for _, line := range strings.Split(raw, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		s := line
		if !strings.Contains(s, "://") {
			s = scheme + "://" + s
		}
		u, err := url.Parse(s)
		if err != nil || u.Scheme != scheme || u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") || !publicHost(u.Hostname()) {
			return nil, line
		}
		o := scheme + "://" + strings.ToLower(u.Host)
		if !seen[o] {
			seen[o] = true
			list = append(list, o)
		}
	}
	return list, ""
}

// publicHost: a domain name with a dot, not an IP address nor localhost
// (WeChat accepts neither).
func publicHost(h string) bool {
	if h == "" || net.ParseIP(h) != nil || !strings.Contains(h, ".") || strings.HasSuffix(h, ".") || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}
