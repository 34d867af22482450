package config_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minifleet/minifleet/app/config"
)

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

var key32 = bytes.Repeat([]byte{0xab}, 32)

func liveEnv() map[string]string {
	return map[string]string{
		"MINIFLEET_WECHAT_COMPONENT_APPID":  "wxcomponent0001",
		"MINIFLEET_WECHAT_COMPONENT_SECRET": "s3cr3t-component-value",
		"MINIFLEET_WECHAT_TOKEN":            "tok-value-9876",
		"MINIFLEET_WECHAT_AES_KEY":          strings.Repeat("k", 43),
		"MINIFLEET_SECRET_KEY":              base64.StdEncoding.EncodeToString(key32),
	}
}

func TestDefaults(t *testing.T) {
	c, err := config.Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != config.DefaultAddr || c.DataDir != config.DefaultDataDir || c.TimeZone != config.DefaultTZ || c.MaxBodySize != 12<<20 {
		t.Errorf("defaults = %+v", c)
	}
	if c.Live() || c.Sandbox != config.SandboxAuto || c.SecureCookies() || c.LogLevel != slog.LevelInfo {
		t.Errorf("mode defaults: live=%v sandbox=%q secure=%v level=%v", c.Live(), c.Sandbox, c.SecureCookies(), c.LogLevel)
	}
	if c.Location().String() != config.DefaultTZ {
		t.Errorf("Location = %v", c.Location())
	}
	for _, v := range config.Vars {
		if !strings.HasPrefix(v.Name, "MINIFLEET_") || v.Help == "" {
			t.Errorf("Vars entry %+v", v)
		}
	}
}

func TestErrorsNameTheVariable(t *testing.T) {
	for _, tc := range []struct{ name, value string }{
		{"MINIFLEET_ADDR", "8080"},
		{"MINIFLEET_BASE_URL", "localhost:8080"},
		{"MINIFLEET_BASE_URL", "ftp://x"},
		{"MINIFLEET_LOG_LEVEL", "loud"},
		{"MINIFLEET_TIME_ZONE", "Mars/Olympus"},
		{"MINIFLEET_MAX_BODY", "lots"},
		{"MINIFLEET_MAX_BODY", "100"},
		{"MINIFLEET_SANDBOX", "maybe"},
		{"MINIFLEET_WECHAT_API_BASE", "not a url"},
		{"MINIFLEET_WECHAT_MP_BASE", "/relative"},
		{"MINIFLEET_SECRET_KEY", "too-short"},
		{"MINIFLEET_SECRET_KEY", strings.Repeat("z", 64)},
		{"MINIFLEET_PRIMARY_URL", "ftp://{host}"},
		{"MINIFLEET_PRIMARY_URL", "{host}:8080"},
		{"MINIFLEET_BACKUP_EVERY", "daily"},
		{"MINIFLEET_BACKUP_EVERY", "10s"},
		{"MINIFLEET_BACKUP_EVERY", "-1h"},
		{"MINIFLEET_BACKUP_KEEP", "0"},
		{"MINIFLEET_BACKUP_KEEP", "many"},
	} {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			_, err := config.Load(env(map[string]string{tc.name: tc.value}))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.name+":") {
				t.Errorf("error %q does not name %s", err, tc.name)
			}
		})
	}
	// Several problems are reported together.
	_, err := config.Load(env(map[string]string{"MINIFLEET_ADDR": "x", "MINIFLEET_LOG_LEVEL": "x"}))
	if err == nil || !strings.Contains(err.Error(), "MINIFLEET_ADDR") || !strings.Contains(err.Error(), "MINIFLEET_LOG_LEVEL") {
		t.Errorf("joined errors = %v", err)
	}
}

func TestParseKey(t *testing.T) {
	for _, s := range []string{base64.StdEncoding.EncodeToString(key32), hex.EncodeToString(key32), strings.ToUpper(hex.EncodeToString(key32))} {
		k, err := config.ParseKey(s)
		if err != nil || !bytes.Equal(k, key32) {
			t.Errorf("ParseKey(%q) = %x, %v", s, k, err)
		}
	}
	for _, s := range []string{"", "abc", base64.StdEncoding.EncodeToString(key32[:16]), hex.EncodeToString(key32)[:63] + "g"} {
		if _, err := config.ParseKey(s); err == nil {
			t.Errorf("ParseKey(%q) accepted", s)
		}
	}
}

