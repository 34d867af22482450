package store

import (
	"context"
	"database/sql"
	"strings"
	"time"
)

// Push outcomes.
const (
	PushApplied  = "applied"  // its state change is done
	PushQueued   = "queued"   // a job follows it up
	PushRecorded = "recorded" // kept; nothing (yet) applies it
	PushStale    = "stale"    // older than what we hold; kept, not applied
)

// Push routes.
const (
	RouteComponent = "component"
	RouteApp       = "app"
)

// Push is a recorded push from WeChat. XML has secret values masked.
type Push struct {
	ID         int64
	Route      string
	Kind       string
	AppID      string
	DedupeKey  string
	CreateTime int64
	ReceivedAt time.Time
	XML        string
	Outcome    string
	Duplicates int
	LastSeenAt time.Time
}

// NewPush is a verified, decrypted push to record.
type NewPush struct {
	Route      string
	Kind       string
	AppID      string
	DedupeKey  string
	CreateTime int64
	ReceivedAt time.Time
	XML        string // masked
	FullXML    string // as decrypted; stored sealed

	// Ticket, when set, is the push's state change: keep this
	// component_verify_ticket if it is the newest by CreateTime (outcome
	// applied, else stale). It is applied before apply runs; a push with a
	// Ticket and no apply func is recorded on the batch's fast path.
	Ticket *TicketChange
}

// TicketChange is a component_verify_ticket to keep if it is the newest.
type TicketChange struct {
	ComponentAppID string
	Ticket         string
	CreateTime     int64
}

