package web

import (
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// The client's address is c.IP(), set up by New from the configuration:
// with no trusted proxies it is the connection's peer and every forwarding
// header is ignored; with trusted proxies (MINIFLEET_TRUSTED_PROXIES) a
// request whose peer is one of them is attributed to the address its
// ProxyHeader names (Fiber's EnableTrustedProxyCheck, TrustedProxies,
// ProxyHeader, with IP validation), and a request from any other peer is
// its own client whatever it sends.
//
// Fly-Client-IP and X-Real-IP hold one address that the proxy sets. A
// proxy appends to X-Forwarded-For, so its left part is whatever the
// client sent; Fiber reads the leftmost address, so forwardedFor first
// rewrites the header to the one address that counts: the rightmost that
// is not itself a trusted proxy.

// forwardedFor keeps, in X-Forwarded-For from a trusted peer, only the
// rightmost hop outside the trusted proxies (the leftmost when every hop
// is trusted); a header with no address is removed, so c.IP() is the peer.
func (s *Server) forwardedFor() fiber.Handler {
	var nets []netip.Prefix
	for _, p := range s.Config.TrustedProxies {
		if pf, err := netip.ParsePrefix(p); err == nil {
			nets = append(nets, pf)
		} else if a, err := netip.ParseAddr(p); err == nil {
			nets = append(nets, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	trusted := func(a netip.Addr) bool {
		a = a.Unmap()
		for _, n := range nets {
			if n.Contains(a) {
				return true
			}
		}
		return false
	}
	return func(c *fiber.Ctx) error {
		if c.IsProxyTrusted() && len(c.Request().Header.Peek(fiber.HeaderXForwardedFor)) > 0 {
			client := ""
			hops := strings.Split(c.Get(fiber.HeaderXForwardedFor), ",")
			for i := len(hops) - 1; i >= 0; i-- {
				a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
				if err != nil {
					break // what is left of a malformed hop is not ours to believe
				}
				client = a.Unmap().String()
				if !trusted(a) {
					break
				}
			}
			if client == "" {
				c.Request().Header.Del(fiber.HeaderXForwardedFor)
			} else {
				c.Request().Header.Set(fiber.HeaderXForwardedFor, client)
			}
		}
		return c.Next()
	}
}