func TestLiveModeNeedsCredentialsAndAKey(t *testing.T) {
	// Sandbox off without anything: every credential is named.
	_, err := config.Load(env(map[string]string{"MINIFLEET_SANDBOX": "off"}))
	if err == nil {
		t.Fatal("live mode started without credentials")
	}
	for _, name := range []string{"MINIFLEET_WECHAT_COMPONENT_APPID", "MINIFLEET_WECHAT_COMPONENT_SECRET", "MINIFLEET_WECHAT_TOKEN", "MINIFLEET_WECHAT_AES_KEY", "MINIFLEET_SECRET_KEY"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s:\n%v", name, err)
		}
	}
	// An appid alone switches auto mode to live, which then needs the rest.
	_, err = config.Load(env(map[string]string{"MINIFLEET_WECHAT_COMPONENT_APPID": "wx1"}))
	if err == nil || !strings.Contains(err.Error(), "MINIFLEET_WECHAT_COMPONENT_SECRET") {
		t.Errorf("auto with an appid: %v", err)
	}
	// Everything but the secret key.
	e := liveEnv()
	delete(e, "MINIFLEET_SECRET_KEY")
	_, err = config.Load(env(e))
	if err == nil || !strings.Contains(err.Error(), "MINIFLEET_SECRET_KEY") {
		t.Errorf("live without a secret key: %v", err)
	}
	// A bad AES key length.
	e = liveEnv()
	e["MINIFLEET_WECHAT_AES_KEY"] = "short"
	if _, err = config.Load(env(e)); err == nil || !strings.Contains(err.Error(), "MINIFLEET_WECHAT_AES_KEY") {
		t.Errorf("short AES key: %v", err)
	}
	// Complete: live.
	c, err := config.Load(env(liveEnv()))
	if err != nil || !c.Live() || !bytes.Equal(c.SecretKey, key32) {
		t.Fatalf("complete live config: live=%v err=%v", c.Live(), err)
	}
	// Live never generates a key on disk.
	c.SecretKey, c.DataDir = nil, t.TempDir()
	if err := c.EnsureSecretKey(); err == nil {
		t.Error("EnsureSecretKey generated a key in live mode")
	}
	if _, err := os.Stat(filepath.Join(c.DataDir, "secret.key")); !os.IsNotExist(err) {
		t.Errorf("live mode wrote a key file: %v", err)
	}
	// Sandbox on wins over credentials.
	e = liveEnv()
	e["MINIFLEET_SANDBOX"] = "on"
	if c, err := config.Load(env(e)); err != nil || c.Live() {
		t.Errorf("sandbox on: live=%v err=%v", c.Live(), err)
	}
}

func TestSecretsAreRedacted(t *testing.T) {
	e := liveEnv()
	e["MINIFLEET_BASE_URL"] = "https://portal.example.com"
	c, err := config.Load(env(e))
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{e["MINIFLEET_WECHAT_COMPONENT_SECRET"], e["MINIFLEET_WECHAT_TOKEN"], e["MINIFLEET_WECHAT_AES_KEY"], e["MINIFLEET_SECRET_KEY"], hex.EncodeToString(key32), string(key32)}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("starting", "config", c)
	var textLogged bytes.Buffer
	slog.New(slog.NewTextHandler(&textLogged, nil)).Info("starting", "config", c)
	for name, out := range map[string]string{
		"String": c.String(), "%v": fmt.Sprintf("%v", c), "%s": fmt.Sprintf("%s", c),
		"json log": logged.String(), "text log": textLogged.String(),
	} {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("%s shows a secret (%.6s…): %s", name, s, out)
			}
		}
		if !strings.Contains(out, "[redacted]") || !strings.Contains(out, "wxcomponent0001") {
			t.Errorf("%s: %s", name, out)
		}
	}
	if !c.SecureCookies() {
		t.Error("https base URL must use secure cookies")
	}
}

func TestSecretKeyIsGeneratedOnceAndReused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	c, err := config.Load(env(map[string]string{"MINIFLEET_DATA_DIR": dir}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.EnsureSecretKey(); err != nil {
		t.Fatal(err)
	}
	if len(c.SecretKey) != 32 || !c.SecretKeyGenerated {
		t.Fatalf("key = %d bytes, generated=%v", len(c.SecretKey), c.SecretKeyGenerated)
	}
	fi, err := os.Stat(filepath.Join(dir, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("secret.key mode = %v, want 0600", fi.Mode().Perm())
	}
	if di, _ := os.Stat(dir); di.Mode().Perm()&0o077 != 0 {
		t.Errorf("data dir mode = %v, want no group/other access", di.Mode().Perm())
	}
	first := c.SecretKey
	c2, _ := config.Load(env(map[string]string{"MINIFLEET_DATA_DIR": dir}))
	if err := c2.EnsureSecretKey(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, c2.SecretKey) {
		t.Error("a second start generated another key")
	}
	// An explicit key wins and nothing is read or written.
	c3, err := config.Load(env(map[string]string{"MINIFLEET_DATA_DIR": t.TempDir(), "MINIFLEET_SECRET_KEY": hex.EncodeToString(key32)}))
	if err != nil {
		t.Fatalf("a 64-hex-character key: %v", err)
	}
	if err := c3.EnsureSecretKey(); err != nil || !bytes.Equal(c3.SecretKey, key32) || c3.SecretKeyGenerated {
		t.Errorf("explicit key: %x generated=%v err=%v", c3.SecretKey, c3.SecretKeyGenerated, err)
	}
	// A corrupt key file is an error that names the file, not a silent new key.
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "secret.key"), []byte("garbage\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c4, _ := config.Load(env(map[string]string{"MINIFLEET_DATA_DIR": bad}))
	if err := c4.EnsureSecretKey(); err == nil || !strings.Contains(err.Error(), "secret.key") {
		t.Errorf("corrupt key file: %v", err)
	}
}
