package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/minifleet/minifleet/app/config"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/db"
)

// Scheduled backups: the primary writes a consistent snapshot (VACUUM
// INTO) every MINIFLEET_BACKUP_EVERY into MINIFLEET_BACKUP_DIR and keeps
// the newest MINIFLEET_BACKUP_KEEP. `minifleet restore FILE` puts one back.

const backupPrefix, backupSuffix = "minifleet-", ".db"

// backupName is a snapshot's file name: its UTC time, sortable.
func backupName(t time.Time) string {
	return backupPrefix + t.UTC().Format("20060102T150405Z") + backupSuffix
}

// backupLoop writes snapshots until ctx ends (primary only).
func (a *app) backupLoop(ctx context.Context) {
	b := a.cfg.Backups
	if b.Every <= 0 {
		return
	}
	t := time.NewTicker(b.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		path, err := writeSnapshot(ctx, a.store, b, time.Now())
		if err != nil {
			if ctx.Err() == nil {
				a.log.Error("scheduled backup failed", "err", err, "dir", b.Dir)
			}
			continue
		}
		a.log.Info("scheduled backup written", "path", path)
	}
}

// writeSnapshot writes one snapshot into b.Dir and removes the oldest
// beyond b.Keep.
func writeSnapshot(ctx context.Context, st *store.Store, b config.Backups, now time.Time) (string, error) {
	if err := os.MkdirAll(b.Dir, 0o700); err != nil {
		return "", err
	}
	path := filepath.Join(b.Dir, backupName(now))
	if err := st.Backup(ctx, path); err != nil {
		return "", err
	}
	return path, pruneSnapshots(b.Dir, b.Keep)
}

// snapshots lists the scheduled snapshots in dir, oldest first.
func snapshots(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if n := e.Name(); e.Type().IsRegular() && strings.HasPrefix(n, backupPrefix) && strings.HasSuffix(n, backupSuffix) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}

func pruneSnapshots(dir string, keep int) error {
	names, err := snapshots(dir)
	if err != nil {
		return err
	}
	var errs []error
	for len(names) > keep {
		errs = append(errs, os.Remove(filepath.Join(dir, names[0])))
		names = names[1:]
	}
	return errors.Join(errs...)
}

// serveLockName is the file a server holds locked (flock) in its data
// directory for as long as it runs: restore refuses while it is held.
const serveLockName = "serve-lock"

// lockServe takes the server's lock; it fails when another process holds it.
func lockServe(dataDir string) (release func(), err error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dataDir, serveLockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("a Minifleet server is running on %s (it holds %s)", dataDir, serveLockName)
	}
	fmt.Fprintf(f, "%d\n", os.Getpid())
	return func() { f.Close() }, nil
}

// binaryMigrationLevel is the newest migration this binary carries.
func binaryMigrationLevel() (int64, error) {
	names, err := fs.Glob(db.Migrations, "migrations/*.sql")
	if err != nil {
		return 0, err
	}
	var top int64
	for _, n := range names {
		v, _, _ := strings.Cut(filepath.Base(n), "_")
		if x, err := strconv.ParseInt(v, 10, 64); err == nil && x > top {
			top = x
		}
	}
	return top, nil
}

// checkBackup opens file read-only and checks it is a whole, uncorrupted
// Minifleet database this binary can run: PRAGMA integrity_check and the
// goose migration level. It returns the level.
func checkBackup(ctx context.Context, file string) (int64, error) {
	if fi, err := os.Stat(file); err != nil {
		return 0, err
	} else if !fi.Mode().IsRegular() || fi.Size() == 0 {
		return 0, fmt.Errorf("%s is not a database file", file)
	}
	d, err := sql.Open("sqlite", "file:"+file+"?mode=ro&_pragma=query_only(1)")
	if err != nil {
		return 0, err
	}
	defer d.Close()
	var res string
	if err := d.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&res); err != nil {
		return 0, fmt.Errorf("%s: %w", file, err)
	}
	if res != "ok" {
		return 0, fmt.Errorf("%s fails PRAGMA integrity_check: %s", file, res)
	}
	var level int64
	if err := d.QueryRowContext(ctx, `SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&level); err != nil {
		return 0, fmt.Errorf("%s is not a Minifleet database (no migration table): %w", file, err)
	}
	top, err := binaryMigrationLevel()
	if err != nil {
		return 0, err
	}
	if level > top {
		return level, fmt.Errorf("%s is at migration %d, newer than this binary's %d: restore it with the newer minifleet", file, level, top)
	}
	if level == 0 {
		return 0, fmt.Errorf("%s has no migration applied: not a Minifleet backup", file)
	}
	return level, nil
}

// restoreCmd is `minifleet restore FILE`: it checks FILE, refuses while a
// server runs on the configured database, keeps the current database aside
// and puts FILE in its place.
func restoreCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: minifleet restore FILE")
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	file := args[0]
	level, err := checkBackup(ctx, file)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if cfg.Cluster.LiteFSDir != "" {
		return fmt.Errorf("restore: the database is on LiteFS (%s): stop the app and run `litefs import -name minifleet.db %s` on the primary, which replicates it", cfg.Cluster.LiteFSDir, file)
	}
	release, err := lockServe(cfg.DataDir)
	if err != nil {
		return fmt.Errorf("restore refused: %w; stop it first", err)
	}
	defer release()
	target := cfg.DBPath()
	tmp := target + ".restoring"
	if err := copyFile(file, tmp); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("restore: %w", err)
	}
	aside := ""
	if _, err := os.Stat(target); err == nil {
		aside = target + ".before-restore-" + time.Now().UTC().Format("20060102T150405Z")
		if err := os.Rename(target, aside); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("restore: %w", err)
		}
	}
	for _, p := range []string{target + "-wal", target + "-shm", target + "-journal"} {
		if aside != "" {
			_ = os.Rename(p, aside+strings.TrimPrefix(p, target))
		} else {
			_ = os.Remove(p)
		}
	}
	if err := os.Rename(tmp, target); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	fmt.Fprintf(stdout, "restored %s to %s (migration %d)\n", file, target, level)
	if aside != "" {
		fmt.Fprintf(stdout, "the previous database is kept as %s\n", aside)
	}
	return nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
