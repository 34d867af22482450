package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/config"
	"github.com/minifleet/minifleet/app/model"
)

// dump is every user and tenant, in order: what the drill compares.
func dump(t *testing.T, path string) string {
	t.Helper()
	d, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var b strings.Builder
	for _, q := range []string{`SELECT id, email, name, password_hash FROM users ORDER BY id`, `SELECT id, name FROM tenants ORDER BY id`, `SELECT COUNT(*) FROM activity`} {
		rows, err := d.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				if x, ok := v.([]byte); ok {
					v = string(x)
				}
				fmt.Fprintf(&b, "%v|", v)
			}
			b.WriteString("\n")
		}
		rows.Close()
	}
	return b.String()
}

// TestRestoreDrill: write, back up (the scheduled snapshot), destroy,
// restore, compare; restore refuses while a server holds the database,
// and refuses a corrupted file and one from a newer binary.
func TestRestoreDrill(t *testing.T) {
	ctx := context.Background()
	getenv, dir := cliEnv(t)
	cfg, err := loadConfig(getenv)
	if err != nil {
		t.Fatal(err)
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, email := range []string{"drill-a@example.test", "drill-b@example.test"} {
		if _, _, err := st.Signup(ctx, model.User{Email: email, Name: "演练" + string(rune('A'+i)), PasswordHash: "x"}, "演练租户"+string(rune('A'+i)), "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
	}
	want := dump(t, cfg.DBPath())
	if !strings.Contains(want, "drill-b@example.test") {
		t.Fatalf("the drill's data is not in the database:\n%s", want)
	}

	// Scheduled snapshots: three, keep two.
	b := config.Backups{Dir: filepath.Join(dir, "backups"), Keep: 2, Every: time.Hour}
	var last string
	for i := range 3 {
		if last, err = writeSnapshot(ctx, st, b, time.Date(2026, 12, 3, 10, i, 0, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
	}
	names, err := snapshots(b.Dir)
	if err != nil || len(names) != 2 || filepath.Join(b.Dir, names[1]) != last || names[0] != backupName(time.Date(2026, 12, 3, 10, 1, 0, 0, time.UTC)) {
		t.Fatalf("snapshots kept: %v (%v), want the newest two", names, err)
	}
	if fi, err := os.Stat(last); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("snapshot mode: %v %v", fi, err)
	}

	// While the server runs (it holds the lock), restore refuses.
	unlock, err := lockServe(cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"restore", last}, getenv, &out); err == nil || !strings.Contains(err.Error(), "running") {
		t.Fatalf("restore while serving: %v", err)
	}
	unlock()
	st.Close()

	// Destroy, then restore.
	for _, p := range []string{cfg.DBPath(), cfg.DBPath() + "-wal", cfg.DBPath() + "-shm"} {
		os.Remove(p)
	}
	out.Reset()
	if err := run(ctx, []string{"restore", last}, getenv, &out); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if !strings.Contains(out.String(), "restored") {
		t.Errorf("restore said %q", out.String())
	}
	if got := dump(t, cfg.DBPath()); got != want {
		t.Fatalf("restored database differs:\n got %s\nwant %s", got, want)
	}
	// The restored database opens and runs (migrations already at level).
	st2, err := openStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st2.UserByEmail(ctx, "drill-a@example.test"); err != nil {
		t.Fatal(err)
	}
	st2.Close()

	// Restoring over an existing database keeps it aside.
	out.Reset()
	if err := run(ctx, []string{"restore", last}, getenv, &out); err != nil || !strings.Contains(out.String(), "kept as") {
		t.Fatalf("restore over a database: %v %q", err, out.String())
	}

	// A corrupted backup is refused, and nothing is replaced.
	bad := filepath.Join(dir, "bad.db")
	raw, _ := os.ReadFile(last)
	for i := 4096; i+200 < len(raw) && i < 3*4096; i += 512 {
		copy(raw[i:], bytes.Repeat([]byte{0xA5}, 200))
	}
	os.WriteFile(bad, raw, 0o600)
	if err := run(ctx, []string{"restore", bad}, getenv, &out); err == nil {
		t.Fatal("a corrupted backup was restored")
	}
	notDB := filepath.Join(dir, "notes.db")
	os.WriteFile(notDB, []byte("hello"), 0o600)
	if err := run(ctx, []string{"restore", notDB}, getenv, &out); err == nil {
		t.Fatal("a file that is not a database was restored")
	}
	// A backup from a newer binary (a migration this one lacks) is refused.
	newer := filepath.Join(dir, "newer.db")
	copyFile(last, newer)
	d, _ := sql.Open("sqlite", "file:"+newer)
	top, _ := binaryMigrationLevel()
	if _, err := d.Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, 1)`, top+1); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if err := run(ctx, []string{"restore", newer}, getenv, &out); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("a newer backup: %v", err)
	}
	if got := dump(t, cfg.DBPath()); got != want {
		t.Fatal("a refused restore changed the database")
	}
}

// TestBackupRefusesMissingDatabase: `minifleet backup` with a data
// directory that holds no database writes nothing and creates nothing.
func TestBackupRefusesMissingDatabase(t *testing.T) {
	getenv, dir := cliEnv(t)
	path := filepath.Join(t.TempDir(), "b.db")
	var out bytes.Buffer
	err := run(context.Background(), []string{"backup", path}, getenv, &out)
	if err == nil || !strings.Contains(err.Error(), "no database") {
		t.Fatalf("backup without a database: %v", err)
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("a backup file was written")
	}
	if _, err := os.Stat(filepath.Join(dir, "minifleet.db")); err == nil {
		t.Error("an empty database was created")
	}
}
