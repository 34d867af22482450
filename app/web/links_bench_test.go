package web

import (
	"fmt"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/store"
)

// BenchmarkLinksTabRows is the 链接 tab's own work for a full list (200
// links, the store's cap): each row's QR code as SVG, from the cache after
// the first view. BenchmarkLinksTabRowsCold draws them all.
func BenchmarkLinksTabRows(b *testing.B) { benchLinkRows(b, false) }

func BenchmarkLinksTabRowsCold(b *testing.B) { benchLinkRows(b, true) }

func benchLinkRows(b *testing.B, cold bool) {
	s := &Server{}
	links := make([]store.AppLink, 200)
	for i := range links {
		links[i] = store.AppLink{ID: int64(i + 1), Kind: store.LinkURLLink, Link: fmt.Sprintf("https://wxaurl.cn/Ab%09dXyZq1", i), ExpiresAt: time.Unix(1<<31, 0)}
	}
	b.ReportAllocs()
	for b.Loop() {
		if cold {
			linkQRs.Purge()
		}
		for _, l := range links {
			if r := s.linkRowAt(l, time.Unix(0, 0)); r.QRSVG == "" {
				b.Fatal("no QR")
			}
		}
	}
}
