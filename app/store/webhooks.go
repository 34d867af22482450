package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/minifleet/minifleet/app/model"
)

// Activity actions of webhook endpoints.
const (
	ActWebhookCreate  = "webhook_created"
	ActWebhookUpdate  = "webhook_updated"
	ActWebhookDelete  = "webhook_deleted"
	ActWebhookPause   = "webhook_paused"
	ActWebhookResume  = "webhook_resumed"
	ActWebhookReplay  = "webhook_replayed"
	ActWebhookRotated = "webhook_secret_rotated"
)

// Event is a webhook event: written into the outbox (webhook_deliveries, one
// row per subscribed endpoint) by emitTx in the transaction of the change
// that causes it, so the change and its event commit together or not at all.
type Event struct {
	Type     string
	TenantID int64  // 0: the tenant the app is bound to (none: platform endpoints only)
	AppID    string // "" for events about no app
	Data     any    // the event's data, marshalled to JSON
}

// NewEventID is a fresh event id: the receiver's idempotency key.
func NewEventID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "evt_" + hex.EncodeToString(b[:])
}

// emitEventSQL writes one event for every live endpoint subscribed to its
// type: the tenant's own and the platform's. ?3 is the tenant (0: the app's).
const emitEventSQL = `INSERT INTO webhook_deliveries (endpoint_id, event_id, type, tenant_id, appid, payload, created_at, next_at)
	SELECT e.id, ?1, ?2, t.tid, ?4, ?5, ?6, ?6
	FROM webhook_endpoints e, (SELECT COALESCE(NULLIF(?3, 0), (SELECT tenant_id FROM authorizers WHERE appid = ?4)) AS tid) t
	WHERE e.deleted_at IS NULL AND instr(e.events, ?7) > 0 AND (e.tenant_id IS NULL OR e.tenant_id = t.tid)`

// emitTx writes ev into the outbox inside tx. With no subscribed endpoint
// it writes nothing (one indexed read of a small table).
func (s *Store) emitTx(ctx context.Context, tx *sql.Tx, ev Event) error {
	data, err := json.Marshal(ev.Data)
	if err != nil {
		return err
	}
	res, err := tx.StmtContext(ctx, s.hot.emitEvent).ExecContext(ctx, NewEventID(), ev.Type, ev.TenantID, ev.AppID, string(data), s.now(), ","+ev.Type+",")
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n > 0 {
		s.emitted.Store(true)
	}
	return nil
}

// eventsCommitted runs after a commit: it tells OnEvent when the
// transaction wrote events (one writer connection: commits are serial).
func (s *Store) eventsCommitted() {
	if s.emitted.Swap(false) && s.OnEvent != nil {
		s.OnEvent()
	}
}

// subscribedTx reports whether any live endpoint wants typ for the tenant
// (0: platform endpoints only): for events whose data costs a query.
func (s *Store) subscribedTx(ctx context.Context, tx *sql.Tx, typ string, tenantID int64) (bool, error) {
	var n int
	err := tx.StmtContext(ctx, s.hot.subscribed).QueryRowContext(ctx, ","+typ+",", tenantID).Scan(&n)
	return n > 0, err
}

const subscribedSQL = `SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE deleted_at IS NULL AND instr(events, ?) > 0
	AND (tenant_id IS NULL OR tenant_id = ?))`

// Emit writes one event in a transaction of its own (tests, and changes the
// store does not make itself).
func (s *Store) Emit(ctx context.Context, ev Event) error {
	return s.tx(ctx, func(tx *sql.Tx) error { return s.emitTx(ctx, tx, ev) })
}

// EmitPush writes a wechat.push event (the decrypted push) in the push's
// own transaction, for endpoints that asked for raw pushes.
func (p *PushTx) EmitPush(data any) error {
	return p.s.emitTx(p.ctx, p.tx, Event{Type: model.EvtWeChatPush, AppID: p.Push.AppID, Data: data})
}

// Emit writes an event in the push's transaction.
func (p *PushTx) Emit(ev Event) error { return p.s.emitTx(p.ctx, p.tx, ev) }

func secretAD(id int64) string { return "webhook:" + strconv.FormatInt(id, 10) + ":secret" }

func eventsCol(evs []string) string { return "," + strings.Join(evs, ",") + "," }

