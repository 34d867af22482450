package main

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"go.yaml.in/yaml/v3"

	"github.com/minifleet/minifleet/app/config"
)

// flyConfig is the part of fly.toml Minifleet depends on. Both the
// [http_service] and the older [[services]] shapes are read.
type flyConfig struct {
	Env    map[string]string `toml:"env"`
	Mounts []struct {
		Source      string `toml:"source"`
		Destination string `toml:"destination"`
	} `toml:"mounts"`
	HTTPService *struct {
		InternalPort int        `toml:"internal_port"`
		Checks       []flyCheck `toml:"checks"`
	} `toml:"http_service"`
	Services []struct {
		InternalPort int        `toml:"internal_port"`
		HTTPChecks   []flyCheck `toml:"http_checks"`
	} `toml:"services"`
	Checks map[string]flyCheck `toml:"checks"` // top-level machine checks
}

type flyCheck struct {
	Type   string `toml:"type"`
	Path   string `toml:"path"`
	Method string `toml:"method"`
	Port   int    `toml:"port"`
}

// TestFlyConfigMatchesTheBinary keeps fly.toml in step with config's
// defaults: the port the binary listens on, the volume that holds the
// database, and a health check the portal actually serves.
func TestFlyConfigMatchesTheBinary(t *testing.T) {
	var fc flyConfig
	_, err := toml.DecodeFile(filepath.Join("..", "fly.toml"), &fc)
	if err != nil {
		t.Fatalf("fly.toml: %v", err)
	}
	_, portStr, err := net.SplitHostPort(config.DefaultAddr)
	if err != nil {
		t.Fatal(err)
	}
	port, err := net.LookupPort("tcp", portStr)
	if err != nil {
		t.Fatal(err)
	}
	if addr, ok := fc.Env["MINIFLEET_ADDR"]; ok {
		_, p, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatalf("[env] MINIFLEET_ADDR = %q: %v", addr, err)
		}
		if port, err = net.LookupPort("tcp", p); err != nil {
			t.Fatal(err)
		}
	}

	var internalPorts []int
	var checks []flyCheck
	if fc.HTTPService != nil {
		internalPorts = append(internalPorts, fc.HTTPService.InternalPort)
		checks = append(checks, fc.HTTPService.Checks...)
	}
	for _, s := range fc.Services {
		internalPorts = append(internalPorts, s.InternalPort)
		checks = append(checks, s.HTTPChecks...)
	}
	for _, c := range fc.Checks {
		if c.Type == "http" {
			checks = append(checks, c)
		}
	}
	if len(internalPorts) == 0 {
		t.Fatal("fly.toml has neither [http_service] nor [[services]]")
	}
	for _, p := range internalPorts {
		if p != port {
			t.Errorf("internal_port = %d, want %d (the port Minifleet listens on)", p, port)
		}
	}

	mounted := false
	for _, m := range fc.Mounts {
		mounted = mounted || m.Destination == "/data"
	}
	if !mounted {
		t.Errorf("no [[mounts]] with destination \"/data\" (mounts: %+v)", fc.Mounts)
	}
	if got := fc.Env["MINIFLEET_DATA_DIR"]; got != "/data" {
		t.Errorf("[env] MINIFLEET_DATA_DIR = %q, want \"/data\" (the mounted volume)", got)
	}
	if _, ok := fc.Env["MINIFLEET_SECRET_KEY"]; ok {
		t.Error("MINIFLEET_SECRET_KEY is in [env]: it belongs in fly secrets")
	}
	// A deploy without the WeChat secrets must fail to start, not run the
	// sandbox (demo accounts with published passwords) on the production
	// volume (issue #12).
	if got := fc.Env["MINIFLEET_SANDBOX"]; got != "off" {
		t.Errorf("[env] MINIFLEET_SANDBOX = %q, want \"off\": the first deploy must not seed demo accounts on /data", got)
	}

	healthy := false
	for _, c := range checks {
		if c.Path == "/healthz" && (c.Method == "" || c.Method == "GET" || c.Method == "get") && (c.Port == 0 || c.Port == port) {
			healthy = true
		}
	}
	if !healthy {
		t.Errorf("no http health check on GET /healthz (checks: %+v)", checks)
	}
	if _, err := os.Stat(filepath.Join("..", "Dockerfile")); err != nil {
		t.Errorf("fly.toml builds from a Dockerfile that is missing: %v", err)
	}
}

// litefsConfig is the part of litefs.yml Minifleet depends on.
type litefsConfig struct {
	FUSE struct {
		Dir string `yaml:"dir"`
	} `yaml:"fuse"`
	Data struct {
		Dir string `yaml:"dir"`
	} `yaml:"data"`
	Exec []struct {
		Cmd string `yaml:"cmd"`
	} `yaml:"exec"`
	Lease struct {
		Type         string `yaml:"type"`
		AdvertiseURL string `yaml:"advertise-url"`
		Candidate    string `yaml:"candidate"`
		Consul       struct {
			URL string `yaml:"url"`
			Key string `yaml:"key"`
		} `yaml:"consul"`
	} `yaml:"lease"`
	Proxy *struct {
		Addr string `yaml:"addr"`
	} `yaml:"proxy"`
}

