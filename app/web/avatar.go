package web

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/views"
)

// The avatar proxy serves an authorizer's head_img from our own origin, which
// the CSP (img-src 'self') allows. It fetches only the URL stored for the app
// (nothing in the request chooses the target), over http(s), within a time
// and size limit, and only images; anything else gets a letter placeholder.
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

// avatarHTTP is the client the proxy fetches with: Deps.AvatarClient, or one
// that follows at most three redirects, all over http(s).
func (s *Server) avatarHTTP() *http.Client {
	if s.AvatarClient != nil {
		return s.AvatarClient
	}
	return defaultAvatarClient
}

var defaultAvatarClient = &http.Client{
	Timeout: avatarTimeout,
	CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 3 {
			return errors.New("avatar: too many redirects")
		}
		if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
			return errors.New("avatar: redirect off http(s)")
		}
		return nil
	},
}

// fetchAvatar GETs raw (an authorizer's stored head_img) and returns the
// image and its type, or an error when it is not a small image.
func (s *Server) fetchAvatar(ctx context.Context, raw string) ([]byte, string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil, "", errors.New("avatar: not an http(s) URL")
	}
	ctx, cancel := context.WithTimeout(ctx, avatarTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Accept", "image/png, image/jpeg, image/gif, image/webp")
	res, err := s.avatarHTTP().Do(req)
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
