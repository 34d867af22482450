// Package config reads Minifleet's settings from MINIFLEET_* environment
// variables once, at start, into a plain value that is passed around.
package config

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Defaults shared with fly.toml and the Dockerfile (a test keeps them in step).
const (
	DefaultAddr    = ":8080"
	DefaultDataDir = "./data"
	DefaultTZ      = "Asia/Shanghai"
	secretKeyFile  = "secret.key"
)

// SandboxMode says whether the WeChat emulator replaces WeChat.
type SandboxMode string

const (
	SandboxAuto SandboxMode = "auto"
	SandboxOn   SandboxMode = "on"
	SandboxOff  SandboxMode = "off"
)

// Config is every setting Minifleet takes. Secrets are redacted by String.
type Config struct {
	Addr        string
	BaseURL     string
	DataDir     string
	SecretKey   []byte // 32 bytes; encrypts secrets at rest
	LogLevel    slog.Level
	TimeZone    string
	Sandbox     SandboxMode
	MaxBodySize int

	// TrustedProxies are the addresses (IPs or CIDRs) whose ProxyHeader
	// names the client; empty: the connection's peer is the client and
	// every forwarding header is ignored.
	TrustedProxies []string
	ProxyHeader    string // Fly-Client-IP, X-Forwarded-For (rightmost untrusted hop) or X-Real-IP

	WeChat WeChat

	// MetricsToken unlocks /metrics on the main address (bearer); empty: not served there.
	MetricsToken string
	// MetricsAddr, when set, is a separate listener serving only /metrics.
	MetricsAddr string
	// WebhooksAllowPrivate lets endpoints be http and on private addresses.
	WebhooksAllowPrivate bool
	// Cluster is the LiteFS side (docs/architecture.md "Past one machine").
	Cluster Cluster
	// Backups are the scheduled snapshots the primary writes.
	Backups Backups

	// SecretKeyGenerated is true when the key was created or read from DataDir.
	SecretKeyGenerated bool
}

// Cluster says where LiteFS mounts the database and how a replica reaches
// the primary. An empty LiteFSDir is one node: always the primary.
type Cluster struct {
	LiteFSDir  string // the LiteFS FUSE mount; the database is LiteFSDir/minifleet.db
	PrimaryURL string // template of the primary's app URL, {host} = the .primary file's hostname
	FlyApp     string // FLY_APP_NAME: on Fly, writes are replayed with the fly-replay header
}

// Backups are scheduled consistent snapshots of the database.
type Backups struct {
	Every time.Duration // 0: none
	Keep  int
	Dir   string
}

// DBPath is the SQLite database: on the LiteFS mount when there is one.
func (c Config) DBPath() string {
	if c.Cluster.LiteFSDir != "" {
		return filepath.Join(c.Cluster.LiteFSDir, "minifleet.db")
	}
	return filepath.Join(c.DataDir, "minifleet.db")
}

// WeChat holds the third-party platform's component credentials and hosts.
type WeChat struct {
	ComponentAppID  string
	ComponentSecret string
	Token           string
	AESKey          string
	APIBase         string
	MPBase          string
	OpenBase        string
}

// Var documents one environment variable; the README table is checked against it.
type Var struct {
	Name, Default, Help string
	Secret              bool
}

