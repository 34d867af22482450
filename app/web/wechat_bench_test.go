package web

import (
	"bytes"
	"errors"
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
	"github.com/valyala/fasthttp"

	"github.com/minifleet/minifleet/app/wechat/msgcrypt"
)

// pushClients are the concurrencies the push benchmarks run at. With 8
// clients a push flood moves in lock-step with group commit (the batch holds
// every client's push, and none sends again until it commits), so the
// intake's ceiling shows only at higher concurrency; the bare handler's is
// about the same at all three.
var pushClients = []int{8, 32, 64}

// floodResult is one flood of pushes from concurrent clients.
type floodResult struct {
	rate float64       // pushes per second
	p99  time.Duration // latency, send to reply
	cpu  time.Duration // process CPU (client and server) per push
}

// poster sends one push and checks the reply is 200 "success". The load
// generator shares the machine, so its own cost is in every figure: net/http
// costs a bare request about twice what Fiber does, fasthttp's client a
// fraction of it (docs/benchmarks.md).
type poster func(url string, body []byte) error

// netHTTPPoster posts with net/http (what WeChat's senders look like to us:
// a plain HTTP/1.1 client); close releases its idle connections.
func netHTTPPoster(clients int) (post poster, close func()) {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients}} // a stuck request fails, not hangs
	return func(url string, body []byte) error {
		resp, err := client.Post(url, "text/xml", bytes.NewReader(body))
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != "success" {
			return fmt.Errorf("got %d %q", resp.StatusCode, b)
		}
		return nil
		// Idle keep-alive connections left open make the server's Shutdown
		// (at cleanup) wait for ever: that was the BareSuccess hang.
	}, client.CloseIdleConnections
}

// fastHTTPPoster posts with fasthttp's client, a lean load generator.
func fastHTTPPoster(clients int) (post poster, close func()) {
	client := &fasthttp.Client{MaxConnsPerHost: clients, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}
	return func(url string, body []byte) error {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		req.SetRequestURI(url)
		req.Header.SetMethod(fasthttp.MethodPost)
		req.Header.SetContentType("text/xml")
		req.SetBodyRaw(body)
		if err := client.Do(req, resp); err != nil {
			return err
		}
		if resp.StatusCode() != 200 || string(resp.Body()) != "success" {
			return fmt.Errorf("got %d %q", resp.StatusCode(), resp.Body())
		}
		return nil
	}, client.CloseIdleConnections
}

// flood posts the prepared pushes to url from the given number of clients
// with net/http; every reply must be 200 "success".
func flood(url string, clients int, bodies [][]byte, queries []string) (floodResult, error) {
	post, done := netHTTPPoster(clients)
	defer done()
	return floodWith(post, url, clients, bodies, queries)
}

