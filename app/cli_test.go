package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/minifleet/minifleet/app/authz"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/web"
)

// cliEnv is a sandbox-mode environment over a fresh data directory.
func cliEnv(t *testing.T) (func(string) string, string) {
	t.Helper()
	dir := t.TempDir()
	vars := map[string]string{"MINIFLEET_DATA_DIR": dir}
	return func(k string) string { return vars[k] }, dir
}

func cliOpen(t *testing.T, getenv func(string) string) *store.Store {
	t.Helper()
	cfg, err := loadConfig(getenv)
	if err != nil {
		t.Fatal(err)
	}
	st, err := openStore(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestCLICreateAdmin(t *testing.T) {
	ctx := context.Background()
	getenv, _ := cliEnv(t)
	var out bytes.Buffer
	err := run(ctx, []string{"user", "create-admin", "-email", "Root@Example.TEST", "-name", "Root", "-password", "a long admin password"}, getenv, &out)
	if err != nil {
		t.Fatalf("create-admin: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "created admin root@example.test") || strings.Contains(out.String(), "a long admin password") {
		t.Errorf("output = %q", out.String())
	}
	st := cliOpen(t, getenv)
	u, err := st.UserByEmail(ctx, "root@example.test")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := web.DefaultHasher.Verify(u.PasswordHash, "a long admin password"); !ok || err != nil {
		t.Errorf("stored hash does not verify: %v", err)
	}
	az, err := authz.New(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if roles := az.Roles(u.ID, authz.Platform); len(roles) != 1 || roles[0] != "admin" {
		t.Errorf("platform roles = %v, want [admin]", roles)
	}
	if !az.Can(u.ID, authz.Platform, authz.Perm{Obj: "staff", Act: "write"}) {
		t.Error("the admin cannot manage staff")
	}

	// The same e-mail again is refused with the flag named.
	err = run(ctx, []string{"user", "create-admin", "-email", "root@example.test", "-password", "another long password"}, getenv, &out)
	if err == nil || !strings.Contains(err.Error(), "-email") {
		t.Errorf("duplicate: %v", err)
	}
	for _, args := range [][]string{
		{"user", "create-admin", "-email", "not an address", "-password", "a long admin password"},
		{"user", "create-admin", "-email", "short@x.test", "-password", "short"},
		{"user", "delete"},
		{"user"},
	} {
		if err := run(ctx, args, getenv, &out); err == nil {
			t.Errorf("run %v: no error", args)
		}
	}
	if n, _ := st.StaffUsers(ctx); len(n) != 1 {
		t.Errorf("staff users = %d, want 1", len(n))
	}
}

func TestCLICreateAdminGeneratesAPassword(t *testing.T) {
	ctx := context.Background()
	getenv, _ := cliEnv(t)
	var out bytes.Buffer
	if err := run(ctx, []string{"user", "create-admin", "-email", "gen@x.test"}, getenv, &out); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no generated password printed: %q", out.String())
	}
	u, err := cliOpen(t, getenv).UserByEmail(ctx, "gen@x.test")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := web.DefaultHasher.Verify(u.PasswordHash, m[1]); !ok {
		t.Error("the printed password does not verify")
	}
}

func TestCLIBackup(t *testing.T) {
	ctx := context.Background()
	getenv, _ := cliEnv(t)
	var out bytes.Buffer
	if err := run(ctx, []string{"user", "create-admin", "-email", "b@x.test", "-password", "a long admin password"}, getenv, &out); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "backup.db")
	if err := run(ctx, []string{"backup", path}, getenv, &out); err != nil {
		t.Fatalf("backup: %v", err)
	}
	if !strings.Contains(out.String(), "backup written to "+path) {
		t.Errorf("output = %q", out.String())
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var email string
	if err := db.QueryRow(`SELECT email FROM users WHERE staff_role = 'admin'`).Scan(&email); err != nil || email != "b@x.test" {
		t.Errorf("backup holds %q, %v", email, err)
	}
	fi, _ := os.Stat(path)
	if err := run(ctx, []string{"backup", path}, getenv, &out); err == nil {
		t.Error("backup overwrote an existing file")
	}
	if fi2, _ := os.Stat(path); fi2.Size() != fi.Size() || !fi2.ModTime().Equal(fi.ModTime()) {
		t.Error("the refused backup touched the file")
	}
	if err := run(ctx, []string{"backup"}, getenv, &out); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Errorf("backup without a path: %v", err)
	}
}

func TestCLIConfigHelpAndUnknown(t *testing.T) {
	ctx := context.Background()
	getenv, dir := cliEnv(t)
	var out bytes.Buffer
	if err := run(ctx, []string{"config"}, getenv, &out); err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(filepath.Join(dir, "secret.key"))
	if err != nil {
		t.Fatalf("config did not create the sandbox key: %v", err)
	}
	if strings.Contains(out.String(), strings.TrimSpace(string(key))) || !strings.Contains(out.String(), "mode=sandbox") || !strings.Contains(out.String(), "data_dir="+dir) {
		t.Errorf("config output = %q", out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"help"}, getenv, &out); err != nil || !strings.Contains(out.String(), "create-admin") {
		t.Errorf("help: %v %q", err, out.String())
	}
	if err := run(ctx, []string{"frobnicate"}, getenv, &out); err == nil || !strings.Contains(err.Error(), "frobnicate") {
		t.Errorf("unknown command: %v", err)
	}
	// Live mode without a key refuses to start, naming the variable.
	live := func(k string) string {
		return map[string]string{"MINIFLEET_DATA_DIR": t.TempDir(), "MINIFLEET_SANDBOX": "off"}[k]
	}
	err = run(ctx, []string{"serve"}, live, &out)
	if err == nil || !strings.Contains(err.Error(), "MINIFLEET_SECRET_KEY") || !strings.Contains(err.Error(), "MINIFLEET_WECHAT_COMPONENT_APPID") {
		t.Errorf("live serve without credentials: %v", err)
	}
}