// Vars lists every variable Minifleet reads.
var Vars = []Var{
	{"MINIFLEET_ADDR", DefaultAddr, "listen address", false},
	{"MINIFLEET_BASE_URL", "http://localhost:8080", "public URL of the portal (redirects, WeChat links, secure cookies when https)", false},
	{"MINIFLEET_DATA_DIR", DefaultDataDir, "where the SQLite database and the generated secret key live", false},
	{"MINIFLEET_SECRET_KEY", "(generated in sandbox)", "32 bytes, base64 or 64 hex chars; encrypts tokens at rest. Required in live mode", true},
	{"MINIFLEET_LOG_LEVEL", "info", "debug, info, warn or error", false},
	{"MINIFLEET_TIME_ZONE", DefaultTZ, "default time zone for users who have not chosen one", false},
	{"MINIFLEET_MAX_BODY", "12582912", "largest request body in bytes: uploads (a 10 MB screen recording for the reviewers); other forms are held to 1 MiB and WeChat pushes to 64 KB", false},
	{"MINIFLEET_TRUSTED_PROXIES", "", "IPs or CIDRs of the reverse proxies in front (comma-separated); only their MINIFLEET_PROXY_HEADER is believed. Empty: the peer address is the client", false},
	{"MINIFLEET_PROXY_HEADER", "X-Forwarded-For", "the header a trusted proxy names the client in: Fly-Client-IP on Fly, X-Forwarded-For (rightmost untrusted hop) or X-Real-IP", false},
	{"MINIFLEET_SANDBOX", "auto", "auto, on or off; auto = on exactly when no component appid is set", false},
	{"MINIFLEET_WECHAT_COMPONENT_APPID", "", "third-party platform appid", false},
	{"MINIFLEET_WECHAT_COMPONENT_SECRET", "", "third-party platform appsecret", true},
	{"MINIFLEET_WECHAT_TOKEN", "", "message verification token", true},
	{"MINIFLEET_WECHAT_AES_KEY", "", "43-character EncodingAESKey", true},
	{"MINIFLEET_WECHAT_API_BASE", "https://api.weixin.qq.com", "WeChat API host", false},
	{"MINIFLEET_WECHAT_MP_BASE", "https://mp.weixin.qq.com", "WeChat authorization pages host", false},
	{"MINIFLEET_LITEFS_DIR", "", "the LiteFS mount holding the database (minifleet.db); empty: one node, the database in MINIFLEET_DATA_DIR", false},
	{"MINIFLEET_PRIMARY_URL", "http://{host}:8080", "on a LiteFS replica off Fly: where writes are forwarded; {host} is the primary's hostname from LiteFS's .primary file", false},
	{"MINIFLEET_BACKUP_EVERY", "0", "how often the primary writes a snapshot of the database (Go duration, e.g. 6h); 0: never", false},
	{"MINIFLEET_BACKUP_KEEP", "7", "how many scheduled snapshots to keep", false},
	{"MINIFLEET_BACKUP_DIR", "", "where scheduled snapshots go; empty: MINIFLEET_DATA_DIR/backups", false},
	{"MINIFLEET_WECHAT_OPEN_BASE", "https://open.weixin.qq.com", "WeChat open host", false},
	{"MINIFLEET_METRICS_TOKEN", "", "bearer token for GET /metrics on the main address; empty: /metrics is not served there", true},
	{"MINIFLEET_METRICS_ADDR", "", "separate listen address serving only /metrics (no token); keep it private", false},
	{"MINIFLEET_WEBHOOKS_ALLOW_PRIVATE", "off", "on: webhook endpoints may be http and loopback/private addresses (always on in sandbox mode)", false},
}

