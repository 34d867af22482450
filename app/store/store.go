// Package store holds all of Minifleet's SQL, one file per aggregate.
// Tenant-owned methods take the tenant id, so a wrong authorization policy
// alone cannot leak another tenant's rows. "Not found" is a coded error,
// never nil, nil.
//
// SQL runs one of two ways (statements.go):
//
//   - Hot statements. The few statements of push intake and release
//     transitions are named fields of hotStmts, prepared on the writer at
//     Open and run in a transaction with tx.StmtContext(ctx, s.hot.X). A
//     new hot path adds a field there, never a lookup by SQL text.
//   - Plain SQL, everything else. A read goes through s.read or s.readRow
//     on the reader pool, which prepare each SQL text once and keep it (a
//     read's SQL is built from fixed fragments, values go in as
//     arguments). A write runs in s.tx with tx.ExecContext, or as one
//     statement on s.W. Two kinds of read do not use the readers: a read
//     that decides a write runs in the write's transaction, and the three
//     reads that must come after any write in flight (TenantOfApp,
//     PermissionSetsOf, AttemptByPreAuthCode) run on s.W.
//
// A write that rides in a release transition is a TxOp (releases.go); the
// same write outside a transition runs its op alone with ApplyOps, so each
// write has one form.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/db"
)

// Per-connection settings go in the DSN, since PRAGMA through a pool reaches one connection only:
// WAL lets readers run beside the writer; foreign keys are off by default in SQLite;
// busy_timeout waits for locks instead of failing; synchronous=NORMAL is durable with WAL
// except for the last transactions on power loss.
const pragmas = "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)"

// Store is the database: one writer connection and a reader pool.
type Store struct {
	W    *sql.DB // the single writer; transactions take the write lock up front (BEGIN IMMEDIATE)
	R    *sql.DB // readers, query_only
	Path string
	Box  *Box // encrypts secrets at rest
	Now  func() time.Time

	pushes pushBatcher // groups concurrent push records into one commit
	hot    hotStmts    // hot-path statements prepared on the writer
	reads  readStmts   // reads' statements prepared on the reader pool
	ckpt   *checkpointer

	// OnEvent, when set (by platform.New), is called after a commit that
	// wrote webhook events: it wakes the delivery loop.
	OnEvent func()
	emitted atomic.Bool
}

// Open opens (creating if needed) the database at path and applies migrations.
func Open(ctx context.Context, path string, secretKey []byte) (*Store, error) {
	return OpenWith(ctx, path, secretKey, Options{})
}

// Options change how OpenWith treats the file.
type Options struct {
	// LiteFS: the file is on a LiteFS mount, which owns its files' modes
	// (no chmod) and replicates it.
	LiteFS bool
	// Replica: this node may not write (a LiteFS replica). The file must
	// exist and is neither created nor migrated: the primary did that with
	// the same binary's migrations.
	Replica bool
}

// OpenWith is Open with options (a LiteFS mount, a replica).
func OpenWith(ctx context.Context, path string, secretKey []byte, o Options) (*Store, error) {
	box, err := NewBox(secretKey)
	if err != nil {
		return nil, err
	}
	switch {
	case o.Replica:
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("replica: %w", err)
		}
	case o.LiteFS:
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, fileMode)
		if err != nil {
			return nil, err
		}
		f.Close()
	default:
		if dir := filepath.Dir(path); dir != "" {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, err
			}
		}
		if err := privateFiles(path); err != nil {
			return nil, err
		}
	}
	w, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_txlock=immediate"+
		"&_pragma=wal_autocheckpoint("+strconv.Itoa(writerAutoCheckpoint)+")") // checkpoint.go
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(max(4, runtime.NumCPU()))
	s := &Store{W: w, R: r, Path: path, Box: box, Now: time.Now}
	s.pushes.s = s
	if !o.Replica {
		if err := s.Migrate(ctx); err != nil {
			s.Close()
			return nil, err
		}
	}
	if err := s.prepareHot(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if s.ckpt, err = openCheckpointer(path); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close finishes pending push records, then closes both pools.
func (s *Store) Close() error {
	s.pushes.stop()
	s.hot.close()
	s.reads.close()
	return errors.Join(s.ckpt.close(), s.R.Close(), s.W.Close())
}

func (s *Store) provider() (*goose.Provider, error) {
	sub, err := fs.Sub(db.Migrations, "migrations")
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(goose.DialectSQLite3, s.W, sub)
}

// Migrate applies every pending migration.
func (s *Store) Migrate(ctx context.Context) error {
	p, err := s.provider()
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Ready checks that the database answers and no migration is pending.
func (s *Store) Ready(ctx context.Context) error {
	if err := s.R.PingContext(ctx); err != nil {
		return err
	}
	p, err := s.provider()
	if err != nil {
		return err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return err
	}
	if pending {
		return errors.New("migrations pending")
	}
	return nil
}

// Backup writes a consistent copy of the live database to path (VACUUM INTO).
func (s *Store) Backup(ctx context.Context, path string) error {
	// The copy holds everything the live file does: create it 0600 first
	// (VACUUM INTO writes into an empty file), never over an existing one.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("backup: %s already exists", path)
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if _, err := s.W.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		os.Remove(path)
		return err
	}
	return os.Chmod(path, fileMode)
}

// fileMode is the database's, its -wal and -shm files' and a backup's: the
// owner's only, like DATA_DIR (0700) and secret.key.
const fileMode = 0o600

// privateFiles makes the database file exist with fileMode before SQLite
// opens it: SQLite creates a new database 0644 (less the umask) and gives
// its -wal, -shm and -journal files the database file's mode, so creating
// the main file 0600 first is what keeps all of them private. Files an
// older version left 0644 are narrowed.
func privateFiles(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, fileMode)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		if err := os.Chmod(p, fileMode); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// tx runs fn in one write transaction.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.W.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	err = tx.Commit()
	s.ckpt.poke()
	s.eventsCommitted()
	return err
}

func (s *Store) now() int64 { return s.Now().Unix() }

func unix(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.Unix(v, 0)
}

func nullUnix(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.Unix(v.Int64, 0)
}

// isUnique reports whether err is a UNIQUE or PRIMARY KEY constraint
// failure, by SQLite's extended result code (modernc.org/sqlite turns
// extended codes on for every connection).
func isUnique(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return true
	}
	return false
}

// likeEscape escapes % and _ for a LIKE pattern using '\' as the escape character.
// searchable reports whether a typed search can match anything. Text with
// a control character (NUL included) or invalid UTF-8 is in no name,
// e-mail, appid or activity row the forms accept, and a NUL ends FTS5's
// string ("unterminated string"): every search function answers such a
// search with no rows and runs no SQL, so no caller can turn it into an
// error.
func searchable(q string) bool {
	return utf8.ValidString(q) && !strings.ContainsFunc(q, func(r rune) bool { return r < 0x20 || (r >= 0x7f && r <= 0x9f) })
}

func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return model.NotFound(what)
	}
	return err
}
