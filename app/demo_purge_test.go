package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/store"
)

// serveUntil runs `minifleet serve` with env until stdout shows ready,
// then stops it and returns its error and output.
func serveUntil(t *testing.T, env map[string]string, ready string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, func(k string) string { return env[k] }, out) }()
	deadline := time.After(60 * time.Second)
	for !strings.Contains(out.String(), ready) {
		select {
		case err := <-done:
			t.Fatalf("serve ended before %q: %v\n%s", ready, err, out)
		case <-deadline:
			t.Fatalf("serve never printed %q:\n%s", ready, out)
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v\n%s", err, out)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	return out.String()
}

// TestLiveRefusesSandboxSeedData is issue #12's whole path: a data
// directory first served in sandbox mode holds the demo accounts (one a
// platform admin with the README's password); live mode on it refuses to
// start, before listening, naming the command that removes them; `demo
// purge` removes them (and says so in the activity); then live starts.
func TestLiveRefusesSandboxSeedData(t *testing.T) {
	dir := t.TempDir()
	sandboxEnv := map[string]string{"MINIFLEET_DATA_DIR": dir, "MINIFLEET_ADDR": "127.0.0.1:0", "MINIFLEET_SANDBOX": "on", "MINIFLEET_LOG_LEVEL": "warn"}
	out := serveUntil(t, sandboxEnv, "SANDBOX mode")
	if !strings.Contains(out, demoAdminEmail) || !strings.Contains(out, demoPassword) {
		t.Fatalf("sandbox start printed no demo accounts:\n%s", out)
	}

	key, err := os.ReadFile(filepath.Join(dir, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	// Live, with WeChat pointed at an address nothing answers.
	live := map[string]string{"MINIFLEET_DATA_DIR": dir, "MINIFLEET_ADDR": "127.0.0.1:0", "MINIFLEET_SANDBOX": "off", "MINIFLEET_LOG_LEVEL": "info",
		"MINIFLEET_SECRET_KEY": strings.TrimSpace(string(key)), "MINIFLEET_BASE_URL": "https://portal.example.test",
		"MINIFLEET_WECHAT_COMPONENT_APPID": "wxlivecomponent01", "MINIFLEET_WECHAT_COMPONENT_SECRET": "live-secret",
		"MINIFLEET_WECHAT_TOKEN": "live-token", "MINIFLEET_WECHAT_AES_KEY": strings.Repeat("k", 43),
		"MINIFLEET_WECHAT_API_BASE": "http://127.0.0.1:1", "MINIFLEET_WECHAT_MP_BASE": "http://127.0.0.1:1", "MINIFLEET_WECHAT_OPEN_BASE": "http://127.0.0.1:1"}
	getLive := func(k string) string { return live[k] }
	var refused syncBuffer
	rctx, rcancel := context.WithTimeout(context.Background(), 10*time.Second) // a serve that does not refuse would run until then
	err = run(rctx, []string{"serve"}, getLive, &refused)
	rcancel()
	if !errors.Is(err, ErrSeedData) || !strings.Contains(err.Error(), "minifleet demo purge") {
		t.Fatalf("live start on seeded data: %v, want ErrSeedData naming `minifleet demo purge`", err)
	}
	if strings.Contains(refused.String(), `"listening"`) {
		t.Fatalf("live mode listened before refusing:\n%s", refused.String())
	}

	// A row that is not the demo's stays.
	var o syncBuffer
	if err := run(context.Background(), []string{"user", "create-admin", "-email", "real@shop.example", "-password", "a real admin password"}, getLive, &o); err != nil {
		t.Fatal(err)
	}
	var purged syncBuffer
	if err := run(context.Background(), []string{"demo", "purge"}, getLive, &purged); err != nil {
		t.Fatalf("demo purge: %v", err)
	}
	if !strings.Contains(purged.String(), "3 users, 1 tenants, 12 apps, 1 templates") {
		t.Errorf("purge said %q", purged.String())
	}
	st := cliOpen(t, getLive)
	ctx := context.Background()
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := st.R.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(`SELECT COUNT(*) FROM users WHERE email LIKE '%@demo.minifleet.test'`); n != 0 {
		t.Errorf("%d demo users left", n)
	}
	for _, q := range []string{`SELECT COUNT(*) FROM tenants`, `SELECT COUNT(*) FROM authorizers`, `SELECT COUNT(*) FROM templates`, `SELECT COUNT(*) FROM seed_data`, `SELECT COUNT(*) FROM app_configs`} {
		if n := count(q); n != 0 {
			t.Errorf("%s = %d after the purge, want 0", q, n)
		}
	}
	if n := count(`SELECT COUNT(*) FROM users WHERE email = 'real@shop.example'`); n != 1 {
		t.Errorf("the real admin is gone")
	}
	if n := count(`SELECT COUNT(*) FROM activity WHERE action = ?`, store.ActSeedPurged); n != 1 {
		t.Errorf("purge activity rows = %d, want 1", n)
	}
	// History stays append-only after the purge.
	if _, err := st.W.ExecContext(ctx, `DELETE FROM activity`); err == nil {
		t.Error("activity rows can be deleted after the purge: the append-only trigger is gone")
	}
	st.Close()

	out = serveUntil(t, live, `"listening"`)
	if !strings.Contains(out, `"live":true`) {
		t.Errorf("live start did not log live mode:\n%s", out)
	}
}

// TestDemoBannerAfterStartupLogs: the sandbox's demo banner is printed
// after the start-up log lines, so it does not scroll away.
func TestDemoBannerAfterStartupLogs(t *testing.T) {
	env := map[string]string{"MINIFLEET_DATA_DIR": t.TempDir(), "MINIFLEET_ADDR": "127.0.0.1:0", "MINIFLEET_SANDBOX": "on", "MINIFLEET_LOG_LEVEL": "info"}
	out := serveUntil(t, env, "WeChat emulator console")
	banner, listening := strings.Index(out, "SANDBOX mode"), strings.Index(out, `"msg":"listening"`)
	if listening < 0 || banner < listening {
		t.Fatalf("the banner (at %d) comes before the listening line (at %d):\n%s", banner, listening, out)
	}
	if n := strings.Count(out, "SANDBOX mode"); n != 1 {
		t.Errorf("banner printed %d times", n)
	}
}