// Load parses the environment through getenv and validates the result.
// It does not touch the disk: call EnsureSecretKey for that.
func Load(getenv func(string) string) (Config, error) {
	get := func(name string) string {
		v := strings.TrimSpace(getenv(name))
		if v != "" {
			return v
		}
		for _, d := range Vars {
			if d.Name == name && !strings.HasPrefix(d.Default, "(") {
				return d.Default
			}
		}
		return ""
	}
	var errs []error
	c := Config{
		Addr:     get("MINIFLEET_ADDR"),
		BaseURL:  strings.TrimRight(get("MINIFLEET_BASE_URL"), "/"),
		DataDir:  get("MINIFLEET_DATA_DIR"),
		TimeZone: get("MINIFLEET_TIME_ZONE"),
		Sandbox:  SandboxMode(strings.ToLower(get("MINIFLEET_SANDBOX"))),
		WeChat: WeChat{
			ComponentAppID:  get("MINIFLEET_WECHAT_COMPONENT_APPID"),
			ComponentSecret: get("MINIFLEET_WECHAT_COMPONENT_SECRET"),
			Token:           get("MINIFLEET_WECHAT_TOKEN"),
			AESKey:          get("MINIFLEET_WECHAT_AES_KEY"),
			APIBase:         strings.TrimRight(get("MINIFLEET_WECHAT_API_BASE"), "/"),
			MPBase:          strings.TrimRight(get("MINIFLEET_WECHAT_MP_BASE"), "/"),
			OpenBase:        strings.TrimRight(get("MINIFLEET_WECHAT_OPEN_BASE"), "/"),
		},
	}
	c.MetricsToken, c.MetricsAddr = get("MINIFLEET_METRICS_TOKEN"), get("MINIFLEET_METRICS_ADDR")
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		errs = append(errs, errors.New("MINIFLEET_METRICS_TOKEN: use at least 16 characters"))
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			errs = append(errs, fmt.Errorf("MINIFLEET_METRICS_ADDR: %q is not host:port", c.MetricsAddr))
		}
	}
	switch strings.ToLower(get("MINIFLEET_WEBHOOKS_ALLOW_PRIVATE")) {
	case "on", "true", "1":
		c.WebhooksAllowPrivate = true
	case "off", "false", "0", "":
	default:
		errs = append(errs, fmt.Errorf("MINIFLEET_WEBHOOKS_ALLOW_PRIVATE: %q is not on or off", get("MINIFLEET_WEBHOOKS_ALLOW_PRIVATE")))
	}
	c.Cluster = Cluster{LiteFSDir: get("MINIFLEET_LITEFS_DIR"), PrimaryURL: get("MINIFLEET_PRIMARY_URL"), FlyApp: strings.TrimSpace(getenv("FLY_APP_NAME"))}
	if u, err := url.Parse(strings.ReplaceAll(c.Cluster.PrimaryURL, "{host}", "h")); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("MINIFLEET_PRIMARY_URL: %q is not an http(s) URL template with {host}", c.Cluster.PrimaryURL))
	}
	if d, err := time.ParseDuration(get("MINIFLEET_BACKUP_EVERY")); err != nil || d < 0 || (d > 0 && d < time.Minute) {
		errs = append(errs, fmt.Errorf("MINIFLEET_BACKUP_EVERY: %q is not a duration of at least 1m (or 0)", get("MINIFLEET_BACKUP_EVERY")))
	} else {
		c.Backups.Every = d
	}
	if _, err := fmt.Sscan(get("MINIFLEET_BACKUP_KEEP"), &c.Backups.Keep); err != nil || c.Backups.Keep < 1 {
		errs = append(errs, fmt.Errorf("MINIFLEET_BACKUP_KEEP: %q must be a number, at least 1", get("MINIFLEET_BACKUP_KEEP")))
	}
	if c.Backups.Dir = get("MINIFLEET_BACKUP_DIR"); c.Backups.Dir == "" {
		c.Backups.Dir = filepath.Join(c.DataDir, "backups")
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("MINIFLEET_ADDR: %q is not host:port", c.Addr))
	}
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("MINIFLEET_BASE_URL: %q is not an absolute http(s) URL", c.BaseURL))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("MINIFLEET_DATA_DIR: must not be empty"))
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("MINIFLEET_LOG_LEVEL"))); err != nil {
		errs = append(errs, fmt.Errorf("MINIFLEET_LOG_LEVEL: %q is not debug, info, warn or error", get("MINIFLEET_LOG_LEVEL")))
	}
	if _, err := time.LoadLocation(c.TimeZone); err != nil {
		errs = append(errs, fmt.Errorf("MINIFLEET_TIME_ZONE: %q is not a known time zone", c.TimeZone))
	}
	if _, err := fmt.Sscan(get("MINIFLEET_MAX_BODY"), &c.MaxBodySize); err != nil || c.MaxBodySize < 64<<10 {
		errs = append(errs, fmt.Errorf("MINIFLEET_MAX_BODY: %q must be a number of bytes, at least 65536", get("MINIFLEET_MAX_BODY")))
	}
	for _, p := range strings.FieldsFunc(get("MINIFLEET_TRUSTED_PROXIES"), func(r rune) bool { return r == ',' || r == ' ' }) {
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				errs = append(errs, fmt.Errorf("MINIFLEET_TRUSTED_PROXIES: %q is not an IP address or CIDR", p))
				continue
			}
		}
		c.TrustedProxies = append(c.TrustedProxies, p)
	}
	c.ProxyHeader = http.CanonicalHeaderKey(get("MINIFLEET_PROXY_HEADER"))
	switch c.ProxyHeader {
	case "Fly-Client-Ip", "X-Forwarded-For", "X-Real-Ip":
	default:
		errs = append(errs, fmt.Errorf("MINIFLEET_PROXY_HEADER: %q is not Fly-Client-IP, X-Forwarded-For or X-Real-IP", c.ProxyHeader))
	}
	switch c.Sandbox {
	case SandboxAuto, SandboxOn, SandboxOff:
	default:
		errs = append(errs, fmt.Errorf("MINIFLEET_SANDBOX: %q is not auto, on or off", c.Sandbox))
	}
	for name, base := range map[string]string{"MINIFLEET_WECHAT_API_BASE": c.WeChat.APIBase, "MINIFLEET_WECHAT_MP_BASE": c.WeChat.MPBase, "MINIFLEET_WECHAT_OPEN_BASE": c.WeChat.OpenBase} {
		if u, err := url.Parse(base); err != nil || u.Host == "" {
			errs = append(errs, fmt.Errorf("%s: %q is not an absolute URL", name, base))
		}
	}
	if c.Live() {
		w := c.WeChat
		for name, v := range map[string]string{"MINIFLEET_WECHAT_COMPONENT_APPID": w.ComponentAppID, "MINIFLEET_WECHAT_COMPONENT_SECRET": w.ComponentSecret, "MINIFLEET_WECHAT_TOKEN": w.Token, "MINIFLEET_WECHAT_AES_KEY": w.AESKey} {
			if v == "" {
				errs = append(errs, fmt.Errorf("%s: required when the sandbox is off", name))
			}
		}
		if w.AESKey != "" && len(w.AESKey) != 43 {
			errs = append(errs, errors.New("MINIFLEET_WECHAT_AES_KEY: must be 43 characters"))
		}
	}
	if raw := getenv("MINIFLEET_SECRET_KEY"); raw != "" {
		k, err := ParseKey(strings.TrimSpace(raw))
		if err != nil {
			errs = append(errs, fmt.Errorf("MINIFLEET_SECRET_KEY: %v", err))
		}
		c.SecretKey = k
	} else if c.Live() {
		errs = append(errs, errors.New("MINIFLEET_SECRET_KEY: required in live mode (generate one with: openssl rand -base64 32)"))
	}
	return c, errors.Join(errs...)
}

