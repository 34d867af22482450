package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/cluster"
	"github.com/minifleet/minifleet/app/i18n"
	"github.com/minifleet/minifleet/app/paths"
)

// Past one machine (docs/architecture.md): LiteFS lets only the primary
// write. clusterMiddleware, mounted before everything, sends every
// state-changing request that reaches a replica to the primary — with
// Fly's fly-replay header on Fly, by forwarding it to the primary's URL
// elsewhere (the answer is the primary's: a WeChat push is acknowledged
// only once the primary recorded it) — and, when the primary cannot be
// reached, refuses it with 503 "read-only". After a write the primary names
// its replication position (TXID) in a cookie; a replica waits until it has
// replicated that far before it serves the next page, so users see their
// own writes.

const (
	// txidCookie carries the primary's position after the user's last
	// write (LiteFS's own proxy names it the same).
	txidCookie = "__txid"
	// headerTXID is the same position as a response header (API clients).
	headerTXID = "Minifleet-Txid"
	// headerForwarded marks a request a replica forwarded: a node that is
	// not the primary either refuses it rather than forwarding it again.
	headerForwarded = "Minifleet-Forwarded"
	// txidWait bounds how long a replica waits to catch up for a read.
	txidWait = 2 * time.Second
	// forwardTimeout bounds one forwarded write.
	forwardTimeout = 30 * time.Second
)

// errReadOnly is a write a replica could not hand to the primary.
var errReadOnly = fiber.NewError(fiber.StatusServiceUnavailable, "read-only: primary unavailable")

// localsReadOnly marks a browser write the error pages must refuse (the
// read-only page needs the session's language, so it is rendered later).
const localsReadOnly = "minifleet_readonly"

// isWrite reports whether a request changes state: every method but GET,
// HEAD and OPTIONS, and the GET that WeChat's authorization redirect lands
// on (it records the grant).
func isWrite(c *fiber.Ctx) bool {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead:
		p := c.Path()
		return strings.HasPrefix(p, "/t/") && strings.Contains(p, "/authorize/") && strings.HasSuffix(p, "/callback")
	case fiber.MethodOptions:
		return false
	}
	return true
}

// isPush is WeChat's push routes: answered in plain text to a server.
func isPush(c *fiber.Ctx) bool {
	p := c.Path()
	return p == paths.WeChatComponentEvents || strings.HasPrefix(p, "/wechat/apps/")
}

func isAPI(c *fiber.Ctx) bool { return strings.HasPrefix(c.Path(), "/api/") }

// forwarder sends writes to the primary and backs off after a failure: a
// primary that did not answer is not asked again for a while (1 s,
// doubling to 15 s; reset by its next answer), so a replica answers 503 at
// once instead of piling connections on a dead address.
type forwarder struct {
	client *http.Client
	mu     sync.Mutex
	until  time.Time
	wait   time.Duration
}