const insertPushSQL = `INSERT OR IGNORE INTO wechat_pushes (route, kind, appid, dedupe_key, create_time, received_at, xml, xml_sealed, outcome, last_seen_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

const ticketTimeSQL = `SELECT ticket_create_time FROM wechat_component WHERE appid = ?`

func pushAD(dedupeKey string) string { return "push:" + dedupeKey }

// PushTx is the transaction recording a push; its cheap state changes and
// follow-up jobs commit with the record or not at all.
type PushTx struct {
	s   *Store
	tx  *sql.Tx
	ctx context.Context
	// Push is the row being recorded (ID set).
	Push Push

	after []func()
}

// AfterCommit runs f once the push and its state change are committed (not
// at all if the transaction fails): for notifying live pages.
func (p *PushTx) AfterCommit(f func()) { p.after = append(p.after, f) }

// SaveTicket keeps a component_verify_ticket if it is the newest by CreateTime.
func (p *PushTx) SaveTicket(componentAppID, ticket string, createTime int64) (bool, error) {
	return p.s.saveTicketTx(p.ctx, p.tx, componentAppID, ticket, createTime, p.Push.ReceivedAt)
}

// Enqueue adds a job in the same transaction.
func (p *PushTx) Enqueue(j NewJob) (int64, bool, error) { return p.s.enqueueTx(p.ctx, p.tx, j) }

// NoteAuthEvent records an authorization event's CreateTime for appID and
// reports whether it is the newest (out-of-order pushes are not applied).
func (p *PushTx) NoteAuthEvent(appID string, createTime int64) (bool, error) {
	return p.s.noteAuthEventTx(p.ctx, p.tx, appID, createTime)
}

// RecordPush stores a push once, by dedupe key, and runs apply in the same
// transaction to make its cheap state change and enqueue its follow-ups;
// apply returns the outcome. For a duplicate, apply does not run, the
// retry is counted and dup is true. An error from apply stores nothing.
// Concurrent pushes share one commit (push_batch.go); each still commits or
// rolls back on its own.
func (s *Store) RecordPush(ctx context.Context, in NewPush, apply func(*PushTx) (string, error)) (Push, bool, error) {
	return s.pushes.record(ctx, in, nil, apply)
}

// PushApply is a push's state change inside its recording transaction; it
// returns the outcome.
type PushApply func(*PushTx) (string, error)

// ReceivePush is RecordPush for a push still to be verified: prepare runs
// on the caller's goroutine (signature, decryption, parsing) while the batch
// about to commit waits for it, so a flood shares commits. An error from
// prepare is returned as it is, with nothing stored.
func (s *Store) ReceivePush(ctx context.Context, prepare func() (NewPush, PushApply, error)) (Push, bool, error) {
	arrival := s.pushComing()
	defer arrival.Done()
	in, apply, err := prepare()
	if err != nil {
		return Push{}, false, err
	}
	return s.pushes.record(ctx, in, arrival, apply)
}

// insertPush inserts a push with its outcome unless its dedupe key is
// already stored (inserted false).
func (s *Store) insertPush(ctx context.Context, ins *sql.Stmt, in NewPush, sealed, outcome string) (p Push, inserted bool, err error) {
	received := in.ReceivedAt.Unix()
	res, err := ins.ExecContext(ctx, in.Route, in.Kind, in.AppID, in.DedupeKey, in.CreateTime, received, in.XML, sealed, outcome, received)
	if err != nil {
		return p, false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return p, false, nil
	}
	id, err := res.LastInsertId()
	if err != nil {
		return p, false, err
	}
	return Push{ID: id, Route: in.Route, Kind: in.Kind, AppID: in.AppID, DedupeKey: in.DedupeKey, CreateTime: in.CreateTime,
		ReceivedAt: unix(received), XML: in.XML, Outcome: outcome, LastSeenAt: unix(received)}, true, nil
}

// countDuplicate counts a retry of a stored push and returns the stored push.
func (s *Store) countDuplicate(ctx context.Context, tx *sql.Tx, in NewPush) (Push, error) {
	if _, err := tx.ExecContext(ctx, `UPDATE wechat_pushes SET duplicates = duplicates + 1, last_seen_at = ? WHERE create_time = ? AND dedupe_key = ?`,
		in.ReceivedAt.Unix(), in.CreateTime, in.DedupeKey); err != nil {
		return Push{}, err
	}
	return scanPush(tx.QueryRowContext(ctx, `SELECT `+pushCols+` FROM wechat_pushes WHERE create_time = ? AND dedupe_key = ?`, in.CreateTime, in.DedupeKey))
}

// recordPushTx is one push's work inside a (batch) transaction, through the
// batch's prepared insert.
func (s *Store) recordPushTx(ctx context.Context, tx *sql.Tx, ins *sql.Stmt, in NewPush, sealed string, apply func(*PushTx) (string, error)) (p Push, dup bool, ptx *PushTx, err error) {
	p, inserted, err := s.insertPush(ctx, ins, in, sealed, PushRecorded)
	if err != nil {
		return p, false, nil, err
	}
	if !inserted {
		p, err = s.countDuplicate(ctx, tx, in)
		return p, true, nil, err
	}
	if apply == nil && in.Ticket == nil {
		return p, false, nil, nil
	}
	ptx = &PushTx{s: s, tx: tx, ctx: ctx, Push: p}
	outcome := PushRecorded
	if t := in.Ticket; t != nil {
		saved, err := ptx.SaveTicket(t.ComponentAppID, t.Ticket, t.CreateTime)
		if err != nil {
			return p, false, nil, err
		}
		outcome = PushStale
		if saved {
			outcome = PushApplied
		}
	}
	if apply != nil {
		o, err := apply(ptx)
		if err != nil {
			return p, false, nil, err
		}
		if o != "" {
			outcome = o
		}
	}
	if outcome != "" && outcome != PushRecorded {
		p.Outcome = outcome
		_, err = tx.StmtContext(ctx, s.hot.setPushOutcome).ExecContext(ctx, outcome, p.ID)
	}
	return p, false, ptx, err
}

const pushCols = `id, route, kind, appid, dedupe_key, create_time, received_at, xml, outcome, duplicates, last_seen_at`

func scanPush(row interface{ Scan(...any) error }) (Push, error) {
	var p Push
	var recv, seen int64
	err := row.Scan(&p.ID, &p.Route, &p.Kind, &p.AppID, &p.DedupeKey, &p.CreateTime, &recv, &p.XML, &p.Outcome, &p.Duplicates, &seen)
	p.ReceivedAt, p.LastSeenAt = unix(recv), unix(seen)
	return p, err
}

// PushByID loads one push.
func (s *Store) PushByID(ctx context.Context, id int64) (Push, error) {
	p, err := scanPush(s.readRow(ctx, `SELECT `+pushCols+` FROM wechat_pushes WHERE id = ?`, id))
	return p, notFound(err, "push")
}

// PushByDedupeKey loads a push by its CreateTime and stored dedupe key (the
// push's identity, migration 00013).
func (s *Store) PushByDedupeKey(ctx context.Context, createTime int64, key string) (Push, error) {
	p, err := scanPush(s.readRow(ctx, `SELECT `+pushCols+` FROM wechat_pushes WHERE create_time = ? AND dedupe_key = ?`, createTime, key))
	return p, notFound(err, "push")
}

// PushFullXML opens the push exactly as decrypted (secrets included), for
// the jobs that follow it up.
func (s *Store) PushFullXML(ctx context.Context, id int64) (string, error) {
	var key, sealed string
	if err := s.readRow(ctx, `SELECT dedupe_key, xml_sealed FROM wechat_pushes WHERE id = ?`, id).Scan(&key, &sealed); err != nil {
		return "", notFound(err, "push")
	}
	return s.Box.Open(sealed, pushAD(key))
}

// PushFilter selects pushes for the staff list.
type PushFilter struct {
	Kind    string
	AppID   string
	Outcome string
	Offset  int
	Limit   int
}

// ListPushes returns one page of pushes, newest first, and how many match.
func (s *Store) ListPushes(ctx context.Context, f PushFilter) ([]Push, int, error) {
	var where []string
	var args []any
	// appid and outcome are indexed partially (migration 00013): a filter
	// states the index's condition so that SQLite uses it.
	if f.Kind != "" {
		where, args = append(where, "kind = ?"), append(args, f.Kind)
	}
	if f.AppID != "" {
		where, args = append(where, "appid = ? AND appid != ''"), append(args, f.AppID)
	}
	switch f.Outcome {
	case "":
	case PushApplied:
		where = append(where, "outcome = 'applied'")
	default:
		where, args = append(where, "outcome = ? AND outcome != 'applied'"), append(args, f.Outcome)
	}
	w := ""
	if len(where) > 0 {
		w = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := s.readRow(ctx, `SELECT COUNT(*) FROM wechat_pushes`+w, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	rows, err := s.read(ctx, `SELECT `+pushCols+` FROM wechat_pushes`+w+` ORDER BY id DESC LIMIT ? OFFSET ?`, append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []Push
	for rows.Next() {
		p, err := scanPush(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, p)
	}
	return out, total, rows.Err()
}

// condAgedPush is a push whose CreateTime is more than an hour from when it
// arrived; the partial index wechat_pushes_aged (00014) has the same WHERE.
const condAgedPush = `abs(received_at - create_time) > 3600`

// AgedPushes counts the pushes received since since whose CreateTime was
// more than an hour from their arrival (replays, clock trouble, long-queued
// retries): accepted, but counted for staff.
func (s *Store) AgedPushes(ctx context.Context, since time.Time) (int, error) {
	var n int
	err := s.readRow(ctx, `SELECT COUNT(*) FROM wechat_pushes INDEXED BY wechat_pushes_aged WHERE `+condAgedPush+` AND received_at >= ?`, since.Unix()).Scan(&n)
	return n, err
}

// LastPushPerKind returns the newest push of every kind seen, by kind.
func (s *Store) LastPushPerKind(ctx context.Context) ([]Push, error) {
	rows, err := s.read(ctx, `SELECT `+pushCols+` FROM wechat_pushes WHERE id IN (SELECT MAX(id) FROM wechat_pushes GROUP BY kind) ORDER BY kind`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Push
	for rows.Next() {
		p, err := scanPush(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// PushKinds lists the kinds seen, for the filter.
func (s *Store) PushKinds(ctx context.Context) ([]string, error) {
	rows, err := s.read(ctx, `SELECT DISTINCT kind FROM wechat_pushes ORDER BY kind`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}
