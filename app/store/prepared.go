package store

import (
	"context"
	"database/sql"
	"strings"
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