func newForwarder() *forwarder {
	tr := &http.Transport{
		// Only the primary's URL is ever dialled; no proxy from the environment.
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 3 * time.Second}).DialContext,
		ResponseHeaderTimeout: forwardTimeout,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       60 * time.Second,
	}
	return &forwarder{client: &http.Client{Transport: tr, Timeout: forwardTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (f *forwarder) down(now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return now.Before(f.until)
}

func (f *forwarder) failed(now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.wait = min(max(f.wait*2, time.Second), 15*time.Second)
	f.until = now.Add(f.wait)
}

func (f *forwarder) ok() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.wait, f.until = 0, time.Time{}
}

// clusterMiddleware is a no-op on a single node.
func (s *Server) clusterMiddleware(c *fiber.Ctx) error {
	node := s.Cluster
	if !node.Clustered() {
		return c.Next()
	}
	write := isWrite(c)
	if node.IsPrimary() {
		err := c.Next()
		if write {
			if txid := node.CurrentPos(); txid > 0 {
				v := cluster.FormatTXID(txid)
				c.Set(headerTXID, v)
				if !isPush(c) {
					c.Cookie(&fiber.Cookie{Name: txidCookie, Value: v, Path: "/", MaxAge: 300, HTTPOnly: true,
						Secure: s.Config.SecureCookies(), SameSite: "Lax"})
				}
			}
		}
		return err
	}
	if !write {
		v := c.Cookies(txidCookie)
		if h := c.Get(headerTXID); h != "" {
			v = h // an API client sends back the header it got
		}
		if v != "" {
			if txid, err := strconv.ParseUint(v, 16, 64); err == nil && txid > node.Pos() {
				node.WaitFor(c.UserContext(), txid, txidWait)
			}
		}
		return c.Next()
	}
	primary := node.Primary()
	if c.Get(headerForwarded) == "" && primary != "" && primary != cluster.NoPrimary {
		if s.Config.Cluster.FlyApp != "" {
			// Fly's proxy replays the whole request on the primary's machine.
			c.Set("fly-replay", "instance="+primary)
			return c.SendStatus(fiber.StatusConflict)
		}
		if err := s.forwardToPrimary(c, primary); err == nil {
			return nil
		} else if !errors.Is(err, errReadOnly) {
			return err
		}
	}
	return s.refuseReadOnly(c)
}

// refuseReadOnly answers a write a replica cannot hand on: plain text to
// WeChat (no "success", so WeChat sends the push again), JSON to the API,
// and the localized page to browsers (readOnlyGate, after the session).
func (s *Server) refuseReadOnly(c *fiber.Ctx) error {
	c.Set(fiber.HeaderRetryAfter, "5")
	switch {
	case isPush(c):
		return c.Status(fiber.StatusServiceUnavailable).SendString("read-only: primary unavailable")
	case isAPI(c):
		loc := s.I18n.Localizer(s.I18n.Match("", c.Get(fiber.HeaderAcceptLanguage)), s.Config.Location())
		msg := i18n.T(i18n.With(context.Background(), loc), "error.read_only")
		b, _ := json.Marshal(map[string]string{"error": "read_only", "message": msg})
		c.Status(fiber.StatusServiceUnavailable)
		c.Type("json", "utf-8")
		return c.Send(b)
	}
	c.Locals(localsReadOnly, true)
	return c.Next()
}

// readOnlyGate runs after the session and locale: a browser write the
// replica could not hand to the primary ends here, as the error page.
func (s *Server) readOnlyGate(c *fiber.Ctx) error {
	if ro, _ := c.Locals(localsReadOnly).(bool); ro {
		return errReadOnly
	}
	return c.Next()
}

// primaryURL is where this replica forwards writes.
func (s *Server) primaryURL(primary string) string {
	return strings.TrimRight(strings.ReplaceAll(s.Config.Cluster.PrimaryURL, "{host}", primary), "/")
}

// forwardToPrimary sends the request to the primary and copies its answer
// back, or returns errReadOnly when the primary does not answer.
func (s *Server) forwardToPrimary(c *fiber.Ctx, primary string) error {
	f := s.forward
	now := time.Now()
	if f.down(now) {
		return errReadOnly
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), forwardTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, c.Method(), s.primaryURL(primary)+string(c.Request().RequestURI()), bytes.NewReader(c.Body()))
	if err != nil {
		return err
	}
	c.Request().Header.VisitAll(func(k, v []byte) {
		switch strings.ToLower(string(k)) {
		case "host", "connection", "content-length", "transfer-encoding", "keep-alive", "upgrade":
			return
		}
		req.Header.Add(string(k), string(v))
	})
	req.Host = string(c.Request().Host()) // the primary checks CSRF's referer against the public host
	req.Header.Set(headerForwarded, "1")
	req.Header.Add(fiber.HeaderXForwardedFor, c.IP())
	resp, err := f.client.Do(req)
	if err != nil {
		f.failed(now)
		s.Log.Warn("replica: primary unavailable", "primary", primary, "route", loggedRoute(c), "err", err)
		return errReadOnly
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		// The primary may have acted: say so rather than claim nothing happened.
		f.failed(now)
		return fiber.NewError(fiber.StatusBadGateway, "the primary's answer was cut off")
	}
	f.ok()
	c.Status(resp.StatusCode)
	for k, vs := range resp.Header {
		switch strings.ToLower(k) {
		case "connection", "content-length", "transfer-encoding", "keep-alive":
			continue
		}
		for _, v := range vs {
			c.Response().Header.Add(k, v)
		}
	}
	return c.Send(body)
}
