package store

import (
	"context"
	"time"
)

// RecordLoginFailure notes one failed login under each key ("acct:<email>", "ip:<addr>").
func (s *Store) RecordLoginFailure(ctx context.Context, keys ...string) error {
	now := s.now()
	for _, k := range keys {
		if _, err := s.W.ExecContext(ctx, `INSERT INTO login_failures (key, at) VALUES (?, ?)`, k, now); err != nil {
			return err
		}
	}
	// Keep the table small: nothing older than a day matters.
	_, err := s.W.ExecContext(ctx, `DELETE FROM login_failures WHERE at < ?`, now-86400)
	return err
}

// LoginFailures counts failures under key since t and returns the oldest one's time.
func (s *Store) LoginFailures(ctx context.Context, key string, since time.Time) (int, time.Time, error) {
	var n int
	var oldest int64
	err := s.readRow(ctx, `SELECT COUNT(*), COALESCE(MIN(at), 0) FROM login_failures WHERE key = ? AND at >= ?`, key, since.Unix()).Scan(&n, &oldest)
	return n, unix(oldest), err
}

// ClearLoginFailures forgets failures under key (after a successful login).
func (s *Store) ClearLoginFailures(ctx context.Context, key string) error {
	_, err := s.W.ExecContext(ctx, `DELETE FROM login_failures WHERE key = ?`, key)
	return err
}

// LoginFailureSpan counts failures under key since t and returns the
// oldest and the newest one's times.
func (s *Store) LoginFailureSpan(ctx context.Context, key string, since time.Time) (n int, oldest, newest time.Time, err error) {
	var o, w int64
	err = s.readRow(ctx, `SELECT COUNT(*), COALESCE(MIN(at), 0), COALESCE(MAX(at), 0) FROM login_failures WHERE key = ? AND at >= ?`, key, since.Unix()).Scan(&n, &o, &w)
	return n, unix(o), unix(w), err
}