const endpointCols = `id, COALESCE(tenant_id, 0), url, description, events, state, failing_since, paused_at, notice, created_by, created_at, updated_at,
	(SELECT COUNT(*) FROM webhook_deliveries d WHERE d.endpoint_id = webhook_endpoints.id AND d.state = 'pending'),
	(SELECT COUNT(*) FROM webhook_deliveries d WHERE d.endpoint_id = webhook_endpoints.id AND d.state = 'failed')`

func scanEndpoint(row interface{ Scan(...any) error }) (model.WebhookEndpoint, error) {
	var e model.WebhookEndpoint
	var evs string
	var failing, paused sql.NullInt64
	var created, updated int64
	err := row.Scan(&e.ID, &e.TenantID, &e.URL, &e.Description, &evs, &e.State, &failing, &paused, &e.Notice, &e.CreatedBy,
		&created, &updated, &e.Pending, &e.Failed)
	if err != nil {
		return e, err
	}
	for _, v := range strings.Split(strings.Trim(evs, ","), ",") {
		if v != "" {
			e.Events = append(e.Events, v)
		}
	}
	e.FailingSince, e.PausedAt = nullUnix(failing), nullUnix(paused)
	e.CreatedAt, e.UpdatedAt = unix(created), unix(updated)
	return e, nil
}

// CreateEndpoint stores a new endpoint with its sealed secret and logs it.
func (s *Store) CreateEndpoint(ctx context.Context, a model.Actor, tenantID int64, in model.EndpointInput, secret string) (model.WebhookEndpoint, error) {
	var out model.WebhookEndpoint
	err := s.tx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		res, err := tx.ExecContext(ctx, `INSERT INTO webhook_endpoints (tenant_id, url, description, events, created_by, created_at, updated_at)
			VALUES (?,?,?,?,?,?,?)`, nullID(tenantID), in.URL, in.Description, eventsCol(in.Events), a.Label, now, now)
		if err != nil {
			return err
		}
		id, _ := res.LastInsertId()
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET secret_sealed = ? WHERE id = ?`, s.Box.Seal(secret, secretAD(id)), id); err != nil {
			return err
		}
		if err := s.logTx(ctx, tx, a, tenantID, ActWebhookCreate, in.URL, strings.Join(in.Events, ",")); err != nil {
			return err
		}
		out, err = scanEndpoint(tx.QueryRowContext(ctx, `SELECT `+endpointCols+` FROM webhook_endpoints WHERE id = ?`, id))
		return err
	})
	return out, err
}

// Endpoints lists the live endpoints of a tenant (0: the platform's).
func (s *Store) Endpoints(ctx context.Context, tenantID int64) ([]model.WebhookEndpoint, error) {
	cond, args := scopeCond(tenantID)
	rows, err := s.read(ctx, `SELECT `+endpointCols+` FROM webhook_endpoints WHERE deleted_at IS NULL AND `+cond+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []model.WebhookEndpoint
	for rows.Next() {
		e, err := scanEndpoint(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Endpoint loads one live endpoint of a tenant (0: the platform's).
func (s *Store) Endpoint(ctx context.Context, tenantID, id int64) (model.WebhookEndpoint, error) {
	cond, args := scopeCond(tenantID)
	e, err := scanEndpoint(s.readRow(ctx, `SELECT `+endpointCols+` FROM webhook_endpoints WHERE id = ? AND deleted_at IS NULL AND `+cond,
		append([]any{id}, args...)...))
	return e, notFound(err, "webhook endpoint")
}

// EndpointSecret opens an endpoint's signing secret (the delivery worker only).
func (s *Store) EndpointSecret(ctx context.Context, id int64) (string, error) {
	var sealed string
	if err := s.readRow(ctx, `SELECT secret_sealed FROM webhook_endpoints WHERE id = ?`, id).Scan(&sealed); err != nil {
		return "", notFound(err, "webhook endpoint")
	}
	return s.Box.Open(sealed, secretAD(id))
}

// UpdateEndpoint changes an endpoint's URL, description and events.
func (s *Store) UpdateEndpoint(ctx context.Context, a model.Actor, tenantID, id int64, in model.EndpointInput) (model.WebhookEndpoint, error) {
	var out model.WebhookEndpoint
	err := s.tx(ctx, func(tx *sql.Tx) error {
		cond, args := scopeCond(tenantID)
		res, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET url = ?, description = ?, events = ?, updated_at = ?
			WHERE id = ? AND deleted_at IS NULL AND `+cond, append([]any{in.URL, in.Description, eventsCol(in.Events), s.now(), id}, args...)...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return model.NotFound("webhook endpoint")
		}
		if err := s.logTx(ctx, tx, a, tenantID, ActWebhookUpdate, in.URL, strings.Join(in.Events, ",")); err != nil {
			return err
		}
		out, err = scanEndpoint(tx.QueryRowContext(ctx, `SELECT `+endpointCols+` FROM webhook_endpoints WHERE id = ?`, id))
		return err
	})
	return out, err
}

// RotateEndpointSecret replaces the signing secret.
func (s *Store) RotateEndpointSecret(ctx context.Context, a model.Actor, tenantID, id int64, secret string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		url, err := liveEndpointURL(ctx, tx, tenantID, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET secret_sealed = ?, updated_at = ? WHERE id = ?`,
			s.Box.Seal(secret, secretAD(id)), s.now(), id); err != nil {
			return err
		}
		return s.logTx(ctx, tx, a, tenantID, ActWebhookRotated, url, "")
	})
}

// DeleteEndpoint removes an endpoint; its pending deliveries are cancelled
// (the log stays).
func (s *Store) DeleteEndpoint(ctx context.Context, a model.Actor, tenantID, id int64) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		url, err := liveEndpointURL(ctx, tx, tenantID, id)
		if err != nil {
			return err
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET deleted_at = ?, updated_at = ?, secret_sealed = '' WHERE id = ?`, now, now, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET state = 'cancelled' WHERE endpoint_id = ? AND state = 'pending'`, id); err != nil {
			return err
		}
		return s.logTx(ctx, tx, a, tenantID, ActWebhookDelete, url, "")
	})
}

// ResumeEndpoint makes a paused endpoint active again; its waiting
// deliveries are tried at once.
func (s *Store) ResumeEndpoint(ctx context.Context, a model.Actor, tenantID, id int64) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		url, err := liveEndpointURL(ctx, tx, tenantID, id)
		if err != nil {
			return err
		}
		now := s.now()
		res, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET state = 'active', failing_since = NULL, paused_at = NULL, notice = '', updated_at = ?
			WHERE id = ? AND state = 'paused'`, now, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return model.Errorf(model.CodeConflict, "webhooks.err.not_paused")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET next_at = ? WHERE endpoint_id = ? AND state = 'pending'`, now, id); err != nil {
			return err
		}
		return s.logTx(ctx, tx, a, tenantID, ActWebhookResume, url, "")
	})
}

const deliveryCols = `id, endpoint_id, event_id, type, COALESCE(tenant_id, 0), appid, payload, created_at, state, attempts, next_at,
	last_code, last_error, last_ms, last_at, COALESCE(replay_of, 0)`

func scanDelivery(row interface{ Scan(...any) error }) (model.WebhookDelivery, error) {
	var d model.WebhookDelivery
	var created, next int64
	var last sql.NullInt64
	err := row.Scan(&d.ID, &d.EndpointID, &d.EventID, &d.Type, &d.TenantID, &d.AppID, &d.Payload, &created, &d.State, &d.Attempts, &next,
		&d.LastCode, &d.LastError, &d.LastMS, &last, &d.ReplayOf)
	d.CreatedAt, d.NextAt, d.LastAt = unix(created), unix(next), nullUnix(last)
	return d, err
}

// Deliveries lists an endpoint's deliveries, newest first, before the id
// beforeID (0: from the newest). The caller has loaded the endpoint in its
// scope, so the tenant is already checked.
func (s *Store) Deliveries(ctx context.Context, endpointID, beforeID int64, limit int) ([]model.WebhookDelivery, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	if beforeID <= 0 {
		beforeID = 1 << 62
	}
	rows, err := s.read(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries WHERE endpoint_id = ? AND id < ? ORDER BY id DESC LIMIT `+strconv.Itoa(limit),
		endpointID, beforeID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []model.WebhookDelivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Delivery loads one delivery of an endpoint.
func (s *Store) Delivery(ctx context.Context, endpointID, id int64) (model.WebhookDelivery, error) {
	d, err := scanDelivery(s.readRow(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries WHERE id = ? AND endpoint_id = ?`, id, endpointID))
	return d, notFound(err, "webhook delivery")
}

// ReplayDelivery queues the delivery's event again for the endpoint, with
// the same event id (receivers deduplicate by it), behind the app's other
// pending events for the endpoint.
func (s *Store) ReplayDelivery(ctx context.Context, a model.Actor, tenantID, endpointID, id int64) (int64, error) {
	var newID int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		cond, args := scopeCond(tenantID)
		var url string
		if err := tx.QueryRowContext(ctx, `SELECT url FROM webhook_endpoints WHERE id = ? AND deleted_at IS NULL AND `+cond,
			append([]any{endpointID}, args...)...).Scan(&url); err != nil {
			return notFound(err, "webhook endpoint")
		}
		var state string
		if err := tx.QueryRowContext(ctx, `SELECT state FROM webhook_deliveries WHERE id = ? AND endpoint_id = ?`, id, endpointID).Scan(&state); err != nil {
			return notFound(err, "webhook delivery")
		}
		now := s.now()
		res, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (endpoint_id, event_id, type, tenant_id, appid, payload, created_at, next_at, replay_of)
			SELECT endpoint_id, event_id, type, tenant_id, appid, payload, ?, ?, id FROM webhook_deliveries
			WHERE id = ? AND endpoint_id = ? AND state != 'pending'`, now, now, id, endpointID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return model.Errorf(model.CodeConflict, "webhooks.err.replay_pending")
		}
		newID, _ = res.LastInsertId()
		return s.logTx(ctx, tx, a, tenantID, ActWebhookReplay, url, "#"+strconv.FormatInt(id, 10))
	})
	return newID, err
}

// DueDelivery is a delivery the worker sends now, with its endpoint's URL.
type DueDelivery struct {
	model.WebhookDelivery
	URL          string
	FailingSince time.Time
}

// DueDeliveries returns up to perGroup deliveries of each (endpoint, app)
// whose oldest pending delivery is due at now, in id order, for active
// endpoints: a later event waits while an earlier one to the same endpoint
// and app is retrying. At most limit rows.
func (s *Store) DueDeliveries(ctx context.Context, now time.Time, perGroup, limit int) ([]DueDelivery, error) {
	rows, err := s.W.QueryContext(ctx, `SELECT `+deliveryCols+`, url, failing_since FROM (
		SELECT d.*, e.url, e.failing_since,
			ROW_NUMBER() OVER (PARTITION BY d.endpoint_id, d.appid ORDER BY d.id) AS rn,
			FIRST_VALUE(d.next_at) OVER (PARTITION BY d.endpoint_id, d.appid ORDER BY d.id) AS head_next
		FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.state = 'active' AND e.deleted_at IS NULL
		WHERE d.state = 'pending')
		WHERE rn <= ? AND head_next <= ? ORDER BY id LIMIT ?`, perGroup, now.Unix(), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DueDelivery
	for rows.Next() {
		var d DueDelivery
		var created, next int64
		var last, failing sql.NullInt64
		if err := rows.Scan(&d.ID, &d.EndpointID, &d.EventID, &d.Type, &d.TenantID, &d.AppID, &d.Payload, &created, &d.State, &d.Attempts, &next,
			&d.LastCode, &d.LastError, &d.LastMS, &last, &d.ReplayOf, &d.URL, &failing); err != nil {
			return nil, err
		}
		d.CreatedAt, d.NextAt, d.LastAt, d.FailingSince = unix(created), unix(next), nullUnix(last), nullUnix(failing)
		out = append(out, d)
	}
	return out, rows.Err()
}

// AttemptResult is one delivery attempt's outcome, recorded by SaveAttempts.
type AttemptResult struct {
	DeliveryID, EndpointID int64
	TenantID               int64
	Attempt                int
	At                     time.Time
	Code                   int
	Duration               time.Duration
	Error                  string
	OK                     bool
	// When not OK: the next try (zero: give up, state failed).
	RetryAt time.Time
	// Pause, when not OK: the endpoint has failed long enough to pause.
	Pause bool
	URL   string
}

// SaveAttempts records a batch of attempts in one transaction: each
// delivery's state and attempt row, and each endpoint's failure run (a
// success clears it; a failure starts it; Pause pauses the endpoint with a
// notice and an activity row).
func (s *Store) SaveAttempts(ctx context.Context, rs []AttemptResult) error {
	if len(rs) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, r := range rs {
			state, next := model.DeliveryDelivered, r.At.Unix()
			switch {
			case r.OK:
			case r.RetryAt.IsZero():
				state = model.DeliveryFailed
			default:
				state, next = model.DeliveryPending, r.RetryAt.Unix()
			}
			ms := r.Duration.Milliseconds()
			errText := r.Error
			if len(errText) > 300 {
				errText = errText[:300]
			}
			if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET state = ?, attempts = ?, next_at = ?, last_code = ?, last_error = ?,
				last_ms = ?, last_at = ? WHERE id = ? AND state = 'pending'`, state, r.Attempt, next, r.Code, errText, ms, r.At.Unix(), r.DeliveryID); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_attempts (delivery_id, attempt, at, code, duration_ms, error) VALUES (?,?,?,?,?,?)`,
				r.DeliveryID, r.Attempt, r.At.Unix(), r.Code, ms, errText); err != nil {
				return err
			}
			if r.OK {
				if _, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL`, r.EndpointID); err != nil {
					return err
				}
				continue
			}
			if _, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET failing_since = ? WHERE id = ? AND failing_since IS NULL`, r.At.Unix(), r.EndpointID); err != nil {
				return err
			}
			if r.Pause {
				res, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET state = 'paused', paused_at = ?, notice = 'webhooks.notice.paused', updated_at = ?
					WHERE id = ? AND state = 'active'`, r.At.Unix(), r.At.Unix(), r.EndpointID)
				if err != nil {
					return err
				}
				if n, _ := res.RowsAffected(); n == 1 {
					if err := s.logTx(ctx, tx, model.SystemActor, r.TenantID, ActWebhookPause, r.URL, "failing since "+time.Unix(r.At.Unix(), 0).UTC().Format(time.RFC3339)); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
}

// DeliveryAttempts lists the attempts of one delivery, oldest first.
func (s *Store) DeliveryAttempts(ctx context.Context, deliveryID int64) ([]AttemptResult, error) {
	rows, err := s.read(ctx, `SELECT attempt, at, code, duration_ms, error FROM webhook_attempts WHERE delivery_id = ? ORDER BY id`, deliveryID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AttemptResult
	for rows.Next() {
		var r AttemptResult
		var at, ms int64
		if err := rows.Scan(&r.Attempt, &at, &r.Code, &ms, &r.Error); err != nil {
			return nil, err
		}
		r.DeliveryID, r.At, r.Duration, r.OK = deliveryID, unix(at), time.Duration(ms)*time.Millisecond, r.Code >= 200 && r.Code < 300
		out = append(out, r)
	}
	return out, rows.Err()
}

// releaseEventsTx writes the events of a release transition: audit results,
// the release going live, and a campaign's progress when the release is one
// of a campaign's and its phase changed.
func (s *Store) releaseEventsTx(ctx context.Context, tx *sql.Tx, tenantID int64, r model.Release, t model.ReleaseTransition) error {
	if t.From == t.To {
		return nil
	}
	var typ string
	switch {
	case t.To == model.RelApproved && (t.From == model.RelAuditing || t.From == model.RelDelayed || t.From == model.RelSubmitting):
		typ = model.EvtAuditSuccess
	case t.To == model.RelRejected:
		typ = model.EvtAuditFail
	case t.To == model.RelDelayed:
		typ = model.EvtAuditDelay
	case (t.To == model.RelReleased || t.To == model.RelGray) && t.From != model.RelReleased && t.From != model.RelGray:
		typ = model.EvtReleaseDone
	}
	data := map[string]any{
		"appid": r.AppID, "release_id": r.ID, "state": string(t.To), "from": string(t.From),
		"template_id": r.TemplateID, "user_version": r.UserVersion, "auditid": r.AuditID, "at": t.At.Unix(),
	}
	switch typ {
	case model.EvtAuditFail:
		data["reason"] = r.Reason
	case model.EvtReleaseDone:
		data["gray_percent"] = r.GrayPercent
	}
	if r.CampaignID != 0 {
		data["campaign_id"] = r.CampaignID
	}
	if typ != "" {
		if err := s.emitTx(ctx, tx, Event{Type: typ, TenantID: tenantID, AppID: r.AppID, Data: data}); err != nil {
			return err
		}
	}
	if r.CampaignID == 0 || model.PhaseOf(model.CAStarted, t.From) == model.PhaseOf(model.CAStarted, t.To) {
		return nil
	}
	return s.campaignProgressTx(ctx, tx, r.CampaignID, tenantID, r.AppID, string(t.To))
}

// campaignProgressTx writes campaign.progress (or campaign.finished when
// finished) with the campaign's counts by release state, only when an
// endpoint wants it (the counts cost a query).
func (s *Store) campaignProgressTx(ctx context.Context, tx *sql.Tx, campaignID, tenantID int64, appID, appState string) error {
	return s.campaignEventTx(ctx, tx, model.EvtCampaignProgress, campaignID, tenantID, map[string]any{"appid": appID, "app_state": appState})
}

func (s *Store) campaignEventTx(ctx context.Context, tx *sql.Tx, typ string, campaignID, tenantID int64, extra map[string]any) error {
	if ok, err := s.subscribedTx(ctx, tx, typ, tenantID); err != nil || !ok {
		return err
	}
	var state string
	if err := tx.QueryRowContext(ctx, `SELECT state FROM campaigns WHERE id = ?`, campaignID).Scan(&state); err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT state, COUNT(*) FROM releases WHERE campaign_id = ? GROUP BY state`, campaignID)
	if err != nil {
		return err
	}
	counts := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			rows.Close()
			return err
		}
		counts[st] = n
	}
	rows.Close()
	var targets int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM campaign_apps WHERE campaign_id = ? AND state NOT IN ('skipped')`, campaignID).Scan(&targets); err != nil {
		return err
	}
	data := map[string]any{"campaign_id": campaignID, "state": state, "targets": targets, "releases_by_state": counts}
	for k, v := range extra {
		data[k] = v
	}
	return s.emitTx(ctx, tx, Event{Type: typ, TenantID: tenantID, Data: data})
}

// campaignMovedTx writes the events of a campaign's state change.
func (s *Store) campaignMovedTx(ctx context.Context, tx *sql.Tx, c model.Campaign, from model.CampaignState) error {
	if c.State == from {
		return nil
	}
	typ := model.EvtCampaignProgress
	if c.State.Ended() {
		typ = model.EvtCampaignFinished
	}
	return s.campaignEventTx(ctx, tx, typ, c.ID, c.TenantID, map[string]any{"from": string(from)})
}

// MetricsSnapshot is what /metrics reads at scrape time, from indexes:
// releases by state, campaigns by state, the apps of active campaigns by
// phase, and the outbox's pending deliveries.
type MetricsSnapshot struct {
	ReleasesByState, CampaignsByState, CampaignApps map[string]int
	DeliveriesPending                               int
}

// Metrics reads the snapshot.
func (s *Store) Metrics(ctx context.Context) (MetricsSnapshot, error) {
	out := MetricsSnapshot{ReleasesByState: map[string]int{}, CampaignsByState: map[string]int{}, CampaignApps: map[string]int{}}
	count := func(q string, into map[string]int) error {
		rows, err := s.read(ctx, q)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			var n int
			if err := rows.Scan(&k, &n); err != nil {
				return err
			}
			into[k] = n
		}
		return rows.Err()
	}
	if err := count(`SELECT state, COUNT(*) FROM releases GROUP BY state`, out.ReleasesByState); err != nil {
		return out, err
	}
	if err := count(`SELECT state, COUNT(*) FROM campaigns GROUP BY state`, out.CampaignsByState); err != nil {
		return out, err
	}
	rows, err := s.read(ctx, `SELECT ca.state, COALESCE(r.state, ''), COUNT(*) FROM campaign_apps ca
		JOIN campaigns c ON c.id = ca.campaign_id AND c.state IN ('running', 'paused', 'halted', 'waiting_quota')
		LEFT JOIN releases r ON r.campaign_id = ca.campaign_id AND r.appid = ca.appid GROUP BY 1, 2`)
	if err != nil {
		return out, err
	}
	for rows.Next() {
		var ca, rel string
		var n int
		if err := rows.Scan(&ca, &rel, &n); err != nil {
			rows.Close()
			return out, err
		}
		out.CampaignApps[string(model.PhaseOf(model.CampaignAppState(ca), model.ReleaseState(rel)))] += n
	}
	rows.Close()
	err = s.readRow(ctx, `SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'pending'`).Scan(&out.DeliveriesPending)
	return out, err
}

// liveEndpointURL is the URL of an endpoint the owner (tenantID, 0: the
// platform) has and has not deleted; not found otherwise.
func liveEndpointURL(ctx context.Context, tx *sql.Tx, tenantID, id int64) (string, error) {
	cond, args := scopeCond(tenantID)
	var url string
	err := tx.QueryRowContext(ctx, `SELECT url FROM webhook_endpoints WHERE id = ? AND deleted_at IS NULL AND `+cond,
		append([]any{id}, args...)...).Scan(&url)
	return url, notFound(err, "webhook endpoint")
}
