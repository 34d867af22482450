package web

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/views"
)

// The avatar proxy serves an authorizer's head_img from our own origin, which
// the CSP (img-src 'self') allows. It fetches only the URL stored for the app
// (nothing in the request chooses the target), only from WeChat's image
// hosts over https, only from public addresses (checked when dialing, after
// DNS), within a time and size limit, and only images; anything else gets a
// letter placeholder.
const (
	avatarTimeout  = 3 * time.Second
	avatarMaxBytes = 256 << 10
	avatarEntries  = 256
	avatarTTL      = time.Hour       // a fetched image
	avatarFailTTL  = 5 * time.Minute // a failure, so a dead host is not asked on every page view
	avatarCacheHdr = "private, max-age=3600"
)

// avatarTypes are the image types served as fetched; SVG is not one of them
// (it can carry script).
var avatarTypes = map[string]bool{"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true}

// avatarEntry is a cached answer: an image, or (body nil) a failure.
type avatarEntry struct {
	key     string
	body    []byte
	ctype   string
	expires time.Time
}

// avatarCache is a small LRU of fetched images (avatars keyed by appid and
// URL, audit screenshots by release and media id). The expirable LRU bounds
// its size and drops, in the background, what is older than any entry may
// live (cacheMaxTTL); each entry also carries its own expiry, read against
// the server's clock, so a failure is kept for less time than an image.
type avatarCache struct {
	lru *expirable.LRU[string, avatarEntry]
}

// cacheMaxTTL is the longest an avatarCache entry lives (a screenshot's).
const cacheMaxTTL = shotTTL

func newAvatarCache(max int) *avatarCache {
	return &avatarCache{lru: expirable.NewLRU[string, avatarEntry](max, nil, cacheMaxTTL)}
}

func (c *avatarCache) get(key string, now time.Time) (avatarEntry, bool) {
	e, ok := c.lru.Get(key)
	if !ok {
		return avatarEntry{}, false
	}
	if now.After(e.expires) {
		c.lru.Remove(key)
		return avatarEntry{}, false
	}
	return e, true
}

func (c *avatarCache) put(e avatarEntry) { c.lru.Add(e.key, e) }

func (c *avatarCache) len() int { return c.lru.Len() }

// avatarHosts are WeChat's image hosts: authorizers' head_img and users'
// avatars are served from them (wx.qlogo.cn and thirdwx.qlogo.cn for head
// images, mmbiz.qpic.cn and mmbiz.qlogo.cn for media). Nothing else is
// fetched.
var avatarHosts = []string{"wx.qlogo.cn", "thirdwx.qlogo.cn", "mmbiz.qpic.cn", "mmbiz.qlogo.cn"}

// avatarRules say what the proxy may reach. Production's (wechatAvatarRules)
// are https to avatarHosts, resolving to public addresses only; a Server
// takes them unless a test of this package sets Server.avatarFetch (an
// unexported field: nothing outside package web can loosen them).
type avatarRules struct {
	hosts   []string              // exact host names
	schemes []string              // what is fetched as is; http URLs on an allowed host are fetched over https when only https is allowed
	addr    func(netip.Addr) bool // checked on every address dialed, after DNS
	timeout time.Duration         // the whole fetch
}

func wechatAvatarRules() avatarRules {
	return avatarRules{hosts: avatarHosts, schemes: []string{"https"}, addr: publicAddr, timeout: avatarTimeout}
}

// avatarFetcher is a client bound to its rules.
type avatarFetcher struct {
	rules  avatarRules
	client *http.Client
}

var errAvatarAddr = errors.New("avatar: address not public")

// newAvatarFetcher builds the client for r: its dialer checks each address
// it connects to in the Control hook (so a name that resolves, or
// re-resolves, to a private address is refused whatever DNS answered
// before), no proxy from the environment (its address would be the one
// checked), redirects only within the same host and rules.
func newAvatarFetcher(r avatarRules) *avatarFetcher {
	d := &net.Dialer{Timeout: r.timeout, Control: func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil || !r.addr(ap.Addr()) {
			return errAvatarAddr
		}
		return nil
	}}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		TLSHandshakeTimeout:   r.timeout,
		ResponseHeaderTimeout: r.timeout,
		MaxIdleConns:          8,
		IdleConnTimeout:       30 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	f := &avatarFetcher{rules: r}
	f.client = &http.Client{Timeout: r.timeout, Transport: tr, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 3 {
			return errors.New("avatar: too many redirects")
		}
		if req.URL.Host != via[0].URL.Host || !slices.Contains(r.schemes, req.URL.Scheme) {
			return errors.New("avatar: redirect to another host")
		}
		return nil
	}}
	return f
}

// target is the URL fetched for a stored head_img: an allowed host, no
// user info, no port but the scheme's, an http URL upgraded to https when
// only https is allowed (WeChat hands out http:// head images whose hosts
// answer https).
func (f *avatarFetcher) target(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Opaque != "" {
		return nil, errors.New("avatar: not an absolute URL")
	}
	if u.Scheme == "http" && !slices.Contains(f.rules.schemes, "http") && slices.Contains(f.rules.schemes, "https") {
		u.Scheme = "https"
	}
	if !slices.Contains(f.rules.schemes, u.Scheme) {
		return nil, fmt.Errorf("avatar: scheme %q", u.Scheme)
	}
	if !slices.Contains(f.rules.hosts, u.Host) { // u.Host: a port, even the default one, is not on the list
		return nil, fmt.Errorf("avatar: host %q not allowed", u.Host)
	}
	return u, nil
}