// Live reports whether Minifleet talks to the real WeChat.
func (c Config) Live() bool {
	switch c.Sandbox {
	case SandboxOn:
		return false
	case SandboxOff:
		return true
	}
	return c.WeChat.ComponentAppID != ""
}

// SecureCookies is true when the portal is served over https.
func (c Config) SecureCookies() bool { return strings.HasPrefix(c.BaseURL, "https://") }

// Location returns the default time zone (validated by Load).
func (c Config) Location() *time.Location {
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}

// ParseKey accepts 32 bytes as standard base64 or as 64 hex characters.
func ParseKey(s string) ([]byte, error) {
	if len(s) == 64 {
		// fmt's %x cannot scan into a [32]byte, so decode explicitly.
		if k, err := hex.DecodeString(s); err == nil {
			return k, nil
		}
	}
	k, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(k) != 32 {
		return nil, errors.New("must be 32 bytes, as base64 or 64 hex characters")
	}
	return k, nil
}

// EnsureSecretKey fills SecretKey outside live mode from DataDir/secret.key,
// generating that file (mode 0600) the first time.
func (c *Config) EnsureSecretKey() error {
	if c.SecretKey != nil {
		return nil
	}
	if c.Live() {
		return errors.New("MINIFLEET_SECRET_KEY: required in live mode")
	}
	path := filepath.Join(c.DataDir, secretKeyFile)
	if b, err := os.ReadFile(path); err == nil {
		k, err := ParseKey(strings.TrimSpace(string(b)))
		if err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
		c.SecretKey, c.SecretKeyGenerated = k, true
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return err
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(k) + "\n"); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	c.SecretKey, c.SecretKeyGenerated = k, true
	return nil
}

// String prints the settings with every secret redacted.
func (c Config) String() string {
	red := func(s string) string {
		if s == "" {
			return ""
		}
		return "[redacted]"
	}
	key := ""
	if c.SecretKey != nil {
		key = "[redacted]"
	}
	mode := "sandbox"
	if c.Live() {
		mode = "live"
	}
	_ = red(c.MetricsToken) // never printed
	return fmt.Sprintf("addr=%s base_url=%s data_dir=%s mode=%s log_level=%s time_zone=%s trusted_proxies=%s proxy_header=%s secret_key=%s wechat.component_appid=%s wechat.component_secret=%s wechat.token=%s wechat.aes_key=%s wechat.api_base=%s",
		c.Addr, c.BaseURL, c.DataDir, mode, c.LogLevel, c.TimeZone, strings.Join(c.TrustedProxies, ","), c.ProxyHeader, key,
		c.WeChat.ComponentAppID, red(c.WeChat.ComponentSecret), red(c.WeChat.Token), red(c.WeChat.AESKey), c.WeChat.APIBase)
}

// LogValue keeps secrets out of structured logs too.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }
