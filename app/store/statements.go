package store

import (
	"context"
	"database/sql"
	"sync"
)

// How SQL runs (see the package comment): named hot statements on the
// writer, every read through read/readRow, every other write as plain SQL
// in s.tx.

// hotStmts are the statements of the two hot write paths, push intake and
// release transitions (a campaign makes thousands a minute), prepared on
// the writer at Open. Through database/sql every Exec otherwise parses its
// SQL again, which was a fifth of a push's CPU. They are prepared before
// any transaction holds the writer's only connection; a transaction runs
// one with tx.StmtContext(ctx, s.hot.X).
type hotStmts struct {
	// push intake (push_batch.go, pushes.go, vault.go)
	savepoint, releaseSavepoint, rollbackToSavepoint *sql.Stmt
	ticketTime, insertPush, setPushOutcome           *sql.Stmt
	ensureComponent, saveTicket                      *sql.Stmt
	// every release transition (releases.go, release_artifacts.go)
	selectRelease, updateRelease, insertReleaseEvent, ensureArtifacts *sql.Stmt
	// the activity row of every change (activity.go)
	insertActivity *sql.Stmt
	// the webhook outbox row of every event, and whether anyone listens (webhooks.go)
	emitEvent, subscribed *sql.Stmt
}

// hotSQL pairs a field of hotStmts with its SQL.
type hotSQL struct {
	st **sql.Stmt
	q  string
}

func (h *hotStmts) all() []hotSQL {
	return []hotSQL{
		{&h.savepoint, `SAVEPOINT push`},
		{&h.releaseSavepoint, `RELEASE push`},
		{&h.rollbackToSavepoint, `ROLLBACK TO push`},
		{&h.ticketTime, ticketTimeSQL},
		{&h.insertPush, insertPushSQL},
		{&h.setPushOutcome, `UPDATE wechat_pushes SET outcome = ? WHERE id = ?`},
		{&h.ensureComponent, `INSERT INTO wechat_component (appid, updated_at) VALUES (?, ?) ON CONFLICT (appid) DO NOTHING`},
		{&h.saveTicket, saveTicketSQL},
		{&h.selectRelease, selectReleaseSQL},
		{&h.updateRelease, updateReleaseSQL},
		{&h.insertReleaseEvent, insertReleaseEventSQL},
		{&h.ensureArtifacts, ensureArtifactsSQL},
		{&h.insertActivity, insertActivitySQL},
		{&h.emitEvent, emitEventSQL},
		{&h.subscribed, subscribedSQL},
	}
}

func (s *Store) prepareHot(ctx context.Context) error {
	for _, p := range s.hot.all() {
		st, err := s.W.PrepareContext(ctx, p.q)
		if err != nil {
			return err
		}
		*p.st = st
	}
	return nil
}

func (h *hotStmts) close() {
	for _, p := range h.all() {
		if *p.st != nil {
			(*p.st).Close()
		}
	}
}

// readStmts keeps the reads' statements prepared on the reader pool, keyed
// by their SQL. Read SQL is assembled from a fixed set of fragments (user
// input only ever goes in as arguments, limits as a few constants), so
// there are a few dozen; past maxReadStmts they are all closed and
// prepared again as needed. Parsing and planning the staff apps list's
// statements took ~1.5 ms a request.
const maxReadStmts = 256

type readStmts struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func (s *Store) readStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	c := &s.reads
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[query]; ok {
		return st, nil
	}
	st, err := s.R.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if c.m == nil || len(c.m) >= maxReadStmts {
		for _, old := range c.m {
			old.Close() // a statement in use closes once its rows are closed
		}
		c.m = map[string]*sql.Stmt{}
	}
	c.m[query] = st
	return st, nil
}

func (c *readStmts) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
}

// read runs a query on the reader pool, its statement prepared once
// (readStmt). Every read on the reader pool goes through read or
// readRow.
func (s *Store) read(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := s.readStmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// readRow is read for a query of one row.
func (s *Store) readRow(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := s.readStmt(ctx, query)
	if err != nil {
		// Unprepared (a cancelled context, a bad query): the pool's own
		// QueryRow reports the error on Scan. (Calling readRow again
		// recursed without end while the context stayed cancelled.)
		return s.R.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// queryRower is the reader pool (reader) or a write transaction, for a
// helper that reads in either.
type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// reader is the reader pool through readRow.
type reader struct{ s *Store }

func (r reader) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return r.s.readRow(ctx, query, args...)
}