// nonPublic are ranges netip's predicates do not cover that no image host
// of WeChat's is in: this network, shared (CGNAT), IETF protocol
// assignments, benchmarking, reserved, and the IPv6 prefixes that embed an
// IPv4 address (NAT64, 6to4) or are deprecated site-local.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"), netip.MustParsePrefix("100.64.0.0/10"), netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.18.0.0/15"), netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"), netip.MustParsePrefix("64:ff9b:1::/48"), netip.MustParsePrefix("2002::/16"),
	netip.MustParsePrefix("fec0::/10"), netip.MustParsePrefix("100::/64"), netip.MustParsePrefix("2001:db8::/32"),
}

// publicAddr reports whether a is a public unicast address: not loopback,
// private, link-local, multicast, unspecified or one of nonPublic.
func publicAddr(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// defaultAvatars is production's fetcher, shared by every Server.
var defaultAvatars = newAvatarFetcher(wechatAvatarRules())

// fetchAvatar GETs raw (an authorizer's stored head_img) and returns the
// image and its type, or an error when it is not a small image from an
// allowed host.
func (s *Server) fetchAvatar(ctx context.Context, raw string) ([]byte, string, error) {
	f := s.avatarFetch
	if s.Sandbox != nil && s.SandboxAssets != "" && strings.HasPrefix(raw, s.SandboxAssets+"/") {
		f = sandboxAvatars(s.Sandbox, s.SandboxAssets) // sandbox mode: the emulator's images, in process
	}
	u, err := f.target(raw)
	if err != nil {
		return nil, "", err
	}
	ctx, cancel := context.WithTimeout(ctx, f.rules.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Accept", "image/png, image/jpeg, image/gif, image/webp")
	res, err := f.client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("avatar: status %d", res.StatusCode)
	}
	declared, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if !avatarTypes[declared] {
		return nil, "", fmt.Errorf("avatar: content type %q", declared)
	}
	if res.ContentLength > avatarMaxBytes {
		return nil, "", errors.New("avatar: too large")
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, avatarMaxBytes+1))
	if err != nil {
		return nil, "", err
	}
	if len(body) > avatarMaxBytes {
		return nil, "", errors.New("avatar: too large")
	}
	// The bytes must be an image too, whatever the header says.
	sniffed := http.DetectContentType(body)
	if !avatarTypes[sniffed] {
		return nil, "", fmt.Errorf("avatar: body is %q", sniffed)
	}
	return body, sniffed, nil
}

// sandboxAvatars fetches the emulator's head images (under assets, the
// base its rig gave it) by calling its handler in process: sandbox mode
// needs no network exception, and no URL outside assets goes this way.
func sandboxAvatars(sb http.Handler, assets string) *avatarFetcher {
	base, _ := url.Parse(assets)
	f := &avatarFetcher{rules: avatarRules{hosts: []string{base.Host}, schemes: []string{base.Scheme}, timeout: avatarTimeout}}
	f.client = &http.Client{Timeout: avatarTimeout, Transport: handlerTransport{sb, strings.TrimSuffix(base.Path, "/")},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return f
}

// handlerTransport answers requests with an in-process handler (the
// emulator's, which sees paths without prefix, as its /sandbox mount does).
type handlerTransport struct {
	h      http.Handler
	prefix string
}

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.URL.Path = strings.TrimPrefix(r.URL.Path, t.prefix)
	r.URL.RawPath = ""
	r.RequestURI = r.URL.RequestURI()
	w := httptest.NewRecorder()
	t.h.ServeHTTP(w, r)
	res := w.Result()
	res.Request = req
	return res, nil
}

// serveAvatar answers with a's head image, or its letter placeholder.
func (s *Server) serveAvatar(c *fiber.Ctx, a model.App) error {
	c.Set(fiber.HeaderCacheControl, avatarCacheHdr)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	if a.HeadImg != "" {
		key := a.AppID + "\x00" + a.HeadImg
		now := s.Now()
		e, ok := s.avatars.get(key, now)
		if !ok {
			body, ctype, err := s.fetchAvatar(c.UserContext(), a.HeadImg)
			e = avatarEntry{key: key, body: body, ctype: ctype, expires: now.Add(avatarTTL)}
			if err != nil {
				s.Log.Info("avatar fetch failed", "appid", a.AppID, "err", err)
				e = avatarEntry{key: key, expires: now.Add(avatarFailTTL)}
			}
			s.avatars.put(e)
		}
		if e.body != nil {
			c.Set(fiber.HeaderContentType, e.ctype)
			return c.Send(e.body)
		}
	}
	c.Set(fiber.HeaderContentType, "image/svg+xml")
	return c.SendString(avatarPlaceholder(views.AppInitial(a)))
}

// avatarPlaceholder is a square SVG with one letter.
func avatarPlaceholder(letter string) string {
	return `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">` +
		`<rect width="64" height="64" rx="10" fill="#eef1f5"/>` +
		`<text x="32" y="32" dy=".35em" text-anchor="middle" font-family="system-ui, sans-serif" font-size="30" font-weight="600" fill="#4a5568">` +
		html.EscapeString(strings.TrimSpace(letter)) + `</text></svg>`
}

// tenantAppAvatar is the head image of one of the current tenant's apps;
// another tenant's appid is simply not found.
func (s *Server) tenantAppAvatar(c *fiber.Ctx) error {
	a, err := s.Store.App(c.UserContext(), currentTenant(c).ID, c.Params("appid"))
	if err != nil {
		return err
	}
	return s.serveAvatar(c, a)
}

// staffAppAvatar is any app's head image (staff).
func (s *Server) staffAppAvatar(c *fiber.Ctx) error {
	a, err := s.Store.AppForStaff(c.UserContext(), c.Params("appid"))
	if err != nil {
		return err
	}
	return s.serveAvatar(c, a)
}
