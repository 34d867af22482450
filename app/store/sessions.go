package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Sessions keeps the portal's scs sessions (the sessions table of migration
// 00001; scs stores hashes of the tokens). It satisfies scs.CtxStore.
// Lookups, one per request, read on the reader pool with a cached
// statement, so a page load never queues behind the single writer.
type Sessions struct{ S *Store }

// expiry is kept as a Julian day, as the table has always held it.
const sessionFind = `SELECT data FROM sessions WHERE token = ? AND julianday('now') < expiry`

// FindCtx returns a live session's data; an unknown or expired token is
// not found.
func (ss Sessions) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var b []byte
	err := ss.S.readRow(ctx, sessionFind, token).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	return b, err == nil, err
}

// CommitCtx saves a session's data and expiry.
func (ss Sessions) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	_, err := ss.S.W.ExecContext(ctx, `REPLACE INTO sessions (token, data, expiry) VALUES (?, ?, julianday(?))`,
		token, b, expiry.UTC().Format("2006-01-02T15:04:05.999"))
	return err
}

// DeleteCtx removes a session; an unknown token is no error.
func (ss Sessions) DeleteCtx(ctx context.Context, token string) error {
	_, err := ss.S.W.ExecContext(ctx, `DELETE FROM sessions WHERE token = ?`, token)
	return err
}

// Find, Commit and Delete are scs.Store's context-free forms.
func (ss Sessions) Find(token string) ([]byte, bool, error) {
	return ss.FindCtx(context.Background(), token)
}
func (ss Sessions) Commit(token string, b []byte, expiry time.Time) error {
	return ss.CommitCtx(context.Background(), token, b, expiry)
}
func (ss Sessions) Delete(token string) error { return ss.DeleteCtx(context.Background(), token) }

// DeleteExpired removes the sessions past their expiry.
func (ss Sessions) DeleteExpired(ctx context.Context) (int64, error) {
	res, err := ss.S.W.ExecContext(ctx, `DELETE FROM sessions WHERE expiry < julianday('now')`)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