func floodWith(post poster, url string, clients int, bodies [][]byte, queries []string) (floodResult, error) {
	var next atomic.Int64
	lat := make([]time.Duration, len(bodies))
	errs := make(chan error, clients)
	cpu0 := processCPU()
	start := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(bodies) {
					return
				}
				t0 := time.Now()
				if err := post(url+"?"+queries[i], bodies[i]); err != nil {
					errs <- err
					return
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := processCPU() - cpu0
	close(errs)
	if err := <-errs; err != nil {
		return floodResult{}, err
	}
	slices.Sort(lat)
	n := len(bodies)
	return floodResult{rate: float64(n) / elapsed.Seconds(), p99: lat[n*99/100], cpu: cpu / time.Duration(n)}, nil
}

// benchHTTP is one flood of b.N pushes, reported: pushes/s, the 99th
// percentile latency, and CPU time (user+system, client and server
// together) per push, which on a shared box moves less than the rate with
// other people's load.
func benchHTTP(b *testing.B, url string, clients int, bodies [][]byte, queries []string) {
	b.ResetTimer()
	r, err := flood(url, clients, bodies, queries)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(r.rate, "pushes/s")
	b.ReportMetric(float64(r.p99.Microseconds()), "p99-µs")
	b.ReportMetric(float64(r.cpu.Microseconds()), "cpu-µs/push")
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// preparePushes seals n ticket pushes, each a new ticket, the first with
// CreateTime 1700000000+from.
func preparePushes(b *testing.B, from, n int) ([][]byte, []string) {
	c := wxCrypter(b)
	bodies, queries := make([][]byte, n), make([]string, n)
	for i := range n {
		k := from + i
		body, q, err := c.SealPush(msgcrypt.FieldAppID, wxAppID, []byte(wxTicketXML(fmt.Sprintf("ticket@@@%d", k), int64(1700000000+k))), "1700000000", "7")
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

// pushServers starts the real portal with push intake over a fresh SQLite
// and a Fiber app whose handler only replies "success"; it returns their
// push URLs and the portal's harness.
func pushServers(b *testing.B) (intake, bare string, h *harness) {
	h = newHarness(&testing.T{})
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Post("/wechat/component/events", func(c *fiber.Ctx) error { return c.SendString("success") })
	return serveFiber(b, h.app) + "/wechat/component/events", serveFiber(b, app) + "/wechat/component/events", h
}

// BenchmarkPushIntake is a push end to end: HTTP, the middleware chain,
// signature check, decryption, parsing, the durable record with its ticket
// in one SQLite transaction, the reply.
func BenchmarkPushIntake(b *testing.B) {
	for _, n := range pushClients {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			url, _, h := pushServers(b)
			bodies, queries := preparePushes(b, 0, b.N)
			benchHTTP(b, url, n, bodies, queries)
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
			_, url, _ := pushServers(b)
			bodies, queries := preparePushes(b, 0, b.N)
			benchHTTP(b, url, n, bodies, queries)
		})
	}
}

// pushRounds is how many times BenchmarkPushIntakeVsBare floods each server.
const pushRounds = 5

// BenchmarkPushIntakeVsBare is the comparison, side by side: the
// intake and the bare handler flooded in turn, pushRounds times each with
// b.N new tickets (which goes first alternates), so that a change in the
// machine's speed during the run (other people's load on a shared box)
// falls on both. It reports the medians of the rates, of the intake's share
// of the bare rate per round, and of the intake's p99, and the intake's
// worst p99; with each load generator, since the generator's own cost
// decides how high the bare "ceiling" is.
func BenchmarkPushIntakeVsBare(b *testing.B) {
	for _, gen := range []struct {
		name string
		new  func(clients int) (poster, func())
	}{{"net-http", netHTTPPoster}, {"fasthttp", fastHTTPPoster}} {
		for _, n := range []int{8, 64} {
			b.Run(fmt.Sprintf("client=%s/clients=%d", gen.name, n), func(b *testing.B) {
				benchVsBare(b, n, gen.new)
			})
		}
	}
}

func benchVsBare(b *testing.B, n int, newPoster func(clients int) (poster, func())) {
	post, done := newPoster(n)
	defer done()
	intake, bare, _ := pushServers(b)
	var rounds [][2]floodResult // [intake, bare] per round
	b.ResetTimer()
	for r := range pushRounds {
		bodies, queries := preparePushes(b, r*b.N, b.N)
		for k := range 2 {
			side := (k + r) % 2 // 0 intake, 1 bare
			res, err := floodWith(post, []string{intake, bare}[side], n, bodies, queries)
			if err != nil {
				b.Fatal(errors.Join(fmt.Errorf("round %d, %s", r, []string{"intake", "bare"}[side]), err))
			}
			if k == 0 {
				rounds = append(rounds, [2]floodResult{})
			}
			rounds[r][side] = res
		}
	}
	b.StopTimer()
	values := func(f func(r [2]floodResult) float64) []float64 {
		v := make([]float64, len(rounds))
		for i, r := range rounds {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v
	}
	median := func(f func(r [2]floodResult) float64) float64 { v := values(f); return v[len(v)/2] }
	p99 := func(r [2]floodResult) float64 { return float64(r[0].p99.Microseconds()) }
	b.ReportMetric(median(func(r [2]floodResult) float64 { return r[0].rate }), "intake-pushes/s")
	b.ReportMetric(median(func(r [2]floodResult) float64 { return r[1].rate }), "bare-pushes/s")
	b.ReportMetric(median(func(r [2]floodResult) float64 { return 100 * r[0].rate / r[1].rate }), "intake-%-of-bare")
	b.ReportMetric(median(p99), "intake-p99-µs")
	b.ReportMetric(slices.Max(values(p99)), "intake-worst-p99-µs")
	b.ReportMetric(median(func(r [2]floodResult) float64 { return float64(r[0].cpu.Microseconds()) }), "intake-cpu-µs/push")
	b.ReportMetric(median(func(r [2]floodResult) float64 { return float64(r[1].cpu.Microseconds()) }), "bare-cpu-µs/push")
}
