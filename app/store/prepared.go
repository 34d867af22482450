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

// readStmts holds reads prepared on the reader pool, keyed by their SQL:
// the per-step lookups of the release pipeline (release, template, app,
// config, settings, authorizer), each parsed once instead of per call.
type readStmts struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// row runs a fixed (never user-built) query of one row on the readers,
// prepared on first use.
func (s *Store) row(ctx context.Context, query string, args ...any) *sql.Row {
	s.reads.mu.Lock()
	st, ok := s.reads.m[query]
	if !ok {
		var err error
		if st, err = s.R.PrepareContext(ctx, query); err != nil {
			s.reads.mu.Unlock()
			return s.R.QueryRowContext(ctx, query, args...) // the error surfaces from Scan
		}
		if s.reads.m == nil {
			s.reads.m = map[string]*sql.Stmt{}
		}
		s.reads.m[query] = st
	}
	s.reads.mu.Unlock()
	return st.QueryRowContext(ctx, args...)
}

func (r *readStmts) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, st := range r.m {
		st.Close()
	}
	r.m = nil
}

func (c stmtCache) close() {
	for _, st := range c {
		st.Close()
	}
}
