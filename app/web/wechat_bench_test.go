package web

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/wechat/msgcrypt"
)

// pushClients are the concurrencies both push benchmarks run at. With 8
// clients a push flood moves in lock-step with group commit (the batch holds
// every client's push, and none sends again until it commits), so the
// intake's ceiling shows only at higher concurrency; the bare handler's is
// the same at all three.
var pushClients = []int{8, 32, 64}

// benchHTTP posts the prepared pushes to url from the given number of
// clients and reports pushes/s and the 99th percentile latency.
func benchHTTP(b *testing.B, url string, clients int, bodies [][]byte, queries []string) {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}} // a stuck request fails, not hangs
	// Idle keep-alive connections left open make the server's Shutdown (at
	// cleanup) wait for ever: that was the BareSuccess hang.
	defer client.CloseIdleConnections()
	var next atomic.Int64
	lat := make([]time.Duration, b.N)
	b.ResetTimer()
	cpu0 := processCPU()
	start := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= b.N {
					return
				}
				t0 := time.Now()
				resp, err := client.Post(url+"?"+queries[i], "text/xml", bytes.NewReader(bodies[i]))
				if err != nil {
					b.Error(err)
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || string(body) != "success" {
					b.Errorf("got %d %q", resp.StatusCode, body)
					return
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := processCPU() - cpu0
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "pushes/s")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	// CPU time (user+system, client and server together) per push: on a
	// shared box it moves less than the rate with other people's load.
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/push")
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func preparePushes(b *testing.B) ([][]byte, []string) {
	c := wxCrypter(b)
	bodies, queries := make([][]byte, b.N), make([]string, b.N)
	for i := range b.N {
		body, q, err := c.SealPush(msgcrypt.FieldAppID, wxAppID, []byte(wxTicketXML(fmt.Sprintf("ticket@@@%d", i), int64(1700000000+i))), "1700000000", "7")
		if err != nil {
			b.Fatal(err)
		}
		bodies[i], queries[i] = body, q.Encode()
	}
	return bodies, queries
}

func serveFiber(b *testing.B, app *fiber.App) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go app.Listener(ln)
	b.Cleanup(func() { app.ShutdownWithTimeout(5 * time.Second) })
	return "http://" + ln.Addr().String()
}

// BenchmarkPushIntake is a push end to end: HTTP, the middleware chain,
// signature check, decryption, parsing, the durable record with its ticket
// in one SQLite transaction, the reply.
func BenchmarkPushIntake(b *testing.B) {
	for _, n := range pushClients {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			h := newHarness(&testing.T{})
			h.srv.Platform, _ = wxPlatform(b, h.st)
			bodies, queries := preparePushes(b)
			base := serveFiber(b, h.app)
			benchHTTP(b, base+"/wechat/component/events", n, bodies, queries)
			if batches, pushes := h.st.PushBatchStats(); batches > 0 {
				b.ReportMetric(float64(pushes)/float64(batches), "pushes/commit")
			}
		})
	}
}

// BenchmarkBareSuccess is the ceiling: a Fiber handler that only replies.
func BenchmarkBareSuccess(b *testing.B) {
	for _, n := range pushClients {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			app := fiber.New(fiber.Config{DisableStartupMessage: true})
			app.Post("/wechat/component/events", func(c *fiber.Ctx) error { return c.SendString("success") })
			bodies, queries := preparePushes(b)
			base := serveFiber(b, app)
			benchHTTP(b, base+"/wechat/component/events", n, bodies, queries)
		})
	}
}
