package web

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/authz"
	"github.com/minifleet/minifleet/app/i18n"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat"
	"github.com/minifleet/minifleet/app/wechat/msgcrypt"
)

const pushChildEnv = "MINIFLEET_PUSH_CHILD_DB"

var killKey = bytes.Repeat([]byte{9}, 32)

// TestPushChildServer is the server process of TestKilledDuringPushFlood:
// it only runs when re-executed with pushChildEnv set, prints its address
// and serves until it is killed.
func TestPushChildServer(t *testing.T) {
	path := os.Getenv(pushChildEnv)
	if path == "" {
		t.Skip("runs only as the child of TestKilledDuringPushFlood")
	}
	ctx := context.Background()
	st, err := store.Open(ctx, path, killKey)
	if err != nil {
		t.Fatal(err)
	}
	az, err := authz.New(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	p := offlinePlatform(t, st) // never calls WeChat: no loops run here
	app, _ := New(Deps{Config: testConfig(t), Store: st, Authz: az, I18n: bundle, Platform: p,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("ADDR %s\n", ln.Addr())
	t.Fatal(app.Listener(ln)) // until SIGKILL
}

// A process killed with SIGKILL in the middle of a push flood loses no push
// it acknowledged with "success".
func TestKilledDuringPushFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a server process")
	}
	path := filepath.Join(t.TempDir(), "minifleet.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestPushChildServer$", "-test.count=1")
	cmd.Env = append(os.Environ(), pushChildEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := ""
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if a, ok := strings.CutPrefix(sc.Text(), "ADDR "); ok {
			addr = a
			break
		}
	}
	if addr == "" {
		t.Fatal("child printed no address")
	}
	go io.Copy(io.Discard, out)

	c := wxCrypter(t)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	var mu sync.Mutex
	type pushID struct {
		createTime int64
		key        string
	}
	var acked []pushID // identities (CreateTime, stored dedupe key) of pushes answered "success"
	sent := 0
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ct := int64(1700000000 + w*1000000 + i)
				xml := wxTicketXML(fmt.Sprintf("ticket@@@%d-%d", w, i), ct)
				push, err := wechat.ParsePush([]byte(xml))
				if err != nil {
					t.Error(err)
					return
				}
				body, q, _ := c.SealPush(msgcrypt.FieldAppID, wxAppID, []byte(xml), "1700000000", "7")
				resp, err := client.Post("http://"+addr+"/wechat/component/events?"+q.Encode(), "text/xml", bytes.NewReader(body))
				mu.Lock()
				sent++
				mu.Unlock()
				if err != nil {
					continue // the process died mid-request: not acknowledged
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 && string(b) == "success" {
					mu.Lock()
					acked = append(acked, pushID{ct, platform.StoredDedupeKey(push)})
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(700 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	cmd.Wait()

	if len(acked) < 50 {
		t.Fatalf("only %d pushes acknowledged before the kill; the flood did not run", len(acked))
	}
	st, err := store.Open(context.Background(), path, killKey)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	missing := 0
	for _, k := range acked {
		if _, err := st.PushByDedupeKey(context.Background(), k.createTime, k.key); err != nil {
			missing++
		}
	}
	var stored int
	st.R.QueryRow(`SELECT COUNT(*) FROM wechat_pushes`).Scan(&stored)
	t.Logf("sent %d, acknowledged %d, stored %d", sent, len(acked), stored)
	if missing > 0 {
		t.Errorf("%d acknowledged pushes lost after SIGKILL", missing)
	}
}
