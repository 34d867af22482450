package main

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/BurntSushi/toml"

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
