package store

import (
	"context"
	"database/sql"
	"strings"
	"sync"
)

// Hot-path statements (push intake, release transitions) are prepared once at Open: every Exec
// through database/sql otherwise parses its SQL again, which was a fifth of
// a push's CPU. They are prepared on the writer before any transaction
// holds its only connection; each transaction reuses them on that connection.
// A query not in the cache simply runs unprepared.
var hotQueries = []string{
	`SAVEPOINT push`,
	`RELEASE push`,
	`ROLLBACK TO push`,
	ticketTimeSQL,
	insertPushSQL,
	`UPDATE wechat_pushes SET outcome = ? WHERE id = ?`,
	`INSERT INTO wechat_component (appid, updated_at) VALUES (?, ?) ON CONFLICT (appid) DO NOTHING`,
	saveTicketSQL,
	// Every release transition (a campaign makes thousands a minute).
	selectReleaseSQL,
	updateReleaseSQL,
	insertReleaseEventSQL,
	insertActivitySQL,
	ensureArtifactsSQL,
}

type stmtCache map[string]*sql.Stmt

func (s *Store) prepareHot(ctx context.Context) error {
	s.stmts = stmtCache{}
	for _, q := range hotQueries {
		st, err := s.W.PrepareContext(ctx, q)
		if err != nil {
			return err
		}
		s.stmts[strings.TrimSpace(q)] = st
	}
	return nil
}

// execTx runs query in tx, prepared when it is a hot-path statement.
func (s *Store) execTx(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if st, ok := s.stmts[strings.TrimSpace(query)]; ok {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, query, args...)
}

// queryRowTx is execTx for a query of one row.
func (s *Store) queryRowTx(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	if st, ok := s.stmts[strings.TrimSpace(query)]; ok {
		return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, query, args...)
}

func (c stmtCache) close() {
	for _, st := range c {
		st.Close()
	}
}

// readStmts keeps list queries prepared on the readers, keyed by their SQL.
// Their SQL is assembled from a fixed set of fragments (user input only ever
// goes in as arguments, limits as a few constants), so there are a few dozen;
// past maxReadStmts they are all closed and prepared again as needed.
// Parsing and planning the staff apps list's statements took ~1.5 ms a
// request.
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
			old.Close()
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

// readRow is QueryRowContext on the readers, prepared once (readStmt).
func (s *Store) readRow(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := s.readStmt(ctx, query)
	if err != nil {
		return s.R.QueryRowContext(ctx, query, args...) // reports the same error on Scan
	}
	return st.QueryRowContext(ctx, args...)
}

// readQuery is QueryContext on the readers, prepared once (readStmt).
func (s *Store) readQuery(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := s.readStmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}
