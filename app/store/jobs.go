package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"
)

// Job states.
const (
	JobQueued  = "queued"
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed"
)

// Job is one durable background job.
type Job struct {
	ID          int64
	Kind        string
	DedupeKey   string
	Payload     json.RawMessage
	State       string
	RunAt       time.Time
	Attempts    int // including the current one while running
	MaxAttempts int
	LastError   string
	CreatedAt   time.Time
}

// NewJob describes a job to enqueue. An empty DedupeKey never collides;
// a repeated one is ignored (the first job stands).
type NewJob struct {
	Kind        string
	DedupeKey   string
	Payload     any // marshalled to JSON; never put secrets here
	RunAt       time.Time
	MaxAttempts int // 0 means 8
}

// EnqueueJob stores a job; dup reports that one with the same dedupe key exists.
func (s *Store) EnqueueJob(ctx context.Context, j NewJob) (id int64, dup bool, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		id, dup, err = s.enqueueTx(ctx, tx, j)
		return err
	})
	return id, dup, err
}

func (s *Store) enqueueTx(ctx context.Context, tx *sql.Tx, j NewJob) (int64, bool, error) {
	payload := []byte("{}")
	if j.Payload != nil {
		var err error
		if payload, err = json.Marshal(j.Payload); err != nil {
			return 0, false, err
		}
	}
	if j.MaxAttempts <= 0 {
		j.MaxAttempts = 8
	}
	var key sql.NullString
	if j.DedupeKey != "" {
		key = sql.NullString{String: j.DedupeKey, Valid: true}
	}
	now := s.now()
	runAt := j.RunAt.Unix()
	switch {
	case j.RunAt.IsZero():
		runAt = now
	case j.RunAt.After(s.Now()) && j.RunAt.Nanosecond() != 0:
		// run_at has whole seconds: round a later time up, so a job asked
		// for in 500 ms never runs at once (a poll loop would spin).
		runAt++
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO jobs (kind, dedupe_key, payload, run_at, max_attempts, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING`,
		j.Kind, key, string(payload), runAt, j.MaxAttempts, now, now)
	if err != nil {
		return 0, false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return 0, true, nil
	}
	id, err := res.LastInsertId()
	return id, false, err
}

const jobCols = `id, kind, COALESCE(dedupe_key, ''), payload, state, run_at, attempts, max_attempts, last_error, created_at`

func scanJob(row interface{ Scan(...any) error }) (Job, error) {
	var j Job
	var payload string
	var runAt, created int64
	err := row.Scan(&j.ID, &j.Kind, &j.DedupeKey, &payload, &j.State, &runAt, &j.Attempts, &j.MaxAttempts, &j.LastError, &created)
	j.Payload, j.RunAt, j.CreatedAt = json.RawMessage(payload), unix(runAt), unix(created)
	return j, err
}

// ClaimJob takes the next due job for holder until now+lease: a queued job
// whose run_at has come, or a running one whose lease ended (its process
// died). Not found when nothing is due.
func (s *Store) ClaimJob(ctx context.Context, holder string, now time.Time, lease time.Duration) (Job, error) {
	row := s.W.QueryRowContext(ctx, `UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_holder = ?, lease_until = ?, updated_at = ?
		WHERE id = (SELECT id FROM jobs
			WHERE (state = 'queued' AND run_at <= ?) OR (state = 'running' AND lease_until <= ?)
			ORDER BY run_at, id LIMIT 1)
		RETURNING `+jobCols,
		holder, now.Add(lease).Unix(), now.Unix(), now.Unix(), now.Unix())
	j, err := scanJob(row)
	return j, notFound(err, "job")
}

// CompleteJob marks a job done, if holder still holds it.
func (s *Store) CompleteJob(ctx context.Context, id int64, holder string) error {
	_, err := s.W.ExecContext(ctx, `UPDATE jobs SET state = 'done', last_error = '', lease_holder = '', lease_until = 0, updated_at = ?
		WHERE id = ? AND state = 'running' AND lease_holder = ?`, s.now(), id, holder)
	return err
}

// FailJob records a failed attempt: the job runs again at retryAt, or stays
// failed when final.
func (s *Store) FailJob(ctx context.Context, id int64, holder, errMsg string, retryAt time.Time, final bool) error {
	state := JobQueued
	if final {
		state = JobFailed
	}
	_, err := s.W.ExecContext(ctx, `UPDATE jobs SET state = ?, run_at = ?, last_error = ?, lease_holder = '', lease_until = 0, updated_at = ?
		WHERE id = ? AND state = 'running' AND lease_holder = ?`, state, retryAt.Unix(), truncate(errMsg, 500), s.now(), id, holder)
	return err
}

// JobByID loads one job.
func (s *Store) JobByID(ctx context.Context, id int64) (Job, error) {
	j, err := scanJob(s.readRow(ctx, `SELECT `+jobCols+` FROM jobs WHERE id = ?`, id))
	return j, notFound(err, "job")
}

// JobsByKind lists the jobs of a kind, oldest first (tests and staff tools).
func (s *Store) JobsByKind(ctx context.Context, kind string) ([]Job, error) {
	rows, err := s.read(ctx, `SELECT `+jobCols+` FROM jobs WHERE kind = ? ORDER BY id`, kind)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// JobCounts counts jobs by state.
func (s *Store) JobCounts(ctx context.Context) (map[string]int, error) {
	return s.countBy(ctx, `SELECT state, COUNT(*) FROM jobs GROUP BY state`)
}

// countBy reads a query of (key, count) rows into a map.
func (s *Store) countBy(ctx context.Context, query string, args ...any) (map[string]int, error) {
	rows, err := s.read(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, err
		}
		out[k] = n
	}
	return out, rows.Err()
}

// truncate keeps error texts bounded in the database.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