// TestLiteFSConfigMatchesTheBinary keeps litefs.yml, the Dockerfile and
// fly.toml consistent with the code: the database on the FUSE mount the
// binary is told about, LiteFS's data on the volume, the binary the image
// holds run by `litefs mount`, a Consul lease on Fly (candidates in the
// primary region), a static variant for local runs, and no LiteFS proxy in
// front (Minifleet hands writes on itself; LiteFS's proxy would buffer SSE).
func TestLiteFSConfigMatchesTheBinary(t *testing.T) {
	read := func(name string) litefsConfig {
		t.Helper()
		b, err := os.ReadFile(filepath.Join("..", name))
		if err != nil {
			t.Fatal(err)
		}
		var lc litefsConfig
		if err := yaml.Unmarshal(b, &lc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return lc
	}
	fly := read("litefs.yml")
	var fc flyConfig
	var raw struct {
		PrimaryRegion string `toml:"primary_region"`
	}
	if _, err := toml.DecodeFile(filepath.Join("..", "fly.toml"), &fc); err != nil {
		t.Fatal(err)
	}
	if _, err := toml.DecodeFile(filepath.Join("..", "fly.toml"), &raw); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(func(k string) string {
		if v, ok := fc.Env[k]; ok {
			return v
		}
		switch k {
		case "MINIFLEET_SECRET_KEY":
			return "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE="
		case "MINIFLEET_WECHAT_COMPONENT_APPID", "MINIFLEET_WECHAT_COMPONENT_SECRET", "MINIFLEET_WECHAT_TOKEN":
			return "x"
		case "MINIFLEET_WECHAT_AES_KEY":
			return strings.Repeat("k", 43)
		}
		return ""
	})
	if err != nil {
		t.Fatalf("fly.toml's [env] does not load: %v", err)
	}
	if cfg.Cluster.LiteFSDir == "" || cfg.Cluster.LiteFSDir != fly.FUSE.Dir {
		t.Errorf("[env] MINIFLEET_LITEFS_DIR = %q, litefs.yml fuse.dir = %q: the database must be on the mount", cfg.Cluster.LiteFSDir, fly.FUSE.Dir)
	}
	if filepath.Dir(cfg.DBPath()) != fly.FUSE.Dir {
		t.Errorf("the binary opens %s, not on LiteFS's mount %s", cfg.DBPath(), fly.FUSE.Dir)
	}
	onVolume := func(p string) bool {
		for _, m := range fc.Mounts {
			if p == m.Destination || strings.HasPrefix(p, m.Destination+"/") {
				return true
			}
		}
		return false
	}
	if !onVolume(fly.Data.Dir) {
		t.Errorf("litefs.yml data.dir %q is not on a fly.toml volume (%+v)", fly.Data.Dir, fc.Mounts)
	}
	if !onVolume(cfg.Backups.Dir) {
		t.Errorf("backups go to %q, not on a volume", cfg.Backups.Dir)
	}
	if cfg.Backups.Every <= 0 {
		t.Error("fly.toml schedules no backups (MINIFLEET_BACKUP_EVERY)")
	}
	if onVolume(fly.FUSE.Dir) {
		t.Errorf("fuse.dir %q is inside a volume: LiteFS mounts over it", fly.FUSE.Dir)
	}
	if len(fly.Exec) != 1 || fly.Exec[0].Cmd != "/minifleet serve" {
		t.Errorf("litefs.yml exec = %+v, want the image's /minifleet serve", fly.Exec)
	}
	if fly.Lease.Type != "consul" || fly.Lease.Consul.URL != "${FLY_CONSUL_URL}" || fly.Lease.Consul.Key == "" {
		t.Errorf("litefs.yml lease: %+v, want consul at ${FLY_CONSUL_URL}", fly.Lease)
	}
	if !strings.Contains(fly.Lease.Candidate, "PRIMARY_REGION") || raw.PrimaryRegion == "" {
		t.Errorf("candidates must be the machines of fly.toml's primary_region (candidate %q, primary_region %q)", fly.Lease.Candidate, raw.PrimaryRegion)
	}
	if fly.Proxy != nil {
		t.Error("litefs.yml configures LiteFS's proxy: Minifleet forwards writes itself (app/web/cluster.go)")
	}
	static := read("litefs.static.yml")
	if static.Lease.Type != "static" {
		t.Errorf("litefs.static.yml lease type %q, want static", static.Lease.Type)
	}

	df, err := os.ReadFile(filepath.Join("..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"COPY litefs.yml /etc/litefs.yml",
		"github.com/superfly/litefs/cmd/litefs@v0.5.14",
		"fuse3",
		`CMD ["litefs", "mount"]`,
		"-o /minifleet ./app",
	} {
		if !bytes.Contains(df, []byte(want)) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	mk, err := os.ReadFile(filepath.Join("..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(mk, []byte("LITEFS_VERSION := v0.5.14")) {
		t.Error("the Makefile installs another LiteFS than the Dockerfile")
	}
}
