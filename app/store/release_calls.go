package store

import (
	"context"
	"database/sql"
	"time"
)

// ReleaseCall is the marker of one non-repeatable WeChat call.
type ReleaseCall struct {
	ReleaseID  int64
	Call       string
	Seq        int64
	Detail     string
	StartedAt  time.Time
	FinishedAt time.Time // zero: the call may or may not have reached WeChat
	Outcome    string
}

// Finished reports whether the call's answer was recorded.
func (c ReleaseCall) Finished() bool { return !c.FinishedAt.IsZero() }

// StartReleaseCall records that call is about to be sent for the release at
// seq. fresh is false when a marker already existed (a previous attempt
// or process got this far); that marker is returned unchanged.
func (s *Store) StartReleaseCall(ctx context.Context, releaseID int64, call string, seq int64, detail string) (c ReleaseCall, fresh bool, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO release_calls (release_id, call, seq, detail, started_at) VALUES (?,?,?,?,?)
			ON CONFLICT DO NOTHING`, releaseID, call, seq, detail, s.now())
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		fresh = n == 1
		c, err = scanReleaseCall(tx.QueryRowContext(ctx, `SELECT release_id, call, seq, detail, started_at, COALESCE(finished_at, 0), outcome
			FROM release_calls WHERE release_id = ? AND call = ? AND seq = ?`, releaseID, call, seq))
		return err
	})
	return c, fresh, err
}

// StartCallOp writes a call's marker in the transaction of the move that
// leads to the call (committing, submitting): seq is the move's new seq.
// It fails if a marker for that seq exists, which the move's
// compare-and-set already rules out.
func (s *Store) StartCallOp(releaseID int64, call string, seq int64) TxOp {
	return func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO release_calls (release_id, call, seq, detail, started_at) VALUES (?,?,?,'',?)`,
			releaseID, call, seq, s.now())
		return err
	}
}

func scanReleaseCall(row interface{ Scan(...any) error }) (ReleaseCall, error) {
	var c ReleaseCall
	var started, finished int64
	err := row.Scan(&c.ReleaseID, &c.Call, &c.Seq, &c.Detail, &started, &finished, &c.Outcome)
	c.StartedAt, c.FinishedAt = unix(started), unix(finished)
	return c, err
}

// FinishCallOp records the call's answer, "ok" or "errcode:N": in the
// transaction of the move the answer leads to, or alone (ApplyOps).
func (s *Store) FinishCallOp(releaseID int64, call string, seq int64, outcome string) TxOp {
	return func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE release_calls SET finished_at = ?, outcome = ? WHERE release_id = ? AND call = ? AND seq = ?`,
			s.now(), outcome, releaseID, call, seq)
		return err
	}
}

// ClearReleaseCall forgets a marker whose call certainly did not take
// effect (WeChat answered with an errcode worth retrying), so the next
// attempt sends it afresh.
func (s *Store) ClearReleaseCall(ctx context.Context, releaseID int64, call string, seq int64) error {
	_, err := s.W.ExecContext(ctx, `DELETE FROM release_calls WHERE release_id = ? AND call = ? AND seq = ?`, releaseID, call, seq)
	return err
}
