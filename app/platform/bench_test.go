package platform_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat"
	"github.com/minifleet/minifleet/app/wechat/msgcrypt"
	"github.com/minifleet/minifleet/app/wechat/sandbox"
)

// BenchmarkOpenPush1KB: signature check, decryption and parsing of a push
// whose plaintext is 1 KB.
func BenchmarkOpenPush1KB(b *testing.B) {
	c, _ := msgcrypt.New(testToken, testAESKey, testAppID)
	xml := "<xml><AppId><![CDATA[" + testAppID + "]]></AppId><CreateTime>1700000000</CreateTime><InfoType><![CDATA[notify_padding]]></InfoType><Pad><![CDATA[" +
		strings.Repeat("x", 1024-160) + "]]></Pad></xml>"
	body, q, _ := c.SealPush(msgcrypt.FieldAppID, testAppID, []byte(xml), "1700000000", "7")
	b.SetBytes(int64(len(xml)))
	b.ReportAllocs()
	for b.Loop() {
		plain, err := c.OpenPush(body, q.Get("timestamp"), q.Get("nonce"), q.Get("msg_signature"))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := wechat.ParsePush(plain); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRefreshSpread10k: 10,000 authorizers whose tokens were all
// issued in the same instant (a mass migration, a restart after an outage)
// are refreshed against the sandbox; the report is how the next refreshes
// spread: the busiest minute's share.
func BenchmarkRefreshSpread10k(b *testing.B) {
	t := &testing.T{}
	for b.Loop() {
		r := newRig(t, rigOpts{})
		r.st.SaveTicket(r.ctx, testAppID, r.sb.Ticket(), 1, r.now())
		r.sb.PushTicket()
		r.st.SaveTicket(r.ctx, testAppID, r.sb.Ticket(), 2, r.now())
		apps := r.sb.AddApps(10000)
		for _, a := range apps {
			r.seedAuthorizer(r.st, a)
		}
		start := time.Now()
		if err := r.p.Vault.RefreshDueAuthorizers(r.ctx); err != nil {
			b.Fatal(err)
		}
		sweep := time.Since(start)
		minutes, _ := r.st.RefreshMinutes(r.ctx)
		busiest := 0
		for _, n := range minutes {
			busiest = max(busiest, n)
		}
		b.ReportMetric(float64(r.sb.CallCount("api_authorizer_token")), "refreshes")
		b.ReportMetric(float64(len(minutes)), "minutes")
		b.ReportMetric(100*float64(busiest)/float64(len(apps)), "busiest-minute-%")
		b.ReportMetric(sweep.Seconds(), "sweep-s")
	}
}

const vaultChildEnv = "MINIFLEET_VAULT_CHILD"

// TestVaultChildProcess is the second process of
// TestTwoRealProcessesOneRefresh; it runs only when re-executed.
func TestVaultChildProcess(t *testing.T) {
	spec := os.Getenv(vaultChildEnv)
	if spec == "" {
		t.Skip("runs only as the child of TestTwoRealProcessesOneRefresh")
	}
	parts := strings.SplitN(spec, "|", 3) // db path | sandbox URL | start unix nanos
	startNS, _ := strconv.ParseInt(parts[2], 10, 64)
	fmt.Println(askConcurrently(t, parts[0], parts[1], time.Unix(0, startNS), 500))
}

// askConcurrently opens the database as a process would and has n
// goroutines ask for the component token at start; it returns "tokens=<distinct> errors=<n>".
func askConcurrently(t *testing.T, dbPath, sbURL string, start time.Time, n int) string {
	ctx := context.Background()
	st, err := store.Open(ctx, dbPath, testKey)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := wechat.New(testAppID, testSecret, nil)
	c.APIBase = sbURL
	p, err := platform.New(platform.Config{Store: st, Client: c, Token: testToken, AESKey: testAESKey, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	p.Vault.PollEvery = 5 * time.Millisecond
	time.Sleep(time.Until(start))
	var mu sync.Mutex
	var wg sync.WaitGroup
	tokens, errs := map[string]bool{}, 0
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := p.Vault.ComponentAccessToken(ctx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs++
				return
			}
			tokens[tok] = true
		}()
	}
	wg.Wait()
	return fmt.Sprintf("tokens=%d errors=%d", len(tokens), errs)
}

// Two real processes on one database file, 500 goroutines each, asking for
// a component token that is not there yet: exactly one upstream fetch.
func TestTwoRealProcessesOneRefresh(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	sb, err := sandbox.New(sandbox.Options{ComponentAppID: testAppID, ComponentSecret: testSecret, Token: testToken, EncodingAESKey: testAESKey})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	defer srv.Close()
	sb.SetLatency(50 * time.Millisecond) // a slow WeChat widens the race
	sb.PushTicket()                      // not delivered anywhere: stored by hand below
	dbPath := filepath.Join(t.TempDir(), "minifleet.db")
	st, err := store.Open(context.Background(), dbPath, testKey)
	if err != nil {
		t.Fatal(err)
	}
	st.SaveTicket(context.Background(), testAppID, sb.Ticket(), time.Now().Unix(), time.Now())
	st.Close()

	start := time.Now().Add(1500 * time.Millisecond) // both processes ready by then
	cmd := exec.Command(os.Args[0], "-test.run=^TestVaultChildProcess$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), vaultChildEnv+"="+dbPath+"|"+srv.URL+"|"+strconv.FormatInt(start.UnixNano(), 10))
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	mine := askConcurrently(t, dbPath, srv.URL, start, 500)
	elapsed := time.Since(start)
	child := ""
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "tokens=") {
			child = sc.Text()
		}
	}
	cmd.Wait()
	t.Logf("parent %s, child %s, upstream api_component_token calls %d, parent done %s after start",
		mine, child, sb.CallCount("api_component_token"), elapsed.Round(time.Millisecond))
	if mine != "tokens=1 errors=0" || child != "tokens=1 errors=0" {
		t.Errorf("parent %q, child %q; want one token, no errors", mine, child)
	}
	if n := sb.CallCount("api_component_token"); n != 1 {
		t.Errorf("api_component_token called %d times by two processes, want 1", n)
	}
}
