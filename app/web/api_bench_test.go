package web

import (
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// BenchmarkTokenReads is the token service end to end (issue #15: ≥ 20,000
// reads/s on 2 vCPUs, p99 < 5 ms, no SQL on a cached hit): a real TCP
// listener, the whole Fiber app, the key check (cached), the rate limiter
// (raised out of the way), the vault's cached token, JSON. The load comes
// from fasthttp's client with keep-alive connections, on the same machine.
func BenchmarkTokenReads(b *testing.B) {
	for _, clients := range []int{8, 32} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			h, appID, key, _ := apiWorld(&testing.T{}, func(d *Deps) { d.APIRate, d.APIBurst = 1e9, 1<<30 })
			url := serveFiber(b, h.app) + "/api/v1/apps/" + appID + "/access-token"
			client := &fasthttp.Client{MaxConnsPerHost: clients, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}
			defer client.CloseIdleConnections()
			get := func() error {
				req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
				defer fasthttp.ReleaseRequest(req)
				defer fasthttp.ReleaseResponse(resp)
				req.SetRequestURI(url)
				req.Header.Set("Authorization", "Bearer "+key)
				if err := client.Do(req, resp); err != nil {
					return err
				}
				if resp.StatusCode() != 200 {
					return fmt.Errorf("status %d: %s", resp.StatusCode(), resp.Body())
				}
				return nil
			}
			if err := get(); err != nil { // warm the key, tenant and token caches
				b.Fatal(err)
			}
			lat := make([]time.Duration, b.N)
			var next atomic.Int64
			var failed atomic.Value
			var wg sync.WaitGroup
			b.ResetTimer()
			cpu0 := processCPU()
			start := time.Now()
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
						if err := get(); err != nil {
							failed.Store(err)
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
			if err, _ := failed.Load().(error); err != nil {
				b.Fatal(err)
			}
			slices.Sort(lat)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "reads/s")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			// Process CPU (server and load generator together) per read: on a
			// shared machine the rate says how much CPU we were given, this
			// says what a read costs; 2 vCPUs / this is the capacity.
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/read")
		})
	}
}

// BenchmarkTokenReadsHandler is the server's own share of a token read: the
// whole Fiber app (middleware, key check, limiter, permission, vault, JSON)
// called in process, without sockets or a load generator. On a shared
// machine this is the steadier figure: 2 vCPUs / its time per read is the
// server's capacity.
func BenchmarkTokenReadsHandler(b *testing.B) {
	h, appID, key, _ := apiWorld(&testing.T{}, func(d *Deps) { d.APIRate, d.APIBurst = 1e9, 1<<30 })
	handler := h.app.Handler()
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var req fasthttp.Request
		req.SetRequestURI("/api/v1/apps/" + appID + "/access-token")
		req.Header.Set("Authorization", "Bearer "+key)
		var c fasthttp.RequestCtx
		for pb.Next() {
			c.Init(&req, addr, nil)
			handler(&c)
			if c.Response.StatusCode() != 200 {
				b.Errorf("status %d: %s", c.Response.StatusCode(), c.Response.Body())
				return
			}
		}
	})
}
